package gateway

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// accessLog creates the request's per-request value and writes one
// structured line per request. It renders a returned error itself so the
// status it logs is the one sent. It never logs parameters, headers or
// bodies: those may hold secrets.
func (g *Gateway) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		c, r := wire.Begin(c)
		r.MaxParams = g.cfg.Limits.MaxParams
		r.RequestID = assignRequestID(c)
		if err := next(c); err != nil {
			c.Error(err)
		}
		latency := time.Since(start)
		if r.Metrics != nil {
			r.Metrics.Observe(c.Response().Status, r.Grant, latency)
		}
		if g.observe != nil && r.Instance != "" {
			g.observe(c, c.Response().Status, latency)
		}
		e := r.Err
		level := slog.LevelInfo
		if e != nil && (e.Kind == core.KindServerError || e.Kind == core.KindUnavailable) {
			level = slog.LevelError
		}
		ctx := c.Request().Context()
		if !g.log.Enabled(ctx, level) {
			return nil // e.g. log_level warn under load: build no line at all
		}
		status := c.Response().Status
		errKind := ""
		switch {
		case r.Forced != nil:
			errKind = cmp.Or(r.Forced.Code, string(r.Forced.Kind()))
		case e != nil:
			errKind = string(e.Kind)
		}
		if status >= 400 {
			// Repeated failures of one kind from one source: a few lines,
			// then a count (see LogBurst).
			src := sourceAddr(c.Request())
			kind := strconv.Itoa(status) + " " + errKind
			ok, held := g.lines.Allow(src, kind)
			if !ok {
				return nil
			}
			if held > 0 {
				g.log.LogAttrs(ctx, slog.LevelWarn, "suppressed similar log lines", slog.String("source", clip(src)),
					slog.String("kind", clip(kind)), slog.Int("count", held))
			}
		}
		attrs := []slog.Attr{
			slog.String("method", clip(c.Request().Method)),
			slog.String("route", clip(routeOf(c))),
			slog.Int("status", status),
			slog.Duration("latency", latency),
			slog.String("request_id", r.RequestID),
		}
		if r.Instance != "" {
			attrs = append(attrs, slog.String("dialect", r.Instance))
		}
		if r.ClientID != "" {
			attrs = append(attrs, slog.String("client_id", clip(r.ClientID)))
		}
		if r.Grant != "" {
			attrs = append(attrs, slog.String("grant_type", clip(r.Grant)))
		}
		if errKind != "" {
			attrs = append(attrs, slog.String("error", clip(errKind)))
		}
		if e != nil && r.Forced == nil {
			if e.Reason != "" {
				attrs = append(attrs, slog.String("reason", string(e.Reason)))
			}
			if level == slog.LevelError && e.Cause != nil {
				attrs = append(attrs, slog.String("cause", wire.Truncate(e.Cause.Error(), 4*LogValueBytes)))
			}
		}
		if r.Forced != nil {
			attrs = append(attrs, slog.String("fault", r.FaultID))
		}
		if r.ErrorID != "" {
			attrs = append(attrs, slog.String("error_id", clip(r.ErrorID)))
		}
		g.log.LogAttrs(ctx, level, "request", attrs...)
		return nil
	}
}

// clip cuts a client-chosen value for the log (see LogValueBytes).
func clip(s string) string { return wire.Truncate(s, LogValueBytes) }

// routeOf is the matched route pattern, or the raw path when none matched.
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return c.Request().URL.Path
}

// recoverPanics turns a handler panic into an internal error rendered by the
// dialect; the panic value and stack go to the log only.
func (g *Gateway) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				g.log.Error("panic in handler", "route", clip(routeOf(c)), "request_id", wire.RequestOf(c).RequestID,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = core.Internal(fmt.Errorf("%w: %v", ErrPanic, r))
			}
		}()
		return next(c)
	}
}

// withEngineContext tells the engine's failure limiter where a request
// came from (the peer address only, never a spoofable forwarding header),
// and gives the engine the request's trace to record what it does with
// tokens (the journal's family and reuse): a field of the per-request
// value, so tracing allocates nothing but its context link.
func (g *Gateway) withEngineContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := core.WithTrace(core.WithSource(req.Context(), sourceAddr(req)), &wire.RequestOf(c).Trace)
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// sourceAddr is the peer address of a request, without its port.
func sourceAddr(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// limitBody caps request bodies at limits.max_body_bytes; decoders turn the
// overflow into the dialect's 413. A body of declared length is refused
// outright when that is over the limit; otherwise the server's own reader
// stops at the declared length, so only a body without one (chunked) needs
// a limiting reader. Keeping the server's reader also spares net/http its
// read of what is left after the handler (see wire.ReadBody).
func (g *Gateway) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := int64(g.cfg.Limits.MaxBodyBytes)
		if limit <= 0 {
			return next(c)
		}
		req := c.Request()
		if req.ContentLength > limit {
			return wire.TooLarge()
		}
		if req.Body != nil && req.ContentLength < 0 {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		return next(c)
	}
}
