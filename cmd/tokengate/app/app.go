// Package app is tokengate's composition root: from a config it opens the
// storage, builds the clock, engine and gateway, seeds the configured state
// and serves every listener until stopped. cmd/tokengate and the in-process
// test helper both use it, so a test gateway is the real one.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/netutil"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
	_ "github.com/tokengate/tokengate/dialects/all" // register every dialect
	"github.com/tokengate/tokengate/dialects/console"
	"github.com/tokengate/tokengate/dialects/console/adminbackend"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/dynamic"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/dialects/jwksfetch"
	"github.com/tokengate/tokengate/dialects/metrics"
	"github.com/tokengate/tokengate/dialects/openapi"
	"github.com/tokengate/tokengate/dialects/wire"
	"github.com/tokengate/tokengate/storage/observed"
	"github.com/tokengate/tokengate/storage/postgres"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// App is one running (or ready to run) gateway.
type App struct {
	Config  *config.Config
	Logger  *slog.Logger
	Store   core.Store
	Clock   *core.AdjustableClock
	Engine  *core.Engine
	Gateway *gateway.Gateway
	Plane   *control.Plane
	// Console is nil when console.enabled is false.
	Console *console.Console
	// Metrics is nil when metrics.enabled is false.
	Metrics *metrics.Metrics
	// ConsoleBackend is what the console reads and changes the gateway
	// through (nil without a console).
	ConsoleBackend *adminbackend.Backend
	// Dialects are the dialect instances added at run time.
	Dialects *dynamic.Manager
	// TLS, when set, makes every listener serve HTTPS.
	TLS *tls.Config

	mu        sync.Mutex
	servers   []*http.Server
	listeners map[string]net.Listener
	conns     atomic.Int64
}

// New assembles an App from cfg: dialect instances configured (before
// anything touches the database, so a config problem leaves no trace),
// storage opened and migrated, config seeded, instances mounted.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	return NewWith(ctx, cfg, logger, Options{})
}

// Options adjust NewWith.
type Options struct {
	// RouteMiddleware runs first on every dialect route, before the
	// control plane (tokengatetest validates exchanges against the
	// dialects' OpenAPI documents here).
	RouteMiddleware []echo.MiddlewareFunc
}

// NewWith is New with options.
func NewWith(ctx context.Context, cfg *config.Config, logger *slog.Logger, o Options) (*App, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	instances, err := dialects.Provision(cfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, Clock: core.NewAdjustableClock(core.SystemClock{})}
	// The observers are nil interfaces, not nil pointers, without metrics.
	var observer core.Observer
	var storeObserver core.StoreObserver
	if cfg.Metrics.IsEnabled() {
		a.Metrics = metrics.New()
		observer, storeObserver = a.Metrics, a.Metrics
	}
	store, err := openStore(ctx, cfg, logger, storeObserver)
	if err != nil {
		return nil, err
	}
	a.Store = store
	if storeObserver != nil {
		store = observed.Wrap(store, storeObserver) // what the engine and the control plane use
	}
	var limiter *core.FailureLimiter
	if af := cfg.Limits.AuthFailures; !af.Disabled {
		limiter = core.NewFailureLimiter(core.LimiterOptions{Burst: af.Burst, PerMinute: af.PerMinute,
			IdentityBurst: af.IdentityBurst, IdentityPerMinute: af.IdentityPerMinute, MaxKeys: af.MaxKeys})
	}
	a.Engine = core.New(core.Options{Store: store, Clock: a.Clock, FailureLimiter: limiter,
		SweepRetention: longestRefreshWindow(cfg), Observer: observer, JWKSFetcher: jwksfetch.New(jwksfetch.Options{})})
	seed, err := cfg.Seed()
	if err == nil {
		err = a.Engine.Seed(ctx, seed)
	}
	if err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("seeding the configured clients, users and authorizations: %w", err)
	}
	// Replicas on one PostgreSQL database share the admin clock and fault
	// rules through it; a single SQLite process keeps them in memory.
	var shared core.ControlStore
	if cs, ok := store.(core.ControlStore); ok && cfg.Storage.Driver == "postgres" {
		shared = cs
	}
	a.Plane = control.NewPlane(a.Clock, cfg.JournalSize, replicaName(), shared)
	a.Plane.Journal.SetMaxBytes(cfg.JournalMaxBytes)
	var routeMetrics func(instance, method, route string) wire.RouteMetrics
	if a.Metrics != nil {
		a.Plane.Fired = a.Metrics.FaultFired
		a.Metrics.Journal(a.Plane.Journal.Stats)
		routeMetrics = a.Metrics.Route
	}
	secrets := dialects.NewSecrets()
	if shared != nil { // one CSRF key for all replicas: a login page may be posted to any of them
		key, err := shared.EnsureControl(ctx, "wire_key", dialects.NewSecretKey())
		if err != nil {
			a.Store.Close()
			return nil, fmt.Errorf("loading the shared wire key: %w", err)
		}
		secrets = dialects.SecretsFromKey(key).ShareSpent(shared)
	}
	a.Gateway, err = gateway.New(gateway.Options{Config: cfg, Engine: a.Engine, Logger: logger, Secrets: secrets,
		Instances: instances, Middleware: append(o.RouteMiddleware[:len(o.RouteMiddleware):len(o.RouteMiddleware)], a.Plane.Middleware), Observe: a.Plane.Observe,
		Sync: a.Plane.SyncRequest, RouteMetrics: routeMetrics})
	if err != nil {
		a.Store.Close()
		return nil, err
	}
	// The dialects added at run time, after the config's; replicas pick up
	// each other's additions when the shared version moves.
	a.Dialects = dynamic.New(a.Engine, a.Gateway, logger)
	if err := a.Dialects.Reconcile(ctx); err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("loading the dialects added at run time: %w", err)
	}
	a.Plane.OnSync(a.Dialects.Reconcile)
	adminEcho := a.Gateway.Listener(a.adminAddr())
	a.Gateway.Use(a.adminAddr(), admin.HostGuard(a.adminAddr(), cfg.AdminAllowedHosts))
	api := admin.New(cfg, a.Engine, a.Clock, a.Plane).WithDialects(a.Dialects)
	api.Docs = a.OpenAPI
	api.Mount(adminEcho)
	if cfg.Console.IsEnabled() {
		// The backend gives the plane its live feed: while no one watches,
		// journaling a request costs one atomic load more.
		a.ConsoleBackend = adminbackend.New(adminbackend.Options{Config: cfg, Engine: a.Engine, Clock: a.Clock, Plane: a.Plane,
			Dialects: a.Dialects, Addr: a.Addr})
		a.Console = console.New(console.Options{Backend: a.ConsoleBackend, AdminToken: cfg.AdminToken, Logger: logger})
		a.Console.Mount(adminEcho)
	}
	if a.Metrics != nil {
		a.Metrics.Mount(adminEcho, metrics.Access{Tokens: []string{cfg.AdminToken, cfg.Metrics.Token},
			Open: !cfg.Metrics.RequireToken && config.IsLoopback(a.adminAddr())})
	}
	return a, nil
}

// OpenAPI is the OpenAPI document of the instance called name, as YAML or
// JSON, its server the address the instance is served on; found is false
// when no such instance is mounted.
func (a *App) OpenAPI(name string, asYAML bool) (doc []byte, found bool, err error) {
	p := a.Gateway.Instance(name)
	if p == nil {
		return nil, false, nil
	}
	scheme := "http://"
	if a.TLS != nil {
		scheme = "https://"
	}
	doc, err = openapi.Render(p, scheme+a.Addr(p.Listen), asYAML)
	return doc, true, err
}

// adminAddr is the configured address the admin API and console listen on.
func (a *App) adminAddr() string {
	if a.Config.AdminListen != "" {
		return a.Config.AdminListen
	}
	return a.Config.Listen
}

// longestRefreshWindow is the longest refresh_token_ttl any dialect or
// client is configured with: expired access tokens that a dialect refreshes
// directly (Accounda) must outlive it, so the sweeper keeps them that long.
func longestRefreshWindow(cfg *config.Config) time.Duration {
	var d time.Duration
	for _, dc := range cfg.Dialects {
		d = max(d, time.Duration(dc.RefreshTokenTTL))
	}
	for _, c := range cfg.Clients {
		d = max(d, time.Duration(c.RefreshTokenTTL))
	}
	return d
}

// LongestAccessTokenLife is the longest access-token lifetime the dialect
// instance name may give: its configured one, any client's override, or
// the dialect's own default (core.DefaultAccessTTL unless the dialect
// declares another): how long a rotated-out signing key must stay published.
func LongestAccessTokenLife(cfg *config.Config, name string) (time.Duration, error) {
	dc, ok := cfg.Dialects[name]
	if !ok {
		return 0, fmt.Errorf("unknown dialect %q (configured: %s)", name, strings.Join(cfg.EnabledDialects(), ", "))
	}
	d, err := dialects.Lookup(dc.InstanceType(name))
	if err == nil { // a declared instance's lifetime is in its spec
		err = d.Configure(dialects.Instance{Name: name, Type: dc.InstanceType(name), Config: dc, BaseDir: cfg.BaseDir})
	}
	if err != nil {
		return 0, err
	}
	life := core.DefaultAccessTTL
	if dt, ok := d.(interface{ DefaultAccessTokenTTL() time.Duration }); ok {
		life = dt.DefaultAccessTokenTTL()
	}
	life = max(life, time.Duration(cfg.Dialects[name].AccessTokenTTL))
	for _, c := range cfg.Clients {
		life = max(life, time.Duration(c.AccessTokenTTL))
	}
	return life, nil
}

// replicaName tells journal entries of several replicas apart: host, pid
// and a random suffix, since tests run several replicas in one process.
func replicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "tokengate"
	}
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), rand.Text()[:6])
}

// OpenStore opens the storage backend the config names.
func OpenStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (core.Store, error) {
	return openStore(ctx, cfg, logger, nil)
}

// openStore opens the store with obs told of SQLite's group commits.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, obs core.StoreObserver) (core.Store, error) {
	switch cfg.Storage.Driver {
	case "", "sqlite":
		s, err := sqlite.Open(ctx, cfg.Storage.DSN, sqlite.Options{Logger: logger, Observer: obs})
		if err != nil {
			return nil, fmt.Errorf("opening SQLite database %q: %w", cfg.Storage.DSN, err)
		}
		return s, nil
	case "postgres":
		s, err := postgres.Open(ctx, cfg.Storage.DSN, postgres.Options{Logger: logger, MaxOpenConns: cfg.Storage.MaxOpenConns,
			MaxIdleConns: cfg.Storage.MaxIdleConns, ConnMaxLifetime: time.Duration(cfg.Storage.ConnMaxLifetime)})
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL database: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("storage.driver %q is not supported by this build", cfg.Storage.Driver)
}

// Listen binds every listener; after it returns, Addr reports real ports
// (useful with ":0").
func (a *App) Listen() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listeners = map[string]net.Listener{}
	for addr := range a.Gateway.Listeners() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range a.listeners {
				l.Close()
			}
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		a.listeners[addr] = ln
	}
	return nil
}

// Addr is the bound address of the configured listen address addr.
func (a *App) Addr(addr string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ln := a.listeners[addr]; ln != nil {
		return ln.Addr().String()
	}
	return ""
}

// MainAddr is the bound address of the main listener.
func (a *App) MainAddr() string { return a.Addr(a.Config.Listen) }

// Serve serves every bound listener and sweeps expired tokens until ctx is
// done, then drains in-flight requests and closes the store.
func (a *App) Serve(ctx context.Context) error {
	if a.listeners == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	a.logRoutes()
	lim := a.Config.Limits
	maxConns := MaxConnections(lim.MaxConnections)
	errorLog := slog.NewLogLogger(throttled{a.Logger.Handler(), gateway.NewLineThrottle(nil)}, slog.LevelWarn)
	errc := make(chan error, len(a.listeners))
	a.mu.Lock()
	for addr, h := range a.Gateway.Listeners() {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Duration(lim.ReadHeaderTimeout),
			ReadTimeout: time.Duration(lim.ReadTimeout), WriteTimeout: time.Duration(lim.WriteTimeout),
			IdleTimeout: time.Duration(lim.IdleTimeout), MaxHeaderBytes: gateway.ServerHeaderBytes(lim.MaxHeaderBytes),
			ErrorLog: errorLog, ConnState: a.countConn}
		a.servers = append(a.servers, srv)
		// At most maxConns connections open per listener: more wait in the
		// kernel's backlog (or are refused by it) instead of exhausting the
		// process's file descriptors ("accept: too many open files").
		ln := netutil.LimitListener(a.listeners[addr], maxConns)
		scheme := "http"
		if a.TLS != nil {
			ln, scheme = tls.NewListener(ln, a.TLS), "https"
		}
		a.Logger.Info("listening", "addr", ln.Addr().String(), "scheme", scheme)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	a.mu.Unlock()
	scheme := "http"
	if a.TLS != nil {
		scheme = "https"
	}
	a.Logger.Info("connections", "max_per_listener", maxConns)
	if a.Console != nil {
		a.Logger.Info("web console", "url", scheme+"://"+a.Addr(a.adminAddr())+console.Prefix+"/")
	}
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go a.Engine.RunSweeper(sweepCtx, time.Duration(a.Config.SweepInterval), func(err error) {
		a.Logger.Warn("sweeping expired tokens failed", "error", err.Error())
	})
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	stopSweep()
	return errors.Join(serveErr, a.Shutdown(30*time.Second))
}

// Shutdown stops accepting, waits up to grace for in-flight requests, then
// closes the database.
func (a *App) Shutdown(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	a.mu.Lock()
	servers := a.servers
	a.servers = nil
	a.mu.Unlock()
	if a.Console != nil {
		a.Console.Close() // its live views never go idle by themselves
	}
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.Logger.Info("stopped serving; closing the database")
	errs = append(errs, a.Store.Close())
	return errors.Join(errs...)
}

func (a *App) logRoutes() {
	routes := a.Gateway.Routes()
	names := make([]string, 0, len(routes))
	for n := range routes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rs := make([]string, 0, len(routes[n]))
		for _, r := range routes[n] {
			rs = append(rs, r.String())
		}
		a.Logger.Info("dialect enabled", "dialect", n, "routes", strings.Join(rs, ", "))
	}
}
