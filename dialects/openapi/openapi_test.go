package openapi_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	_ "github.com/tokengate/tokengate/dialects/all"
	"github.com/tokengate/tokengate/dialects/openapi"
	"github.com/tokengate/tokengate/dialects/openapi/validate"
)

// instances provisions and dry-mounts the instances of a config.
func instances(t *testing.T, yamlText string) []*dialects.Provisioned {
	t.Helper()
	cfg, err := config.Parse([]byte(yamlText), dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dialects.DryRun(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// shippedSpecs are the declared dialects' spec files the repository ships.
var shippedSpecs = []string{
	"../declared/testdata/errorid.yaml",
	"../declared/testdata/hurdlr.yaml",
	"../../docs/examples/github.yaml",
	"../../docs/examples/slack.yaml",
	"../../docs/examples/microsoft.yaml",
}

// declaredInstances enables each shipped spec, under a prefix or not.
func declaredInstances(t *testing.T, prefix bool) string {
	var b strings.Builder
	for _, file := range shippedSpecs {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		p := ""
		if prefix {
			p = "/d-" + name
		}
		b.WriteString("  " + name + ": {type: declared, spec: " + abs + ", prefix: \"" + p + "\"}\n")
	}
	return b.String()
}

// TestEveryDialectIsDescribed: every built-in dialect type, and a declared
// instance of each shipped spec (its document generated from the spec),
// describes every route it mounts, and nothing else, in a document that
// validates as OpenAPI 3.1 (its examples against their schemas), in YAML
// and in JSON, with and without a prefix.
func TestEveryDialectIsDescribed(t *testing.T) {
	for _, yamlText := range []string{
		"admin_token: t\n", // every type under its own name
		"admin_token: t\ndialects:\n" + prefixed(dialects.DefaultTypes()),
		"admin_token: t\ndialects:\n" + declaredInstances(t, false),
		"admin_token: t\ndialects:\n" + declaredInstances(t, true),
	} {
		ps := instances(t, yamlText)
		if len(ps) < 5 {
			t.Fatalf("%d instances", len(ps))
		}
		for _, p := range ps {
			for _, asYAML := range []bool{true, false} {
				raw, err := openapi.Render(p, "http://127.0.0.1:8080", asYAML)
				if err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if !asYAML && !json.Valid(raw) {
					t.Fatalf("%s: not JSON", p.Name)
				}
				doc, err := validate.Parse(raw)
				if err != nil {
					t.Fatalf("%s (yaml %v): %v", p.Name, asYAML, err)
				}
				described := map[string]bool{}
				for path, item := range doc.Paths.Map() {
					for method := range item.Operations() {
						described[method+" "+openapi.EchoPath(path)] = true
					}
				}
				for _, r := range p.Routes {
					routes := []dialects.Route{r}
					if r.Method == "GET" { // the router answers HEAD on every GET route
						routes = append(routes, dialects.Route{Method: "HEAD", Path: r.Path})
					}
					for _, r := range routes {
						if !described[r.String()] {
							t.Errorf("%s: route %s is not described", p.Name, r)
						}
						delete(described, r.String())
					}
				}
				for op := range described {
					t.Errorf("%s: %s is described but not mounted", p.Name, op)
				}
				if doc.Servers[0].URL != "http://127.0.0.1:8080" || doc.Info.Extensions["x-tokengate-instance"] != p.Name {
					t.Errorf("%s: servers %v, info %v", p.Name, doc.Servers, doc.Info.Extensions)
				}
			}
		}
	}
}

func prefixed(types []string) string {
	var b strings.Builder
	for _, typ := range types {
		b.WriteString("  " + typ + ": {prefix: /p-" + typ + "}\n")
	}
	return b.String()
}

// TestOptionsShapeTheDocument: an option that leaves a route out or makes
// a header required shows in the document.
func TestOptionsShapeTheDocument(t *testing.T) {
	ps := instances(t, `
admin_token: t
dialects:
  accounda: {disable_refresh: true}
  hurdlr: {require_bearer: true}
  lax: {type: hurdlr, prefix: /lax}
`)
	docs := map[string]*yaml.Node{}
	for _, p := range ps {
		doc, err := openapi.Build(p, "")
		if err != nil {
			t.Fatal(err)
		}
		docs[p.Name] = openapi.Root(doc)
		if openapi.Get(docs[p.Name], "servers") != nil {
			t.Errorf("%s: servers without a server URL", p.Name)
		}
	}
	if openapi.Get(docs["accounda"], "paths", "/v1/token/refresh/") != nil || openapi.Get(docs["accounda"], "paths", "/v1/token/") == nil {
		t.Error("accounda with disable_refresh: the refresh route is described or the token route is not")
	}
	security := func(name, path string) string {
		n := openapi.Get(docs[name], "paths", path, "post", "security")
		b, _ := json.Marshal(decode(t, n))
		return string(b)
	}
	if got := security("hurdlr", "/rest/v5/accountant/token"); got != `[{"accessToken":[]}]` {
		t.Errorf("hurdlr with require_bearer: security %s", got)
	}
	if got := security("lax", "/lax/rest/v5/accountant/token"); got != `[{},{"accessToken":[]}]` {
		t.Errorf("hurdlr without require_bearer: security %s", got)
	}
}

func decode(t *testing.T, n *yaml.Node) any {
	t.Helper()
	if n == nil {
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPathTemplates(t *testing.T) {
	for openapiPath, echoPath := range map[string]string{"/a/{id}/b": "/a/:id/b", "/x": "/x", "/{a}/{b}": "/:a/:b"} {
		if got := openapi.EchoPath(openapiPath); got != echoPath {
			t.Errorf("EchoPath(%q) = %q", openapiPath, got)
		}
		if got := openapi.OpenAPIPath(echoPath); got != openapiPath {
			t.Errorf("OpenAPIPath(%q) = %q", echoPath, got)
		}
	}
}
