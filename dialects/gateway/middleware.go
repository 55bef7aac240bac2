package gateway

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
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
		r := wire.RequestOf(c)
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
		attrs := []slog.Attr{
			slog.String("method", c.Request().Method),
			slog.String("route", routeOf(c)),
			slog.Int("status", c.Response().Status),
			slog.Duration("latency", latency),
			slog.String("request_id", r.RequestID),
		}
		if r.Instance != "" {
			attrs = append(attrs, slog.String("dialect", r.Instance))
		}
		if r.ClientID != "" {
			attrs = append(attrs, slog.String("client_id", r.ClientID))
		}
		if r.Grant != "" {
			attrs = append(attrs, slog.String("grant_type", r.Grant))
		}
		if e != nil {
			attrs = append(attrs, slog.String("error", string(e.Kind)))
			if e.Reason != "" {
				attrs = append(attrs, slog.String("reason", string(e.Reason)))
			}
			if level == slog.LevelError && e.Cause != nil {
				attrs = append(attrs, slog.String("cause", e.Cause.Error()))
			}
		}
		if f := r.Forced; f != nil {
			attrs = append(attrs, slog.String("error", cmp.Or(f.Code, string(f.Kind()))), slog.String("fault", r.FaultID))
		}
		if r.ErrorID != "" {
			attrs = append(attrs, slog.String("error_id", r.ErrorID))
		}
		g.log.LogAttrs(ctx, level, "request", attrs...)
		return nil
	}
}

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
				g.log.Error("panic in handler", "route", routeOf(c), "request_id", wire.RequestOf(c).RequestID,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = core.Internal(fmt.Errorf("%w: %v", ErrPanic, r))
			}
		}()
		return next(c)
	}
}

// withSource tells the engine's failure limiter where a request came from
// (the peer address only, never a spoofable forwarding header).
func (g *Gateway) withSource(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			host = req.RemoteAddr
		}
		c.SetRequest(req.WithContext(core.WithSource(req.Context(), host)))
		return next(c)
	}
}

// limitBody caps request bodies at limits.max_body_bytes; decoders turn the
// overflow into the dialect's 413.
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
		if req.Body != nil {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		return next(c)
	}
}
