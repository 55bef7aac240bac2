package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/openapi/validate"
)

func getDoc(t *testing.T, g *tokengatetest.Gateway, path, token string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.Admin.BaseURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestOpenAPIEndpoint: /_admin/openapi/{dialect} serves the instance's
// document, JSON or YAML, its paths under the instance's prefix and its
// server the address the instance answers on.
func TestOpenAPIEndpoint(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
admin_token: test-admin-token
dialects:
  std: {type: oauth2, prefix: /std}
`})
	status, ct, body := getDoc(t, g, "/_admin/openapi/std", "test-admin-token")
	if status != 200 || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%d %s: %s", status, ct, body)
	}
	doc, err := validate.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Paths.Value("/std/oauth2/token") == nil || doc.Paths.Value("/oauth2/token") != nil {
		t.Errorf("paths not under the prefix: %v", doc.Paths.InMatchingOrder())
	}
	if doc.Servers[0].URL != g.URL {
		t.Errorf("server %q, want %q", doc.Servers[0].URL, g.URL)
	}

	status, ct, body = getDoc(t, g, "/_admin/openapi/std?format=yaml", "test-admin-token")
	var y map[string]any
	if status != 200 || ct != "application/yaml" || yaml.Unmarshal(body, &y) != nil || y["openapi"] != "3.1.0" {
		t.Fatalf("yaml: %d %s: %.200s", status, ct, body)
	}

	for path, want := range map[string]int{"/_admin/openapi/nope": 404, "/_admin/openapi/std?format=xml": 400} {
		if status, _, body := getDoc(t, g, path, "test-admin-token"); status != want {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	if status, _, _ := getDoc(t, g, "/_admin/openapi/std", ""); status != 401 {
		t.Errorf("without the admin token: %d", status)
	}
	var problem map[string]any
	_, _, body = getDoc(t, g, "/_admin/openapi/nope", "test-admin-token")
	if json.Unmarshal(body, &problem) != nil || problem["error"] != "not_found" {
		t.Errorf("unknown dialect: %s", body)
	}
}
