package loginpage_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// form is one login page as a browser holds it: its cookie and fields.
type form struct {
	cookie string
	fields url.Values
}

func loginPage(t *testing.T, h http.Handler, q url.Values) form {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/authorize?"+q.Encode(), nil))
	return pageForm(t, rec)
}

func pageForm(t *testing.T, rec *httptest.ResponseRecorder) form {
	t.Helper()
	m := csrfField.FindStringSubmatch(rec.Body.String())
	var f form
	for _, c := range rec.Result().Cookies() {
		if c.Name == "tg_csrf" {
			f.cookie = c.Name + "=" + c.Value
		}
	}
	if m == nil || f.cookie == "" {
		t.Fatalf("no login form: %d %s", rec.Code, rec.Body.String())
	}
	f.fields = url.Values{"csrf_token": {html.UnescapeString(m[1])}}
	return f
}

func submit(h http.Handler, f form, q url.Values, username, password string) *httptest.ResponseRecorder {
	v := url.Values{}
	for k, vals := range q {
		v[k] = vals
	}
	for k, vals := range f.fields {
		v[k] = vals
	}
	v.Set("username", username)
	v.Set("password", password)
	v.Set("decision", "allow")
	req := httptest.NewRequest(http.MethodPost, "/oauth2/authorize", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", f.cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func authorizeQuery(state string) url.Values {
	return url.Values{"client_id": {"demo-client"}, "redirect_uri": {registered[0]}, "response_type": {"code"}, "state": {state}}
}

// A CSRF token passes once, and only for the authorize request it was
// issued for: a replayed form or one whose authorize parameters were
// changed gets the error page and no code.
func TestCSRFTokenSingleUseAndBound(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: fuzzConfig})
	h := g.App.Gateway.Handler()
	q := authorizeQuery("s1")
	f := loginPage(t, h, q)
	if rec := submit(h, f, q, "johndoe", "demo-password"); rec.Code != http.StatusSeeOther {
		t.Fatalf("first submission: %d %s", rec.Code, rec.Body.String())
	}
	if rec := submit(h, f, q, "johndoe", "demo-password"); rec.Code != http.StatusForbidden || rec.Header().Get("Location") != "" {
		t.Fatalf("replayed form: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	f = loginPage(t, h, q)
	for _, change := range []url.Values{authorizeQuery("s2"), {"client_id": {"demo-client"}, "redirect_uri": {registered[1]},
		"response_type": {"code"}, "state": {"s1"}}} {
		if rec := submit(h, f, change, "johndoe", "demo-password"); rec.Code != http.StatusForbidden || rec.Header().Get("Location") != "" {
			t.Fatalf("form of another authorize request (%v): %d %q", change, rec.Code, rec.Header().Get("Location"))
		}
	}
	// The refusals did not spend it: the form still works for its request.
	if rec := submit(h, f, q, "johndoe", "demo-password"); rec.Code != http.StatusSeeOther {
		t.Fatalf("the untouched form: %d %s", rec.Code, rec.Body.String())
	}

	// A wrong password spends the token; the page that comes back has a
	// fresh one that works.
	f = loginPage(t, h, q)
	rec := submit(h, f, q, "johndoe", "wrong")
	if rec.Code != http.StatusOK {
		t.Fatalf("wrong password: %d", rec.Code)
	}
	if again := submit(h, pageForm(t, rec), q, "johndoe", "demo-password"); again.Code != http.StatusSeeOther {
		t.Fatalf("the re-rendered form: %d %s", again.Code, again.Body.String())
	}
}

// The page's rate limit is a page: HTML in its style, with Retry-After and
// the security headers, not the dialect's JSON.
func TestRateLimitedLoginIsAPage(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{AuthFailureLimit: true,
		YAML: fuzzConfig + "limits: {auth_failures: {burst: 2, per_minute: 1}}\n"})
	h := g.App.Gateway.Handler()
	q := authorizeQuery("s")
	f := loginPage(t, h, q)
	var rec *httptest.ResponseRecorder
	for range 3 {
		rec = submit(h, f, q, "johndoe", "wrong")
		if rec.Code == http.StatusTooManyRequests {
			break
		}
		f = pageForm(t, rec)
	}
	body, _ := io.ReadAll(rec.Result().Body)
	hdr := rec.Header()
	if rec.Code != http.StatusTooManyRequests || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		hdr.Get("Retry-After") == "" || hdr.Get("X-Frame-Options") != "DENY" || hdr.Get("Cache-Control") != "no-store" ||
		!strings.Contains(string(body), "Too many failed sign-ins") || !strings.Contains(string(body), `name="password"`) {
		t.Fatalf("rate limited: %d %v\n%s", rec.Code, hdr, body)
	}
}
