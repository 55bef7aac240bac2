package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestOpenAPICommand(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"openapi", "hurdlr"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 YAML document (%v): %.300s", err, out.String())
	}

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("admin_token: t\ndialects:\n  mine: {type: errorid, prefix: /e}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"openapi", "--config", cfg, "--json", "mine"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	paths, _ := doc["paths"].(map[string]any)
	if _, ok := paths["/e/v1/oauth/token"]; !ok || len(paths) != 1 {
		t.Errorf("paths %v", paths)
	}

	// A declared instance: its document is generated from its spec.
	out.Reset()
	if code := run([]string{"openapi", "--config", "../../docs/examples/vendors.yaml", "--json", "microsoft"}, &out, &errs); code != 0 {
		t.Fatalf("declared: exit %d: %s", code, errs.String())
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	paths, _ = doc["paths"].(map[string]any)
	if _, ok := paths["/common/oauth2/v2.0/token"]; !ok || len(paths) != 3 {
		t.Errorf("declared paths %v", paths)
	}

	errs.Reset()
	if code := run([]string{"openapi", "--config", cfg, "errorid"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "enabled: mine") {
		t.Errorf("unknown instance: exit %d: %s", code, errs.String())
	}
	if code := run([]string{"openapi"}, &out, &errs); code != 2 {
		t.Errorf("no dialect: exit %d", code)
	}
}
