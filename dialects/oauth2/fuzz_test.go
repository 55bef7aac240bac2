package oauth2_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// FuzzTokenEndpoint feeds arbitrary bodies, content types and
// Authorization headers to the oauth2 dialect's client endpoints in
// process. target&3 picks the route (0: /oauth2/token, 1: /oauth2/introspect,
// 2: /oauth2/revoke, 3: an unrouted path under /oauth2); bit 2 sends GET
// instead of POST. Invariants: never a panic or a 5xx; a 200 is the route's
// success body; every error is RFC 6749 §5.2 JSON with Cache-Control:
// no-store, and only a request with Basic credentials gets a challenge.
func FuzzTokenEndpoint(f *testing.F) {
	g := tokengatetest.Start(f, tokengatetest.Options{YAML: testConfig})
	h := g.App.Gateway.Handler()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret"))
	const form = "application/x-www-form-urlencoded"
	f.Add(uint8(0), form, basic, "grant_type=client_credentials")
	f.Add(uint8(0), form, "", "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&scope=a%20b")
	f.Add(uint8(0), form, basic, "grant_type=refresh_token&refresh_token=x")
	f.Add(uint8(0), form, basic, "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2Flocalhost%3A8081%2Fcallback&code_verifier=y")
	f.Add(uint8(0), "application/json", basic, `{"grant_type":"client_credentials"}`)
	f.Add(uint8(1), form, basic, "token=x&token_type_hint=access_token")
	f.Add(uint8(2), form, basic, "token=x")
	f.Add(uint8(3), "", "", "")
	f.Add(uint8(4), "", basic, "")
	f.Fuzz(func(t *testing.T, target uint8, ctype, auth, body string) {
		path := [...]string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke", "/oauth2/fuzz"}[target&3]
		method := http.MethodPost
		if target&4 != 0 {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if ctype != "" {
			req.Header["Content-Type"] = []string{ctype}
		}
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		raw := rec.Body.String()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		if res.StatusCode == http.StatusOK {
			var m map[string]any
			switch path {
			case "/oauth2/token":
				if json.Unmarshal([]byte(raw), &m) != nil || m["access_token"] == nil || m["token_type"] != "Bearer" {
					t.Fatalf("token body %q", raw)
				}
			case "/oauth2/introspect":
				if json.Unmarshal([]byte(raw), &m) != nil || m["active"] == nil {
					t.Fatalf("introspection body %q", raw)
				}
			case "/oauth2/revoke":
				if raw != "" {
					t.Fatalf("revocation body %q", raw)
				}
			default:
				t.Fatalf("200 on %s", path)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("200 on %s without no-store", path)
			}
			return
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(raw), &e); err != nil || len(e) > 2 {
			t.Fatalf("%d body not an OAuth 2 error: %q", res.StatusCode, raw)
		}
		if code, _ := e["error"].(string); code == "" {
			t.Fatalf("%d body without error: %q", res.StatusCode, raw)
		}
		if _, ok := e["error_description"]; len(e) == 2 && !ok {
			t.Fatalf("%d body with a foreign key: %q", res.StatusCode, raw)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d error without no-store: %q", res.StatusCode, raw)
		}
		// RFC 6749 §5.2: a Basic challenge only for a client that used Basic.
		if ch := res.Header.Get("WWW-Authenticate"); ch != "" && !strings.HasPrefix(strings.ToLower(auth), "basic ") {
			t.Fatalf("%d with challenge %q to a request without Basic", res.StatusCode, ch)
		}
	})
}
