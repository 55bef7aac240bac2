package acceleration_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenRequest feeds arbitrary queries, bodies and headers through the
// token endpoint (and the Authorization header through userinfo) in process
// and checks that every answer is either the vendor's success body or the
// dialect's envelope, never a 5xx.
func FuzzTokenRequest(f *testing.F) {
	g := start(f, "")
	h := g.App.Gateway.Handler()
	f.Add("grant_type=client_credentials&user_id=demo-user", "", "", basic("demo-client", "demo-secret"))
	f.Add("", "grant_type=client_credentials&user_id=demo-user&client_id=demo-client&client_secret=demo-secret",
		"application/x-www-form-urlencoded", "")
	f.Add("grant_type=client_credentials&user_id=demo-user", "", "", "Basic xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==")
	f.Add("grant_type=client_credentials&user_id=demo-user", "user_id=x", "application/x-www-form-urlencoded", "Bearer a.b.c")
	f.Fuzz(func(t *testing.T, query, body, contentType, authorization string) {
		req := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Accept", "application/json")
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		if authorization != "" {
			req.Header["Authorization"] = []string{authorization}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, rec, "access_token", "token_type", "expires_in")

		req = httptest.NewRequest(http.MethodGet, userinfoPath, nil)
		if authorization != "" {
			req.Header["Authorization"] = []string{authorization}
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, rec, "code", "errorMessage", "error", "data")
	})
}

// check asserts status < 500 and the body shape: success keys on 200, the
// envelope with code == status otherwise.
func check(t *testing.T, rec *httptest.ResponseRecorder, okKeys ...string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body not JSON: %q", rec.Body.String())
	}
	if rec.Code == http.StatusOK {
		wantKeys(t, m, okKeys...)
		return
	}
	wantKeys(t, m, "code", "errorMessage", "error", "data")
	if msg, _ := m["errorMessage"].(string); m["code"] != float64(rec.Code) || msg == "" || m["error"] != nil || m["data"] != nil {
		t.Fatalf("envelope = %s", rec.Body.String())
	}
}
