package declared_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/openapi"
	"github.com/tokengate/tokengate/dialects/openapi/validate"
)

// shippedSpecs are the spec files the repository ships, by instance name.
var shippedSpecs = map[string]string{
	"errorid":   "testdata/errorid.yaml",
	"hurdlr":    "testdata/hurdlr.yaml",
	"github":    "../../docs/examples/github.yaml",
	"slack":     "../../docs/examples/slack.yaml",
	"microsoft": "../../docs/examples/microsoft.yaml",
}

// TestGeneratedDocumentsValidate: each shipped spec's generated document
// is valid OpenAPI 3.1 (examples included, checked against their schemas).
func TestGeneratedDocumentsValidate(t *testing.T) {
	yamlText := "admin_token: t\ndialects:\n"
	for name, file := range shippedSpecs {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		yamlText += "  " + name + ": {type: declared, spec: " + abs + ", prefix: /" + name + "}\n"
	}
	cfg, err := config.Parse([]byte(yamlText), dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dialects.DryRun(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		raw, err := openapi.Render(p, "http://127.0.0.1:8080", true)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if dir := os.Getenv("DUMP"); dir != "" {
			os.WriteFile(filepath.Join(dir, p.Name+".yaml"), raw, 0o644)
		}
		if _, err := validate.Parse(raw); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}

// TestTamperedDocumentsFail: with a generated document changed to disagree
// with the spec's behaviour, the same exchanges the vendor tests make fail
// validation; so those tests hold every exchange to the generated document.
func TestTamperedDocumentsFail(t *testing.T) {
	cases := []struct {
		name, instance string
		edit           func(doc map[string]any)
		send           func(t *testing.T, base string)
		wants          string
	}{
		{"success body", "slack", func(doc map[string]any) {
			ok := at(doc, "paths", "/api/oauth.v2.access", "post", "responses", "200", "content", "application/json", "schema")
			success := ok["oneOf"].([]any)[0].(map[string]any)
			success["properties"].(map[string]any)["token_type"].(map[string]any)["const"] = "user"
		}, slackRefresh, "response body doesn't match"},
		{"HTTP 200 error", "github", func(doc map[string]any) {
			media := at(doc, "paths", "/login/oauth/access_token", "post", "responses", "200", "content", "application/json")
			media["schema"] = media["schema"].(map[string]any)["oneOf"].([]any)[0]
		}, githubBadCode, "response body doesn't match"},
		{"error status", "microsoft", func(doc map[string]any) {
			responses := at(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses")
			delete(responses, "401")
			delete(responses, "default")
		}, microsoftWrongSecret, "status is not supported"},
		{"request schema", "microsoft", func(doc map[string]any) {
			schema := at(doc, "paths", "/common/oauth2/v2.0/token", "post", "requestBody", "content",
				"application/x-www-form-urlencoded", "schema")
			schema["required"] = []any{"grant_type", "client_assertion"}
		}, microsoftClientCredentials, "request: "},
		{"header", "microsoft", func(doc map[string]any) {
			at(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses", "200", "headers", "Pragma", "schema")["const"] = "cache"
		}, microsoftClientCredentials, "Pragma"},
		{"token format", "microsoft", func(doc map[string]any) {
			at(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses", "200", "content", "application/json", "schema",
				"properties", "access_token")["pattern"] = "^gho_"
		}, microsoftClientCredentials, "access_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(vendorsConfig, dialects.Catalog())
			if err != nil {
				t.Fatal(err)
			}
			g, err := tokengatetest.New(tokengatetest.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			raw, found, err := g.App.OpenAPI(tc.instance, false)
			if err != nil || !found {
				t.Fatalf("the %s document: %v %v", tc.instance, found, err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			dropExamples(doc)
			tc.edit(doc)
			tampered, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			g.OpenAPI.SetDocs(func(instance string) ([]byte, error) {
				if instance == tc.instance {
					return tampered, nil
				}
				doc, _, err := g.App.OpenAPI(instance, false)
				return doc, err
			})
			tc.send(t, g.URL)
			failures := g.OpenAPI.Failures()
			if len(failures) == 0 || !strings.Contains(failures[0].String(), tc.wants) {
				t.Fatalf("failures %v, want one with %q", failures, tc.wants)
			}
		})
	}
}

// TestUntamperedDocumentsPass: the same exchanges against the generated
// documents.
func TestUntamperedDocumentsPass(t *testing.T) {
	g := startVendors(t)
	for _, send := range []func(*testing.T, string){slackRefresh, githubBadCode, microsoftWrongSecret, microsoftClientCredentials} {
		send(t, g.URL)
	}
	if f := g.OpenAPI.Failures(); len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
}

func slackRefresh(t *testing.T, base string) {
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret"))}
	code := login(t, base+"/oauth/v2/authorize?"+authorizeQuery("s"))
	if r := postForm(t, base+"/api/oauth.v2.access", url.Values{"code": {code}, "redirect_uri": {callback}}, basic); r.json["ok"] != true {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func githubBadCode(t *testing.T, base string) {
	r := postForm(t, base+"/login/oauth/access_token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"code": {"nope"}}, map[string]string{"Accept": "application/json"})
	if r.status != 200 || r.json["error"] != "bad_verification_code" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func microsoftWrongSecret(t *testing.T, base string) {
	r := postForm(t, base+"/common/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"nope"}, "scope": {"x"}}, nil)
	if r.status != 401 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func microsoftClientCredentials(t *testing.T, base string) {
	r := postForm(t, base+"/common/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "scope": {"x"}}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func dropExamples(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "example")
		delete(v, "examples")
		for _, c := range v {
			dropExamples(c)
		}
	case []any:
		for _, c := range v {
			dropExamples(c)
		}
	}
}

// at follows keys down a decoded document.
func at(doc map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		doc = doc[k].(map[string]any)
	}
	return doc
}
