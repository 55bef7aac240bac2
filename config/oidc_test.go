package config

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// A P-256 public key in JWK form, for the jwks cases.
const testJWK = `{kty: EC, crv: P-256, x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`

func TestClientSettingsProblems(t *testing.T) {
	const base = "- client_id: a\n    client_secret: s\n    grants: [client_credentials]\n"
	tests := []struct {
		name, client string // replaces the first client of valid
		want         []string
	}{
		{"public client with a secret",
			"- client_id: a\n    client_secret: s\n    token_endpoint_auth_method: none\n    grants: [device_code]\n",
			[]string{"clients[0].client_secret: must be empty: a client with token_endpoint_auth_method none has no secret"}},
		{"public client with client_credentials",
			"- client_id: a\n    token_endpoint_auth_method: none\n    grants: [client_credentials]\n",
			[]string{"clients[0].grants: client_credentials needs a confidential client, not token_endpoint_auth_method none"}},
		{"private_key_jwt without keys",
			"- client_id: a\n    token_endpoint_auth_method: private_key_jwt\n    grants: [client_credentials]\n",
			[]string{"clients[0].jwks: is required for private_key_jwt (or set jwks_uri)"}},
		{"keys twice",
			"- client_id: a\n    token_endpoint_auth_method: private_key_jwt\n    grants: [client_credentials]\n    jwks_uri: https://a.example/jwks\n    jwks: {keys: [" + testJWK + "]}\n",
			[]string{"clients[0].jwks_uri: set jwks or jwks_uri, not both"}},
		{"unusable jwks",
			"- client_id: a\n    token_endpoint_auth_method: private_key_jwt\n    grants: [client_credentials]\n    jwks: {keys: [{kty: EC, crv: P-256, x: AAAA, y: AAAA}]}\n",
			[]string{"clients[0].jwks: is not a usable JWK Set: keys[0]: x and y must be base64url of 32 bytes"}},
		{"unknown auth method", base + "    token_endpoint_auth_method: tls_client_auth\n",
			[]string{`clients[0].token_endpoint_auth_method: must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none, not "tls_client_auth"`}},
		{"bad alg", base + "    id_token_signed_response_alg: HS256\n",
			[]string{`clients[0].id_token_signed_response_alg: must be one of RS256, ES256, not "HS256"`}},
		{"bad format", base + "    access_token_format: paseto\n",
			[]string{`clients[0].access_token_format: must be one of opaque, jwt, not "paseto"`}},
		{"relative jwks_uri", base + "    jwks_uri: /jwks\n",
			[]string{"clients[0].jwks_uri: must be an absolute URL"}},
		{"bad trusted issuer", base + "    trusted_issuers: [\"a b\"]\n",
			[]string{`clients[0].trusted_issuers[0]: "a b" is not a dialect name (letters, digits, '.', '_' and '-')`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(valid, base, tt.client, 1)
			_, err := Parse([]byte(doc), cat)
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("Parse: %v, want a *ValidationError", err)
			}
			if !slices.Equal(ve.Problems, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(ve.Problems, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// Every new key reaches core and comes back; grant aliases become URNs; a
// client_secret_jwt client keeps its secret for HMAC, others only a hash.
func TestClientSettingsConvert(t *testing.T) {
	in := Client{ClientID: "x", ClientSecret: "shh", Grants: []string{"device_code", "token_exchange", "jwt_bearer", "password"},
		TokenEndpointAuthMethod: "client_secret_jwt", JWKSURI: "https://x.example/jwks", IDTokenSignedResponseAlg: "ES256",
		RequireNonce: true, AccessTokenFormat: "jwt", IDTokenUserClaims: true, TrustedIssuers: []string{"tenant-b"},
		AssertionIssuers: []string{"https://idp.example"}}
	c, err := in.ToCore()
	if err != nil {
		t.Fatal(err)
	}
	want := []core.GrantType{core.GrantDeviceCode, core.GrantTokenExchange, core.GrantJWTBearer, core.GrantPassword}
	if !slices.Equal(c.Grants, want) {
		t.Errorf("grants %v, want %v", c.Grants, want)
	}
	if c.Settings.SecretJWTKey != "shh" || !core.CheckSecret(c.SecretHash, "shh") {
		t.Errorf("client_secret_jwt settings %+v", c.Settings)
	}
	back := ClientFromCore(c)
	back.ClientSecret = in.ClientSecret
	back.Grants = in.Grants
	if d := diffJSON(t, in, back); d != "" {
		t.Errorf("round trip: %s", d)
	}
	in.TokenEndpointAuthMethod = "client_secret_basic"
	if c, _ = in.ToCore(); c.Settings.SecretJWTKey != "" {
		t.Error("a client_secret_basic client keeps its secret in the clear")
	}

	inline := Client{ClientID: "k", TokenEndpointAuthMethod: "private_key_jwt", Grants: []string{"client_credentials"},
		JWKS: map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256",
			"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}}
	if err := (&Config{}).ValidateClient(&inline, cat); err != nil {
		t.Fatalf("a private_key_jwt client with an inline JWK Set and no secret: %v", err)
	}
	c, err = inline.ToCore()
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := core.ParseJWKS([]byte(c.Settings.JWKS)); err != nil || len(keys) != 1 {
		t.Fatalf("stored JWKS %q: %v", c.Settings.JWKS, err)
	}
	if d := diffJSON(t, inline, ClientFromCore(c)); d != "" {
		t.Errorf("inline JWKS round trip: %s", d)
	}
}

func diffJSON(t *testing.T, a, b any) string {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		return string(ja) + "\n!=\n" + string(jb)
	}
	return ""
}
