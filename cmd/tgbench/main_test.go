package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
)

// TestMain lets the test binary play both child processes of the harness,
// so the tests exercise the real child-process path (config file, /healthz
// wait, RSS from /proc, SIGTERM) without a `go build` of tokengate:
//
//   - "-serve-ceiling ADDR" is what tgbench re-executes itself with;
//   - "serve --config FILE" is the tokengate command line: the gateway is
//     assembled by cmd/tokengate/app exactly as `tokengate serve` does it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-serve-ceiling":
			os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
		case "serve":
			os.Exit(testGateway(os.Args[2:]))
		}
	}
	core.SetKDFCost(bcrypt.MinCost) // the scale test's preload seeds the demo secrets in this process
	os.Exit(m.Run())
}

// testGateway is `tokengate serve --config FILE` in the test binary.
func testGateway(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*cfgPath, dialects.Catalog())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	core.SetKDFCost(bcrypt.MinCost) // seeding hashes three secrets under -race
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := a.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runOK runs tgbench with args, logs its output and fails t unless it
// exits 0; it returns what tgbench printed on standard output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	return stdout.String()
}

func TestBenchOneScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	out := filepath.Join(t.TempDir(), "out.json")
	stdout := runOK(t, "-tokengate", os.Args[0], "-c", "4", "-d", "1s", "-warmup", "200ms", "-rsa-d", "200ms",
		"-ceiling-d", "300ms", "-scenarios", "oauth2_cc,acceleration_jwt", "-json", out)

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The documented shape, key by key.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ceiling_rps", "rs256_floor_per_s", "rss_mb", "db_bytes", "scenarios"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(doc["scenarios"], &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, k := range []string{"name", "rps", "p50_ms", "p99_ms", "p999_ms", "ratio", "errors"} {
			if _, ok := r[k]; !ok {
				t.Errorf("scenario %s lacks %q", r["name"], k)
			}
		}
	}

	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 3 || rep.Scenarios[0].Name != "ceiling" || rep.Scenarios[1].Name != "oauth2_cc" ||
		rep.Scenarios[2].Name != "acceleration_jwt" {
		t.Fatalf("scenarios = %+v, want ceiling, oauth2_cc and acceleration_jwt", rep.Scenarios)
	}
	if jwt := rep.Scenarios[2]; jwt.RS256Floor <= 0 || jwt.FloorRatio != jwt.RPS/jwt.RS256Floor || rep.Scenarios[1].FloorRatio != 0 {
		t.Errorf("acceleration_jwt: floor %v, floor ratio %v (req/s %v); oauth2_cc floor ratio %v",
			jwt.RS256Floor, jwt.FloorRatio, jwt.RPS, rep.Scenarios[1].FloorRatio)
	}
	// Per core: the gateway's req/s per core of its CPU over the floor's
	// signatures/s per core of what it got.
	if jwt := rep.Scenarios[2]; jwt.ServerCPU > 0 {
		want := (jwt.RPS / jwt.ServerCPU) / (jwt.RS256Floor / jwt.FloorCores)
		if jwt.FloorCores <= 0 || math.Abs(jwt.FloorCoreRatio-want) > 1e-9*want {
			t.Errorf("acceleration_jwt: per-core floor ratio %v, want %v (req/s %v on %v cores, floor %v on %v cores)",
				jwt.FloorCoreRatio, want, jwt.RPS, jwt.ServerCPU, jwt.RS256Floor, jwt.FloorCores)
		}
	}
	for _, s := range rep.Scenarios {
		if s.RPS <= 0 || s.Errors != 0 {
			t.Errorf("%s: rps %.1f, errors %d; want rps > 0 and no errors", s.Name, s.RPS, s.Errors)
		}
		if s.P50 <= 0 || s.P50 > s.P99 || s.P99 > s.P999 {
			t.Errorf("%s: quantiles p50 %.3f p99 %.3f p99.9 %.3f are not ordered", s.Name, s.P50, s.P99, s.P999)
		}
	}
	if rep.CeilingRPS != rep.Scenarios[0].RPS || rep.Scenarios[0].Ratio != 1 {
		t.Errorf("ceiling_rps %.1f, ceiling row %+v", rep.CeilingRPS, rep.Scenarios[0])
	}
	// Each ratio divides by the mean of the ceiling runs right before and
	// right after its scenario; oauth2_cc's "after" is the run before
	// acceleration_jwt.
	for _, sc := range rep.Scenarios[1:] {
		if sc.CeilingBefore <= 0 || sc.CeilingAfter <= 0 || sc.CeilingRPS != (sc.CeilingBefore+sc.CeilingAfter)/2 ||
			sc.Ratio != sc.RPS/sc.CeilingRPS {
			t.Errorf("%s: ratio %v with ceiling %v (before %v, after %v), want req/s %v over the mean of the two",
				sc.Name, sc.Ratio, sc.CeilingRPS, sc.CeilingBefore, sc.CeilingAfter, sc.RPS)
		}
	}
	if cc, jwt := rep.Scenarios[1], rep.Scenarios[2]; cc.CeilingAfter != jwt.CeilingBefore {
		t.Errorf("oauth2_cc's ceiling after (%v) is not acceleration_jwt's before (%v)", cc.CeilingAfter, jwt.CeilingBefore)
	}
	if rep.RS256Floor <= 0 || rep.RSSMB <= 0 || rep.DBBytes <= 0 {
		t.Errorf("rs256_floor_per_s %.1f, rss_mb %.1f, db_bytes %d: want all > 0", rep.RS256Floor, rep.RSSMB, rep.DBBytes)
	}
	for _, h := range []string{"scenario", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "ratio", "ceiling", "errors", "oauth2_cc"} {
		if !strings.Contains(stdout, h) {
			t.Errorf("table lacks %q", h)
		}
	}
}

func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway twice")
	}
	defer func(n int) { preloadChunk = n }(preloadChunk)
	preloadChunk = 2500 // three chunks: 2500, 2500, 1000
	out := filepath.Join(t.TempDir(), "scale.json")
	runOK(t, "-tokengate", os.Args[0], "-scale", "6000", "-c", "2", "-d", "300ms", "-warmup", "50ms",
		"-ceiling-d", "200ms", "-json", out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep scaleReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 6000 || len(rep.Empty) != 2 || len(rep.Loaded) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for i, l := range rep.Loaded {
		e := rep.Empty[i]
		if l.RPS <= 0 || l.Errors != 0 || e.Errors != 0 || l.Ratio <= 0 {
			t.Errorf("%s: loaded %+v, empty %+v", l.Name, l, e)
		}
		// Each phase's rows are bracketed by ceiling runs, and loaded/empty
		// compares the rates over them.
		for _, r := range []scenarioResult{e, l} {
			if r.CeilingBefore <= 0 || r.CeilingAfter <= 0 || r.CeilingRPS != (r.CeilingBefore+r.CeilingAfter)/2 {
				t.Errorf("%s: ceilings %v and %v, mean %v", r.Name, r.CeilingBefore, r.CeilingAfter, r.CeilingRPS)
			}
		}
		want := (l.RPS / l.CeilingRPS) / (e.RPS / e.CeilingRPS)
		if math.Abs(l.Ratio-want) > 1e-9*want || math.Abs(l.RawRatio-l.RPS/e.RPS) > 1e-9*l.RawRatio || e.Ratio != 1 {
			t.Errorf("%s: ratio %v (want %v), raw %v (want %v), empty's %v", l.Name, l.Ratio, want, l.RawRatio, l.RPS/e.RPS, e.Ratio)
		}
	}
	if rep.Empty[0].CeilingAfter != rep.Empty[1].CeilingBefore {
		t.Errorf("the run after one scenario is not the run before the next: %v, %v", rep.Empty[0].CeilingAfter, rep.Empty[1].CeilingBefore)
	}
	// 64-byte hex digests, 22-byte family ids, indexes.
	if rep.BytesPerToken < 64 || rep.StartupLoadedMS <= 0 {
		t.Errorf("bytes per token %.1f, loaded start-up %.1f ms", rep.BytesPerToken, rep.StartupLoadedMS)
	}
}

// -console compare: three gateways, one scenario each, a live view open
// on the third.
func TestConsoleCompareSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three gateways")
	}
	out := filepath.Join(t.TempDir(), "console.json")
	stdout := runOK(t, "-tokengate", os.Args[0], "-console", "compare", "-rounds", "1", "-c", "2", "-d", "300ms", "-warmup", "50ms",
		"-scenarios", "hurdlr_cc", "-json", out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []consoleRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Name != "hurdlr_cc" || rows[0].Errors != 0 || rows[0].RPSOff <= 0 || rows[0].RPSOn <= 0 ||
		rows[0].RPSWatched <= 0 || rows[0].CPUWatched <= 0 {
		t.Fatalf("rows %+v", rows)
	}
	if m := regexp.MustCompile(`sent (\d+) rows`).FindStringSubmatch(stdout); m == nil || m[1] == "0" {
		t.Fatalf("the watched gateway's live view saw no rows: %v", m)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-tokengate", os.Args[0], "-scenarios", "nope"},
		{"-tokengate", filepath.Join(t.TempDir(), "missing")},
		{"-tokengate", os.Args[0], "-c", "0"},
		{"-tokengate", os.Args[0], "-console", "maybe"},
		{"-tokengate", os.Args[0], "-console", "compare", "-metrics", "compare"},
		{"-tokengate", os.Args[0], "-console", "compare", "-watch"},
		{"-tokengate", os.Args[0], "-console", "off", "-watch"},
		{"-tokengate", os.Args[0], "-console", "compare", "-rounds", "-1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

func TestGatewayConfig(t *testing.T) {
	b, err := gatewayConfig("127.0.0.1:1234", "/tmp/x/bench.db", "", "", features{console: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b, dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:1234" || cfg.Storage.DSN != "/tmp/x/bench.db" || cfg.LogLevel != "warn" || cfg.Metrics.IsEnabled() ||
		!cfg.Console.IsEnabled() {
		t.Errorf("listen %q dsn %q log_level %q metrics %v console %v", cfg.Listen, cfg.Storage.DSN, cfg.LogLevel, cfg.Metrics.IsEnabled(),
			cfg.Console.IsEnabled())
	}
	if b, err = gatewayConfig("127.0.0.1:1234", "/tmp/x/bench.db", "", "", features{metrics: true}); err != nil {
		t.Fatal(err)
	}
	if cfg, err = config.Parse(b, dialects.Catalog()); err != nil || !cfg.Metrics.IsEnabled() || cfg.Console.IsEnabled() {
		t.Errorf("metrics on, console off: %v %v", cfg, err)
	}
	def, _ := config.Default(dialects.Catalog())
	if len(cfg.Clients) != len(def.Clients) || len(cfg.EnabledDialects()) != len(def.EnabledDialects()) {
		t.Errorf("the default's clients or dialects were lost:\n%s", b)
	}
}

func TestHistogram(t *testing.T) {
	for v := uint64(0); v < 1<<22; v += 1 + v/97 {
		i := bucketOf(v)
		lo, w := bucketBounds(i)
		if v < lo || v >= lo+w {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, lo, lo+w)
		}
		if w > 1 && float64(w)/float64(lo) > 1.0/64+1e-9 {
			t.Fatalf("bucket %d [%d, +%d) wider than 1/64", i, lo, w)
		}
	}
	if i := bucketOf(^uint64(0)); i != numBuckets-1 {
		t.Fatalf("max value in bucket %d of %d", i, numBuckets)
	}
	var h histogram
	for i := 1; i <= 10000; i++ { // 1µs … 10ms, uniform
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 5}, {0.99, 9.9}, {0.999, 9.99}, {1, 10}} {
		if got := h.quantile(c.q); got < c.want*0.98 || got > c.want*1.02 {
			t.Errorf("quantile(%v) = %.3f ms, want ≈ %.3f", c.q, got, c.want)
		}
	}
	var merged histogram
	merged.merge(&h)
	merged.merge(&h)
	if merged.n != 20000 || merged.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merge: n %d, p50 %.3f vs %.3f", merged.n, merged.quantile(0.5), h.quantile(0.5))
	}
}

func TestHiddenValue(t *testing.T) {
	page := []byte(`<form><input type="hidden" name="csrf_token" value="abc-_123">` + "\n" +
		`<input type="hidden" name="client_id" value="demo-client">`)
	if got := hiddenValue(page, "csrf_token"); got != "abc-_123" {
		t.Errorf("csrf_token = %q", got)
	}
	if got := hiddenValue(page, "state"); got != "" {
		t.Errorf("state = %q", got)
	}
}

// TestGatewayConfigDeclared: the declared_token scenario's gateway serves
// the errorId spec as instance "declared" under /declared, next to the
// default's dialects.
func TestGatewayConfigDeclared(t *testing.T) {
	dir := t.TempDir()
	spec, err := os.ReadFile("../../dialects/declared/testdata/errorid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "e.yaml"), spec, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := gatewayConfig("127.0.0.1:1234", "/tmp/x/bench.db", dir, "e.yaml", features{metrics: true, console: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseIn(b, dir, dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Dialects["declared"]
	if d.Type != "declared" || d.Prefix != declaredPrefix || d.Options["spec"] != "e.yaml" || len(cfg.EnabledDialects()) != 6 {
		t.Fatalf("declared instance %+v in\n%s", d, b)
	}
	if _, err := gatewayConfig("127.0.0.1:1234", "/tmp/x/bench.db", dir, "missing.yaml", features{metrics: true, console: true}); err == nil {
		t.Fatal("a missing spec passed the check")
	}
}
