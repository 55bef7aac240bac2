package hurdlr_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDocumentAuthorizationCodeExchange: the accountant logs in at the
// authorize page without a redirect_uri (the document names none), and the
// code is exchanged with exactly the document's fields — client_id,
// client_secret, grant_type, refresh_token, code, userId, most of them
// empty, no redirect_uri — for a client with one registered redirect URI
// (RFC 6749 §3.1.2.3, §4.1.3). An undocumented scope on the authorize URL
// does not replace the documented constant "token".
func TestDocumentAuthorizationCodeExchange(t *testing.T) {
	g := start(t, "{}")
	b := newBrowser(t, g)
	form := b.loginPage(url.Values{"client_id": {"second-client"}, "response_type": {"code"}, "state": {"s1"}, "scope": {"admin"}})
	if form.Has("redirect_uri") {
		t.Fatalf("the form carries a redirect_uri the request did not: %v", form)
	}
	form.Set("username", "johndoe")
	form.Set("password", "demo-password")
	form.Set("decision", "allow")
	r := b.post(form)
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "http://localhost:9090/cb" {
		t.Fatalf("login answered %d, Location %q", r.status, r.header.Get("Location"))
	}
	body := "client_id=second-client&client_secret=second-secret&grant_type=authorization_code&refresh_token=&code=" +
		loc.Query().Get("code") + "&userId="
	req, _ := http.NewRequest(http.MethodPost, g.URL+tokenPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer <token>")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := do(t, nil, req)
	if res.status != 200 {
		t.Fatalf("the document's exchange answered %d: %s", res.status, res.raw)
	}
	checkTokenBody(t, res)
	if res.body["scope"] != "token" {
		t.Fatalf("scope %v, want the documented constant", res.body["scope"])
	}
	// The refresh keeps the constant too.
	_, refresh := tokens(t, g, seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "client_credentials", UserID: "demo-user"})
	again := do(t, nil, seedRequest(t, g, seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "refresh_token", RefreshToken: refresh}))
	if again.status != 200 || again.body["scope"] != "token" {
		t.Fatalf("refresh: %d %s", again.status, again.raw)
	}
}

// TestUnknownCodeWording: the description of an unknown code reads naturally.
func TestUnknownCodeWording(t *testing.T) {
	g := start(t, "{}")
	r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: "nope"}))
	if r.status != 400 || r.body["error"] != "invalid_grant" || r.body["error_description"] != "unknown authorization code" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// TestErrorTextUnescaped: JSON error text is written as is, not
// HTML-escaped (\u003ctoken\u003e).
func TestErrorTextUnescaped(t *testing.T) {
	g := start(t, "{require_bearer: true}")
	req := seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
	req.Header.Set("Authorization", "Basic abc")
	r := do(t, nil, req)
	if r.status != 401 || !strings.Contains(r.raw, "Bearer <token>") {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}
