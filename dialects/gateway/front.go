package gateway

import (
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// front is the middleware every request to one listener passes, composed
// once. Echo composes its Use chain and a route's middleware again for
// every request (a closure per middleware per request); the gateway hands
// echo one middleware, the front, and each route its handler already
// wrapped (bind).
type front struct {
	mw []echo.MiddlewareFunc
	h  atomic.Pointer[echo.HandlerFunc]
}

// use appends middleware, outermost first, and composes the chain again.
func (f *front) use(mw ...echo.MiddlewareFunc) {
	f.mw = append(f.mw, mw...)
	h := compose(routeHandler, f.mw...)
	f.h.Store(&h)
}

// middleware is the front as echo's only Use middleware. It ignores next:
// echo passes the handler its router matched, which routeHandler reads
// from the context, so no chain is built per request.
func (f *front) middleware(echo.HandlerFunc) echo.HandlerFunc { return *f.h.Load() }

// routeHandler ends a front: the handler echo's router matched.
func routeHandler(c echo.Context) error { return c.Handler()(c) }

// compose wraps h in mw, the first outermost (echo's order).
func compose(h echo.HandlerFunc, mw ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Use adds middleware every request to the listener at addr passes, after
// the gateway's own (access log, limits, run-time routes), creating the
// listener if none serves addr yet.
func (g *Gateway) Use(addr string, mw ...echo.MiddlewareFunc) {
	g.fronts[g.Listener(addr)].use(mw...)
}
