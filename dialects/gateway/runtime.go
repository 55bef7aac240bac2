package gateway

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Instances added at run time. echo cannot remove a route, so their routes
// live in a table of their own, consulted on every listener before echo's
// router: an immutable snapshot behind an atomic pointer, replaced whole
// (under rtMu) when an instance is added or removed. Each route's handler
// is wrapped in the same middleware as a config instance's (tagging the
// request, then the control plane's), and its errors go through the same
// error handler.

// runtimeState is one snapshot of the instances added at run time.
type runtimeState struct {
	instances []*dialects.Provisioned // oldest first
	byName    map[string]*dialects.Provisioned
	paths     map[string]map[string]*runtimePath // listen address -> full path -> its routes
}

// runtimePath is one path's run-time routes on one listener.
type runtimePath struct {
	inst     *dialects.Provisioned
	handlers map[string]echo.HandlerFunc // method -> handler and route middleware
	static   map[string]bool             // methods a config instance serves on the same path
	allow    string                      // the Allow header of a 405: every method served here
}

// runtimeRoutes serves the run-time routes of the listener at addr, after
// syncing with the other replicas; anything else goes on to echo's router.
func (g *Gateway) runtimeRoutes(addr string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			path := echo.GetPath(c.Request())
			if g.sync != nil && !reserved(path) {
				if err := g.sync(c); err != nil {
					return core.Unavailable(err)
				}
			}
			rp := g.rt.Load().paths[addr][path]
			if rp == nil {
				return next(c)
			}
			method := c.Request().Method
			if h := rp.handlers[method]; h != nil {
				c.SetPath(path)
				return h(c)
			}
			if rp.static[method] {
				return next(c)
			}
			c.Response().Header().Set(echo.HeaderAllow, rp.allow)
			if method == http.MethodOptions {
				return c.NoContent(http.StatusNoContent)
			}
			tagRequest(c, rp.inst)
			return echo.ErrMethodNotAllowed
		}
	}
}

func reserved(path string) bool {
	return slices.ContainsFunc(dialects.ReservedPaths, func(r string) bool { return dialects.HasPathPrefix(path, r) })
}

// AddInstance mounts a configured instance at run time, on a listener the
// gateway already serves (the main one when p.Listen is empty): its routes
// answer from the next request on, next to every other instance's. A name
// in use is a conflict; routes another instance (or the gateway) claims
// are refused with a *dialects.CollisionError; nothing is mounted then.
func (g *Gateway) AddInstance(ctx context.Context, p *dialects.Provisioned) error {
	g.rtMu.Lock()
	defer g.rtMu.Unlock()
	if p.Listen == "" {
		p.Listen = g.cfg.Listen
	}
	cur := g.rt.Load()
	switch {
	case g.byName[p.Name] != nil || cur.byName[p.Name] != nil:
		return &core.Error{Kind: core.KindConflict, Param: "name", Description: fmt.Sprintf("a dialect named %s is already mounted", p.Name)}
	case g.byAddr[p.Listen] == nil:
		return &core.Error{Kind: core.KindInvalidRequest, Param: "listen", Value: p.Listen, Description: fmt.Sprintf(
			"%s is not served by this gateway: a dialect added at run time listens on the main address or one a configured dialect uses", p.Listen)}
	}
	claimed := maps.Clone(g.claimed)
	added := map[string]echo.HandlerFunc{} // method + " " + path -> handler
	bind := func(p *dialects.Provisioned, method, path string, h echo.HandlerFunc) {
		added[method+" "+path] = g.wrap(p, h, g.routeMetrics(p, method, path))
	}
	p.Routes = nil
	if err := dialects.MountClaimed(claimed, []*dialects.Provisioned{p}, g.deps, bind); err != nil {
		return err
	}
	if s, ok := p.Dialect.(dialects.Starter); ok {
		if err := s.Start(ctx); err != nil {
			return fmt.Errorf("dialects[%s]: %w", p.Name, err)
		}
	}
	next := g.snapshot(append(slices.Clip(cur.instances), p), func(q *dialects.Provisioned, key string) echo.HandlerFunc {
		if q == p {
			return added[key]
		}
		return cur.paths[q.Listen][pathOf(key)].handlers[methodOf(key)]
	})
	g.claimed = claimed
	g.countUnrouted(p)
	g.rt.Store(next)
	return nil
}

// RemoveInstance unmounts an instance added at run time: from the next
// request on, its paths answer as if it had never been mounted. A config
// instance cannot be removed (a conflict); an unknown name is not_found.
func (g *Gateway) RemoveInstance(name string) error {
	g.rtMu.Lock()
	defer g.rtMu.Unlock()
	cur := g.rt.Load()
	p := cur.byName[name]
	switch {
	case g.byName[name] != nil:
		return &core.Error{Kind: core.KindConflict, Param: "name", Description: fmt.Sprintf(
			"dialect %s is configured in the config file; it cannot be removed at run time", name)}
	case p == nil:
		return &core.Error{Kind: core.KindNotFound, Param: "name", Value: name, Description: fmt.Sprintf("no dialect %q", name)}
	}
	rest := slices.DeleteFunc(slices.Clone(cur.instances), func(q *dialects.Provisioned) bool { return q == p })
	next := g.snapshot(rest, func(q *dialects.Provisioned, key string) echo.HandlerFunc {
		return cur.paths[q.Listen][pathOf(key)].handlers[methodOf(key)]
	})
	claimed := dialects.Claims{}
	for _, q := range g.mounted {
		claimed.Claim(q)
	}
	for _, q := range rest {
		claimed.Claim(q)
	}
	g.claimed = claimed
	g.rt.Store(next)
	return nil
}

// snapshot builds the table of instances, taking each route's handler from
// handler(instance, "METHOD path").
func (g *Gateway) snapshot(instances []*dialects.Provisioned, handler func(*dialects.Provisioned, string) echo.HandlerFunc) *runtimeState {
	s := &runtimeState{instances: instances, byName: map[string]*dialects.Provisioned{},
		paths: map[string]map[string]*runtimePath{}}
	for _, p := range instances {
		s.byName[p.Name] = p
		if s.paths[p.Listen] == nil {
			s.paths[p.Listen] = map[string]*runtimePath{}
		}
		for _, r := range p.Routes {
			rp := s.paths[p.Listen][r.Path]
			if rp == nil {
				rp = &runtimePath{inst: p, handlers: map[string]echo.HandlerFunc{}, static: g.staticMethods(p.Listen, r.Path)}
				s.paths[p.Listen][r.Path] = rp
			}
			rp.handlers[r.Method] = handler(p, r.Method+" "+r.Path)
			if r.Method == http.MethodGet { // bound with every GET route (see dialects.Router)
				rp.handlers[http.MethodHead] = handler(p, http.MethodHead+" "+r.Path)
			}
		}
	}
	for _, byPath := range s.paths {
		for _, rp := range byPath {
			methods := slices.Collect(maps.Keys(rp.handlers))
			for m := range rp.static {
				methods = append(methods, m)
			}
			slices.Sort(methods)
			rp.allow = strings.Join(append([]string{http.MethodOptions}, slices.Compact(methods)...), ", ")
		}
	}
	return s
}

// staticMethods lists the methods config instances serve on path at addr.
func (g *Gateway) staticMethods(addr, path string) map[string]bool {
	out := map[string]bool{}
	for _, p := range g.mounted {
		if p.Listen != addr {
			continue
		}
		for _, r := range p.Routes {
			if r.Path == path {
				out[r.Method] = true
				out[http.MethodHead] = out[http.MethodHead] || r.Method == http.MethodGet
			}
		}
	}
	return out
}

// wrap puts a run-time route's handler in the middleware a config route
// gets from echo (see bind).
func (g *Gateway) wrap(p *dialects.Provisioned, h echo.HandlerFunc, m wire.RouteMetrics) echo.HandlerFunc {
	h = compose(h, g.routeMW...)
	return func(c echo.Context) error {
		tagRequest(c, p).Metrics = m
		return h(c)
	}
}

func methodOf(key string) string { m, _, _ := strings.Cut(key, " "); return m }
func pathOf(key string) string   { _, p, _ := strings.Cut(key, " "); return p }
