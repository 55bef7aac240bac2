package acceleration_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const (
	tokenPath    = "/api/v1/auth/oauth2/token"
	userinfoPath = "/api/v1/auth/oauth2/userinfo"
	keysPath     = "/api/v1/auth/oauth2/keys"
	jwksPath     = "/.well-known/jwks.json"

	defaultIssuer = "https://tokengate.local/oauth2/default"
)

// baseYAML enables only this dialect; %s is replaced by its options.
const baseYAML = `
dialects:
  acceleration: {%s}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
  - client_id: code-only
    client_secret: code-secret
    grants: [authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
  - client_id: elsewhere
    client_secret: elsewhere-secret
    grants: [client_credentials]
    dialects: [oauth2]
  - client_id: switched-off
    client_secret: off-secret
    grants: [client_credentials]
    disabled: true
users:
  - {user_id: demo-user, username: johndoe, first_name: John, last_name: Doe, email: john.doe@example.com, password: demo-password}
  - {user_id: plain-user, username: plain}
`

func yamlWith(opts string) string { return strings.Replace(baseYAML, "%s", opts, 1) }

func start(t testing.TB, opts string) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: yamlWith(opts)})
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// call sends one request; headers are name/value pairs (a name may repeat).
func call(t testing.TB, base, method, path, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %q", method, path, err, raw)
	}
	return r
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t testing.TB, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
}

// wantEnvelope checks the vendor's failure body exactly.
func wantEnvelope(t testing.TB, r reply, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	want, _ := json.Marshal(map[string]any{"code": status, "errorMessage": message, "error": nil, "data": nil})
	var got map[string]any
	_ = json.Unmarshal(r.raw, &got)
	gotJSON, _ := json.Marshal(got)
	if string(gotJSON) != string(want) {
		t.Fatalf("body = %s, want %s", r.raw, want)
	}
}

// issue gets a token through the vendor's request shape.
func issue(t testing.TB, base, userID string) string {
	t.Helper()
	r := call(t, base, http.MethodPost, tokenPath+"?grant_type=client_credentials&user_id="+userID, "",
		"Accept", "application/json", "Authorization", basic("demo-client", "demo-secret"))
	if r.status != http.StatusOK {
		t.Fatalf("token: status %d: %s", r.status, r.raw)
	}
	tok, _ := r.body["access_token"].(string)
	if tok == "" {
		t.Fatalf("no access_token in %s", r.raw)
	}
	return tok
}

// jwksKeys fetches a JWKS and builds the public keys by kid, checking each
// entry's members.
func jwksKeys(t testing.TB, base, path string) (map[string]*rsa.PublicKey, []string) {
	t.Helper()
	r := call(t, base, http.MethodGet, path, "")
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, r.status, r.raw)
	}
	wantKeys(t, r.body, "keys")
	list, _ := r.body["keys"].([]any)
	out := map[string]*rsa.PublicKey{}
	var order []string
	for _, it := range list {
		k, _ := it.(map[string]any)
		wantKeys(t, k, "kty", "kid", "use", "alg", "n", "e")
		if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" {
			t.Fatalf("jwk = %v", k)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k["n"].(string))
		e, err2 := base64.RawURLEncoding.DecodeString(k["e"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("jwk n/e not base64url: %v", k)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() != 2048 {
			t.Fatalf("key size %d", pub.N.BitLen())
		}
		kid := k["kid"].(string)
		out[kid] = pub
		order = append(order, kid)
	}
	return out, order
}

// parse verifies a JWT with golang-jwt against keys, at now.
func parse(token string, pubs map[string]*rsa.PublicKey, now func() time.Time) (*jwt.Token, jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(token, claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		if k := pubs[kid]; k != nil {
			return k, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(now), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithAudience("api://tenant"), jwt.WithIssuer(defaultIssuer))
	return tok, claims, err
}

func kidOf(t testing.TB, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	kid, _ := m["kid"].(string)
	return kid
}
