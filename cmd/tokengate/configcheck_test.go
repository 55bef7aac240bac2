package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckListsEveryProblemAndServeStopsBeforeStorage: a file with
// five different mistakes (a value, a duration that does not decode, a
// dialect's option, a dialect type, a client's redirect URI) gives five
// messages at once from config check, and serve refuses it before it
// creates the database.
func TestConfigCheckListsEveryProblemAndServeStopsBeforeStorage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	path := filepath.Join(dir, "five.yaml")
	doc := `log_level: loud
sweep_interval: soon
storage: {driver: sqlite, dsn: "` + db + `"}
dialects:
  hurdlr: {require_bearr: true}
  std: {type: oauth3}
clients:
  - client_id: c
    client_secret: s
    grants: [authorization_code]
    redirect_uris: [relative/callback]
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"clients[0].redirect_uris[0]: must be an absolute URL",
		"dialects[hurdlr].require_bearr: unknown key",
		`dialects[std].type: unknown dialect type "oauth3" (known: acceleration, accounda, declared, errorid, hurdlr, oauth2)`,
		`log_level: must be one of debug, info, warn, error, not "loud"`,
		`sweep_interval: invalid duration "soon": use Go syntax such as 90s, 15m or 2h (line 2)`,
	}
	code, out, errs := runCLI("config", "check", path)
	if code != 1 || out != "" || errs != "config "+path+":\n"+strings.Join(want, "\n")+"\n" {
		t.Fatalf("config check: exit %d\nstdout %q\nstderr:\n%s\nwant:\n%s", code, out, errs, strings.Join(want, "\n"))
	}
	code, _, errs = runCLI("serve", "--config", path)
	if code != 1 || !strings.Contains(errs, want[1]) {
		t.Fatalf("serve: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("serve created the database before refusing the config: %v", err)
	}
}

// TestConfigCheckFindsRouteCollisions: two instances of one type on one
// listener without prefixes would fail serve; config check says so first.
func TestConfigCheckFindsRouteCollisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.yaml")
	doc := "dialects:\n  std-a: {type: oauth2}\n  std-b: {type: oauth2}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI("config", "check", path)
	if code != 1 || !strings.Contains(errs, "dialects[std-b]: route collision: POST /oauth2/token on 127.0.0.1:8080 is claimed by dialects std-a and std-b") {
		t.Fatalf("config check: exit %d: %s", code, errs)
	}
	doc = "dialects:\n  std-a: {type: oauth2, prefix: /a}\n  std-b: {type: oauth2, listen: \"127.0.0.1:8081\"}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI("config", "check", path); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("prefix and listener apart: exit %d %s %s", code, out, errs)
	}
}
