package hurdlr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/dialects/internal/paritytest/hurdlrsuite"
)

// FuzzTokenRequest feeds arbitrary queries, headers and bodies through the
// dialect's routes in-process and checks: no panic, no 5xx, every token
// endpoint answer is a token body or Hurdlr's error style, and the authorize
// endpoint only ever redirects to a registered redirect_uri.
//
// target picks the route (0: POST token, 1: GET authorize, 2: POST
// authorize, 3: an unrouted path below the prefix); bit 2 (value 4) selects
// the gateway with require_bearer: true.
func FuzzTokenRequest(f *testing.F) {
	handlers := []http.Handler{
		start(f, "{}").App.Gateway.Handler(),
		start(f, "{require_bearer: true}").App.Gateway.Handler(),
	}
	const form = "application/x-www-form-urlencoded"
	seedBody := hurdlrsuite.Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}.Body()
	f.Add(uint8(0), "", form, "Bearer <token>", seedBody)
	f.Add(uint8(4), "", form, "Bearer <token>", "client_id=demo-client&client_secret=demo-secret&grant_type=refresh_token&refresh_token=x&code=&userId=")
	f.Add(uint8(1), hurdlrsuite.AuthorizeQuery(hurdlrsuite.Callback, "s").Encode(), "", "", "")
	f.Add(uint8(2), "", form, "", "client_id=demo-client&redirect_uri=http%3A%2F%2Flocalhost%3A8081%2Fcallback&response_type=code&csrf_token=x&username=johndoe&password=demo-password")
	f.Fuzz(func(t *testing.T, target uint8, query, ctype, auth, body string) {
		method, path := http.MethodPost, tokenPath
		switch target & 3 {
		case 1:
			method, path = http.MethodGet, authorizePath
		case 2:
			path = authorizePath
		case 3:
			path = "/rest/v5/accountant/fuzz"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		handlers[(target>>2)&1].ServeHTTP(rec, req)
		res := rec.Result()
		raw := rec.Body.String()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s?%s: status %d: %s", method, path, query, res.StatusCode, raw)
		}
		switch {
		case res.StatusCode == http.StatusOK && path == tokenPath:
			var m map[string]any
			if err := json.Unmarshal([]byte(raw), &m); err != nil || len(m) != 5 || !hurdlrsuite.TokenPattern.MatchString(m["access_token"].(string)) {
				t.Fatalf("token body %s", raw)
			}
		case res.StatusCode == http.StatusSeeOther:
			loc, err := url.Parse(res.Header.Get("Location"))
			if err != nil || (loc.Scheme+"://"+loc.Host+loc.Path != callback && loc.Scheme+"://"+loc.Host+loc.Path != otherCallback) {
				t.Fatalf("redirect to %q", res.Header.Get("Location"))
			}
		case path == authorizePath && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"):
			if res.Header.Get("X-Frame-Options") != "DENY" {
				t.Fatal("HTML page without X-Frame-Options")
			}
		default:
			if !hurdlrsuite.IsErrorStyle(res.Header, raw) {
				t.Fatalf("%s %s: %d body not in Hurdlr's error style: %q", method, path, res.StatusCode, raw)
			}
		}
	})
}
