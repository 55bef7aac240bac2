// Package tokengatetest starts a whole tokengate gateway inside a go test
// process, in the manner of net/http/httptest: Start gives a base URL on a
// free loopback port and stops the gateway at t.Cleanup; New does the same
// without a test and Close stops it.
//
// Starting a gateway sets the bcrypt cost of the secrets this process
// hashes from then on to its minimum (core.SetKDFCost): the gateway's
// clients and users are test fixtures, and at the default cost each one
// costs about 0.6 s under -race.
package tokengatetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/openapi/validate"
)

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
	// OpenAPI holds every exchange that did not match its dialect
	// instance's OpenAPI document (nil with Options.NoOpenAPICheck); Start
	// fails the test with them at cleanup.
	OpenAPI *validate.Validator

	close func() error
	once  sync.Once
	err   error
}

// Close shuts the gateway down and removes the database directory New made
// for it. Calling it again returns the first result.
func (g *Gateway) Close() error {
	g.once.Do(func() { g.err = g.close() })
	return g.err
}

// Options adjust Start.
type Options struct {
	// Config is used as is when set; otherwise YAML is parsed, and when
	// that is empty too the embedded default (demo) config is used.
	Config *config.Config
	YAML   string
	// Dir is the directory relative file names in YAML are read from (a
	// declared dialect's spec); default the working directory.
	Dir string
	// DB is the database: an SQLite path or a postgres:// URL (several
	// gateways on one URL are replicas); default a fresh SQLite file in
	// t.TempDir() (Start) or in a temporary directory Close removes (New).
	DB string
	// AuthFailureLimit keeps the brute-force limiter of the config on; by
	// default a test gateway turns it off so tests probing many bad
	// credentials get their real answers rather than 429.
	AuthFailureLimit bool
	// NoOpenAPICheck turns off the validation of every dialect exchange
	// against the instance's OpenAPI document (see Gateway.OpenAPI).
	NoOpenAPICheck bool
}

// Start starts a gateway and registers its shutdown with t.Cleanup.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	if o.DB == "" {
		o.DB = filepath.Join(t.TempDir(), "tokengate.db")
	}
	g, err := New(o)
	if err != nil {
		t.Fatalf("tokengatetest: %v", err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("tokengatetest: %v", err)
		}
	})
	if g.OpenAPI != nil {
		t.Cleanup(func() {
			for _, f := range g.OpenAPI.Failures() {
				t.Errorf("tokengatetest: an exchange does not match the dialect's OpenAPI document: %s", f)
			}
		})
	}
	return g
}

// New starts a gateway; the caller stops it with Close. In a test, Start
// does both.
func New(o Options) (g *Gateway, err error) {
	cfg := o.Config
	switch {
	case cfg != nil:
	case strings.TrimSpace(o.YAML) != "":
		cfg, err = config.ParseIn([]byte(o.YAML), o.Dir, dialects.Catalog())
	default:
		cfg, err = config.Default(dialects.Catalog())
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
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
	removeDir := func() error { return nil }
	if o.DB == "" {
		dir, err := os.MkdirTemp("", "tokengatetest-")
		if err != nil {
			return nil, err
		}
		removeDir = func() error { return os.RemoveAll(dir) }
		o.DB = filepath.Join(dir, "tokengate.db")
	}
	defer func() {
		if err != nil {
			_ = removeDir()
		}
	}()
	cfg.SetDatabase(o.DB)
	core.SetKDFCost(bcrypt.MinCost) // see the package doc
	logs := &LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var check *validate.Validator
	var opts app.Options
	if !o.NoOpenAPICheck {
		check = validate.New(nil)
		opts.RouteMiddleware = []echo.MiddlewareFunc{check.Middleware}
	}
	a, err := app.NewWith(context.Background(), cfg, logger, opts)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if check != nil {
		check.SetDocs(func(instance string) ([]byte, error) {
			doc, found, err := a.OpenAPI(instance, false)
			if !found {
				return nil, fmt.Errorf("no dialect instance %q", instance)
			}
			return doc, err
		})
	}
	if err := a.Listen(); err != nil {
		_ = a.Shutdown(0)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	g = &Gateway{URL: "http://" + a.MainAddr(), App: a, Logs: logs, OpenAPI: check}
	adminAddr := a.MainAddr()
	if cfg.AdminListen != "" {
		adminAddr = a.Addr(cfg.AdminListen)
	}
	g.Admin = &admin.Client{BaseURL: "http://" + adminAddr, Token: cfg.AdminToken}
	g.close = func() error {
		cancel()
		var err error
		select {
		case err = <-done:
			if err != nil {
				err = fmt.Errorf("shutdown: %w", err)
			}
		case <-time.After(30 * time.Second):
			err = errors.New("the gateway did not stop within 30s")
		}
		return errors.Join(err, removeDir())
	}
	if err := waitHealthy(g.URL); err != nil {
		return nil, errors.Join(err, g.close())
	}
	return g, nil
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s/healthz did not answer 200 within 10s", base)
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
