package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Options configures a Gateway.
type Options struct {
	Config *config.Config
	Engine *core.Engine
	Logger *slog.Logger
	// Instances are the provisioned dialect instances to mount; nil:
	// provision the config's enabled instances here.
	Instances []*dialects.Provisioned
	// Middleware runs on every dialect route, after routing and tagging
	// (the control plane adds fault injection here).
	Middleware []echo.MiddlewareFunc
	// Observe is told about every finished dialect request (the journal).
	Observe func(c echo.Context, status int, latency time.Duration)
	// Extra mounts more routes on the main listener (the admin API).
	Extra func(e *echo.Echo) error
	// Secrets are the wire layer's keys; nil: fresh random ones.
	Secrets *dialects.Secrets
	// Sync, when set, runs before a request is routed (paths the gateway
	// reserves aside): replicas load what another changed (the control
	// plane's shared state, dialects added at run time).
	Sync func(c echo.Context) error
	// LogClock is the wall clock the access log's rate limit reads
	// (default: the system clock; tests inject one).
	LogClock core.Clock
	// RouteMetrics, when set, is asked once per route when it is mounted
	// (and once per instance with method and route "" for the paths it
	// owns but does not route) for what counts that route's requests.
	RouteMetrics func(instance, method, route string) wire.RouteMetrics
}

// Gateway is the assembled server: one echo instance per listen address.
type Gateway struct {
	cfg     *config.Config
	log     *slog.Logger
	main    *echo.Echo
	byAddr  map[string]*echo.Echo
	fronts  map[*echo.Echo]*front
	mounted []*dialects.Provisioned
	byName  map[string]*dialects.Provisioned
	routeMW []echo.MiddlewareFunc
	observe func(c echo.Context, status int, latency time.Duration)
	sync    func(c echo.Context) error
	deps    func(p *dialects.Provisioned) dialects.Deps
	metrics func(instance, method, route string) wire.RouteMetrics
	// unrouted counts each instance's requests to paths it owns but does
	// not route (404, 405): instance name -> wire.RouteMetrics; empty
	// without metrics. A sync.Map: run-time instances add theirs.
	unrouted sync.Map

	// Instances added at run time (runtime.go): an immutable snapshot
	// swapped under rtMu, read lock-free by every request.
	rt      atomic.Pointer[runtimeState]
	rtMu    sync.Mutex
	claimed dialects.Claims // every mounted route, config and run-time
	lines   *LineThrottle
}

// New builds the gateway: it mounts every provisioned instance (provisioning
// them first when Options.Instances is nil), then starts those that need
// storage. Unknown types, failing options and two instances claiming one
// method + path on one listener are errors.
func New(o Options) (*Gateway, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{cfg: o.Config, log: o.Logger, byAddr: map[string]*echo.Echo{}, fronts: map[*echo.Echo]*front{}, byName: map[string]*dialects.Provisioned{},
		routeMW: o.Middleware, observe: o.Observe, sync: o.Sync, metrics: o.RouteMetrics, claimed: dialects.Claims{},
		lines: NewLineThrottle(o.LogClock)}
	g.rt.Store(&runtimeState{byName: map[string]*dialects.Provisioned{}})
	g.main = g.newEcho(o.Config.Listen)
	g.byAddr[o.Config.Listen] = g.main
	secrets := o.Secrets
	if secrets == nil {
		secrets = dialects.NewSecrets()
	}
	insts := o.Instances
	if insts == nil {
		var err error
		if insts, err = dialects.Provision(o.Config); err != nil {
			return nil, err
		}
	}
	g.deps = func(p *dialects.Provisioned) dialects.Deps {
		return dialects.Deps{Engine: o.Engine, Logger: o.Logger.With("dialect", p.Name), Prefix: p.Prefix, Secrets: secrets}
	}
	if err := dialects.MountClaimed(g.claimed, insts, g.deps, g.bind); err != nil {
		return nil, err
	}
	for _, p := range insts {
		g.mounted = append(g.mounted, p)
		g.byName[p.Name] = p
		g.countUnrouted(p)
		if s, ok := p.Dialect.(dialects.Starter); ok {
			if err := s.Start(context.Background()); err != nil {
				return nil, fmt.Errorf("dialects[%s]: %w", p.Name, err)
			}
		}
	}
	if o.Extra != nil {
		if err := o.Extra(g.main); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// bind registers one route of an instance on its listener, tagging each
// request with the instance so errors, logs and the journal know whose wire
// format applies.
func (g *Gateway) bind(p *dialects.Provisioned, method, path string, h echo.HandlerFunc) {
	e := g.Listener(p.Listen)
	m := g.routeMetrics(p, method, path)
	tag := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tagRequest(c, p).Metrics = m
			return next(c)
		}
	}
	e.Add(method, path, compose(h, append([]echo.MiddlewareFunc{tag}, g.routeMW...)...))
}

// routeMetrics is what counts the requests of one route (nil without
// metrics), resolved once when the route is mounted.
func (g *Gateway) routeMetrics(p *dialects.Provisioned, method, path string) wire.RouteMetrics {
	if g.metrics == nil {
		return nil
	}
	return g.metrics(p.Name, method, path)
}

// countUnrouted resolves what counts p's requests to paths it owns but
// does not route.
func (g *Gateway) countUnrouted(p *dialects.Provisioned) {
	if g.metrics != nil {
		g.unrouted.Store(p.Name, g.metrics(p.Name, "", ""))
	}
}

// unroutedMetrics gives a request that no route counts (a 404 or 405 its
// instance answers) its instance's unrouted counters.
func (g *Gateway) unroutedMetrics(r *wire.Request) {
	if r.Metrics != nil {
		return
	}
	if m, ok := g.unrouted.Load(r.Instance); ok {
		r.Metrics = m.(wire.RouteMetrics)
	}
}

func tagRequest(c echo.Context, p *dialects.Provisioned) *wire.Request {
	r := wire.RequestOf(c)
	r.Instance, r.Type, r.Facts = p.Name, p.Type, &p.Facts
	return r
}

func (g *Gateway) newEcho(addr string) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	f := &front{}
	f.use(g.accessLog, g.recoverPanics, g.limitHeaders, g.limitBody, g.withEngineContext, g.runtimeRoutes(addr))
	e.Use(f.middleware)
	g.fronts[e] = f
	// Every listener answers health checks: the main one, a dialect's own
	// and the admin one alike.
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	return e
}

// Listener returns the echo instance serving addr, creating a bare one
// (shared middleware, no dialects) if none serves it yet. Middleware for
// all of its requests goes through Use, not echo's own.
func (g *Gateway) Listener(addr string) *echo.Echo {
	if e := g.byAddr[addr]; e != nil {
		return e
	}
	e := g.newEcho(addr)
	g.byAddr[addr] = e
	return e
}

// Handler is the main listener's handler (tests mount it in httptest).
func (g *Gateway) Handler() http.Handler { return g.main }

// Echo is the main listener's echo instance.
func (g *Gateway) Echo() *echo.Echo { return g.main }

// Listeners maps each listen address to its handler; the main one is
// Config.Listen.
func (g *Gateway) Listeners() map[string]http.Handler {
	out := make(map[string]http.Handler, len(g.byAddr))
	for a, e := range g.byAddr {
		out[a] = e
	}
	return out
}

// Routes lists each enabled instance's routes (the config's and those
// added at run time), for the start-up log and the console.
func (g *Gateway) Routes() map[string][]dialects.Route {
	out := map[string][]dialects.Route{}
	for _, m := range g.Instances() {
		out[m.Name] = m.Routes
	}
	return out
}

// Instances lists the mounted instances: the config's, then those added
// at run time, oldest first.
func (g *Gateway) Instances() []*dialects.Provisioned {
	return append(slices.Clip(g.mounted), g.rt.Load().instances...)
}

// Instance returns the mounted instance named name, or nil.
func (g *Gateway) Instance(name string) *dialects.Provisioned {
	if p := g.byName[name]; p != nil {
		return p
	}
	return g.rt.Load().byName[name]
}

// Dialect returns the mounted instance named name, or nil.
func (g *Gateway) Dialect(name string) dialects.Dialect {
	if p := g.Instance(name); p != nil {
		return p.Dialect
	}
	return nil
}

// DialectFor returns the dialect that owns the request: the routed
// instance, or for unrouted paths the one whose Owns claims the path.
func (g *Gateway) DialectFor(c echo.Context) dialects.Dialect {
	r := wire.RequestOf(c)
	if p := g.Instance(r.Instance); p != nil {
		g.unroutedMetrics(r) // a run-time route's 405
		return p.Dialect
	}
	for _, m := range g.Instances() {
		if m.Owns(c.Request().URL.Path) {
			g.unroutedMetrics(tagRequest(c, m))
			return m.Dialect
		}
	}
	return nil
}

// handleError renders any error through the owning dialect; paths no
// dialect owns get a small neutral JSON body.
func (g *Gateway) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if d := g.DialectFor(c); d != nil {
		if rerr := dialects.RenderError(d, c, err); rerr != nil {
			g.log.Error("rendering an error failed", "error", rerr.Error())
		}
		return
	}
	ce := wire.FromHTTPError(err)
	wire.NoteError(c, ce)
	_ = wire.JSON(c, wire.Status(ce), map[string]string{"error": string(ce.Kind), "error_description": ce.Description})
}

// ErrPanic marks a recovered panic; its value is logged, never rendered.
var ErrPanic = errors.New("panic in handler")
