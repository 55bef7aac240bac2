package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCLI("version"); code != 0 || !strings.HasPrefix(out, "tokengate ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI("frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("dialects:\n  oauth2: {}\n"), 0o600)
	os.WriteFile(bad, []byte("clients:\n  - client_id: x\n    client_secret: y\n    grants: [client_credentials]\n    redirect_uris: [relative/path]\n"), 0o600)
	if code, out, _ := runCLI("config", "check", good); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good config: %d %q", code, out)
	}
	code, _, errs := runCLI("config", "check", bad)
	if code != 1 || !strings.Contains(errs, "clients[0].redirect_uris[0]: must be an absolute URL") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
}

func TestAdminCLI(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "admin_token: cli-token\ndialects:\n  oauth2: {}\n"})
	base := []string{"admin", "--url", g.URL, "--token", "cli-token"}
	cli := func(args ...string) (int, string, string) {
		return runCLI(append(append([]string{}, base...), args...)...)
	}

	if code, out, errs := cli("clock", "set", "2030-01-01T00:00:00Z"); code != 0 || !strings.Contains(out, "2030-01-01T00:00:00") {
		t.Fatalf("clock set: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli("--json", "clock", "advance", "2h"); code != 0 || !strings.Contains(out, `"now": "2030-01-01T02:00:00`) {
		t.Fatalf("clock advance: %d %q", code, out)
	}
	if code, out, errs := cli("faults", "add", "--dialect", "oauth2", "--status", "503", "--count", "2"); code != 0 || !strings.Contains(out, "status 503") {
		t.Fatalf("faults add: %d %q %q", code, out, errs)
	}
	code, out, _ := cli("--json", "faults")
	var rules []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 1 || rules[0]["count"] != float64(2) {
		t.Fatalf("faults list: %d %q", code, out)
	}
	if code, out, errs := cli("faults", "add", "--dialect", "oauth2", "--status", "429", "--code", "slow_down", "--retry-after", "3s", "--count", "1"); code != 0 ||
		!strings.Contains(out, "status 429, code slow_down, retry-after 3s") {
		t.Fatalf("faults add --retry-after: %d %q %q", code, out, errs)
	}
	if code, _, errs := cli("faults", "add", "--status", "503", "--retry-after", "-1s"); code == 0 || !strings.Contains(errs, "retry_after") {
		t.Fatalf("negative --retry-after: %d %q", code, errs)
	}
	if code, _, errs := cli("clients", "add", "--id", "ci", "--secret", "s", "--grants", "client_credentials"); code != 0 {
		t.Fatalf("clients add: %d %q", code, errs)
	}
	if code, out, _ := cli("clients"); code != 0 || !strings.Contains(out, "ci ") || strings.Contains(out, "s\n") {
		t.Fatalf("clients: %d %q", code, out)
	}
	if code, _, errs := cli("clients", "add", "--id", "bad", "--secret", "s", "--grants", "password"); code != 1 || !strings.Contains(errs, "grants[0]") {
		t.Fatalf("invalid client: %d %q", code, errs)
	}
	if code, _, errs := runCLI("admin", "--url", g.URL, "--token", "wrong", "clock"); code != 1 || !strings.Contains(errs, "401") {
		t.Fatalf("wrong token: %d %q", code, errs)
	}
	if code, out, _ := cli("requests"); code != 0 || !strings.HasPrefix(out, "TIME") {
		t.Fatalf("requests: %d %q", code, out)
	}
}

func TestKeysRotate(t *testing.T) {
	db := t.TempDir() + "/keys.db"
	for i := range 2 {
		code, out, errs := runCLI("keys", "rotate", "--db", db, "--lifetime", "2h")
		if code != 0 || !strings.Contains(out, "new signing key") {
			t.Fatalf("rotate %d: %d %q %q", i, code, out, errs)
		}
	}
	g := tokengatetest.Start(t, tokengatetest.Options{DB: db})
	resp, err := http.Get(g.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 2 {
		t.Fatalf("jwks after two rotations: %v %+v", err, jwks)
	}
}

// Without --lifetime the old key stays published for the dialect's longest
// token lifetime plus a minute; --dialect names the instance.
func TestKeysRotateDefaults(t *testing.T) {
	db := t.TempDir() + "/keys.db"
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 0, "stays published for 2h1m0s"},
		{[]string{"--dialect", "acceleration"}, 0, "stays published for 2h1m0s"},
		{[]string{"--dialect", "hurdlr"}, 0, "stays published for 1h1m0s"},
		{[]string{"--dialect", "nope"}, 2, `unknown dialect "nope"`},
		// A declared instance's lifetime comes from its spec (3599 s).
		{[]string{"--config", "../../docs/examples/vendors.yaml", "--dialect", "microsoft"}, 0, "stays published for 1h0m59s"},
	} {
		code, out, errs := runCLI(append([]string{"keys", "rotate", "--db", db}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: %d %q %q, want %d and %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	db := t.TempDir() + "/m.db"
	if code, out, errs := runCLI("migrate", "--db", db); code != 0 || !strings.Contains(out, "current schema version") {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("no database created: %v", err)
	}
}

// TestAdminDialectsCLI: `admin dialects add FILE` mounts a spec at once,
// `dialects` lists it, `dialects remove` unmounts it; a broken spec is
// refused with its problems.
func TestAdminDialectsCLI(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "admin_token: cli-token\ndialects:\n  oauth2: {}\n" +
		"clients: [{client_id: c, client_secret: s, grants: [client_credentials]}]\n"})
	cli := func(args ...string) (int, string, string) {
		return runCLI(append([]string{"admin", "--url", g.URL, "--token", "cli-token", "dialects"}, args...)...)
	}
	dir := t.TempDir()
	spec := `name: tiny
routes:
  - {method: POST, path: /token, operation: token, grant: client_credentials,
     inputs: {client_id: form.client_id, client_secret: form.client_secret}, response: {body: {t: "{access_token}"}}}
errors: {body: {e: "{code}"}, default: {status: 400, code: nope}}
`
	file := dir + "/tiny.yaml"
	if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli("add", file, "--prefix", "/t", "--name", "tiny-1"); code != 0 || !strings.Contains(out, "tiny-1") ||
		!strings.Contains(out, "POST /t/token") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	resp, err := http.Post(g.URL+"/t/token", "application/x-www-form-urlencoded", strings.NewReader("client_id=c&client_secret=s"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the added dialect: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, out, _ := cli("list"); code != 0 || !strings.Contains(out, "oauth2") || !strings.Contains(out, "tiny-1  declared  admin") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, errs := cli("remove", "tiny-1"); code != 0 || !strings.Contains(out, "removed dialect tiny-1") {
		t.Fatalf("remove: %d %q %q", code, out, errs)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(spec, "{access_token}", "{acess_token}", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli("add", file); code != 1 || !strings.Contains(errs, `unknown placeholder "acess_token"`) {
		t.Fatalf("broken spec: %d %q", code, errs)
	}
	if code, _, _ := cli("add"); code != 2 {
		t.Fatalf("add without a file: %d", code)
	}
}
