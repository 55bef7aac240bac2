package oauth2_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const (
	urnDevice   = "urn:ietf:params:oauth:grant-type:device_code"
	urnExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	urnBearer   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	typeAccess  = "urn:ietf:params:oauth:token-type:access_token"
	typeJWT     = "urn:ietf:params:oauth:token-type:jwt"
	assertType  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// The device flow with x/oauth2 as the device: DeviceAuth, the user
// approves on the verification page, DeviceAccessToken polls (the
// instance's interval is one second) and gets the tokens.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	g := startOIDC(t)
	ctx := context.Background()
	for _, client := range []struct{ id, secret string }{{"demo-public", ""}, {"demo-client", "demo-secret"}} {
		conf := &oauth2.Config{ClientID: client.id, ClientSecret: client.secret, Scopes: []string{"openid", "profile"},
			Endpoint: oauth2.Endpoint{DeviceAuthURL: g.URL + "/oauth2/device_authorization", TokenURL: g.URL + "/oauth2/token",
				AuthStyle: oauth2.AuthStyleInParams}}
		da, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatalf("%s: device authorization: %v", client.id, err)
		}
		if da.VerificationURI != g.URL+"/oauth2/device" || da.UserCode == "" || da.Interval != 1 || da.Expiry.IsZero() {
			t.Fatalf("%s: device authorization response %+v", client.id, da)
		}
		if err := g.Browser().ApproveDevice(da.VerificationURIComplete, "", "johndoe", "demo-password", true); err != nil {
			t.Fatal(err)
		}
		tok, err := conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatalf("%s: polling: %v", client.id, err)
		}
		if tok.Extra("id_token") == nil || tok.RefreshToken == "" || introspect(t, g, tok.AccessToken)["sub"] != "demo-user" {
			t.Fatalf("%s: device tokens %+v", client.id, tok)
		}
	}
}

// RFC 8628 §3.5 on the wire, the gateway clock deciding: pending, slow_down
// (and the interval grows by 5 seconds), access_denied, expired_token, and
// a used code.
func TestDeviceFlowErrors(t *testing.T) {
	g := startOIDC(t)
	authorize := func() map[string]any {
		t.Helper()
		status, _, body := postForm(t, g, "/oauth2/device_authorization", "demo-client", "demo-secret", url.Values{"scope": {"openid"}})
		if status != http.StatusOK {
			t.Fatalf("device authorization: %d %v", status, body)
		}
		return body
	}
	poll := func(device string) (int, string) {
		t.Helper()
		status, _, body := postForm(t, g, "/oauth2/token", "demo-client", "demo-secret",
			url.Values{"grant_type": {urnDevice}, "device_code": {device}})
		code, _ := body["error"].(string)
		return status, code
	}
	want := func(what string, status int, code string, wantStatus int, wantCode string) {
		t.Helper()
		if status != wantStatus || code != wantCode {
			t.Fatalf("%s: %d %q, want %d %q", what, status, code, wantStatus, wantCode)
		}
	}
	da := authorize()
	device := da["device_code"].(string)
	st, code := poll(device)
	want("first poll", st, code, 400, "authorization_pending")
	st, code = poll(device)
	want("a poll within the interval", st, code, 400, "slow_down")
	g.Clock().Advance(2 * time.Second) // more than the 1s interval, less than the slowed-down 6s
	st, code = poll(device)
	want("a poll within the slowed-down interval", st, code, 400, "slow_down")
	g.Clock().Advance(11 * time.Second) // the interval is 11s now
	st, code = poll(device)
	want("a poll after the interval", st, code, 400, "authorization_pending")

	if err := g.Browser().ApproveDevice(da["verification_uri"].(string), da["user_code"].(string), "johndoe", "demo-password", false); err != nil {
		t.Fatal(err)
	}
	g.Clock().Advance(time.Minute)
	st, code = poll(device)
	want("a denied authorization", st, code, 400, "access_denied")

	da = authorize()
	device = da["device_code"].(string)
	g.Clock().Advance(10 * time.Minute) // the code's lifetime
	st, code = poll(device)
	want("an expired code", st, code, 400, "expired_token")
	if err := g.Browser().ApproveDevice(da["verification_uri"].(string), da["user_code"].(string), "johndoe", "demo-password", true); err == nil {
		t.Fatal("an expired user code was accepted on the verification page")
	}

	da = authorize()
	device = da["device_code"].(string)
	if err := g.Browser().ApproveDevice(da["verification_uri_complete"].(string), "", "johndoe", "demo-password", true); err != nil {
		t.Fatal(err)
	}
	if err := g.Browser().ApproveDevice(da["verification_uri_complete"].(string), "", "johndoe", "demo-password", true); err == nil {
		t.Fatal("a user code was used twice")
	}
	g.Clock().Advance(time.Minute)
	st, _ = poll(device)
	want("an approved code", st, "", 200, "")
	st, code = poll(device)
	want("a used code", st, code, 400, "invalid_grant")
}

// Token exchange (RFC 8693): an access token for a new one with another
// audience, opaque or JWT; the result introspects active with its aud.
func TestTokenExchange(t *testing.T) {
	g := startOIDC(t)
	subject := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"password"}, "username": {"johndoe"},
		"password": {"demo-password"}, "scope": {"read write"}})["access_token"].(string)
	actor := token(t, g, "cc-only", "cc-secret", url.Values{"grant_type": {"client_credentials"}})["access_token"].(string)
	body := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {urnExchange}, "subject_token": {subject},
		"subject_token_type": {typeAccess}, "actor_token": {actor}, "actor_token_type": {typeAccess},
		"audience": {"https://api.example", "urn:billing"}, "resource": {"https://api.example/v2"}, "scope": {"read"}})
	if body["issued_token_type"] != typeAccess || body["token_type"] != "Bearer" || body["scope"] != "read" || body["refresh_token"] != nil {
		t.Fatalf("exchange response %v", body)
	}
	in := introspect(t, g, body["access_token"].(string))
	aud, _ := in["aud"].([]any)
	act, _ := in["act"].(map[string]any)
	if in["active"] != true || in["sub"] != "demo-user" || len(aud) != 2 || aud[0] != "https://api.example" || act["sub"] != "cc-only" {
		t.Fatalf("introspection of the exchanged token: %v", in)
	}
	jwtBody := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {urnExchange}, "subject_token": {subject},
		"subject_token_type": {typeAccess}, "requested_token_type": {typeJWT}, "audience": {"urn:billing"}})
	_, claims := jwtParts(t, jwtBody["access_token"].(string))
	if jwtBody["issued_token_type"] != typeJWT || claims["aud"] != "urn:billing" || claims["sub"] != "demo-user" {
		t.Fatalf("JWT exchange %v, claims %v", jwtBody, claims)
	}
	// The JWT it issued is itself a subject token of type jwt.
	token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {urnExchange}, "subject_token": {jwtBody["access_token"].(string)},
		"subject_token_type": {typeJWT}})
}

// Tokens of another instance are another issuer's: refused unless the
// client trusts it.
func TestTokenExchangeAcrossIssuers(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
dialects:
  tenant-a: {type: oauth2, prefix: /a}
  tenant-b: {type: oauth2, prefix: /b}
clients:
  - {client_id: b-client, client_secret: s, grants: [client_credentials]}
  - {client_id: naive, client_secret: s, grants: [token_exchange]}
  - {client_id: trusting, client_secret: s, grants: [token_exchange], trusted_issuers: [tenant-b]}
`})
	post := func(path, id string, form url.Values) (int, map[string]any) {
		status, _, body := postForm(t, g, path, id, "s", form)
		return status, body
	}
	st, body := post("/b/oauth2/token", "b-client", url.Values{"grant_type": {"client_credentials"}})
	if st != 200 {
		t.Fatal(st, body)
	}
	ex := url.Values{"grant_type": {urnExchange}, "subject_token": {body["access_token"].(string)}, "subject_token_type": {typeAccess}}
	if st, body := post("/a/oauth2/token", "naive", ex); st != 400 || body["error"] != "invalid_request" {
		t.Fatalf("another issuer's token, untrusted: %d %v", st, body)
	}
	if st, body := post("/a/oauth2/token", "trusting", ex); st != 200 {
		t.Fatalf("another issuer's token, trusted: %d %v", st, body)
	}
}

// The JWT bearer grant (RFC 7523 §2.1) and private_key_jwt / client_secret_jwt
// client authentication (§2.2), with assertions signed by go-jose.
func TestJWTAssertions(t *testing.T) {
	g := startOIDC(t)
	tokenURL := g.URL + "/oauth2/token"
	clientAuth := func(id, jti string) url.Values {
		var a string
		if id == "hmac-client" {
			a = signJWT(t, nil, "a-shared-secret-of-at-least-32-bytes!", assertion(g, id, id, tokenURL, jti))
		} else {
			a = signJWT(t, clientKey, "", assertion(g, id, id, tokenURL, jti))
		}
		return url.Values{"client_assertion_type": {assertType}, "client_assertion": {a}, "grant_type": {"client_credentials"}}
	}
	for _, id := range []string{"key-client", "hmac-client"} {
		st, _, body := postForm(t, g, "/oauth2/token", "", "", clientAuth(id, "jti-1"))
		if st != 200 || introspectAs(t, g, id, body["access_token"].(string))["client_id"] != id {
			t.Fatalf("%s: %d %v", id, st, body)
		}
		if st, _, body := postForm(t, g, "/oauth2/token", "", "", clientAuth(id, "jti-1")); st != 401 || body["error"] != "invalid_client" {
			t.Fatalf("%s: a replayed jti: %d %v", id, st, body)
		}
	}
	// The JWT bearer grant: the assertion's sub is the user.
	grant := func(claims any) (int, map[string]any) {
		form := clientAuth("key-client", "auth-"+time.Now().Format(time.RFC3339Nano))
		form.Set("grant_type", urnBearer)
		form.Set("assertion", signJWT(t, clientKey, "", claims))
		form.Set("scope", "openid")
		st, _, body := postForm(t, g, "/oauth2/token", "", "", form)
		return st, body
	}
	st, body := grant(assertion(g, "key-client", "johndoe", g.URL, "grant-1"))
	if st != 200 || body["id_token"] == nil || introspectAs(t, g, "key-client", body["access_token"].(string))["sub"] != "demo-user" {
		t.Fatalf("JWT bearer grant: %d %v", st, body)
	}
	for name, claims := range map[string]any{
		"replayed jti":     assertion(g, "key-client", "johndoe", g.URL, "grant-1"),
		"unknown user":     assertion(g, "key-client", "nobody", g.URL, "grant-2"),
		"foreign audience": assertion(g, "key-client", "johndoe", "https://elsewhere.example", "grant-3"),
		"foreign issuer":   assertion(g, "someone-else", "johndoe", g.URL, "grant-4"),
	} {
		if st, body := grant(claims); st != 400 || body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	expiring := assertion(g, "key-client", "johndoe", g.URL, "grant-5")
	g.Clock().Advance(2 * time.Minute)
	if st, body := grant(expiring); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("an expired assertion: %d %v", st, body)
	}
}

func introspectAs(t *testing.T, g *tokengatetest.Gateway, clientID, tok string) map[string]any {
	t.Helper()
	form := url.Values{"token": {tok}}
	secret := map[string]string{"demo-client": "demo-secret", "cc-only": "cc-secret", "es-client": "es-secret"}[clientID]
	if secret == "" { // a JWT-authenticated client introspects with a fresh assertion
		a := signJWT(t, clientKey, "", assertion(g, "key-client", "key-client", g.URL, "introspect-"+time.Now().Format(time.RFC3339Nano)))
		form.Set("client_assertion_type", assertType)
		form.Set("client_assertion", a)
		clientID = ""
	}
	st, _, body := postForm(t, g, "/oauth2/introspect", clientID, secret, form)
	if st != 200 {
		t.Fatalf("introspect: %d %v", st, body)
	}
	return body
}

// The password grant: a legacy client's username and password.
func TestPasswordGrant(t *testing.T) {
	g := startOIDC(t)
	body := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"password"}, "username": {"johndoe"},
		"password": {"demo-password"}, "scope": {"openid email"}})
	if body["refresh_token"] == nil || body["id_token"] == nil {
		t.Fatalf("password grant %v", body)
	}
	st, _, bad := postForm(t, g, "/oauth2/token", "demo-client", "demo-secret", url.Values{"grant_type": {"password"},
		"username": {"johndoe"}, "password": {"wrong"}})
	if st != 400 || bad["error"] != "invalid_grant" {
		t.Fatalf("wrong password: %d %v", st, bad)
	}
}

// UserInfo's errors are RFC 6750 §3's, with WWW-Authenticate.
func TestUserInfoErrors(t *testing.T) {
	g := startOIDC(t)
	openid := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"password"}, "username": {"johndoe"},
		"password": {"demo-password"}, "scope": {"openid"}})["access_token"].(string)
	plain := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"password"}, "username": {"johndoe"},
		"password": {"demo-password"}})["access_token"].(string)
	cases := []struct {
		name, method, bearer, form string
		status                     int
		challenge                  string
	}{
		{"no token", "GET", "", "", 401, `Bearer realm="tokengate"`},
		{"unknown token", "GET", "nope", "", 401, `Bearer realm="tokengate", error="invalid_token", error_description="invalid access token"`},
		{"no openid scope", "GET", plain, "", 403, `Bearer realm="tokengate", error="insufficient_scope", error_description="the access token was not issued for the openid scope"`},
		{"header and form", "POST", openid, "access_token=" + openid, 400, `Bearer realm="tokengate", error="invalid_request", error_description="send the access token one way, not several"`},
		{"form", "POST", "", "access_token=" + openid, 200, ""},
		{"header", "GET", openid, "", 200, ""},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, g.URL+"/oauth2/userinfo", nil)
		if tc.form != "" {
			req, _ = http.NewRequest(tc.method, g.URL+"/oauth2/userinfo", stringsReader(tc.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		st, hdr, body := do(t, req)
		if st != tc.status || hdr.Get("WWW-Authenticate") != tc.challenge {
			t.Errorf("%s: %d %q %v, want %d %q", tc.name, st, hdr.Get("WWW-Authenticate"), body, tc.status, tc.challenge)
		}
		if st == 200 && body["sub"] != "demo-user" {
			t.Errorf("%s: %v", tc.name, body)
		}
	}
	g.Clock().Advance(2 * time.Hour)
	req, _ := http.NewRequest("GET", g.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+openid)
	if st, hdr, _ := do(t, req); st != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("an expired token: %d %q", st, hdr.Get("WWW-Authenticate"))
	}
}
