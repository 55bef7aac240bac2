// Package tokengatetest starts a whole tokengate gateway inside a go test
// process, in the manner of net/http/httptest: Start gives a base URL on a
// free loopback port and stops the gateway at t.Cleanup.
//
// Importing this package lowers the bcrypt cost of secrets hashed in the
// process to its minimum, so tests seeding many clients stay fast.
package tokengatetest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
)

func init() { core.KDFCost = bcrypt.MinCost }

// Gateway is a running in-process gateway.
type Gateway struct {
	// URL is the main listener's base URL, e.g. http://127.0.0.1:41234.
	URL string
	// App gives direct access to the engine, store and clock.
	App *app.App
	// Logs holds everything the gateway logged.
	Logs *LogBuffer
	// Admin calls the gateway's admin API (clock, faults, journal, state).
	Admin *admin.Client

	stop func()
}

// Stop shuts the gateway down now (t.Cleanup also does, once).
func (g *Gateway) Stop() { g.stop() }

// Options adjust Start.
type Options struct {
	// Config is used as is when set; otherwise YAML is parsed, and when
	// that is empty too the embedded default (demo) config is used.
	Config *config.Config
	YAML   string
	// DB is the database: an SQLite path or a postgres:// URL (several
	// gateways on one URL are replicas); default a fresh SQLite file in
	// t.TempDir().
	DB string
	// AuthFailureLimit keeps the brute-force limiter of the config on; by
	// default a test gateway turns it off so tests probing many bad
	// credentials get their real answers rather than 429.
	AuthFailureLimit bool
}

// Start starts a gateway and registers its shutdown with t.Cleanup.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	cfg := o.Config
	var err error
	switch {
	case cfg != nil:
	case strings.TrimSpace(o.YAML) != "":
		cfg, err = config.Parse([]byte(o.YAML), dialects.Catalog())
	default:
		cfg, err = config.Default(dialects.Catalog())
	}
	if err != nil {
		t.Fatalf("tokengatetest: config: %v", err)
	}
	cfg.Listen = "127.0.0.1:0"
	if !o.AuthFailureLimit {
		cfg.Limits.AuthFailures.Disabled = true
	}
	if cfg.AdminToken == "" {
		// A config without admin_token disables the admin API; a test
		// gateway always has one so Admin works.
		cfg.AdminToken = rand.Text()
	}
	if o.DB == "" {
		o.DB = t.TempDir() + "/tokengate.db"
	}
	cfg.SetDatabase(o.DB)
	logs := &LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("tokengatetest: start: %v", err)
	}
	if err := a.Listen(); err != nil {
		t.Fatalf("tokengatetest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	g := &Gateway{URL: "http://" + a.MainAddr(), App: a, Logs: logs}
	adminAddr := a.MainAddr()
	if cfg.AdminListen != "" {
		adminAddr = a.Addr(cfg.AdminListen)
	}
	g.Admin = &admin.Client{BaseURL: "http://" + adminAddr, Token: cfg.AdminToken}
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("tokengatetest: shutdown: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("tokengatetest: gateway did not stop within 30s")
			}
		})
	}
	t.Cleanup(g.stop)
	waitHealthy(t, g.URL)
	return g
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("tokengatetest: %s/healthz did not answer 200 within 10s", base)
}

// Clock is the gateway's adjustable clock: advance it instead of sleeping.
func (g *Gateway) Clock() *core.AdjustableClock { return g.App.Clock }

// LogBuffer is a concurrency-safe buffer of log output.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
