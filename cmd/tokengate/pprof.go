package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/tokengate/tokengate/config"
)

// startProfiler serves Go's runtime profiles (/debug/pprof/) on addr until
// ctx ends. It is serve's hidden --pprof flag, for the load harness
// (tgbench -cpuprofile) and for an engineer chasing a hot spot: the profiles
// reveal nothing secret but cost CPU while taken, so only a loopback address
// is accepted and the handlers live on their own listener, never on the
// gateway's.
func startProfiler(ctx context.Context, addr string, logger *slog.Logger) error {
	if !config.IsLoopback(addr) {
		return fmt.Errorf("--pprof %s: only a loopback address is allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("profiler stopped", "error", err.Error())
		}
	}()
	logger.Info("serving runtime profiles", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
