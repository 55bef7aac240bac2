// Package clienttest sends the client requests the console's tests make
// against a test gateway: a form POST, and the demo client's Hurdlr token
// requests (Hurdlr issues refresh tokens with client_credentials).
package clienttest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// Post sends form to u and decodes the JSON answer.
func Post(t testing.TB, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// Token sends a Hurdlr token request as the demo client.
func Token(t testing.TB, gateway string, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("client_id", "demo-client")
	form.Set("client_secret", "demo-secret")
	return Post(t, gateway+"/rest/v5/accountant/token", form)
}

// Issue gets the demo client a token for the demo user, failing t if it cannot.
func Issue(t testing.TB, gateway string) map[string]any {
	t.Helper()
	st, body := Token(t, gateway, url.Values{"grant_type": {"client_credentials"}, "userId": {"demo-user"}})
	if st != http.StatusOK {
		t.Fatalf("issue: %d %v", st, body)
	}
	return body
}
