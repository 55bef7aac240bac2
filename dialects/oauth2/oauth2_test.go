package oauth2_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const testConfig = `
dialects:
  oauth2: {}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
  - client_id: other-client
    client_secret: other-secret
    grants: [client_credentials]
users:
  - {user_id: demo-user, username: johndoe, first_name: John, last_name: Doe, email: john.doe@example.com, password: demo-password}
`

func start(t *testing.T) *tokengatetest.Gateway {
	return tokengatetest.Start(t, tokengatetest.Options{YAML: testConfig})
}

func TestClientCredentialsWithRealClient(t *testing.T) {
	g := start(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: "demo-client", ClientSecret: "demo-secret",
			TokenURL: g.URL + "/oauth2/token", AuthStyle: style}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %d: %v", style, err)
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.RefreshToken != "" {
			t.Fatalf("auth style %d: unexpected token %+v", style, tok)
		}
		if got := introspect(t, g, tok.AccessToken)["active"]; got != true {
			t.Fatalf("fresh token introspects active=%v", got)
		}
	}
}

func TestTokenErrors(t *testing.T) {
	g := start(t)
	cases := []struct {
		name, body, user, pass, ctype string
		status                        int
		errCode                       string
	}{
		{"wrong secret basic", "grant_type=client_credentials", "demo-client", "nope", "", 401, "invalid_client"},
		{"unknown client post", "grant_type=client_credentials&client_id=ghost&client_secret=x", "", "", "", 401, "invalid_client"},
		{"missing grant", "client_id=demo-client&client_secret=demo-secret", "", "", "", 400, "invalid_request"},
		{"unsupported grant", "grant_type=password&client_id=demo-client&client_secret=demo-secret", "", "", "", 400, "unsupported_grant_type"},
		{"duplicate param", "grant_type=client_credentials&grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret", "", "", "", 400, "invalid_request"},
		{"two auth methods", "grant_type=client_credentials&client_secret=demo-secret", "demo-client", "demo-secret", "", 400, "invalid_request"},
		{"grant not allowed", "grant_type=authorization_code&code=x&client_id=other-client&client_secret=other-secret", "", "", "", 400, "unauthorized_client"},
		{"unknown code", "grant_type=authorization_code&code=nope&client_id=demo-client&client_secret=demo-secret", "", "", "", 400, "invalid_grant"},
		{"wrong content type", `{"grant_type":"client_credentials"}`, "demo-client", "demo-secret", "application/json", 400, "invalid_request"},
		{"malformed form", "grant_type=%zz", "demo-client", "demo-secret", "", 400, "invalid_request"},
		{"oversized", "grant_type=client_credentials&pad=" + strings.Repeat("a", 1<<20+10), "demo-client", "demo-secret", "", 413, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader(tc.body))
			ct := tc.ctype
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			status, hdr, body := do(t, req)
			if status != tc.status || body["error"] != tc.errCode {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.errCode)
			}
			if _, ok := body["error_description"].(string); !ok {
				t.Fatalf("no error_description in %v", body)
			}
			// RFC 6749 §5.2: the Basic challenge answers a client that used Basic.
			if want := tc.status == 401 && tc.user != ""; (hdr.Get("WWW-Authenticate") != "") != want {
				t.Fatalf("WWW-Authenticate %q on %d (Basic used: %v)", hdr.Get("WWW-Authenticate"), tc.status, tc.user != "")
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control = %q", hdr.Get("Cache-Control"))
			}
		})
	}
}

func TestUnroutedPathsInDialectStyle(t *testing.T) {
	g := start(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"GET", "/oauth2/nope", 404}, {"GET", "/oauth2/token", 405}} {
		req, _ := http.NewRequest(tc.method, g.URL+tc.path, nil)
		status, _, body := do(t, req)
		if status != tc.status || body["error"] == nil || body["message"] != nil {
			t.Fatalf("%s %s: %d %v", tc.method, tc.path, status, body)
		}
	}
}

// login drives the HTML login page like a browser and returns the redirect
// Location after submitting the form.
func login(t *testing.T, g *tokengatetest.Gateway, authURL, username, password string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("login page: %d %q\n%s", resp.StatusCode, resp.Header.Get("X-Frame-Options"), page)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	form.Set("decision", "allow")
	resp, err = browser.PostForm(g.URL+"/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login POST answered %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func TestAuthorizationCodeWithPKCEAndRefreshRotation(t *testing.T) {
	g := start(t)
	conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret",
		Endpoint:    oauth2.Endpoint{AuthURL: g.URL + "/oauth2/authorize", TokenURL: g.URL + "/oauth2/token"},
		RedirectURL: "http://localhost:8081/callback", Scopes: []string{"read"}}
	verifier := oauth2.GenerateVerifier()
	loc := login(t, g, conf.AuthCodeURL("xyz-state", oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "http://localhost:8081/callback" || loc.Query().Get("state") != "xyz-state" {
		t.Fatalf("redirected to %s", loc)
	}
	code := loc.Query().Get("code")
	ctx := context.Background()
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier-x")); err == nil {
		t.Fatal("exchange with a wrong verifier succeeded")
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token from the authorization_code grant")
	}
	if introspect(t, g, tok.AccessToken)["sub"] != "demo-user" {
		t.Fatal("access token not bound to the user")
	}
	// A second redemption fails and revokes what the first issued.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("code redeemed twice")
	}
	if introspect(t, g, tok.AccessToken)["active"] != false {
		t.Fatal("tokens of a replayed code stay active")
	}

	// Fresh flow for rotation.
	verifier = oauth2.GenerateVerifier()
	loc = login(t, g, conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
	tok, err = conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	g.Clock().Advance(2 * time.Hour)          // the access token has expired on the gateway...
	tok.Expiry = time.Now().Add(-time.Minute) // ...and, for x/oauth2's own check, on the client
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	// Reuse of the rotated-out refresh token revokes the family.
	old := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	if _, err := conf.TokenSource(ctx, old).Token(); err == nil {
		t.Fatal("rotated-out refresh token accepted")
	}
	if introspect(t, g, fresh.RefreshToken)["active"] != false || introspect(t, g, fresh.AccessToken)["active"] != false {
		t.Fatal("reuse did not revoke the family")
	}
}

func TestAuthorizeRefusesUnregisteredRedirect(t *testing.T) {
	g := start(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Left out, redirect_uri is the client's only registered one (RFC 6749
	// §3.1.2.3): see TestAuthorizeWithoutRedirectURI.
	for _, ru := range []string{"http://evil.example/callback", "http://localhost:8081/callback/extra"} {
		q := url.Values{"client_id": {"demo-client"}, "response_type": {"code"}, "state": {"s"}}
		if ru != "" {
			q.Set("redirect_uri", ru)
		}
		resp, err := noFollow.Get(g.URL + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Fatalf("redirect_uri %q: %d, Location %q", ru, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestWrongPasswordShowsPageAgain(t *testing.T) {
	g := start(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"demo-client"}, "response_type": {"code"}, "redirect_uri": {"http://localhost:8081/callback"}}
	resp, err := browser.Get(g.URL + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(string(page))
	if csrf == nil {
		t.Fatal("no CSRF token on the page")
	}
	q.Set("csrf_token", csrf[1])
	q.Set("username", "johndoe")
	q.Set("password", "wrong")
	resp, err = browser.PostForm(g.URL+"/oauth2/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || !strings.Contains(string(page), "Wrong username or password") {
		t.Fatalf("wrong password: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Without the CSRF token the same POST is refused outright.
	q.Del("csrf_token")
	q.Set("password", "demo-password")
	resp, err = browser.PostForm(g.URL+"/oauth2/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Fatalf("missing CSRF: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestRevokeAndMetadata(t *testing.T) {
	g := start(t)
	cc := clientcredentials.Config{ClientID: "demo-client", ClientSecret: "demo-secret", TokenURL: g.URL + "/oauth2/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", g.URL+"/oauth2/revoke", strings.NewReader("token="+tok.AccessToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	if status, _, _ := do(t, req); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if introspect(t, g, tok.AccessToken)["active"] != false {
		t.Fatal("revoked token still active")
	}
	req, _ = http.NewRequest("GET", g.URL+"/.well-known/oauth-authorization-server", nil)
	status, _, meta := do(t, req)
	if status != 200 || meta["token_endpoint"] != g.URL+"/oauth2/token" || meta["issuer"] != g.URL {
		t.Fatalf("metadata: %d %v", status, meta)
	}
}

func TestTokenSurvivesRestart(t *testing.T) {
	db := t.TempDir() + "/restart.db"
	var token string
	t.Run("first", func(t *testing.T) {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: testConfig, DB: db})
		cc := clientcredentials.Config{ClientID: "demo-client", ClientSecret: "demo-secret", TokenURL: g.URL + "/oauth2/token"}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		token = tok.AccessToken
	})
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: testConfig, DB: db})
	if introspect(t, g, token)["active"] != true {
		t.Fatal("token not active after a restart on the same database")
	}
}

func introspect(t *testing.T, g *tokengatetest.Gateway, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	status, _, body := do(t, req)
	if status != 200 {
		t.Fatalf("introspect: %d %v", status, body)
	}
	return body
}

func do(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("body is not JSON: %q", raw)
		}
	}
	return resp.StatusCode, resp.Header, body
}

func TestBruteForceAnswers429(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: testConfig, AuthFailureLimit: true})
	post := func(secret string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest("POST", g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", secret)
		return do(t, req)
	}
	if st, _, _ := post("demo-secret"); st != 200 {
		t.Fatal(st)
	}
	for i := range 20 {
		if st, _, _ := post("guess"); st != 401 {
			t.Fatalf("failure %d answered %d", i, st)
		}
	}
	st, hdr, body := post("guess")
	if st != 429 || hdr.Get("Retry-After") == "" || body["error"] != "slow_down" {
		t.Fatalf("over the limit: %d %q %v", st, hdr.Get("Retry-After"), body)
	}
	if st, _, _ := post("demo-secret"); st != 200 {
		t.Fatalf("a known-good client was limited: %d", st)
	}
}
