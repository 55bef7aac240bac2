package acceleration_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/acceleration"
	"github.com/tokengate/tokengate/dialects/control"
)

// TestVendorAPIRequest sends the vendor's API Request verbatim and checks the
// Success Response's shape, then verifies the JWT independently.
func TestVendorAPIRequest(t *testing.T) {
	g := start(t, "")
	r := call(t, g.URL, http.MethodPost, "/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=demo-user", "",
		"Host", "api-dev.fintechautomation.com",
		"Accept", "application/json",
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret")))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	wantKeys(t, r.body, "access_token", "token_type", "expires_in")
	if r.body["token_type"] != "bearer" || r.body["expires_in"] != float64(7200) {
		t.Fatalf("body = %s", r.raw)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") ||
		r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Fatalf("headers = %v", r.header)
	}
	token := r.body["access_token"].(string)

	// The JOSE header is exactly the vendor's: kid then alg.
	h, _, _ := strings.Cut(token, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(h)
	if want := `{"kid":"` + kidOf(t, token) + `","alg":"RS256"}`; string(hb) != want {
		t.Fatalf("header = %s, want %s", hb, want)
	}
	if len(kidOf(t, token)) != 43 {
		t.Fatalf("kid %q is not a 43-character thumbprint", kidOf(t, token))
	}

	for _, path := range []string{jwksPath, keysPath} {
		pubs, _ := jwksKeys(t, g.URL, path)
		if len(pubs) != 1 {
			t.Fatalf("%s: %d keys", path, len(pubs))
		}
		for kid, pub := range pubs {
			if acceleration.Thumbprint(pub) != kid {
				t.Fatalf("kid %s is not the key's RFC 7638 thumbprint", kid)
			}
		}
		tok, claims, err := parse(token, pubs, g.Clock().Now)
		if err != nil || !tok.Valid {
			t.Fatalf("%s: golang-jwt rejects the token: %v", path, err)
		}
		wantKeys(t, claims, "ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "auth_time", "sub", "clientId")
		iat, exp := claims["iat"].(float64), claims["exp"].(float64)
		now := float64(g.Clock().Now().Unix())
		switch {
		case claims["ver"] != float64(1),
			claims["iss"] != defaultIssuer,
			claims["aud"] != "api://tenant",
			claims["cid"] != "demo-client", claims["clientId"] != "demo-client",
			claims["uid"] != "demo-user",
			claims["sub"] != "john.doe@example.com",
			exp-iat != 7200, iat < now-60 || iat > now+1,
			claims["auth_time"] != iat:
			t.Fatalf("claims = %v", claims)
		}
		if scp, _ := claims["scp"].([]any); len(scp) != 1 || scp[0] != "openid" {
			t.Fatalf("scp = %v", claims["scp"])
		}
		if jti, _ := claims["jti"].(string); !strings.HasPrefix(jti, "AT.") || len(jti) != 46 {
			t.Fatalf("jti = %q", jti)
		}
	}

	// Two tokens never share a jti.
	_, c1, _ := parse(token, mustKeys(t, g.URL), g.Clock().Now)
	_, c2, _ := parse(issue(t, g.URL, "demo-user"), mustKeys(t, g.URL), g.Clock().Now)
	if c1["jti"] == c2["jti"] {
		t.Fatal("jti repeated")
	}

	// Neither the secret nor the token reaches the logs.
	logs := g.Logs.String()
	if strings.Contains(logs, "demo-secret") || strings.Contains(logs, token) {
		t.Fatal("a secret or token was logged")
	}
}

func mustKeys(t testing.TB, base string) map[string]*rsa.PublicKey {
	t.Helper()
	k, _ := jwksKeys(t, base, jwksPath)
	return k
}

// TestSubWithoutEmail: sub falls back to the user id.
func TestSubWithoutEmail(t *testing.T) {
	g := start(t, `issuer: "https://sso.example/oauth2/x", audience: "api://other", scopes: [openid, profile]`)
	tok := issue(t, g.URL, "plain-user")
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		return mustKeys(t, g.URL)[tk.Header["kid"].(string)], nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer("https://sso.example/oauth2/x"),
		jwt.WithAudience("api://other")); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "plain-user" || claims["uid"] != "plain-user" {
		t.Fatalf("claims = %v", claims)
	}
	if scp, _ := claims["scp"].([]any); len(scp) != 2 || scp[1] != "profile" {
		t.Fatalf("scp = %v", claims["scp"])
	}
}

// TestTokenVariants covers the form-parameter variants and the parameter
// rules (duplicates, query vs body).
func TestTokenVariants(t *testing.T) {
	g := start(t, "")
	form := "Content-Type"
	ctForm := "application/x-www-form-urlencoded"
	auth := basic("demo-client", "demo-secret")
	ok := []struct {
		name, query, body string
		headers           []string
	}{
		{"all in body", "", "grant_type=client_credentials&user_id=demo-user&client_id=demo-client&client_secret=demo-secret", []string{form, ctForm}},
		{"basic and body", "", "grant_type=client_credentials&user_id=demo-user", []string{form, ctForm, "Authorization", auth}},
		{"query grant, body rest", "?grant_type=client_credentials", "user_id=demo-user&client_id=demo-client&client_secret=demo-secret", []string{form, ctForm}},
		{"client_id in query", "?client_id=demo-client&grant_type=client_credentials&user_id=demo-user", "client_secret=demo-secret", []string{form, ctForm}},
		{"same value twice across", "?grant_type=client_credentials&user_id=demo-user", "grant_type=client_credentials", []string{form, ctForm, "Authorization", auth}},
		{"basic plus matching client_id", "?grant_type=client_credentials&user_id=demo-user&client_id=demo-client", "", []string{"Authorization", auth}},
		{"empty body with json type", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Content-Type", "application/json", "Authorization", auth}},
		{"form charset", "", "grant_type=client_credentials&user_id=demo-user", []string{form, ctForm + "; charset=utf-8", "Authorization", auth}},
		{"unknown parameters ignored", "?grant_type=client_credentials&user_id=demo-user&foo=bar", "", []string{"Authorization", auth}},
		// The document's Data Model lists all four beside the query fields.
		{"all four in the query", "?grant_type=client_credentials&user_id=demo-user&client_id=demo-client&client_secret=demo-secret", "", nil},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, g.URL, http.MethodPost, tokenPath+tc.query, tc.body, tc.headers...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			wantKeys(t, r.body, "access_token", "token_type", "expires_in")
			if _, _, err := parse(r.body["access_token"].(string), mustKeys(t, g.URL), g.Clock().Now); err != nil {
				t.Fatal(err)
			}
		})
	}

	bad := []struct {
		name, query, body string
		headers           []string
		status            int
		message           string
	}{
		{"no credentials", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Accept", "application/json"}, 400, "authentication failed"},
		{"wrong secret", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("demo-client", "nope")}, 400, "authentication failed"},
		{"unknown client", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("who", "demo-secret")}, 400, "authentication failed"},
		{"malformed basic", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", "Basic !!!"}, 400, "authentication failed"},
		{"basic without colon", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client"))}, 400, "authentication failed"},
		{"empty secret", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("demo-client", "")}, 400, "authentication failed"},
		{"bearer instead of basic", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", "Bearer abc"}, 400, "authentication failed"},
		{"only client_id in body", "?grant_type=client_credentials&user_id=demo-user", "client_id=demo-client", []string{form, ctForm}, 400, "authentication failed"},
		{"wrong secret in body", "", "grant_type=client_credentials&user_id=demo-user&client_id=demo-client&client_secret=x", []string{form, ctForm}, 400, "authentication failed"},
		{"disabled client", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("switched-off", "off-secret")}, 400, "authentication failed"},
		{"bad credentials before missing user", "?grant_type=client_credentials", "", []string{"Authorization", basic("demo-client", "nope")}, 400, "authentication failed"},
		{"unknown user", "?grant_type=client_credentials&user_id=nobody", "", []string{"Authorization", auth}, 400, "unknown user_id"},
		{"missing user", "?grant_type=client_credentials", "", []string{"Authorization", auth}, 400, "missing required parameter: user_id"},
		{"empty user", "?grant_type=client_credentials&user_id=", "", []string{"Authorization", auth}, 400, "missing required parameter: user_id"},
		{"missing grant_type", "?user_id=demo-user", "", []string{"Authorization", auth}, 400, "missing required parameter: grant_type"},
		{"password grant", "?grant_type=password&user_id=demo-user", "", []string{"Authorization", auth}, 400, "unsupported grant_type: must be client_credentials"},
		{"authorization_code grant", "?grant_type=authorization_code&user_id=demo-user", "", []string{"Authorization", auth}, 400, "unsupported grant_type: must be client_credentials"},
		{"refresh_token grant", "?grant_type=refresh_token&user_id=demo-user", "", []string{"Authorization", auth}, 400, "unsupported grant_type: must be client_credentials"},
		{"client without the grant", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("code-only", "code-secret")}, 400, "the client may not use this grant type or API"},
		{"client of another API", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", basic("elsewhere", "elsewhere-secret")}, 400, "the client may not use this grant type or API"},
		{"user_id twice in query", "?grant_type=client_credentials&user_id=demo-user&user_id=demo-user", "", []string{"Authorization", auth}, 400, "parameter sent more than once: user_id"},
		{"grant_type twice in body", "", "grant_type=client_credentials&grant_type=client_credentials&user_id=demo-user", []string{form, ctForm, "Authorization", auth}, 400, "parameter sent more than once: grant_type"},
		{"user_id differs query vs body", "?grant_type=client_credentials&user_id=demo-user", "user_id=plain-user", []string{form, ctForm, "Authorization", auth}, 400, "parameter sent in the query and the body with different values: user_id"},
		{"basic and body secret", "?grant_type=client_credentials&user_id=demo-user", "client_secret=demo-secret", []string{form, ctForm, "Authorization", auth}, 400, "use one client authentication method, not several"},
		{"basic and other client_id", "?grant_type=client_credentials&user_id=demo-user", "client_id=elsewhere", []string{form, ctForm, "Authorization", auth}, 400, "use one client authentication method, not several"},
		{"two authorization headers", "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", auth, "Authorization", auth}, 400, "parameter sent more than once: Authorization"},
		{"json body", "", `{"grant_type":"client_credentials","user_id":"demo-user"}`, []string{"Content-Type", "application/json", "Authorization", auth}, 400, "Content-Type must be application/x-www-form-urlencoded"},
		{"body without content type", "", "grant_type=client_credentials&user_id=demo-user", []string{"Authorization", auth}, 400, "Content-Type must be application/x-www-form-urlencoded"},
		{"malformed form", "", "grant_type=%zz", []string{form, ctForm, "Authorization", auth}, 400, "the parameters could not be parsed"},
		{"malformed query", "?grant_type=%zz", "", []string{"Authorization", auth}, 400, "the parameters could not be parsed"},
		{"too many parameters", "?" + strings.Repeat("a=1&", 120), "", []string{"Authorization", auth}, 400, "too many parameters"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			wantEnvelope(t, call(t, g.URL, http.MethodPost, tokenPath+tc.query, tc.body, tc.headers...), tc.status, tc.message)
		})
	}

	// The vendor's failure body, byte for byte (member order included).
	r := call(t, g.URL, http.MethodPost, tokenPath+"?grant_type=client_credentials&user_id=demo-user", "",
		"Authorization", basic("demo-client", "wrong"))
	if got := strings.TrimSpace(string(r.raw)); got != `{"code":400,"errorMessage":"authentication failed","error":null,"data":null}` {
		t.Fatalf("body = %s", got)
	}
	if strings.Contains(g.Logs.String(), "demo-secret") {
		t.Fatal("secret logged")
	}
}

// TestFrameworkErrors: 404, 405 and 413 under the dialect's paths come in its envelope.
func TestFrameworkErrors(t *testing.T) {
	g := start(t, "")
	auth := basic("demo-client", "demo-secret")
	big := "grant_type=client_credentials&user_id=demo-user&pad=" + strings.Repeat("x", 1<<20)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		message                  string
	}{
		{"unknown path", http.MethodGet, "/api/v1/auth/oauth2/nope", "", nil, 404, "not found"},
		{"prefix itself", http.MethodGet, "/api/v1/auth/oauth2", "", nil, 404, "not found"},
		{"GET token", http.MethodGet, tokenPath + "?grant_type=client_credentials&user_id=demo-user", "", []string{"Authorization", auth}, 405, "method not allowed"},
		{"PUT token", http.MethodPut, tokenPath, "", nil, 405, "method not allowed"},
		{"POST jwks", http.MethodPost, jwksPath, "", nil, 405, "method not allowed"},
		{"DELETE keys", http.MethodDelete, keysPath, "", nil, 405, "method not allowed"},
		{"POST userinfo", http.MethodPost, userinfoPath, "", nil, 405, "method not allowed"},
		{"oversized body", http.MethodPost, tokenPath, big, []string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", auth}, 413, "request body too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, g.URL, tc.method, tc.path, tc.body, tc.headers...)
			wantEnvelope(t, r, tc.status, tc.message)
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

// TestUserinfo covers the protected call: 200 for a live token, 401 in the
// envelope for every way a token can be bad.
func TestUserinfo(t *testing.T) {
	g := start(t, "")
	token := issue(t, g.URL, "demo-user")

	r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+token)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	wantKeys(t, r.body, "code", "errorMessage", "error", "data")
	if r.body["code"] != float64(200) || r.body["errorMessage"] != nil || r.body["error"] != nil {
		t.Fatalf("body = %s", r.raw)
	}
	data, _ := r.body["data"].(map[string]any)
	wantKeys(t, data, "user_id", "username", "email", "first_name", "last_name", "client_id", "scp", "iat", "exp")
	if data["user_id"] != "demo-user" || data["username"] != "johndoe" || data["email"] != "john.doe@example.com" ||
		data["first_name"] != "John" || data["last_name"] != "Doe" || data["client_id"] != "demo-client" ||
		data["exp"].(float64)-data["iat"].(float64) != 7200 {
		t.Fatalf("data = %v", data)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("userinfo cacheable")
	}

	// A token whose signature is right but that tokengate never issued.
	priv := storedKey(t, g)
	kid := kidOf(t, token)
	forged := signWith(t, priv, kid, jwt.SigningMethodRS256, g.Clock().Now())
	// A token signed by another key under the real kid.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	badSig := signWith(t, other, kid, jwt.SigningMethodRS256, g.Clock().Now())
	// Algorithm confusion: HS256 keyed with the public modulus.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x"})
	hs.Header["kid"] = kid
	hsTok, _ := hs.SignedString(priv.PublicKey.N.Bytes())
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"})
	none.Header["kid"] = kid
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(token, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"uid":"admin"}`)) + "." + parts[2]
	unknownKid := signWith(t, priv, "no-such-kid", jwt.SigningMethodRS256, g.Clock().Now())

	cases := []struct {
		name    string
		headers []string
		message string
		errHdr  bool
	}{
		{"no header", nil, "missing access token", false},
		{"basic scheme", []string{"Authorization", basic("demo-client", "demo-secret")}, "missing access token", false},
		{"empty bearer", []string{"Authorization", "Bearer "}, "missing access token", false},
		{"garbage", []string{"Authorization", "Bearer KiTnwIKoPVhVhD-FIdQyEgokgcg2VlIU8YiFQ2x5BdM"}, "invalid access token", true},
		{"four parts", []string{"Authorization", "Bearer " + token + ".x"}, "invalid access token", true},
		{"bad base64 header", []string{"Authorization", "Bearer !!." + parts[1] + "." + parts[2]}, "invalid access token", true},
		{"tampered payload", []string{"Authorization", "Bearer " + tampered}, "invalid access token", true},
		{"signature by another key", []string{"Authorization", "Bearer " + badSig}, "invalid access token", true},
		{"HS256", []string{"Authorization", "Bearer " + hsTok}, "invalid access token", true},
		{"alg none", []string{"Authorization", "Bearer " + noneTok}, "invalid access token", true},
		{"unknown kid", []string{"Authorization", "Bearer " + unknownKid}, "invalid access token", true},
		{"well signed, never issued", []string{"Authorization", "Bearer " + forged}, "invalid access token", true},
		{"two headers", []string{"Authorization", "Bearer " + token, "Authorization", "Bearer " + token}, "invalid access token", true},
		{"oversized token", []string{"Authorization", "Bearer " + strings.Repeat("a", 9000)}, "invalid access token", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, g.URL, http.MethodGet, userinfoPath, "", tc.headers...)
			wantEnvelope(t, r, http.StatusUnauthorized, tc.message)
			w := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(w, "Bearer ") || strings.Contains(w, "invalid_token") != tc.errHdr {
				t.Fatalf("WWW-Authenticate = %q", w)
			}
		})
	}

	// Tokens the store believes in: userinfo still refuses one whose
	// signature does not verify, and accepts one signed by the real key.
	t.Run("stored but badly signed", func(t *testing.T) {
		for _, tc := range []struct {
			token  string
			status int
		}{{badSig, 401}, {forged, 200}} {
			now := g.Clock().Now()
			rec := &core.Token{Digest: core.Digest(tc.token), Kind: core.TokenAccess, ClientID: "demo-client",
				UserID: "demo-user", Dialect: acceleration.Name, Scopes: []string{"openid"}, FamilyID: tc.token[len(tc.token)-16:],
				IssuedAt: now, ExpiresAt: now.Add(time.Hour), AuthTime: now}
			if err := g.App.Store.InsertTokens(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tc.token)
			if tc.status == 401 {
				wantEnvelope(t, r, 401, "invalid access token")
			} else if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
		}
	})

	t.Run("revoked", func(t *testing.T) {
		tok := issue(t, g.URL, "demo-user")
		ctx := context.Background()
		client, err := g.App.Store.GetClient(ctx, "demo-client")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.App.Engine.Revoke(ctx, nil, client, tok); err != nil {
			t.Fatal(err)
		}
		wantEnvelope(t, call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok),
			http.StatusUnauthorized, "invalid access token")
	})

	t.Run("user deleted", func(t *testing.T) {
		tok := issue(t, g.URL, "plain-user")
		if err := g.Admin.DeleteUser("plain-user"); err != nil {
			t.Fatal(err)
		}
		wantEnvelope(t, call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok),
			http.StatusUnauthorized, "invalid access token")
	})

	t.Run("expired", func(t *testing.T) {
		tok := issue(t, g.URL, "demo-user")
		g.Clock().Advance(2*time.Hour - time.Second)
		if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok); r.status != 200 {
			t.Fatalf("a second before expiry: %d %s", r.status, r.raw)
		}
		g.Clock().Advance(time.Second)
		wantEnvelope(t, call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok),
			http.StatusUnauthorized, "access token expired")
	})
}

// storedKey reads the dialect's private key from the store.
func storedKey(t testing.TB, g *tokengatetest.Gateway) *rsa.PrivateKey {
	t.Helper()
	ks, err := g.App.Store.ListSigningKeys(context.Background(), acceleration.Name)
	if err != nil || len(ks) == 0 {
		t.Fatalf("signing keys: %v, %d", err, len(ks))
	}
	priv, err := acceleration.ParsePrivateKeyPEM(ks[len(ks)-1].PEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func signWith(t testing.TB, priv *rsa.PrivateKey, kid string, m jwt.SigningMethod, now time.Time) string {
	t.Helper()
	tk := jwt.NewWithClaims(m, jwt.MapClaims{"ver": 1, "uid": "demo-user", "cid": "demo-client",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "iss": defaultIssuer, "aud": "api://tenant"})
	tk.Header = map[string]any{"kid": kid, "alg": m.Alg()}
	s, err := tk.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKeysSurviveRestart: a token signed before a restart verifies after it.
func TestKeysSurviveRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tokengate.db")
	var token, kid string
	var before map[string]*rsa.PublicKey
	t.Run("first run", func(t *testing.T) {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(""), DB: db})
		token = issue(t, g.URL, "demo-user")
		kid = kidOf(t, token)
		before = mustKeys(t, g.URL)
	})
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(""), DB: db})
	after := mustKeys(t, g.URL)
	if len(after) != 1 || after[kid] == nil || after[kid].N.Cmp(before[kid].N) != 0 {
		t.Fatal("JWKS changed across the restart")
	}
	if _, _, err := parse(token, after, g.Clock().Now); err != nil {
		t.Fatalf("old token no longer verifies: %v", err)
	}
	if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+token); r.status != 200 {
		t.Fatalf("userinfo after restart: %d %s", r.status, r.raw)
	}
	if got := kidOf(t, issue(t, g.URL, "demo-user")); got != kid {
		t.Fatalf("new key %s after restart, want %s", got, kid)
	}
}

// TestRotation: a rotated-out key keeps verifying its tokens until they
// expire and leaves the JWKS afterwards.
func TestRotation(t *testing.T) {
	g := start(t, "")
	ctx := context.Background()
	old := issue(t, g.URL, "demo-user")
	oldKid := kidOf(t, old)

	newKid, err := acceleration.RotateKey(ctx, g.App.Engine, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == oldKid || len(newKid) != 43 {
		t.Fatalf("new kid %q", newKid)
	}
	stored, _ := g.App.Store.ListSigningKeys(ctx, acceleration.Name)
	for _, k := range stored {
		if k.ID == oldKid && (k.RetiredAt.IsZero() || !k.VerifyUntil.Equal(k.RetiredAt.Add(2*time.Hour))) {
			t.Fatalf("old key not retired: %+v", k)
		}
		if k.ID == newKid && !k.RetiredAt.IsZero() {
			t.Fatal("new key retired")
		}
	}

	// The gateway picks the new key up within key_reload_interval (10s).
	g.Clock().Advance(11 * time.Second)
	fresh := issue(t, g.URL, "demo-user")
	if kidOf(t, fresh) != newKid {
		t.Fatalf("signed with %s after rotation, want %s", kidOf(t, fresh), newKid)
	}
	pubs, order := jwksKeys(t, g.URL, jwksPath)
	if !slices.Equal(order, []string{newKid, oldKid}) {
		t.Fatalf("JWKS kids = %v, want [new old]", order)
	}
	for _, tok := range []string{old, fresh} {
		if _, _, err := parse(tok, pubs, g.Clock().Now); err != nil {
			t.Fatal(err)
		}
		if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok); r.status != 200 {
			t.Fatalf("userinfo: %d %s", r.status, r.raw)
		}
	}

	// Just before VerifyUntil the old key is still published.
	g.Clock().Advance(2*time.Hour - 12*time.Second)
	if _, order := jwksKeys(t, g.URL, keysPath); !slices.Contains(order, oldKid) {
		t.Fatal("old key left the JWKS while its tokens were live")
	}
	// After it, the old token has expired and its key is gone.
	g.Clock().Advance(2 * time.Second)
	pubs, order = jwksKeys(t, g.URL, jwksPath)
	if !slices.Equal(order, []string{newKid}) {
		t.Fatalf("JWKS kids = %v, want only the new one", order)
	}
	if _, _, err := parse(old, pubs, g.Clock().Now); err == nil {
		t.Fatal("old token still verifies")
	}
	wantEnvelope(t, call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+old),
		http.StatusUnauthorized, "invalid access token")
	if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+fresh); r.status != 200 {
		t.Fatalf("fresh token: %d %s", r.status, r.raw)
	}
}

// TestKidMissReload: a gateway sharing the store with one that rotated
// reloads its keys when it meets the new kid, without waiting.
func TestKidMissReload(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tokengate.db")
	g1 := tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(""), DB: db})
	oldKid := kidOf(t, issue(t, g1.URL, "demo-user"))
	// Rotate as `tokengate keys rotate` would, from outside g1, then start
	// g2, which loads the new key.
	newKid, err := acceleration.RotateKey(context.Background(), g1.App.Engine, 0)
	if err != nil {
		t.Fatal(err)
	}
	g2 := tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(""), DB: db})
	tok := issue(t, g2.URL, "demo-user")
	if kidOf(t, tok) != newKid {
		t.Fatalf("g2 signed with %s", kidOf(t, tok))
	}
	if r := call(t, g1.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Fatalf("g1 rejects g2's token: %d %s", r.status, r.raw)
	}
	if _, order := jwksKeys(t, g1.URL, jwksPath); !slices.Equal(order, []string{newKid, oldKid}) {
		t.Fatalf("g1 JWKS = %v", order)
	}
	if got := kidOf(t, issue(t, g1.URL, "demo-user")); got != newKid {
		t.Fatalf("g1 still signs with %s", got)
	}
}

// TestPrivateKeyFile signs with a key from a PEM file.
func TestPrivateKeyFile(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pemPKCS1(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	g := start(t, `private_key_file: "`+path+`"`)
	tok := issue(t, g.URL, "demo-user")
	if kidOf(t, tok) != acceleration.Thumbprint(&priv.PublicKey) {
		t.Fatal("not signed with the file's key")
	}
	if _, _, err := parse(tok, map[string]*rsa.PublicKey{kidOf(t, tok): &priv.PublicKey}, g.Clock().Now); err != nil {
		t.Fatal(err)
	}
	if pubs := mustKeys(t, g.URL); len(pubs) != 1 || pubs[kidOf(t, tok)] == nil {
		t.Fatalf("JWKS = %v", pubs)
	}
	if ks, _ := g.App.Store.ListSigningKeys(context.Background(), acceleration.Name); len(ks) != 0 {
		t.Fatal("a key was generated despite private_key_file")
	}
}

// TestBadOptions: the gateway refuses to start on bad options.
func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o600)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPath := filepath.Join(dir, "small.pem")
	_ = os.WriteFile(smallPath, pemPKCS1(small), 0o600)
	for _, opts := range []string{
		`private_key_file: "` + filepath.Join(dir, "missing.pem") + `"`,
		`private_key_file: "` + notPEM + `"`,
		`private_key_file: "` + smallPath + `"`,
		`no_such_option: 1`,
	} {
		if err := startErr(t, opts); err == nil {
			t.Errorf("options %s accepted", opts)
		}
	}
}

// TestRenderError: errors that reach RenderError from elsewhere (storage
// outages, rate limiting, panics) come in the envelope with their status.
func TestRenderError(t *testing.T) {
	d, err := dialects.Lookup(acceleration.Name)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err     error
		status  int
		message string
	}{
		{errors.New("boom"), 500, "internal server error"},
		{core.Internal(errors.New("secret detail")), 500, "internal server error"},
		{core.Unavailable(errors.New("db down")), 503, "service temporarily unavailable"},
		{&core.Error{Kind: core.KindRateLimited}, 429, "too many requests"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout}, 408, "request timeout"},
		{&core.Error{Kind: core.KindInvalidRequest}, 400, "invalid request"},
		{&core.Error{Kind: "made_up"}, 500, "internal server error"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, tokenPath, nil), rec)
		if err := dialects.RenderError(d, c, tc.err); err != nil {
			t.Fatal(err)
		}
		r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
		wantEnvelope(t, r, tc.status, tc.message)
	}
}

func pemPKCS1(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// startErr builds (and closes) an app from the options, returning its error.
func startErr(t *testing.T, opts string) error {
	cfg, err := config.Parse([]byte(yamlWith(opts)), dialects.Catalog())
	if err != nil {
		return err
	}
	cfg.Storage.DSN = filepath.Join(t.TempDir(), "tokengate.db")
	a, err := app.New(context.Background(), cfg, nil)
	if err == nil {
		a.Store.Close()
	}
	return err
}

// TestSignatureChecked: userinfo verifies the signature against the
// published keys before asking the store, so a live stored token whose key
// has left the JWKS (rotated with a grace shorter than the token's life) is
// refused.
func TestSignatureChecked(t *testing.T) {
	g := start(t, `key_reload_interval: 1s`)
	tok := issue(t, g.URL, "demo-user")
	if _, err := acceleration.RotateKey(context.Background(), g.App.Engine, time.Minute); err != nil {
		t.Fatal(err)
	}
	g.Clock().Advance(30 * time.Second)
	if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Fatalf("within the grace: %d %s", r.status, r.raw)
	}
	g.Clock().Advance(31 * time.Second)
	if _, err := g.App.Engine.Validate(context.Background(), nil, tok); err != nil {
		t.Fatalf("the engine should still hold the token live: %v", err)
	}
	wantEnvelope(t, call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+tok),
		http.StatusUnauthorized, "invalid access token")
}

// TestRateLimitAndFaults: the brute-force limiter's 429 and injected faults
// come in the envelope too.
func TestRateLimitAndFaults(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(""), AuthFailureLimit: true})
	good := issue(t, g.URL, "demo-user") // known-good credentials are never limited
	var r reply
	for i := 0; i < 40; i++ {
		r = call(t, g.URL, http.MethodPost, tokenPath+"?grant_type=client_credentials&user_id=demo-user", "",
			"Authorization", basic("demo-client", "guess"))
		if r.status == http.StatusTooManyRequests {
			break
		}
		wantEnvelope(t, r, 400, "authentication failed")
	}
	wantEnvelope(t, r, http.StatusTooManyRequests, "too many failed attempts; try again later")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if good == issue(t, g.URL, "demo-user") {
		t.Fatal("same token twice")
	}

	for _, tc := range []struct {
		rule    control.Rule
		status  int
		message string
		errCode any
	}{
		{control.Rule{Dialect: acceleration.Name, Status: 503, Count: 1}, 503, "injected fault: Service Unavailable", nil},
		{control.Rule{Dialect: acceleration.Name, Status: 500, Code: "E_MAINT", Text: "down for maintenance", Count: 1}, 500, "down for maintenance", "E_MAINT"},
		{control.Rule{Dialect: acceleration.Name, Status: 401, Count: 1}, 401, "injected fault: Unauthorized", nil},
	} {
		if _, err := g.Admin.AddFault(tc.rule); err != nil {
			t.Fatal(err)
		}
		r := call(t, g.URL, http.MethodPost, tokenPath+"?grant_type=client_credentials&user_id=demo-user", "",
			"Authorization", basic("demo-client", "demo-secret"))
		wantKeys(t, r.body, "code", "errorMessage", "error", "data")
		if r.status != tc.status || r.body["code"] != float64(tc.status) || r.body["errorMessage"] != tc.message ||
			r.body["error"] != tc.errCode || r.body["data"] != nil {
			t.Fatalf("fault %+v: %d %s", tc.rule, r.status, r.raw)
		}
	}
}
