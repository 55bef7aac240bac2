package hurdlr_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
)

// codesIssued counts the authorization codes in the store.
func codesIssued(t *testing.T, g *tokengatetest.Gateway) int {
	t.Helper()
	list, err := g.App.Store.ListTokens(context.Background(), core.TokenFilter{Kind: core.TokenCode})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// checkErrorPage checks an HTML error page: status, HTML, the security
// headers, no redirect.
func checkErrorPage(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.raw)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("error page Content-Type = %q", r.header.Get("Content-Type"))
	}
	if loc := r.header.Get("Location"); loc != "" {
		t.Fatalf("error page redirects to %s", loc)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.raw, `class="error"`) || !strings.Contains(r.raw, "Hurdlr") {
		t.Fatalf("not the Hurdlr error page: %v\n%s", r.header, r.raw)
	}
}

// TestAuthorizationCodeFlow drives the accountant login page like a browser,
// then exchanges the code with the vendor's curl; with and without PKCE.
func TestAuthorizationCodeFlow(t *testing.T) {
	g := start(t, "{}")
	ctx := context.Background()
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-hurdlr"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	t.Run("page", func(t *testing.T) {
		b := newBrowser(t, g)
		r := b.get(authorizeURL(g, authorizeQuery(callback, "st")))
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %v", r.status, r.header)
		}
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "form-action 'self' http://localhost:8081;") || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("security headers: %v", h)
		}
		var csrf *http.Cookie
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == "tg_csrf" {
				csrf = c
			}
		}
		if csrf == nil || !csrf.HttpOnly || csrf.Path != authorizePath {
			t.Fatalf("CSRF cookie: %+v", csrf)
		}
		for _, want := range []string{"Hurdlr", "Accountant sign in", "#00a86b", `action="` + authorizePath + `"`,
			`name="username"`, `name="password"`, "demo-client"} {
			if !strings.Contains(r.raw, want) {
				t.Fatalf("page lacks %q:\n%s", want, r.raw)
			}
		}
		f := hiddenFields(r.raw)
		if f.Get("csrf_token") == "" || f.Get("redirect_uri") != callback || f.Get("state") != "st" || f.Get("client_id") != "demo-client" {
			t.Fatalf("hidden fields %v", f)
		}
	})

	t.Run("plain", func(t *testing.T) {
		c := code(t, g, authorizeQuery(callback, "xyz"))
		at, rt := tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: callback})
		tok, err := g.App.Engine.Validate(ctx, nil, at)
		if err != nil || tok.UserID != "demo-user" || tok.ClientID != "demo-client" {
			t.Fatalf("%+v %v", tok, err)
		}
		// The code's refresh token works like any other.
		tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
	})

	t.Run("missing redirect_uri at exchange", func(t *testing.T) {
		c := code(t, g, authorizeQuery(callback, "xyz"))
		r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c}))
		checkError(t, r, 400, "invalid_request")
	})

	t.Run("S256", func(t *testing.T) {
		q := authorizeQuery(callback, "pkce-state")
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
		c := code(t, g, q)
		base := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: callback}
		r := do(t, nil, seedRequest(t, g, base))
		checkError(t, r, 400, "invalid_request") // no verifier: no downgrade
		wrong := base
		wrong.CodeVerifier = strings.Repeat("x", 50)
		checkError(t, do(t, nil, seedRequest(t, g, wrong)), 400, "invalid_grant")
		right := base
		right.CodeVerifier = verifier
		at, _ := tokens(t, g, right)
		if _, err := g.App.Engine.Validate(ctx, nil, at); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("verifier for a code without challenge", func(t *testing.T) {
		c := code(t, g, authorizeQuery(callback, "s"))
		r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code",
			Code: c, RedirectURI: callback, CodeVerifier: verifier}))
		checkError(t, r, 400, "invalid_grant")
	})

	t.Run("plain PKCE refused", func(t *testing.T) {
		q := authorizeQuery(callback, "s")
		q.Set("code_challenge", verifier)
		q.Set("code_challenge_method", "plain")
		r := newBrowser(t, g).get(authorizeURL(g, q))
		if r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" || loc.Query().Get("code") != "" {
			t.Fatalf("Location %s", loc)
		}
	})

	t.Run("deny", func(t *testing.T) {
		b := newBrowser(t, g)
		form := b.loginPage(authorizeQuery(callback, "d"))
		form.Set("decision", "deny")
		r := b.post(form)
		loc, _ := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
			t.Fatalf("%d %s", r.status, loc)
		}
	})

	t.Run("code of another client", func(t *testing.T) {
		c := code(t, g, authorizeQuery(callback, "s"))
		r := do(t, nil, seedRequest(t, g, seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "authorization_code",
			Code: c, RedirectURI: callback}))
		checkError(t, r, 400, "invalid_grant")
	})
}

// TestCodeReplay: a code redeemed twice fails the second time and revokes
// everything the first exchange issued (RFC 9700 §4.14).
func TestCodeReplay(t *testing.T) {
	g := start(t, "{}")
	ctx := context.Background()
	c := code(t, g, authorizeQuery(callback, "r"))
	s := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: callback}
	at, rt := tokens(t, g, s)
	if _, err := g.App.Engine.Validate(ctx, nil, at); err != nil {
		t.Fatalf("fresh access token invalid: %v", err)
	}
	checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
	if _, err := g.App.Engine.Validate(ctx, nil, at); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("first access token after replay: %v, want invalid_token", err)
	}
	if _, active, _ := g.App.Engine.Introspect(ctx, nil, rt); active {
		t.Fatal("first refresh token still active after replay")
	}
	checkError(t, do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret",
		GrantType: "refresh_token", RefreshToken: rt})), 400, "invalid_grant")
}

// TestRedirectURITampering: an unregistered or missing redirect_uri is an
// error page, never a redirect; a code exchanged with another redirect_uri
// than it was issued for fails.
func TestRedirectURITampering(t *testing.T) {
	g := start(t, "{}")
	for _, tc := range []struct {
		name   string
		q      url.Values
		status int
	}{
		{"unregistered", authorizeQuery("http://evil.example/callback", "s"), 400},
		{"registered prefix", authorizeQuery(callback+"/../evil", "s"), 400},
		{"with extra query", authorizeQuery(callback+"?x=1", "s"), 400},
		{"missing", url.Values{"client_id": {"demo-client"}, "response_type": {"code"}, "state": {"s"}}, 400},
		{"another client's uri", authorizeQuery("http://localhost:9090/cb", "s"), 400},
		{"unknown client", url.Values{"client_id": {"ghost"}, "redirect_uri": {callback}, "response_type": {"code"}}, 401},
		{"missing client", url.Values{"redirect_uri": {callback}, "response_type": {"code"}}, 400},
		{"duplicate redirect_uri", url.Values{"client_id": {"demo-client"}, "redirect_uri": {callback, "http://evil.example/"}, "response_type": {"code"}}, 400},
	} {
		t.Run("GET "+tc.name, func(t *testing.T) {
			checkErrorPage(t, newBrowser(t, g).get(authorizeURL(g, tc.q)), tc.status)
		})
	}

	t.Run("POST with a swapped redirect_uri", func(t *testing.T) {
		b := newBrowser(t, g)
		form := b.loginPage(authorizeQuery(callback, "s"))
		form.Set("redirect_uri", "http://evil.example/callback")
		form.Set("username", "johndoe")
		form.Set("password", "demo-password")
		checkErrorPage(t, b.post(form), 400)
		if n := codesIssued(t, g); n != 0 {
			t.Fatalf("%d codes issued", n)
		}
	})

	t.Run("exchange with another registered redirect_uri", func(t *testing.T) {
		c := code(t, g, authorizeQuery(callback, "s"))
		s := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: otherCallback}
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
		s.RedirectURI = "http://evil.example/callback"
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
	})

	t.Run("code bound to the other registered uri", func(t *testing.T) {
		c := code(t, g, authorizeQuery(otherCallback, "s"))
		s := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: callback}
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
		s.RedirectURI = otherCallback
		tokens(t, g, s)
	})
}

// TestCSRF: a form post without the CSRF token, with a wrong one, or
// without the cookie it is bound to gets the error page and no code.
func TestCSRF(t *testing.T) {
	g := start(t, "{}")
	for _, tc := range []struct {
		name   string
		mangle func(b *browser, form url.Values) *browser
	}{
		{"missing token", func(b *browser, f url.Values) *browser { f.Del("csrf_token"); return b }},
		{"empty token", func(b *browser, f url.Values) *browser { f.Set("csrf_token", ""); return b }},
		{"wrong token", func(b *browser, f url.Values) *browser {
			f.Set("csrf_token", base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
			return b
		}},
		{"not base64", func(b *browser, f url.Values) *browser { f.Set("csrf_token", "%%%"); return b }},
		{"token of another page", func(b *browser, f url.Values) *browser {
			other := newBrowser(b.t, b.g).loginPage(authorizeQuery(callback, "s"))
			f.Set("csrf_token", other.Get("csrf_token"))
			return b
		}},
		{"no cookie", func(b *browser, f url.Values) *browser { return newBrowser(b.t, b.g) }},
		{"duplicate token", func(b *browser, f url.Values) *browser { f.Add("csrf_token", f.Get("csrf_token")); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, g)
			form := b.loginPage(authorizeQuery(callback, "s"))
			form.Set("username", "johndoe")
			form.Set("password", "demo-password")
			form.Set("decision", "allow")
			b = tc.mangle(b, form)
			r := b.post(form)
			checkErrorPage(t, r, http.StatusForbidden)
			if n := codesIssued(t, g); n != 0 {
				t.Fatalf("%d codes issued", n)
			}
		})
	}
}

// TestWrongPassword: the page comes back with an error, no redirect and no
// code; the re-rendered form then works with the right password.
func TestWrongPassword(t *testing.T) {
	g := start(t, "{}")
	for _, creds := range [][2]string{{"johndoe", "wrong-password"}, {"nobody", "demo-password"}, {"johndoe", ""}} {
		before := codesIssued(t, g)
		b := newBrowser(t, g)
		form := b.loginPage(authorizeQuery(callback, "s"))
		form.Set("username", creds[0])
		form.Set("password", creds[1])
		r := b.post(form)
		if r.status != http.StatusOK || r.header.Get("Location") != "" ||
			!strings.Contains(r.raw, "Wrong username or password.") || !strings.Contains(r.raw, `name="password"`) {
			t.Fatalf("%v: %d %v\n%s", creds, r.status, r.header, r.raw)
		}
		if strings.Contains(r.raw, "wrong-password") || strings.Contains(r.raw, "demo-password") {
			t.Fatal("the page echoes the password")
		}
		if n := codesIssued(t, g); n != before {
			t.Fatalf("%d codes issued", n-before)
		}
		again := hiddenFields(r.raw)
		again.Set("username", "johndoe")
		again.Set("password", "demo-password")
		r = b.post(again)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), callback+"?") {
			t.Fatalf("retry: %d %v", r.status, r.header)
		}
	}
}

// TestAuthorizeMethodNotAllowed: other methods on the authorize path get a
// JSON 405 in Hurdlr's style.
func TestAuthorizeMethodNotAllowed(t *testing.T) {
	g := start(t, "{}")
	req, _ := http.NewRequest(http.MethodPut, g.URL+authorizePath, nil)
	checkError(t, do(t, nil, req), 405, "method_not_allowed")
}
