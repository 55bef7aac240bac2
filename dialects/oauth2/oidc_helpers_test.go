package oauth2_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const callback = "http://localhost:8081/callback"

// clientKey is the private key of the private_key_jwt and JWT bearer
// clients of oidcConfig; their JWK Sets hold its public half.
var clientKey = mustKey()

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// publicJWKS is the JWK Set of key's public half, as inline YAML/JSON.
func publicJWKS(key *ecdsa.PrivateKey) string {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// oidcConfig has a client for each way of authenticating and each setting.
func oidcConfig() string {
	return fmt.Sprintf(`
dialects:
  oauth2: {device_interval: 1s}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code, password, device_code, token_exchange, jwt_bearer]
    redirect_uris: [%[1]q]
  - client_id: demo-public
    token_endpoint_auth_method: none
    grants: [authorization_code, refresh_token, device_code]
    redirect_uris: [%[1]q]
  - client_id: es-client
    client_secret: es-secret
    grants: [authorization_code, refresh_token]
    redirect_uris: [%[1]q]
    id_token_signed_response_alg: ES256
    require_nonce: true
    id_token_user_claims: true
    access_token_format: jwt
  - client_id: cc-only
    client_secret: cc-secret
    grants: [client_credentials]
  - client_id: key-client
    token_endpoint_auth_method: private_key_jwt
    jwks: %[2]s
    grants: [client_credentials, jwt_bearer, token_exchange]
  - client_id: hmac-client
    client_secret: a-shared-secret-of-at-least-32-bytes!
    token_endpoint_auth_method: client_secret_jwt
    grants: [client_credentials]
users:
  - {user_id: demo-user, username: johndoe, first_name: John, last_name: Doe, email: john.doe@example.com, password: demo-password}
`, callback, publicJWKS(clientKey))
}

func startOIDC(t *testing.T) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: oidcConfig()})
}

// postForm posts form to path with optional Basic credentials and decodes
// the JSON answer.
func postForm(t *testing.T, g *tokengatetest.Gateway, path, id, secret string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

// token posts to the token endpoint and fails the test unless it answers 200.
func token(t *testing.T, g *tokengatetest.Gateway, id, secret string, form url.Values) map[string]any {
	t.Helper()
	status, _, body := postForm(t, g, "/oauth2/token", id, secret, form)
	if status != http.StatusOK {
		t.Fatalf("token %v: %d %v", form, status, body)
	}
	return body
}

// signJWT signs claims with key (ES256) or, when key is nil, with secret
// (HS256), as a client library would.
func signJWT(t *testing.T, key *ecdsa.PrivateKey, secret string, claims any) string {
	t.Helper()
	sk := jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}
	if key == nil {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertion is a client or grant assertion's claims, valid for a minute
// from now on the gateway clock.
func assertion(g *tokengatetest.Gateway, iss, sub, aud, jti string) jwt.Claims {
	now := g.Clock().Now()
	return jwt.Claims{Issuer: iss, Subject: sub, Audience: jwt.Audience{aud}, ID: jti,
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
}

// jwtParts decodes a JWS's header and claims without verifying it.
func jwtParts(t *testing.T, s string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", s)
	}
	for i, out := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, out) != nil {
			t.Fatalf("JWS part %d does not decode: %q", i, parts[i])
		}
	}
	return header, claims
}

// authURL is an authorization request of conf with extra parameters.
func authURL(conf *oauth2.Config, state string, extra map[string]string, opts ...oauth2.AuthCodeOption) string {
	for k, v := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return conf.AuthCodeURL(state, opts...)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
