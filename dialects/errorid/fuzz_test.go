package errorid_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/internal/paritytest/erroridsuite"
)

// FuzzTokenRequest feeds arbitrary methods, content types and bodies through
// the whole gateway in process: never a panic, never a 5xx, and every answer
// is either a token or an error in this dialect's five-key style that does
// not echo a secret.
func FuzzTokenRequest(f *testing.F) {
	g := tokengatetest.Start(f, tokengatetest.Options{YAML: "dialects:\n  errorid: {}\n" + erroridsuite.ClientsYAML})
	h := g.App.Gateway.Handler()
	f.Add("POST", "application/json", []byte(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
	f.Add("POST", "application/json", []byte(`{"clientId":"demo-client","clientSecret":"demo-secret"}`))
	f.Add("POST", "application/json", []byte(`{"client_id":"demo-client","client_id":"x","client_secret":"demo-secret"}`))
	f.Add("POST", "text/plain", []byte(`{}`))
	f.Add("GET", "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, contentType string, body []byte) {
		if !validMethod(method) {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "/v1/oauth/token", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %s %q %q: %s", rec.Code, method, contentType, body, rec.Body)
		}
		if method == http.MethodHead {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d, body not a JSON object: %q", rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			if _, ok := m["access_token"].(string); !ok || m["token_type"] != "Bearer" || len(m) != 3 {
				t.Fatalf("token body %s", rec.Body)
			}
			return
		}
		want := map[string]bool{"errorId": true, "code": true, "text": true, "parameter_name": true, "parameter_value": true}
		if len(m) != len(want) {
			t.Fatalf("error body keys %v", m)
		}
		for k := range m {
			if !want[k] {
				t.Fatalf("unexpected key %q in %s", k, rec.Body)
			}
		}
		if !erroridsuite.UUIDPattern.MatchString(m["errorId"].(string)) {
			t.Fatalf("errorId %v", m["errorId"])
		}
		if name, _ := m["parameter_name"].(string); strings.Contains(strings.ToLower(name), "secret") && m["parameter_value"] != nil {
			t.Fatalf("secret echoed: %s", rec.Body)
		}
		if strings.Contains(rec.Body.String(), "demo-secret") {
			t.Fatalf("secret echoed: %s", rec.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}
