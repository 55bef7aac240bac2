package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
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
	// Middleware runs on every dialect route, after routing and tagging
	// (the control plane adds fault injection and the journal's peek here).
	Middleware []echo.MiddlewareFunc
	// Observe is told about every finished dialect request (the journal).
	Observe func(c echo.Context, status int, latency time.Duration)
	// Extra mounts more routes on the main listener (the admin API).
	Extra func(e *echo.Echo) error
	// Secrets are the wire layer's keys; nil: fresh random ones.
	Secrets *dialects.Secrets
}

// Gateway is the assembled server: one echo instance per listen address.
type Gateway struct {
	cfg     *config.Config
	log     *slog.Logger
	main    *echo.Echo
	byAddr  map[string]*echo.Echo
	mounted []*mounted
	routeMW []echo.MiddlewareFunc
	observe func(c echo.Context, status int, latency time.Duration)
}

type mounted struct {
	dialect dialects.Dialect
	prefix  string
	listen  string
	routes  []dialects.Route
}

// New builds the gateway. Unknown dialect names, failing dialect options and
// two dialects claiming one method + path on one listener are errors.
func New(o Options) (*Gateway, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{cfg: o.Config, log: o.Logger, byAddr: map[string]*echo.Echo{}, routeMW: o.Middleware, observe: o.Observe}
	g.main = g.newEcho()
	g.byAddr[o.Config.Listen] = g.main
	g.main.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	secrets := o.Secrets
	if secrets == nil {
		secrets = dialects.NewSecrets()
	}
	claimed := map[string]string{} // listen + route -> dialect
	for _, name := range sortedKeys(o.Config.Dialects) {
		dc := o.Config.Dialects[name]
		if !dc.IsEnabled() {
			continue
		}
		d, err := dialects.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("dialects.%s: %w", name, err)
		}
		m := &mounted{dialect: d, prefix: strings.TrimSuffix(dc.Prefix, "/"), listen: dc.Listen}
		e := g.main
		if dc.Listen != "" && dc.Listen != o.Config.Listen {
			if g.byAddr[dc.Listen] == nil {
				g.byAddr[dc.Listen] = g.newEcho()
			}
			e = g.byAddr[dc.Listen]
		} else {
			m.listen = o.Config.Listen
		}
		r := &router{e: e, m: m, claimed: claimed, mw: g.routeMW}
		deps := dialects.Deps{Engine: o.Engine, Logger: o.Logger.With("dialect", name), Config: dc,
			Prefix: m.prefix, Secrets: secrets}
		if err := d.Mount(r, deps); err != nil {
			return nil, fmt.Errorf("dialects.%s: %w", name, err)
		}
		if r.err != nil {
			return nil, r.err
		}
		g.mounted = append(g.mounted, m)
	}
	if o.Extra != nil {
		if err := o.Extra(g.main); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// router adds a dialect's routes under its prefix and tags each request with
// the dialect, so errors and logs know whose wire format applies.
type router struct {
	e       *echo.Echo
	m       *mounted
	claimed map[string]string
	mw      []echo.MiddlewareFunc
	err     error
}

func (r *router) Add(method, path string, h echo.HandlerFunc) {
	full := r.m.prefix + path
	key := r.m.listen + " " + method + " " + full
	if other, dup := r.claimed[key]; dup && r.err == nil {
		r.err = fmt.Errorf("route collision: %s %s is claimed by dialects %s and %s", method, full, other, r.m.dialect.Name())
		return
	}
	r.claimed[key] = r.m.dialect.Name()
	r.m.routes = append(r.m.routes, dialects.Route{Method: method, Path: full})
	m := r.m
	tag := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(keyMounted, m)
			c.Set(wire.KeyDialect, m.dialect.Name())
			return next(c)
		}
	}
	r.e.Add(method, full, h, append([]echo.MiddlewareFunc{tag}, r.mw...)...)
}

const keyMounted = "tg.mounted"

func (g *Gateway) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	e.Use(g.accessLog, g.recoverPanics, g.limitBody, g.withSource)
	return e
}

// Listener returns the echo instance serving addr, creating a bare one
// (shared middleware, no dialects) if none serves it yet.
func (g *Gateway) Listener(addr string) *echo.Echo {
	if e := g.byAddr[addr]; e != nil {
		return e
	}
	e := g.newEcho()
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

// Routes lists each enabled dialect's routes, for the start-up log.
func (g *Gateway) Routes() map[string][]dialects.Route {
	out := map[string][]dialects.Route{}
	for _, m := range g.mounted {
		out[m.dialect.Name()] = m.routes
	}
	return out
}

// Dialect returns the mounted dialect named name, or nil.
func (g *Gateway) Dialect(name string) dialects.Dialect {
	for _, m := range g.mounted {
		if m.dialect.Name() == name {
			return m.dialect
		}
	}
	return nil
}

// DialectFor returns the dialect that owns the request: the routed one, or
// for unrouted paths the one whose Owns claims the path.
func (g *Gateway) DialectFor(c echo.Context) dialects.Dialect {
	if m, ok := c.Get(keyMounted).(*mounted); ok {
		return m.dialect
	}
	path := c.Request().URL.Path
	for _, m := range g.mounted {
		if m.prefix != "" && !dialects.HasPathPrefix(path, m.prefix) {
			continue
		}
		if m.dialect.Owns(strings.TrimPrefix(path, m.prefix)) {
			c.Set(wire.KeyDialect, m.dialect.Name())
			return m.dialect
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
	ce := wire.FromHTTPError(err)
	wire.NoteError(c, ce)
	if ce.RetryAfter > 0 {
		secs := int64((ce.RetryAfter + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if d := g.DialectFor(c); d != nil {
		if rerr := d.RenderError(c, ce); rerr != nil {
			g.log.Error("rendering an error failed", "error", rerr.Error())
		}
		return
	}
	_ = c.JSON(wire.Status(ce), map[string]string{"error": string(ce.Kind), "error_description": ce.Description})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrPanic marks a recovered panic; its value is logged, never rendered.
var ErrPanic = errors.New("panic in handler")
