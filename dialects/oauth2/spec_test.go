package oauth2_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// One test per MUST of the specifications the dialect implements, named
// after its section. Rules the scenario tests already pin down (nonce and
// at_hash with go-oidc, slow_down, RFC 9068's claims, RFC 6750's
// challenges, public clients' PKCE) are theirs; these are the others.
func TestSpecMUSTs(t *testing.T) {
	g := startOIDC(t)
	conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret", RedirectURL: callback,
		Scopes: []string{"openid"}, Endpoint: oauth2.Endpoint{AuthURL: g.URL + "/oauth2/authorize", TokenURL: g.URL + "/oauth2/token"}}
	// codeTokens runs the code flow with extra authorization parameters and
	// returns the token response.
	codeTokens := func(t *testing.T, scope string, extra map[string]string) map[string]any {
		t.Helper()
		c := *conf
		c.Scopes = strings.Fields(scope)
		code, err := g.LoginCode(authURL(&c, "s", extra), "johndoe", "demo-password")
		if err != nil {
			t.Fatal(err)
		}
		return token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {callback}})
	}
	idClaims := func(t *testing.T, body map[string]any) map[string]any {
		t.Helper()
		raw, ok := body["id_token"].(string)
		if !ok {
			t.Fatalf("no id_token in %v", body)
		}
		_, claims := jwtParts(t, raw)
		return claims
	}
	exchange := func(form url.Values) (int, map[string]any) {
		form.Set("grant_type", urnExchange)
		st, _, body := postForm(t, g, "/oauth2/token", "demo-client", "demo-secret", form)
		return st, body
	}

	rules := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"OIDC Core 2: an id_token has iss, sub, aud with the client_id, exp after iat", func(t *testing.T) {
			c := idClaims(t, codeTokens(t, "openid", nil))
			if c["iss"] != g.URL || c["sub"] != "demo-user" || c["aud"] != "demo-client" || c["exp"].(float64) <= c["iat"].(float64) {
				t.Fatalf("claims %v", c)
			}
		}},
		{"OIDC Core 2: auth_time is present when max_age was requested", func(t *testing.T) {
			if c := idClaims(t, codeTokens(t, "openid", map[string]string{"max_age": "300"})); c["auth_time"] == nil {
				t.Fatalf("claims %v", c)
			}
		}},
		{"OIDC Core 3.1.2.1: without the openid scope no id_token is issued", func(t *testing.T) {
			if body := codeTokens(t, "profile", nil); body["id_token"] != nil {
				t.Fatalf("an id_token for a plain OAuth 2 request: %v", body)
			}
		}},
		{"OIDC Core 3.1.2.1: prompt=none with another value is an error", func(t *testing.T) {
			loc, err := g.Browser().Authorize(authURL(conf, "s", map[string]string{"prompt": "none login"}))
			if err != nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("%v %v", loc, err)
			}
		}},
		{"OIDC Core 3.1.2.6: prompt=none without a session redirects login_required with the state", func(t *testing.T) {
			loc, err := g.Browser().Authorize(authURL(conf, "st8", map[string]string{"prompt": "none"}))
			if err != nil || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "st8" {
				t.Fatalf("%v %v", loc, err)
			}
		}},
		{"OIDC Core 3.1.2.1: response_mode other than query is refused at the redirect_uri", func(t *testing.T) {
			loc, err := g.Browser().Authorize(authURL(conf, "s", map[string]string{"response_mode": "form_post"}))
			if err != nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("%v %v", loc, err)
			}
		}},
		{"OIDC Core 3.1.3.3: the token response is not cached", func(t *testing.T) {
			st, hdr, _ := postForm(t, g, "/oauth2/token", "demo-client", "demo-secret", url.Values{"grant_type": {"password"},
				"username": {"johndoe"}, "password": {"demo-password"}, "scope": {"openid"}})
			if st != 200 || hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" {
				t.Fatalf("%d %v", st, hdr)
			}
		}},
		{"OIDC Core 3.1.3.6: at_hash is the left half of the access token's SHA-256", func(t *testing.T) {
			body := codeTokens(t, "openid", nil)
			sum := sha256.Sum256([]byte(body["access_token"].(string)))
			if c := idClaims(t, body); c["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) {
				t.Fatalf("at_hash %v", c["at_hash"])
			}
		}},
		{"OIDC Core 3.1.3.7: the id_token is signed with the client's id_token_signed_response_alg", func(t *testing.T) {
			c := *conf
			c.ClientID, c.ClientSecret = "es-client", "es-secret"
			code, err := g.LoginCode(authURL(&c, "s", map[string]string{"nonce": "n"}), "johndoe", "demo-password")
			if err != nil {
				t.Fatal(err)
			}
			body := token(t, g, "es-client", "es-secret", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {callback}})
			if h, _ := jwtParts(t, body["id_token"].(string)); h["alg"] != "ES256" || h["kid"] == nil {
				t.Fatalf("header %v", h)
			}
		}},
		{"OIDC Core 5.3.2: the UserInfo sub is the id_token's", func(t *testing.T) {
			body := codeTokens(t, "openid", nil)
			req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
			if st, _, info := do(t, req); st != 200 || info["sub"] != idClaims(t, body)["sub"] {
				t.Fatalf("%d %v", st, info)
			}
		}},
		{"OIDC Core 5.5: claims asked for by name are returned where asked", func(t *testing.T) {
			body := codeTokens(t, "openid", map[string]string{"claims": `{"userinfo":{"email":{"essential":true}},"id_token":{"name":null}}`})
			if c := idClaims(t, body); c["name"] != "John Doe" || c["email"] != nil {
				t.Fatalf("id_token claims %v", c)
			}
			req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
			if st, _, info := do(t, req); st != 200 || info["email"] != "john.doe@example.com" || info["name"] != nil {
				t.Fatalf("userinfo %d %v", st, info)
			}
		}},
		{"OIDC Core 12.2: a refreshed id_token keeps iss, sub, aud, azp and auth_time and has no nonce", func(t *testing.T) {
			first := codeTokens(t, "openid", map[string]string{"nonce": "abc"})
			g.Clock().Advance(time.Minute)
			again := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {first["refresh_token"].(string)}})
			a, b := idClaims(t, first), idClaims(t, again)
			for _, k := range []string{"iss", "sub", "aud", "azp", "auth_time"} {
				if a[k] != b[k] {
					t.Errorf("%s: %v then %v", k, a[k], b[k])
				}
			}
			if a["nonce"] != "abc" || b["nonce"] != nil || b["iat"].(float64) <= a["iat"].(float64) {
				t.Fatalf("nonce %v then %v, iat %v then %v", a["nonce"], b["nonce"], a["iat"], b["iat"])
			}
		}},
		{"OIDC Core 9: a client assertion's iss and sub must be the client_id", func(t *testing.T) {
			a := signJWT(t, clientKey, "", assertion(g, "key-client", "other", g.URL, "spec-9"))
			st, _, body := postForm(t, g, "/oauth2/token", "", "", url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {assertType}, "client_assertion": {a}})
			if st != 401 || body["error"] != "invalid_client" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"OIDC Discovery 3: the required metadata are present", func(t *testing.T) {
			meta := discovery(t, g, "/.well-known/openid-configuration")
			for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
				"subject_types_supported", "id_token_signing_alg_values_supported", "userinfo_endpoint"} {
				if meta[k] == nil {
					t.Errorf("no %s", k)
				}
			}
		}},
		{"OIDC Discovery 4.3: issuer is the URL the document was fetched under", func(t *testing.T) {
			for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
				if meta := discovery(t, g, path); meta["issuer"] != g.URL || meta["jwks_uri"] != g.URL+"/oauth2/jwks" {
					t.Errorf("%s: %v", path, meta)
				}
			}
		}},
		{"RFC 8628 3.2: the device authorization response has its required members", func(t *testing.T) {
			st, _, body := postForm(t, g, "/oauth2/device_authorization", "", "", url.Values{"client_id": {"demo-public"}})
			for _, k := range []string{"device_code", "user_code", "verification_uri", "expires_in"} {
				if st != 200 || body[k] == nil {
					t.Fatalf("%d %v lacks %s", st, body, k)
				}
			}
		}},
		{"RFC 8628 3.3: the user code is accepted in any case, with or without its dash", func(t *testing.T) {
			_, _, body := postForm(t, g, "/oauth2/device_authorization", "", "", url.Values{"client_id": {"demo-public"}})
			code := strings.ToLower(strings.ReplaceAll(body["user_code"].(string), "-", ""))
			if err := g.Browser().ApproveDevice(body["verification_uri"].(string), code, "johndoe", "demo-password", true); err != nil {
				t.Fatal(err)
			}
		}},
		{"RFC 8628 3.4: a client not allowed the device grant is refused", func(t *testing.T) {
			st, _, body := postForm(t, g, "/oauth2/device_authorization", "cc-only", "cc-secret", nil)
			if st != 400 || body["error"] != "unauthorized_client" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 8693 2.1: subject_token_type is required", func(t *testing.T) {
			if st, body := exchange(url.Values{"subject_token": {"x"}}); st != 400 || body["error"] != "invalid_request" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 8693 2.2.1: issued_token_type is in the response", func(t *testing.T) {
			sub := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"client_credentials"}})["access_token"].(string)
			if st, body := exchange(url.Values{"subject_token": {sub}, "subject_token_type": {typeAccess}}); st != 200 || body["issued_token_type"] != typeAccess {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 8693 2.2.2: an invalid subject token is invalid_request", func(t *testing.T) {
			if st, body := exchange(url.Values{"subject_token": {"forged"}, "subject_token_type": {typeAccess}}); st != 400 || body["error"] != "invalid_request" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 8693 2.2.2: an unusable resource is invalid_target", func(t *testing.T) {
			sub := token(t, g, "demo-client", "demo-secret", url.Values{"grant_type": {"client_credentials"}})["access_token"].(string)
			st, body := exchange(url.Values{"subject_token": {sub}, "subject_token_type": {typeAccess}, "resource": {"relative/path"}})
			if st != 400 || body["error"] != "invalid_target" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 7523 3: an assertion without exp is refused", func(t *testing.T) {
			claims := assertion(g, "key-client", "johndoe", g.URL, "spec-exp")
			claims.Expiry = nil
			form := url.Values{"grant_type": {urnBearer}, "assertion": {signJWT(t, clientKey, "", claims)}, "client_id": {"demo-client"},
				"client_secret": {"demo-secret"}}
			if st, _, body := postForm(t, g, "/oauth2/token", "", "", form); st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 7523 3.1: a client assertion signed by another key is invalid_client", func(t *testing.T) {
			a := signJWT(t, mustKey(), "", assertion(g, "key-client", "key-client", g.URL, "spec-key"))
			st, _, body := postForm(t, g, "/oauth2/token", "", "", url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {assertType}, "client_assertion": {a}})
			if st != 401 || body["error"] != "invalid_client" {
				t.Fatalf("%d %v", st, body)
			}
		}},
		{"RFC 6749 4.3.2: the password grant is refused to a client not allowed it", func(t *testing.T) {
			st, _, body := postForm(t, g, "/oauth2/token", "cc-only", "cc-secret", url.Values{"grant_type": {"password"},
				"username": {"johndoe"}, "password": {"demo-password"}})
			if st != 400 || body["error"] != "unauthorized_client" {
				t.Fatalf("%d %v", st, body)
			}
		}},
	}
	for _, r := range rules {
		t.Run(r.name, r.run)
	}
}

func discovery(t *testing.T, g *tokengatetest.Gateway, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
	st, _, meta := do(t, req)
	if st != 200 {
		t.Fatalf("%s: %d", path, st)
	}
	grants, _ := meta["grant_types_supported"].([]any)
	if !slices.Contains(grants, any(urnDevice)) {
		t.Errorf("%s does not list the device grant: %v", path, grants)
	}
	return meta
}
