package errorid_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestParameterValueAsSent: the document says parameter_value is "set to
// input value of named parameter": the JSON value as sent, whatever its
// type; a secret never.
func TestParameterValueAsSent(t *testing.T) {
	g := start(t, "")
	cases := []struct {
		body  string
		param string
		value any
	}{
		{`{"client_id":12345,"client_secret":"demo-secret"}`, "client_id", float64(12345)},
		{`{"client_id":true,"client_secret":"demo-secret"}`, "client_id", true},
		{`{"client_id":{"id":"x"},"client_secret":"demo-secret"}`, "client_id", map[string]any{"id": "x"}},
		{`{"client_id":["a",1],"client_secret":"demo-secret"}`, "client_id", []any{"a", float64(1)}},
		{`{"client_id":"","client_secret":"demo-secret"}`, "client_id", ""},
		{`{"client_id":null,"client_secret":"demo-secret"}`, "client_id", nil},
		{`{"client_id":"demo-client","client_secret":12345}`, "client_secret", nil},
		{`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":7}`, "grant_type", float64(7)},
		{`{"client_id":` + strings.Repeat("1", 200) + `,"client_secret":"demo-secret"}`, "client_id", strings.Repeat("1", 128)},
	}
	for _, tc := range cases {
		r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(tc.body))
		checkErrorBody(t, r)
		if r.Status != 400 || r.Body["parameter_name"] != tc.param || !reflect.DeepEqual(r.Body["parameter_value"], tc.value) {
			t.Errorf("%s: %d %s, want parameter %s = %#v", tc.body, r.Status, r.Raw, tc.param, tc.value)
		}
	}
}

// TestGrantType: the document names no grant_type; a body without one, or
// with client_credentials, gets a token, and any other grant is refused
// rather than served as client credentials.
func TestGrantType(t *testing.T) {
	g := start(t, "")
	for _, body := range []string{`{"client_id":"demo-client","client_secret":"demo-secret"}`,
		`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"client_credentials"}`} {
		if r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(body)); r.Status != 200 {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
	}
	r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"password"}`))
	checkErrorBody(t, r)
	if r.Status != 400 || r.Body["code"] != "UNSUPPORTED_GRANT_TYPE" || r.Body["parameter_name"] != "grant_type" ||
		r.Body["parameter_value"] != "password" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

// TestNoChallengeOn401: errorid's credentials travel in the JSON body, so
// its 401 names no HTTP authentication scheme (docs/dialects/errorid.md).
func TestNoChallengeOn401(t *testing.T) {
	g := start(t, "")
	r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"wrong"}`))
	if r.Status != 401 || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("%d, WWW-Authenticate %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}
