package admin_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tokengate/tokengate/dialects/admin"
)

// The engine's typed refusals come back as the admin API's Problem bodies,
// naming the field.
func TestEngineErrorsAsProblems(t *testing.T) {
	g := start(t)
	cases := []struct {
		method, path, body string
		status             int
		want               admin.Problem
	}{
		{"POST", "/clients", `{"client_id":"demo-client","client_secret":"s","grants":["client_credentials"]}`, 409,
			admin.Problem{Error: "conflict", Field: "client_id", Message: "a client with this client_id exists; use PUT to replace it"}},
		{"PUT", "/clients/ghost", `{"grants":["client_credentials"]}`, 400,
			admin.Problem{Error: "invalid_request", Field: "client_secret", Message: "is required", Problems: []string{"client_secret: is required"}}},
		{"POST", "/users", `{"user_id":"u9","username":"johndoe"}`, 409,
			admin.Problem{Error: "conflict", Field: "username", Message: "another user has this username"}},
		{"POST", "/users", `{"user_id":"demo-user","username":"x"}`, 409,
			admin.Problem{Error: "conflict", Field: "user_id", Message: "a user with this user_id exists; use PUT to replace it"}},
		{"POST", "/authorizations", `{"auth_id":1,"auth_token":"t","user_id":"demo-user","client_id":"demo-client"}`, 409,
			admin.Problem{Error: "conflict", Field: "auth_id", Message: "an authorization with this auth_id exists; use PUT to replace it"}},
		{"POST", "/authorizations", `{"auth_id":9,"auth_token":"t","user_id":"ghost","client_id":"demo-client"}`, 400,
			admin.Problem{Error: "invalid_request", Field: "user_id", Message: `names no user "ghost"`, Problems: []string{`user_id: names no user "ghost"`}}},
		{"PUT", "/authorizations/9", `{"user_id":"demo-user","client_id":"demo-client"}`, 400,
			admin.Problem{Error: "invalid_request", Field: "auth_token", Message: "validation failed", Problems: []string{"auth_token: is required"}}},
		{"GET", "/clients/ghost", "", 404, admin.Problem{Error: "not_found", Message: `no client "ghost"`}},
		{"DELETE", "/users/ghost", "", 404, admin.Problem{Error: "not_found", Message: `no user "ghost"`}},
		{"DELETE", "/authorizations/9", "", 404, admin.Problem{Error: "not_found", Message: `no authorization "9"`}},
		{"DELETE", "/tokens/nope", "", 404, admin.Problem{Error: "not_found", Message: `no token ""`}},
	}
	for _, tc := range cases {
		var in any
		if tc.body != "" {
			in = rawJSON(tc.body)
		}
		err := g.Admin.Do(t.Context(), tc.method, tc.path, in, nil)
		var ae *admin.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s %s: %v, want %d", tc.method, tc.path, err, tc.status)
			continue
		}
		p := ae.Problem
		if ae.Status != tc.status || p.Error != tc.want.Error || p.Field != tc.want.Field || p.Message != tc.want.Message ||
			!slices.Equal(p.Problems, tc.want.Problems) {
			t.Errorf("%s %s: %d %+v, want %d %+v", tc.method, tc.path, ae.Status, p, tc.status, tc.want)
		}
	}
}
