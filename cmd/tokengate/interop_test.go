package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// InteropEnv, set to 1, runs the outside client libraries of
// testdata/interop against a gateway (make interop installs them first).
const InteropEnv = "TOKENGATE_INTEROP"

// interopConfig has the oauth2 dialect under a prefix, so discovery takes
// RFC 8414 §3's form, and a client whose id and secret hold the characters
// that Basic's form-encoding changes.
const interopConfig = `
dialects:
  std: {type: oauth2, prefix: /std}
  acceleration: {}
  hurdlr: {}
clients:
  - client_id: "interop+1%"
    client_secret: "p+q%2F:r s"
    grants: [client_credentials, authorization_code, refresh_token]
    redirect_uris: ["http://127.0.0.1:9/cb"]
  - {client_id: demo-client, client_secret: demo-secret, grants: [client_credentials]}
users:
  - {user_id: demo-user, username: johndoe, password: demo-password, email: john.doe@example.com}
`

// TestInterop runs each script of testdata/interop against a fresh gateway
// and reports every check it prints as a subtest.
func TestInterop(t *testing.T) {
	if os.Getenv(InteropEnv) != "1" {
		t.Skip("client-library interop checks skipped: run make interop (needs node and npm)")
	}
	dir, err := filepath.Abs("testdata/interop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatalf("%s has no node_modules: run make interop (npm ci there)", dir)
	}
	for _, tc := range []struct {
		script string
		setup  func(g *tokengatetest.Gateway)
	}{
		{"openid-client.mjs", nil},
		{"oauth4webapi.mjs", nil},
		{"simple-oauth2.mjs", nil},
		{"jose.mjs", func(g *tokengatetest.Gateway) { g.Clock().Advance(2 * time.Hour) }},
	} {
		t.Run(strings.TrimSuffix(tc.script, ".mjs"), func(t *testing.T) {
			g := tokengatetest.Start(t, tokengatetest.Options{YAML: interopConfig})
			if tc.setup != nil {
				tc.setup(g)
			}
			cmd := exec.Command("node", tc.script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TG_URL="+g.URL, "TG_CLIENT_ID=interop+1%", "TG_CLIENT_SECRET=p+q%2F:r s")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node %s: %v\n%s", tc.script, err, stderr.String())
			}
			checks := 0
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var r struct {
					Check, Detail string
					OK            bool
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("unexpected output %q", line)
				}
				checks++
				t.Run(r.Check, func(t *testing.T) {
					if !r.OK {
						t.Fatal(r.Detail)
					}
					t.Log(r.Detail)
				})
			}
			if checks == 0 {
				t.Fatalf("node %s reported no checks\n%s", tc.script, stderr.String())
			}
		})
	}
}
