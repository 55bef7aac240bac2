package oauth2_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// The authorization code flow with scope=openid, driven by go-oidc (which
// discovers the gateway and verifies the id_token against its JWKS, nonce
// and at_hash included) and x/oauth2.
func TestOpenIDConnectWithGoOIDC(t *testing.T) {
	g := startOIDC(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, g.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret", Endpoint: provider.Endpoint(),
		RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	nonce := "n-" + verifier[:16]
	code, err := g.LoginCode(conf.AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "demo-client"}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if idt.Nonce != nonce || idt.Subject != "demo-user" || idt.Issuer != g.URL {
		t.Fatalf("id_token claims: nonce %q sub %q iss %q", idt.Nonce, idt.Subject, idt.Issuer)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil || claims["azp"] != "demo-client" || claims["auth_time"] == nil || claims["email"] != nil {
		t.Fatalf("id_token claims %v %v (user claims only in userinfo by default)", claims, err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var profile map[string]any
	if err := info.Claims(&profile); err != nil || info.Subject != "demo-user" || info.Email != "john.doe@example.com" ||
		!info.EmailVerified || profile["name"] != "John Doe" || profile["preferred_username"] != "johndoe" {
		t.Fatalf("userinfo %+v %v %v", info, profile, err)
	}
}

// es-client: ES256 id_tokens with the user's claims, a required nonce, and
// RFC 9068 JWT access tokens that introspect like opaque ones.
func TestPerClientSettings(t *testing.T) {
	g := startOIDC(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, g.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: "es-client", ClientSecret: "es-secret", Endpoint: provider.Endpoint(),
		RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "email"}}
	loc, err := g.Browser().Login(conf.AuthCodeURL("st"), "johndoe", "demo-password")
	if err != nil || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "nonce") {
		t.Fatalf("without the required nonce: %v %v", loc, err)
	}
	code, err := g.LoginCode(conf.AuthCodeURL("st", oidc.Nonce("abc")), "johndoe", "demo-password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	v := provider.Verifier(&oidc.Config{ClientID: "es-client", SupportedSigningAlgs: []string{oidc.ES256}})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ES256 id_token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil || claims["email"] != "john.doe@example.com" || claims["nonce"] != "abc" {
		t.Fatalf("id_token claims %v %v", claims, err)
	}
	// RFC 9068 §2.1: typ at+jwt; §2.2: iss, exp, aud, sub, client_id, iat, jti.
	header, at := jwtParts(t, tok.AccessToken)
	if header["typ"] != "at+jwt" || header["alg"] != "RS256" {
		t.Fatalf("access token header %v", header)
	}
	for _, c := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
		if at[c] == nil {
			t.Errorf("access token lacks %s: %v", c, at)
		}
	}
	keys := oidc.NewRemoteKeySet(ctx, g.URL+"/oauth2/jwks")
	if _, err := keys.VerifySignature(ctx, tok.AccessToken); err != nil {
		t.Fatalf("access token signature: %v", err)
	}
	if in := introspect(t, g, tok.AccessToken); in["active"] != true || in["sub"] != "demo-user" {
		t.Fatalf("introspection of a JWT access token: %v", in)
	}
}

// A public client: no secret, PKCE S256 required (x/oauth2's helpers).
func TestPublicClientPKCE(t *testing.T) {
	g := startOIDC(t)
	ctx := context.Background()
	conf := &oauth2.Config{ClientID: "demo-public", RedirectURL: callback, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: g.URL + "/oauth2/authorize", TokenURL: g.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	loc, err := g.Browser().Authorize(conf.AuthCodeURL("st"))
	if err != nil || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("a public client without PKCE: %v %v", loc, err)
	}
	loc, err = g.Browser().Authorize(conf.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
		oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if err != nil || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("a public client with plain PKCE: %v %v", loc, err)
	}
	verifier := oauth2.GenerateVerifier()
	code, err := g.LoginCode(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil || tok.Extra("id_token") == nil || tok.RefreshToken == "" {
		t.Fatalf("public exchange: %+v %v", tok, err)
	}
	// A public client has no secret to present; one presented is refused.
	status, _, body := postForm(t, g, "/oauth2/token", "demo-public", "guess",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("a public client with a secret: %d %v", status, body)
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	if fresh, err := conf.TokenSource(ctx, tok).Token(); err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("public refresh: %v", err)
	}
}

// A login session spares the password; prompt, max_age and login_hint
// behave as OpenID Connect Core §3.1.2.1 says.
func TestLoginSession(t *testing.T) {
	g := startOIDC(t)
	conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret", RedirectURL: callback,
		Scopes: []string{"openid"}, Endpoint: oauth2.Endpoint{AuthURL: g.URL + "/oauth2/authorize", TokenURL: g.URL + "/oauth2/token"}}
	b := g.Browser()
	if loc, err := b.Authorize(authURL(conf, "s", map[string]string{"prompt": "none"})); err != nil || loc.Query().Get("error") != "login_required" ||
		loc.Query().Get("state") != "s" {
		t.Fatalf("prompt=none without a session: %v %v", loc, err)
	}
	if _, err := b.Authorize(authURL(conf, "s", nil)); err != tokengatetest.ErrLoginPage {
		t.Fatalf("no session, no prompt: %v", err)
	}
	if _, err := b.Login(authURL(conf, "s", nil), "johndoe", "demo-password"); err != nil {
		t.Fatal(err)
	}
	for _, prompt := range []string{"", "none"} {
		loc, err := b.Authorize(authURL(conf, "s", map[string]string{"prompt": prompt}))
		if err != nil || loc.Query().Get("code") == "" {
			t.Fatalf("with a session, prompt=%q: %v %v", prompt, loc, err)
		}
	}
	for _, prompt := range []string{"login", "consent", "select_account"} {
		if _, err := b.Authorize(authURL(conf, "s", map[string]string{"prompt": prompt})); err != tokengatetest.ErrLoginPage {
			t.Fatalf("prompt=%s with a session: %v", prompt, err)
		}
	}
	g.Clock().Advance(2 * time.Minute)
	if _, err := b.Authorize(authURL(conf, "s", map[string]string{"max_age": "60"})); err != tokengatetest.ErrLoginPage {
		t.Fatalf("max_age exceeded: %v", err)
	}
	if loc, err := b.Authorize(authURL(conf, "s", map[string]string{"max_age": "600"})); err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("max_age not exceeded: %v %v", loc, err)
	}
	g.Clock().Advance(9 * time.Hour) // past the session's lifetime
	if loc, err := b.Authorize(authURL(conf, "s", map[string]string{"prompt": "none"})); err != nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("an expired session: %v %v", loc, err)
	}
	resp, err := http.Get(authURL(conf, "s", map[string]string{"login_hint": "jane<x>"}))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if !strings.Contains(page, `name="username" autocomplete="username" value="jane&lt;x&gt;"`) {
		t.Fatalf("login_hint does not pre-fill the username:\n%s", page)
	}
}

// Two instances of the oauth2 type are two issuers: each has its own keys
// and its id_tokens verify only against its own discovery.
func TestTwoIssuers(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
dialects:
  tenant-a: {type: oauth2, prefix: /a}
  tenant-b: {type: oauth2, prefix: /b}
clients:
  - {client_id: demo-client, client_secret: demo-secret, grants: [authorization_code], redirect_uris: ["` + callback + `"]}
users:
  - {user_id: demo-user, username: johndoe, password: demo-password}
`})
	ctx := context.Background()
	idToken := func(prefix string) (*oidc.Provider, string) {
		t.Helper()
		p, err := oidc.NewProvider(ctx, g.URL+prefix)
		if err != nil {
			t.Fatalf("discovery of %s: %v", prefix, err)
		}
		conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret", Endpoint: p.Endpoint(), RedirectURL: callback,
			Scopes: []string{"openid"}}
		code, err := g.LoginCode(conf.AuthCodeURL("s"), "johndoe", "demo-password")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := conf.Exchange(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return p, tok.Extra("id_token").(string)
	}
	pa, ta := idToken("/a")
	pb, tb := idToken("/b")
	va, vb := pa.Verifier(&oidc.Config{ClientID: "demo-client"}), pb.Verifier(&oidc.Config{ClientID: "demo-client"})
	if _, err := va.Verify(ctx, ta); err != nil {
		t.Fatalf("tenant-a's own token: %v", err)
	}
	if _, err := vb.Verify(ctx, tb); err != nil {
		t.Fatalf("tenant-b's own token: %v", err)
	}
	if _, err := va.Verify(ctx, tb); err == nil {
		t.Fatal("tenant-a verified tenant-b's id_token")
	}
	// Even with the issuer check off, the signature is tenant-a's alone.
	loose := pa.Verifier(&oidc.Config{ClientID: "demo-client", SkipIssuerCheck: true})
	if _, err := loose.Verify(ctx, tb); err == nil {
		t.Fatal("tenant-a's keys verified tenant-b's signature")
	}
}

// tokengate keys rotate --dialect NAME works on an oauth2 instance: the
// JWKS then serves the new keys and the old ones, and id_tokens signed
// before the rotation still verify.
func TestKeyRotationKeepsOldKeysPublished(t *testing.T) {
	g := startOIDC(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, g.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"password"}, "username": {"johndoe"},
		"password": {"demo-password"}, "scope": {"openid"}})
	before := jwksKids(t, g)
	if len(before) != 2 {
		t.Fatalf("one RS256 and one ES256 key expected, got %v", before)
	}
	kids, err := g.App.Engine.RotateSigningKeys(ctx, "oauth2", time.Hour)
	if err != nil || len(kids) != 2 {
		t.Fatalf("rotate: %v %v", kids, err)
	}
	g.Clock().Advance(11 * time.Second) // the rings' reload interval
	after := jwksKids(t, g)
	if len(after) != 4 || after[0] != kids[0] {
		t.Fatalf("JWKS after rotation %v (new %v, old %v)", after, kids, before)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "demo-client", Now: g.Clock().Now}).Verify(ctx, body["id_token"].(string)); err != nil {
		t.Fatalf("an id_token of the retired key: %v", err)
	}
	g.Clock().Advance(2 * time.Hour)
	if got := jwksKids(t, g); len(got) != 2 {
		t.Fatalf("the retired keys stay published past their lifetime: %v", got)
	}
}

func jwksKids(t *testing.T, g *tokengatetest.Gateway) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/jwks", nil)
	status, hdr, body := do(t, req)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %v", status, hdr)
	}
	var kids []string
	for _, k := range body["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"].(string))
	}
	return kids
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// The embedded demo config (what make run serves) is an OpenID Connect
// provider out of the box: demo-client and the public demo-public complete
// the code flow, their id_tokens verify through discovery.
func TestDemoConfigIsAnOpenIDProvider(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, g.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, secret string }{{"demo-client", "demo-secret"}, {"demo-public", ""}} {
		conf := &oauth2.Config{ClientID: c.id, ClientSecret: c.secret, Endpoint: provider.Endpoint(), RedirectURL: callback,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
		verifier := oauth2.GenerateVerifier()
		code, err := g.LoginCode(conf.AuthCodeURL("s", oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
		if err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if _, err := provider.Verifier(&oidc.Config{ClientID: c.id}).Verify(ctx, raw); err != nil {
			t.Fatalf("%s: id_token: %v", c.id, err)
		}
	}
}
