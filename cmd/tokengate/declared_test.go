package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckDeclaredSpecs: config check reads each declared spec
// relative to the config file and reports every problem of every spec at
// once, each with the spec file as configured and its path inside it.
func TestConfigCheckDeclaredSpecs(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "vendors"), 0o700); err != nil {
		t.Fatal(err)
	}
	slack, err := os.ReadFile("../../docs/examples/slack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(slack), "id: T9TK3CUKW", `id: "{team_idd}"`, 1)
	broken = strings.Replace(broken, `format: "xoxb-{digits:11}-{digits:13}-{alnum:24}"`, `format: "tok_{hex:16}"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "vendors", "slack.yaml"), []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokengate.yaml")
	doc := `dialects:
  slack: {type: declared, spec: vendors/slack.yaml, prefix: ""}
  github: {type: declared, spec: vendors/github.yaml}
  nospec: {type: declared}
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dialects[github].spec: vendors/github.yaml: no such file or directory",
		"dialects[nospec].spec: is required: the spec file, relative to the config file",
		`dialects[slack].spec: vendors/slack.yaml: routes[1].response.body.team.id: unknown placeholder "team_idd" (line 56)`,
		`dialects[slack].spec: vendors/slack.yaml: tokens.access.format: "tok_{hex:16}" has 64 bits of randomness; at least 128 are needed (e.g. {hex:32} has 128) (line 15)`,
	}
	code, out, errs := runCLI("config", "check", path)
	if code != 1 || out != "" || errs != "config "+path+":\n"+strings.Join(want, "\n")+"\n" {
		t.Fatalf("config check: exit %d\nstdout %q\nstderr:\n%s\nwant:\n%s", code, out, errs, strings.Join(want, "\n"))
	}
}

// TestVendorsExampleAsShipped: config check passes on
// docs/examples/vendors.yaml, and `tokengate serve --config` on it serves
// the three vendors (the test only moves it to a free port and a fresh
// database).
func TestVendorsExampleAsShipped(t *testing.T) {
	const shipped = "../../docs/examples/vendors.yaml"
	if code, out, errs := runCLI("config", "check", shipped); code != 0 || out != shipped+": ok\n" {
		t.Fatalf("config check: exit %d %q %s", code, out, errs)
	}
	bin := tokengateBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	c := startCmd(t, exec.Command(bin, "serve", "--config", shipped, "--listen", addr, "--db", filepath.Join(dir, "vendors.db")),
		addr, filepath.Join(dir, "vendors.log"))
	post := func(path string, form url.Values, accept string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
		}
		return resp.StatusCode, body
	}
	creds := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}
	if st, b := post("/login/oauth/access_token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"code": {"nope"}}, "application/json"); st != 200 || b["error"] != "bad_verification_code" {
		t.Fatalf("github: %d %v", st, b)
	}
	if st, b := post("/api/oauth.v2.access", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"code": {"nope"}}, ""); st != 200 || b["ok"] != false || b["error"] != "invalid_code" {
		t.Fatalf("slack: %d %v", st, b)
	}
	creds.Set("grant_type", "client_credentials")
	creds.Set("scope", "https://graph.microsoft.com/.default")
	if st, b := post("/common/oauth2/v2.0/token", creds, ""); st != 200 || strings.Count(b["access_token"].(string), ".") != 2 {
		t.Fatalf("microsoft: %d %v", st, b)
	}
	resp, err := http.Get(c.base + "/common/discovery/v2.0/keys")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks: %v %v", resp, err)
	}
	resp.Body.Close()
}
