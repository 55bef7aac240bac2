package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

// sigtermFigures is the report of TestSIGTERMDrainsInFlight.
type sigtermFigures struct {
	InFlight         int     `json:"in_flight_at_sigterm"`
	Completed200     int     `json:"completed_200"`
	RefusedAfterMS   float64 `json:"new_connections_refused_after_ms"`
	PendingAtRefusal int     `json:"in_flight_when_refused"`
	ExitCode         int     `json:"exit_code"`
	ExitAfterMS      float64 `json:"exit_after_ms"`
	GraceSeconds     int     `json:"grace_seconds"`
	TokensPresent    int     `json:"tokens_present_after_restart"`
	LatencyFault     string  `json:"latency_fault"`
}

// TestSIGTERMDrainsInFlight holds requests in flight with a latency fault,
// sends SIGTERM, and checks that new connections are refused at once while
// every request already being handled completes with 200, that the process
// exits 0 well within the 30 s grace period, and that every token it
// answered is there after a restart.
func TestSIGTERMDrainsInFlight(t *testing.T) {
	bin := tokengateBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "sigterm.yaml")
	if err := os.WriteFile(cfgPath, []byte(childConfig(addr, filepath.Join(dir, "sigterm.db"))), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "sigterm.log")
	c := startChild(t, bin, cfgPath, addr, logPath)

	// Warm the credential cache so the in-flight requests differ only by the fault.
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, status, err := issueOAuth2(ctx, hc, c.base); err != nil || status != 200 {
		t.Fatalf("warm-up: %d %v", status, err)
	}
	const latency = time.Second
	adm := &admin.Client{BaseURL: c.base, Token: "demo-admin-token"}
	rule, err := adm.AddFault(control.Rule{Dialect: "oauth2", Latency: latency.String()})
	if err != nil {
		t.Fatalf("adding the latency fault: %v", err)
	}

	const inFlight = 16
	type result struct {
		tok    string
		status int
		err    error
	}
	results := make(chan result, inFlight)
	var pending sync.WaitGroup
	var pendingN sync.Map
	for i := 0; i < inFlight; i++ {
		pending.Add(1)
		pendingN.Store(i, true)
		go func() {
			defer pending.Done()
			defer pendingN.Delete(i)
			tok, status, err := issueOAuth2(ctx, hc, c.base)
			results <- result{tok, status, err}
		}()
	}
	// The fault's hit count says how many requests reached a handler.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rules, err := adm.Faults()
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) == 1 && rules[0].ID == rule.ID && rules[0].Hits >= inFlight {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %v requests reached the handler", rules)
		}
		time.Sleep(5 * time.Millisecond)
	}

	sent := time.Now()
	if err := c.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections: refused once shutdown has begun, while the
	// in-flight requests are still being served.
	fig := sigtermFigures{InFlight: inFlight, GraceSeconds: 30, LatencyFault: latency.String()}
	timedOut := false
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			// Refused, or reset when the listening socket closed in the
			// middle of this handshake (a loaded machine hits that window):
			// either way the gateway no longer accepts. The in-flight
			// requests' 200s below show it did not simply die. A SYN that
			// arrives while the socket closes can also go unanswered
			// (once, under make test's load, the dial timed out): the next
			// dial must then be refused.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !timedOut {
				timedOut = true
				continue
			}
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("dial after SIGTERM: want connection refused (or reset), got %v", err)
			}
			fig.RefusedAfterMS = float64(time.Since(sent).Microseconds()) / 1000
			pendingN.Range(func(any, any) bool { fig.PendingAtRefusal++; return true })
			break
		}
		conn.Close() // never leave an idle connection for Shutdown to wait on
		if time.Since(sent) > latency/2 {
			t.Fatalf("new connections still accepted %v after SIGTERM", time.Since(sent))
		}
		time.Sleep(2 * time.Millisecond)
	}
	if fig.PendingAtRefusal == 0 {
		t.Errorf("new connections were refused only after the in-flight requests ended")
	}

	pending.Wait()
	close(results)
	var toks []string
	for r := range results {
		if r.err != nil || r.status != http.StatusOK {
			t.Errorf("in-flight request: status %d, error %v", r.status, r.err)
			continue
		}
		toks = append(toks, r.tok)
	}
	fig.Completed200 = len(toks)
	code, ok := c.exitCode(35 * time.Second)
	fig.ExitCode = code
	fig.ExitAfterMS = float64(time.Since(sent).Microseconds()) / 1000
	if !ok {
		t.Fatalf("tokengate did not exit within the grace period after SIGTERM:\n%s", c.logs())
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, c.logs())
	}

	// Every answered token is there after a restart.
	c2 := startChild(t, bin, cfgPath, addr, logPath)
	hc2 := &http.Client{Timeout: 5 * time.Second}
	for _, tok := range toks {
		active, err := introspect(ctx, hc2, c2.base, tok)
		if err != nil || !active {
			t.Errorf("token answered during the drain is not active after restart: %v %v", active, err)
			continue
		}
		fig.TokensPresent++
	}
	hc2.CloseIdleConnections()
	c2.kill()
	b, _ := json.Marshal(fig)
	t.Logf("SIGTERM: %s", b)
	writeReport(t, "sigterm", fig)
}
