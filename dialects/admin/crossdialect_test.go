package admin_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

// session drives every dialect of the default (demo) config and remembers
// every secret value that crossed the wire, so the test can prove none of
// them reached the logs, the journal or an error body.
type session struct {
	t       *testing.T
	g       *tokengatetest.Gateway
	secrets []string
	bodies  strings.Builder
	// tolerate makes do record transport errors in lastErr instead of failing.
	tolerate bool
	lastErr  error
}

func (s *session) remember(v ...string) {
	for _, x := range v {
		if len(x) >= 8 {
			s.secrets = append(s.secrets, x)
		}
	}
}

func (s *session) do(req *http.Request) (int, http.Header, map[string]any) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil && s.tolerate {
		s.lastErr = err
		return 0, nil, nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	if resp.StatusCode >= 400 {
		s.bodies.Write(raw)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if v, ok := body[k].(string); ok {
			s.remember(v)
		}
	}
	return resp.StatusCode, resp.Header, body
}

func (s *session) form(path string, v url.Values, basic ...string) (int, http.Header, map[string]any) {
	req, _ := http.NewRequest("POST", s.g.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return s.do(req)
}

func (s *session) get(path string, hdr map[string]string) (int, http.Header, map[string]any) {
	req, _ := http.NewRequest("GET", s.g.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return s.do(req)
}

// tokenRequests sends one issuing request per dialect, each as its vendor documents it.
func (s *session) tokenRequests() map[string]func() (int, http.Header, map[string]any) {
	return map[string]func() (int, http.Header, map[string]any){
		"oauth2": func() (int, http.Header, map[string]any) {
			return s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "demo-client", "demo-secret")
		},
		"accounda": func() (int, http.Header, map[string]any) {
			return s.form("/v1/token/", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
		},
		"errorid": func() (int, http.Header, map[string]any) {
			req, _ := http.NewRequest("POST", s.g.URL+"/v1/oauth/token", strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
			req.Header.Set("Content-Type", "application/json")
			return s.do(req)
		},
		"acceleration": func() (int, http.Header, map[string]any) {
			req, _ := http.NewRequest("POST", s.g.URL+"/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=demo-user", nil)
			req.Header.Set("Accept", "application/json")
			req.SetBasicAuth("demo-client", "demo-secret")
			return s.do(req)
		},
		"hurdlr": func() (int, http.Header, map[string]any) {
			return s.form("/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
				"grant_type": {"client_credentials"}, "userId": {"demo-user"}})
		},
	}
}

// inStyle reports whether an error body has the dialect's shape.
func inStyle(dialect string, status int, b map[string]any) bool {
	switch dialect {
	case "oauth2", "hurdlr":
		_, ok := b["error"].(string)
		_, desc := b["error_description"].(string)
		return ok && desc
	case "accounda":
		_, ok := b["error"].(string)
		return ok && len(b) == 1
	case "errorid":
		_, id := b["errorId"].(string)
		_, code := b["code"].(string)
		_, text := b["text"].(string)
		_, pn := b["parameter_name"]
		_, pv := b["parameter_value"]
		return id && code && text && pn && pv && len(b) == 5
	case "acceleration":
		_, em := b["errorMessage"].(string)
		return b["code"] == float64(status) && em && len(b) == 4
	}
	return false
}

func TestFaultsInEveryDialectsStyle(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	s := &session{t: t, g: g}
	for dialect, send := range s.tokenRequests() {
		t.Run(dialect, func(t *testing.T) {
			for _, status := range []int{400, 401, 429, 500, 503} {
				if _, err := g.Admin.AddFault(control.Rule{Dialect: dialect, ClientID: "demo-client", Status: status, Count: 1}); err != nil {
					t.Fatal(err)
				}
				got, _, body := send()
				if got != status || !inStyle(dialect, status, body) {
					t.Fatalf("fault %d: answered %d %v", status, got, body)
				}
				if got, _, body := send(); got != 200 {
					t.Fatalf("after the fault: %d %v", got, body)
				}
			}
			if _, err := g.Admin.AddFault(control.Rule{Dialect: dialect, Latency: "120ms", Count: 1}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if got, _, _ := send(); got != 200 || time.Since(start) < 120*time.Millisecond {
				t.Fatalf("latency fault: %d after %v", got, time.Since(start))
			}
			if _, err := g.Admin.AddFault(control.Rule{Dialect: dialect, Drop: true, Count: 1}); err != nil {
				t.Fatal(err)
			}
			s.tolerate, s.lastErr = true, nil
			if got, _, _ := send(); got != 0 || s.lastErr == nil {
				t.Fatalf("dropped request answered %d", got)
			}
			s.tolerate = false
			if got, _, _ := send(); got != 200 {
				t.Fatalf("after the drop: %d", got)
			}
		})
	}
}

func TestClockMovesExpireTokensAcrossDialects(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	s := &session{t: t, g: g}
	reqs := s.tokenRequests()
	_, _, acc := reqs["accounda"]()
	_, _, jwt := reqs["acceleration"]()
	validate := func() (int, map[string]any) {
		st, _, b := s.get("/v1/user/validate/?auth_id=1&user_data=1", map[string]string{
			"Authorization": "Bearer " + acc["access_token"].(string), "Client-ID": "demo-client", "Auth-Token": "demo-auth-token"})
		return st, b
	}
	userinfo := func() int {
		st, _, _ := s.get("/api/v1/auth/oauth2/userinfo", map[string]string{"Authorization": "Bearer " + jwt["access_token"].(string)})
		return st
	}
	if st, _ := validate(); st != 200 {
		t.Fatalf("fresh accounda token: %d", st)
	}
	if st := userinfo(); st != 200 {
		t.Fatalf("fresh acceleration token: %d", st)
	}
	if _, err := g.Admin.AdvanceClock(2*time.Hour + time.Second); err != nil {
		t.Fatal(err)
	}
	if st, b := validate(); st != 401 || b["error"] != "Access token has expired" {
		t.Fatalf("accounda after 2h: %d %v", st, b)
	}
	if st := userinfo(); st != 401 {
		t.Fatalf("acceleration after 2h: %d", st)
	}
}

// loginFlow runs an authorization-code flow with PKCE through a login page
// and returns the code and verifier.
func (s *session) loginFlow(authorizePath string) (code, verifier string) {
	s.t.Helper()
	verifier = strings.Repeat("known-verifier-", 4)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"demo-client"}, "redirect_uri": {"http://localhost:8081/callback"}, "response_type": {"code"},
		"state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(s.g.URL + authorizePath + "?" + q.Encode())
	if err != nil {
		s.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], strings.ReplaceAll(m[2], "&#43;", "+"))
	}
	form.Set("username", "johndoe")
	form.Set("password", "demo-password")
	form.Set("decision", "allow")
	resp, err = browser.PostForm(s.g.URL+authorizePath, form)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code = loc.Query().Get("code")
	if code == "" {
		s.t.Fatalf("%s: no code (status %d)", authorizePath, resp.StatusCode)
	}
	s.remember(code, verifier, form.Get("csrf_token"))
	return code, verifier
}

func TestNoSecretInLogsJournalOrErrors(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	s := &session{t: t, g: g}
	s.remember("demo-secret", "demo-password", "demo-auth-token", base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret")))
	for _, send := range s.tokenRequests() {
		if st, _, b := send(); st != 200 {
			t.Fatalf("issue: %d %v", st, b)
		}
	}
	// Authorization-code flows with PKCE, then refreshes and replays.
	code, verifier := s.loginFlow("/oauth2/authorize")
	exch := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://localhost:8081/callback"}, "code_verifier": {verifier}}
	_, _, o := s.form("/oauth2/token", exch, "demo-client", "demo-secret")
	s.form("/oauth2/token", exch, "demo-client", "demo-secret") // replay
	s.form("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {o["refresh_token"].(string)}}, "demo-client", "demo-secret")
	s.form("/oauth2/introspect", url.Values{"token": {o["access_token"].(string)}}, "demo-client", "demo-secret")
	s.form("/oauth2/revoke", url.Values{"token": {o["access_token"].(string)}}, "demo-client", "demo-secret")
	code, verifier = s.loginFlow("/rest/v5/accountant/authorize")
	hx := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {"http://localhost:8081/callback"}, "code_verifier": {verifier}}
	_, _, h := s.form("/rest/v5/accountant/token", hx)
	s.form("/rest/v5/accountant/token", hx) // replay
	rt := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {h["refresh_token"].(string)}}
	s.form("/rest/v5/accountant/token", rt)
	s.form("/rest/v5/accountant/token", rt) // reuse
	_, _, a := s.tokenRequests()["accounda"]()
	s.get("/v1/user/validate/?auth_id=1&user_data=1&google=1", map[string]string{"Authorization": "Bearer " + a["access_token"].(string),
		"Client-ID": "demo-client", "Auth-Token": "demo-auth-token"})
	s.form("/v1/token/refresh/", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "access_token": {a["access_token"].(string)}})
	// Failures that carry secrets in the request.
	s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "demo-client", "wrong-secret-value")
	req, _ := http.NewRequest("POST", g.URL+"/v1/oauth/token", strings.NewReader(`{"client_id":"demo-client","client_secret":"wrong-secret-value"}`))
	req.Header.Set("Content-Type", "application/json")
	s.do(req)
	s.remember("wrong-secret-value")

	entries, err := g.Admin.Requests(control.Filter{})
	if err != nil || len(entries) < 15 {
		t.Fatalf("journal: %d entries, %v", len(entries), err)
	}
	journal, _ := json.Marshal(entries)
	outputs := map[string]string{"logs": g.Logs.String(), "journal": string(journal), "error bodies": s.bodies.String()}
	for where, text := range outputs {
		for _, secret := range s.secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain a secret value %q…", where, secret[:6])
			}
		}
	}
	if len(s.secrets) < 15 {
		t.Fatalf("only %d secret values were collected; the flows did not run", len(s.secrets))
	}
}
