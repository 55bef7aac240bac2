package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestProfilerOnlyOnLoopback(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := startProfiler(t.Context(), "0.0.0.0:0", logger); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("--pprof 0.0.0.0:0: %v, want a refusal naming loopback", err)
	}
	// A free loopback port, so the test knows where the profiler listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := startProfiler(ctx, addr, logger); err != nil {
		t.Fatalf("--pprof %s: %v", addr, err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/: %d %.80q, want 200 with the profile index", resp.StatusCode, body)
	}
}
