package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/tokengate/tokengate/dialects/gateway"
)

// DefaultMaxConnections caps the connections of one listener when
// limits.max_connections is 0 (and the file-descriptor limit allows).
const DefaultMaxConnections = 4096

// MaxConnections is the connection cap of each listener: configured (>0),
// else DefaultMaxConnections or a quarter of the process's soft
// file-descriptor limit, whichever is less, so that a few listeners, the
// database and the log always have descriptors left.
func MaxConnections(configured int) int {
	if configured > 0 {
		return configured
	}
	n := DefaultMaxConnections
	if fds := fdLimit(); fds > 0 {
		n = min(n, max(int(fds/4), 16))
	}
	return n
}

// countConn keeps the number of open connections (ConnState hook).
func (a *App) countConn(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		a.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		a.conns.Add(-1)
	}
}

// OpenConnections is how many connections the gateway holds open, on
// every listener together.
func (a *App) OpenConnections() int64 { return a.conns.Load() }

// throttled is the servers' error log (TLS handshake failures and the
// like, one line per bad connection) rate-limited as the access log is.
type throttled struct {
	slog.Handler
	lines *gateway.LineThrottle
}

func (h throttled) Handle(ctx context.Context, r slog.Record) error {
	ok, held := h.lines.Allow("net/http", "server error log")
	if !ok {
		return nil
	}
	if held > 0 {
		r.AddAttrs(slog.Int("suppressed_before", held))
	}
	return h.Handler.Handle(ctx, r)
}
