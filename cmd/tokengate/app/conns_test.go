package app_test

import (
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(entries)
}

// The 20,000 idle connections, scaled down: with max_connections
// 50, 200 idle connections leave the gateway holding at most 50 (the rest
// wait in the kernel's backlog), so its file descriptors stay bounded, and
// a real request is answered once the idle ones are cut off.
func TestIdleConnectionsAreCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for read_header_timeout (1 s) several times")
	}
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
limits: {max_connections: 50, read_header_timeout: 1s}
dialects: {oauth2: {}}
clients:
  - {client_id: demo-client, client_secret: demo-secret, grants: [client_credentials]}
`})
	addr := g.App.MainAddr()
	before := openFDs(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	peak := int64(0)
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		peak = max(peak, g.App.OpenConnections())
		time.Sleep(10 * time.Millisecond)
	}
	// 200 client ends are this process's too; the server's ends are what
	// the cap bounds.
	fds := openFDs(t) - before
	t.Logf("200 idle connections: at most %d open in the gateway, %d more file descriptors in the process", peak, fds)
	if peak > 50 || fds > 200+50+10 {
		t.Fatalf("200 idle connections: %d open in the gateway, %d more file descriptors", peak, fds)
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	resp, err := hc.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a request behind 200 idle connections: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || g.App.OpenConnections() > 50 {
		t.Fatalf("%d with %d connections open", resp.StatusCode, g.App.OpenConnections())
	}
}

func TestMaxConnectionsDefault(t *testing.T) {
	if n := app.MaxConnections(0); n < 16 || n > app.DefaultMaxConnections {
		t.Fatalf("default cap %d", n)
	}
	if n := app.MaxConnections(7); n != 7 {
		t.Fatalf("configured cap %d", n)
	}
}
