package declared_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

// vendorsConfig is docs/examples/vendors.yaml as shipped (the test gateway
// replaces its listen address and database only).
const vendorsConfig = "../../docs/examples/vendors.yaml"

func startVendors(t *testing.T) *tokengatetest.Gateway {
	t.Helper()
	cfg, err := config.Load(vendorsConfig, dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	return tokengatetest.Start(t, tokengatetest.Options{Config: cfg})
}

// TestGitHubQuirks: GitHub's token endpoint answers form-urlencoded unless
// Accept asks for JSON, reads its parameters from the body or the query,
// and answers token errors (bad_verification_code, ...) with HTTP 200.
func TestGitHubQuirks(t *testing.T) {
	g := startVendors(t)
	tokenURL := g.URL + "/login/oauth/access_token"
	exchange := func(code string, accept string) reply {
		h := map[string]string{}
		if accept != "" {
			h["Accept"] = accept
		}
		return postForm(t, tokenURL, url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
			"code": {code}, "redirect_uri": {callback}}, h)
	}
	gho := regexp.MustCompile(`^gho_[0-9A-Za-z]{36}$`)

	r := exchange(login(t, g.URL+"/login/oauth/authorize?"+authorizeQuery("a")), "")
	form, err := url.ParseQuery(r.raw)
	if r.status != 200 || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" || err != nil ||
		!gho.MatchString(form.Get("access_token")) || form.Get("token_type") != "bearer" ||
		!strings.HasPrefix(r.raw, "access_token=") {
		t.Fatalf("default answer: %d %q %s", r.status, r.header.Get("Content-Type"), r.raw)
	}

	r = exchange(login(t, g.URL+"/login/oauth/authorize?"+authorizeQuery("b")), "application/json")
	if r.status != 200 || !gho.MatchString(r.json["access_token"].(string)) || r.json["token_type"] != "bearer" {
		t.Fatalf("JSON answer: %d %s", r.status, r.raw)
	}
	if keys := orderedKeys(t, r.raw); strings.Join(keys, ",") != "access_token,scope,token_type" {
		t.Fatalf("JSON keys in order %v", keys)
	}

	// The parameters may come in the query.
	code := login(t, g.URL+"/login/oauth/authorize?"+authorizeQuery("c"))
	q := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "code": {code}, "redirect_uri": {callback}}
	r = send(t, nil, "POST", tokenURL+"?"+q.Encode(), "", "", map[string]string{"Accept": "application/json"})
	if r.status != 200 || !gho.MatchString(r.json["access_token"].(string)) {
		t.Fatalf("query parameters: %d %s", r.status, r.raw)
	}

	// Errors: HTTP 200, in the negotiated format.
	r = exchange("not-a-code", "")
	form, _ = url.ParseQuery(r.raw)
	if r.status != 200 || form.Get("error") != "bad_verification_code" ||
		!strings.Contains(form.Get("error_uri"), "#bad-verification-code") {
		t.Fatalf("bad code, form: %d %s", r.status, r.raw)
	}
	r = exchange(code, "application/json") // redeemed already
	if r.status != 200 || r.json["error"] != "bad_verification_code" || r.json["error_description"] != "The code passed is incorrect or expired." {
		t.Fatalf("used code, JSON: %d %s", r.status, r.raw)
	}
	r = postForm(t, tokenURL, url.Values{"client_id": {"demo-client"}, "client_secret": {"wrong"}, "code": {"x"}},
		map[string]string{"Accept": "application/json"})
	if r.status != 200 || r.json["error"] != "incorrect_client_credentials" {
		t.Fatalf("wrong secret: %d %s", r.status, r.raw)
	}
	code = login(t, g.URL+"/login/oauth/authorize?"+authorizeQuery("d"))
	r = postForm(t, tokenURL, url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "code": {code},
		"redirect_uri": {"http://localhost:8081/elsewhere"}}, map[string]string{"Accept": "application/json"})
	if r.status != 200 || r.json["error"] != "redirect_uri_mismatch" {
		t.Fatalf("redirect_uri mismatch: %d %s", r.status, r.raw)
	}
}

// TestSlackQuirks: Slack takes the client credentials by HTTP Basic or in
// the body, answers {"ok": true, ...} with a nested team and an xoxb- bot
// token, and fails with {"ok": false, "error": "invalid_code"} and HTTP 200.
func TestSlackQuirks(t *testing.T) {
	g := startVendors(t)
	tokenURL := g.URL + "/api/oauth.v2.access"
	xoxb := regexp.MustCompile(`^xoxb-[0-9]{11}-[0-9]{13}-[0-9A-Za-z]{24}$`)
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret"))}
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"basic": {url.Values{}, basic},
		"body":  {url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			tc.form.Set("code", login(t, g.URL+"/oauth/v2/authorize?"+authorizeQuery(name)))
			tc.form.Set("redirect_uri", callback)
			r := postForm(t, tokenURL, tc.form, tc.header)
			team, _ := r.json["team"].(map[string]any)
			user, _ := r.json["authed_user"].(map[string]any)
			if r.status != 200 || r.json["ok"] != true || !xoxb.MatchString(r.json["access_token"].(string)) ||
				r.json["token_type"] != "bot" || team["id"] != "T9TK3CUKW" || team["name"] != "Slack Softball Team" ||
				user["id"] != "demo-user" || r.json["expires_in"] != float64(43200) || r.json["refresh_token"] == nil {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if keys := orderedKeys(t, r.raw); keys[0] != "ok" || keys[1] != "access_token" {
				t.Fatalf("key order %v", keys)
			}
			// Token rotation: the refresh token gets a new pair.
			rr := postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {r.json["refresh_token"].(string)}}, basic)
			if rr.status != 200 || rr.json["ok"] != true || rr.json["refresh_token"] == r.json["refresh_token"] {
				t.Fatalf("refresh: %d %s", rr.status, rr.raw)
			}
		})
	}
	for name, tc := range map[string]struct {
		form       url.Values
		header     map[string]string
		error      string
		statusWant int
	}{
		"invalid code":        {url.Values{"code": {"nope"}}, basic, "invalid_code", 200},
		"missing code":        {url.Values{}, basic, "invalid_code", 200},
		"wrong secret":        {url.Values{"client_id": {"demo-client"}, "client_secret": {"wrong"}, "code": {"x"}}, nil, "bad_client_secret", 200},
		"no credentials":      {url.Values{"code": {"x"}}, nil, "invalid_client_id", 200},
		"reused refresh":      {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"xoxe-1-nope"}}, basic, "invalid_refresh_token", 200},
		"unknown grant":       {url.Values{"grant_type": {"password"}}, basic, "invalid_grant_type", 200},
		"two auth methods":    {url.Values{"client_id": {"other"}, "code": {"x"}}, basic, "invalid_arguments", 200},
		"unknown Web API URL": {nil, nil, "unknown_method", 404},
	} {
		t.Run(name, func(t *testing.T) {
			u := tokenURL
			if tc.form == nil {
				u, tc.form = g.URL+"/api/oauth.v9.access", url.Values{}
			}
			r := postForm(t, u, tc.form, tc.header)
			if r.status != tc.statusWant || r.json["ok"] != false || r.json["error"] != tc.error || len(r.json) != 2 {
				t.Fatalf("%d %s, want %d {ok: false, error: %s}", r.status, r.raw, tc.statusWant, tc.error)
			}
		})
	}
}

// TestMicrosoftQuirks: the Microsoft identity platform issues RS256 JWTs
// that verify with the keys it publishes, and answers errors in its own
// envelope: error_codes, a timestamp on the gateway clock, trace and
// correlation ids, all repeated in error_description.
func TestMicrosoftQuirks(t *testing.T) {
	g := startVendors(t)
	base := g.URL + "/common"
	g.Clock().Freeze(true)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	g.Clock().Set(at)

	r := postForm(t, base+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "scope": {"https://graph.microsoft.com/.default"}}, nil)
	if r.status != 200 || r.json["token_type"] != "Bearer" || r.json["expires_in"] != float64(3599) || r.json["ext_expires_in"] != float64(3599) {
		t.Fatalf("client credentials: %d %s", r.status, r.raw)
	}
	if _, ok := r.json["refresh_token"]; ok {
		t.Fatalf("a refresh token for client credentials: %s", r.raw)
	}
	jwt := r.json["access_token"].(string)
	keys := send(t, nil, "GET", base+"/discovery/v2.0/keys", "", "", nil)
	claims := verifyJWT(t, jwt, keys)
	if claims["azp"] != "demo-client" || claims["sub"] != "demo-client" || claims["iat"] != float64(at.Unix()) ||
		claims["exp"] != float64(at.Unix()+3599) || claims["scp"] != "https://graph.microsoft.com/.default" ||
		claims["tid"] != "9188040d-6c67-4c5b-b112-36a304b66dad" || claims["uti"] == "" {
		t.Fatalf("claims %v", claims)
	}

	// Authorization code, with the user in the token.
	code := login(t, base+"/oauth2/v2.0/authorize?"+authorizeQuery("m"))
	r = postForm(t, base+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "code": {code}, "redirect_uri": {callback}}, nil)
	if r.status != 200 || r.json["refresh_token"] == nil || verifyJWT(t, r.json["access_token"].(string), keys)["sub"] != "demo-user" {
		t.Fatalf("code exchange: %d %s", r.status, r.raw)
	}

	uuid := `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
	for name, tc := range map[string]struct {
		form   url.Values
		status int
		error  string
		aadsts float64
		text   string
	}{
		"missing scope": {url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"}},
			400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."},
		"wrong secret": {url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"}, "client_secret": {"nope"}, "scope": {"x"}},
			401, "invalid_client", 7000215, "Invalid client secret provided."},
		"code replay": {url.Values{"grant_type": {"authorization_code"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"},
			"code": {code}, "redirect_uri": {callback}}, 400, "invalid_grant", 54005, "The provided authorization code or refresh token was already redeemed"},
	} {
		t.Run(name, func(t *testing.T) {
			r := postForm(t, base+"/oauth2/v2.0/token", tc.form, nil)
			codes, _ := r.json["error_codes"].([]any)
			if r.status != tc.status || r.json["error"] != tc.error || len(codes) != 1 || codes[0] != tc.aadsts ||
				r.json["timestamp"] != "2030-01-02 03:04:05Z" {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			trace, corr := r.json["trace_id"].(string), r.json["correlation_id"].(string)
			want := regexp.MustCompile(`^AADSTS` + strconv.Itoa(int(tc.aadsts)) + `: ` + regexp.QuoteMeta(tc.text) + `.*\r\nTrace ID: ` +
				trace + `\r\nCorrelation ID: ` + corr + `\r\nTimestamp: 2030-01-02 03:04:05Z$`)
			if !regexp.MustCompile("^"+uuid+"$").MatchString(trace) || trace == corr || !want.MatchString(r.json["error_description"].(string)) {
				t.Fatalf("ids and description: %s", r.raw)
			}
		})
	}
}

// verifyJWT checks an RS256 token against the JWKS answer and returns its claims.
func verifyJWT(t *testing.T, token string, jwks reply) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWS", token)
	}
	var header struct{ Alg, Kid, Typ string }
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &header); err != nil || header.Alg != "RS256" || header.Typ != "JWT" || header.Kid == "" {
		t.Fatalf("header %s", raw)
	}
	var set struct{ Keys []struct{ Kid, N, E string } }
	if err := json.Unmarshal([]byte(jwks.raw), &set); err != nil || jwks.status != 200 {
		t.Fatalf("JWKS %d %s", jwks.status, jwks.raw)
	}
	for _, k := range set.Keys {
		if k.Kid != header.Kid {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var claims map[string]any
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if err := json.Unmarshal(raw, &claims); err != nil {
			t.Fatal(err)
		}
		return claims
	}
	t.Fatalf("kid %s not published in %s", header.Kid, jwks.raw)
	return nil
}

// orderedKeys lists a JSON object's top-level keys in the order sent.
func orderedKeys(t *testing.T, raw string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
