package loginpage_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

var registered = []string{"http://localhost:8081/callback", "https://app.example/cb"}

const fuzzConfig = `
dialects:
  oauth2: {}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback", "https://app.example/cb"]
  - client_id: cc-only
    client_secret: cc-secret
    grants: [client_credentials]
users:
  - {user_id: demo-user, username: johndoe, password: demo-password}
`

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// FuzzLoginForm posts arbitrary form bodies and cookies to the shared login
// page (oauth2's POST /oauth2/authorize) through the gateway's handler, in
// process. flags bit 0 sends a genuine CSRF cookie, bit 1 appends the
// matching csrf_token, so the fuzzer also reaches what lies behind the CSRF
// check (login, consent, redirects). Invariants: never a panic or a 5xx; a
// redirect only ever goes to a registered redirect_uri, carrying a code or
// an error; every HTML page has the security headers; every other answer is
// an OAuth 2 error body.
func FuzzLoginForm(f *testing.F) {
	g := tokengatetest.Start(f, tokengatetest.Options{YAML: fuzzConfig})
	h := g.App.Gateway.Handler()

	// A genuine cookie and CSRF token, from the login page itself; a token
	// passes once, so each input that sends one gets a fresh page.
	q := url.Values{"client_id": {"demo-client"}, "redirect_uri": {registered[0]}, "response_type": {"code"}, "state": {"xyz"}}
	page := func(tb testing.TB) (cookie, csrf string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/authorize?"+q.Encode(), nil))
		m := csrfField.FindStringSubmatch(rec.Body.String())
		for _, c := range rec.Result().Cookies() {
			if c.Name == "tg_csrf" {
				cookie = c.Name + "=" + c.Value
			}
		}
		if rec.Code != 200 || m == nil || cookie == "" {
			tb.Fatalf("no login form to start from: %d %q", rec.Code, rec.Body.String())
		}
		return cookie, html.UnescapeString(m[1])
	}
	cookie, csrf := page(f)

	const form = "application/x-www-form-urlencoded"
	login := url.Values{}
	for k, v := range q {
		login[k] = v
	}
	login.Set("username", "johndoe")
	login.Set("password", "demo-password")
	// The harness reaches past the CSRF check: a genuine login redirects with a code.
	req := httptest.NewRequest(http.MethodPost, "/oauth2/authorize",
		strings.NewReader(login.Encode()+"&decision=allow&csrf_token="+url.QueryEscape(csrf)))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.Contains(loc, "code=") {
		f.Fatalf("a genuine login did not redirect with a code: %d %q", rec.Code, loc)
	}
	f.Add(uint8(3), form, login.Encode()+"&decision=allow", "")
	f.Add(uint8(3), form, login.Encode()+"&decision=deny", "")
	f.Add(uint8(3), form, strings.Replace(login.Encode(), "callback", "evil", 1), "")
	f.Add(uint8(3), form, login.Encode()+"&code_challenge=short", "")
	f.Add(uint8(0), form, login.Encode(), "tg_csrf=forged")
	f.Add(uint8(1), "text/plain", "username=johndoe", "")
	f.Fuzz(func(t *testing.T, flags uint8, ctype, body, cookies string) {
		var cookie, csrf string
		if flags&3 != 0 {
			cookie, csrf = page(t)
		}
		if flags&2 != 0 {
			body += "&csrf_token=" + url.QueryEscape(csrf)
		}
		req := httptest.NewRequest(http.MethodPost, "/oauth2/authorize", strings.NewReader(body))
		if ctype != "" {
			req.Header["Content-Type"] = []string{ctype}
		}
		if flags&1 != 0 {
			cookies = cookie
		}
		if cookies != "" {
			req.Header["Cookie"] = []string{cookies}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		raw, _ := io.ReadAll(res.Body)
		hdr := res.Header
		if res.StatusCode >= 500 {
			t.Fatalf("status %d: %s", res.StatusCode, raw)
		}
		switch ct := hdr.Get("Content-Type"); {
		case res.StatusCode == http.StatusSeeOther:
			loc, err := url.Parse(hdr.Get("Location"))
			if err != nil {
				t.Fatalf("unparsable Location %q", hdr.Get("Location"))
			}
			to := loc.Scheme + "://" + loc.Host + loc.Path
			if !slices.Contains(registered, to) {
				t.Fatalf("redirect to unregistered %q", hdr.Get("Location"))
			}
			if (loc.Query().Get("code") == "") == (loc.Query().Get("error") == "") {
				t.Fatalf("redirect without exactly one of code and error: %q", loc)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Fatal("redirect without no-store")
			}
		case res.StatusCode >= 300 && res.StatusCode < 400:
			t.Fatalf("unexpected redirect status %d", res.StatusCode)
		case strings.HasPrefix(ct, "text/html"):
			if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
				hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Cache-Control") != "no-store" ||
				hdr.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("HTML page without its security headers: %v", hdr)
			}
		default:
			var e map[string]any
			if err := json.Unmarshal(raw, &e); err != nil || e["error"] == nil || len(e) > 2 {
				t.Fatalf("%d answer neither a page nor an OAuth 2 error: %s %q", res.StatusCode, ct, raw)
			}
		}
	})
}
