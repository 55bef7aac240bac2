package oauth2_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

// TestTwoInstancesOfOneType: oauth2 enabled twice (std-a at /a, std-b at
// /b) serves both; a token is scoped to the instance that issued it, a
// client may be limited to one instance or to the type, and the journal
// tells the instances apart.
func TestTwoInstancesOfOneType(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
dialects:
  std-a: {type: oauth2, prefix: /a}
  std-b: {type: oauth2, prefix: /b}
clients:
  - {client_id: demo-client, client_secret: demo-secret, grants: [client_credentials], dialects: [oauth2]}
  - {client_id: a-only, client_secret: a-secret, grants: [client_credentials], dialects: [std-a]}
`})
	post := func(path, id, secret string, form url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", g.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		status, _, body := do(t, req)
		return status, body
	}
	issue := func(prefix string) string {
		t.Helper()
		status, body := post(prefix+"/oauth2/token", "demo-client", "demo-secret", url.Values{"grant_type": {"client_credentials"}})
		if status != 200 {
			t.Fatalf("%s: %d %v", prefix, status, body)
		}
		return body["access_token"].(string)
	}
	active := func(prefix, token string) bool {
		t.Helper()
		status, body := post(prefix+"/oauth2/introspect", "demo-client", "demo-secret", url.Values{"token": {token}})
		if status != 200 {
			t.Fatalf("introspect at %s: %d %v", prefix, status, body)
		}
		return body["active"] == true
	}
	ta, tb := issue("/a"), issue("/b")
	if !active("/a", ta) || active("/b", ta) || !active("/b", tb) || active("/a", tb) {
		t.Fatal("a token must introspect active at its own instance only")
	}
	if status, _ := post("/b/oauth2/revoke", "demo-client", "demo-secret", url.Values{"token": {ta}}); status != 200 || !active("/a", ta) {
		t.Fatal("std-b revoked std-a's token")
	}
	if status, _ := post("/a/oauth2/revoke", "demo-client", "demo-secret", url.Values{"token": {ta}}); status != 200 || active("/a", ta) {
		t.Fatal("std-a did not revoke its own token")
	}

	cc := url.Values{"grant_type": {"client_credentials"}}
	if status, body := post("/a/oauth2/token", "a-only", "a-secret", cc); status != 200 {
		t.Fatalf("a-only at std-a: %d %v", status, body)
	}
	if status, body := post("/b/oauth2/token", "a-only", "a-secret", cc); status != 400 || body["error"] != "unauthorized_client" {
		t.Fatalf("a-only at std-b: %d %v", status, body)
	}

	for prefix, name := range map[string]string{"/a": "std-a", "/b": "std-b"} {
		entries, err := g.Admin.Requests(control.Filter{Dialect: name})
		if err != nil || len(entries) < 3 {
			t.Fatalf("journal of %s: %v %d", name, err, len(entries))
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Route, prefix+"/") {
				t.Errorf("%s's journal holds %s", name, e.Route)
			}
		}
	}
}
