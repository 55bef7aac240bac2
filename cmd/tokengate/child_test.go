package main

// Test support for the reliability tests that run tokengate as a child
// process (crash_test.go, sigterm_test.go): the binary is built once per
// test run, each child gets its own config file and log file, and figures
// can be written to $TOKENGATE_RELIABILITY_REPORT for docs/reliability.md.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/core"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	// In-process gateways hash their demo secrets; child processes keep
	// the production cost.
	core.SetKDFCost(bcrypt.MinCost)
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// tokengateBinary builds ./cmd/tokengate once per test run (go build -o
// <tmp>/tokengate .) and returns its path. It skips the calling test under
// -short: building and driving a child process is not a unit test.
func tokengateBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the tokengate binary; skipped with -short")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "tokengate-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tokengate")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, ".")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out.String())
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// childConfig is the YAML of a child gateway: the demo client and user,
// dialects oauth2 and hurdlr, the brute-force limiter off (the load uses one
// client id from one address).
func childConfig(addr, db string) string {
	return `listen: "` + addr + `"
log_level: warn
admin_token: demo-admin-token
storage:
  driver: sqlite
  dsn: "` + db + `"
limits:
  auth_failures: {disabled: true}
dialects:
  oauth2: {}
  hurdlr: {}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - user_id: demo-user
    username: johndoe
    password: demo-password
`
}

// child is one running tokengate process.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  string // file holding the child's stderr
	done chan struct{}
	err  error // cmd.Wait's result, once done is closed
}

// startChild starts `tokengate serve --config cfgPath` and waits until
// /healthz answers. logPath collects the child's stderr (appended).
func startChild(t *testing.T, bin, cfgPath, addr, logPath string) *child {
	t.Helper()
	return startCmd(t, exec.Command(bin, "serve", "--config", cfgPath), addr, logPath)
}

// startCmd starts a prepared tokengate command that serves on addr and
// waits until /healthz answers.
func startCmd(t *testing.T, cmd *exec.Cmd, addr, logPath string) *child {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, base: "http://" + addr, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			t.Fatalf("tokengate exited during start-up (%v):\n%s", c.err, c.logs())
		default:
		}
		resp, err := quickClient.Get(c.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.kill()
	t.Fatalf("tokengate did not answer /healthz within 15s:\n%s", c.logs())
	return nil
}

var quickClient = &http.Client{Timeout: 2 * time.Second}

// kill sends SIGKILL (if still running) and waits for the process to go.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// signal sends sig to the process.
func (c *child) signal(sig os.Signal) error { return c.cmd.Process.Signal(sig) }

// exitCode waits up to d for the process to exit and returns its exit code
// (-1 for a signal death); ok is false on timeout.
func (c *child) exitCode(d time.Duration) (code int, ok bool) {
	select {
	case <-c.done:
	case <-time.After(d):
		return 0, false
	}
	if c.err == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode(), true
	}
	return -1, true
}

func (c *child) logs() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// introspect asks base's /oauth2/introspect whether token is active.
func introspect(ctx context.Context, hc *http.Client, base, token string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth("demo-client", "demo-secret"))
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var body struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return false, fmt.Errorf("introspect: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	return body.Active, nil
}

var reportMu sync.Mutex

// writeReport merges key: value into the JSON object in the file named by
// $TOKENGATE_RELIABILITY_REPORT, if set, so docs/reliability.md can quote
// the figures of a run.
func writeReport(t *testing.T, key string, value any) {
	t.Helper()
	path := os.Getenv("TOKENGATE_RELIABILITY_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	all := map[string]any{}
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		if err := json.Unmarshal(b, &all); err != nil {
			t.Errorf("report %s: %v", path, err)
			return
		}
	}
	all[key] = value
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Errorf("report: %v", err)
	}
}
