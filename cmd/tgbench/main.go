// Command tgbench is tokengate's load harness. In one run it starts a
// ceiling server (a bare client_credentials echo handler: tgbench itself,
// re-executed with -serve-ceiling) and the tokengate binary given with
// -tokengate on a fresh temporary SQLite database, both as child processes,
// drives each scenario closed-loop with -c connections for -d, and prints
// req/s, latency quantiles, the ratio to the ceiling and the errors per
// scenario, the RS256 signing floor of this machine, and the gateway's RSS
// and database size after the run.
//
//	go build -o bin/tokengate ./cmd/tokengate
//	go run ./cmd/tgbench -tokengate bin/tokengate [-c 32] [-d 10s] [-scenarios a,b] [-json FILE]
//	go run ./cmd/tgbench -tokengate bin/tokengate -scale 10000000
//
// With -scale N it instead compares oauth2_cc and accounda_validate on an
// empty database and on one preloaded with N tokens (see scale.go).
//
// The exit status is 0 when every scenario ran without errors, 1 when some
// scenario had errors (the results are still printed and written), 2 on bad
// usage and 3 when the harness itself failed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the command-line flags.
type options struct {
	tokengate string
	conns     int
	dur       time.Duration
	warmup    time.Duration
	rsaDur    time.Duration
	// ceilingDur is the ceiling run taken between scenarios; the two
	// around a scenario are its ratio's denominator (0: the first ceiling
	// run for every scenario).
	ceilingDur time.Duration
	jsonPath   string
	scenarios  []string
	scale      int
	startWait  time.Duration
	watch      bool
	db         string // postgres:// URL; empty: a fresh SQLite file
	replicas   int
	metrics    string // on, off, or compare
	console    string // on, off, or compare
	// rounds is how often -metrics compare and -console compare run each
	// scenario on each gateway (0: as many times as there are gateways).
	rounds int
	// declaredSpec is the spec the declared_token scenario serves.
	declaredSpec string
	// cpuprofile is the directory -cpuprofile writes profiles to.
	cpuprofile string
	stdout     io.Writer
	stderr     io.Writer
}

// hiddenFlags are left out of -h: they are for tgbench's own child processes.
var hiddenFlags = map[string]bool{"serve-ceiling": true}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tgbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{stdout: stdout, stderr: stderr}
	fs.StringVar(&o.tokengate, "tokengate", "", "the tokengate binary `BIN` to run (required; make bench builds bin/tokengate)")
	fs.IntVar(&o.conns, "c", 32, "concurrent connections, each a closed loop")
	fs.DurationVar(&o.dur, "d", 10*time.Second, "measured duration of each scenario")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "warm-up before each scenario's window, not counted")
	fs.DurationVar(&o.rsaDur, "rsa-d", 2*time.Second, "duration of the RS256 floor measurement")
	fs.DurationVar(&o.ceilingDur, "ceiling-d", 3*time.Second, "duration of the ceiling runs taken between scenarios (and after the last); each ratio divides by the mean of the two around its scenario (the machine's speed drifts by tens of percent within minutes); 0: every ratio divides by the first ceiling run")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to `FILE`")
	list := fs.String("scenarios", "", "comma-separated scenarios to run (default: all; with -scale: oauth2_cc,accounda_validate): "+
		strings.Join(scenarioNames(), ", "))
	fs.IntVar(&o.scale, "scale", 0, "preload `N` tokens and compare oauth2_cc and accounda_validate on the empty and the loaded database (make bench-scale: 10,000,000)")
	fs.StringVar(&o.db, "db", "", "run the gateway on this postgres:// `URL` instead of a fresh SQLite file (its tables are left behind)")
	fs.IntVar(&o.replicas, "replicas", 1, "gateway processes sharing the database (more than 1 needs -db postgres://…); connections are spread round-robin")
	fs.StringVar(&o.metrics, "metrics", "on", "the gateway's metrics.enabled: on, off, or compare (every scenario on a gateway with metrics and on one without, alternately; prints the cost)")
	fs.StringVar(&o.declaredSpec, "declared-spec", "dialects/declared/testdata/errorid.yaml",
		"the spec `FILE` declared_token serves under /declared (the errorId API re-declared; relative to the working directory)")
	fs.BoolVar(&o.watch, "watch", false, "keep the web console's live journal open on the (first) gateway during every scenario")
	fs.StringVar(&o.console, "console", "on", "the gateway's console.enabled: on, off, or compare (every scenario on a gateway without the console, one with it and no one watching, and one with a live journal view open, alternately; prints the cost)")
	fs.IntVar(&o.rounds, "rounds", 0, "how often -metrics compare and -console compare run each scenario on each gateway; the order rotates every round (default: as often as there are gateways, so that each goes first as often)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway over each scenario's window to `DIR`/<scenario>.pprof (go tool pprof reads it)")
	fs.DurationVar(&o.startWait, "start-timeout", 5*time.Minute, "how long to wait for the gateway's /healthz")
	ceilingAddr := fs.String("serve-ceiling", "", "internal: serve the ceiling handler on `ADDR` (tgbench starts itself this way)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tgbench -tokengate BIN [flags]\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			if hiddenFlags[f.Name] {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  -%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *ceilingAddr != "" {
		return serveCeiling(*ceilingAddr, stdout, stderr)
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "tgbench:", msg)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected arguments: " + strings.Join(fs.Args(), " "))
	case o.tokengate == "":
		return usage("-tokengate BIN is required (make bench builds bin/tokengate and passes it)")
	case o.conns < 1:
		return usage("-c must be at least 1")
	case o.dur <= 0 || o.warmup < 0 || o.rsaDur <= 0 || o.ceilingDur < 0:
		return usage("-d and -rsa-d must be positive, -warmup and -ceiling-d not negative")
	case o.scale < 0:
		return usage("-scale must not be negative")
	case o.replicas < 1 || (o.replicas > 1 && o.db == ""):
		return usage("-replicas must be at least 1, and more than 1 needs -db postgres://…")
	case o.metrics != "on" && o.metrics != "off" && o.metrics != "compare":
		return usage("-metrics must be on, off or compare")
	case o.metrics == "compare" && (o.scale > 0 || o.replicas > 1 || o.db != ""):
		return usage("-metrics compare runs on fresh SQLite databases, without -scale, -replicas or -db")
	case o.console != "on" && o.console != "off" && o.console != "compare":
		return usage("-console must be on, off or compare")
	case o.console == "compare" && (o.metrics == "compare" || o.scale > 0 || o.replicas > 1 || o.db != "" || o.watch):
		return usage("-console compare runs on fresh SQLite databases, without -metrics compare, -scale, -replicas, -db or -watch")
	case o.console == "off" && o.watch:
		return usage("-watch needs the console (not -console off)")
	case o.rounds < 0:
		return usage("-rounds must not be negative")
	case o.cpuprofile != "" && (o.metrics == "compare" || o.console == "compare"):
		return usage("-cpuprofile profiles one gateway: not with -metrics compare or -console compare")
	}
	if o.cpuprofile != "" {
		if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
			return usage("-cpuprofile: " + err.Error())
		}
	}
	if *list != "" {
		for n := range strings.SplitSeq(*list, ",") {
			n = strings.TrimSpace(n)
			if n == "" || n == ceilingScenario.name {
				continue // the ceiling always runs in a normal bench
			}
			if _, ok := scenarioByName(n); !ok {
				return usage(fmt.Sprintf("unknown scenario %q; known: %s", n, strings.Join(scenarioNames(), ", ")))
			}
			if !slices.Contains(o.scenarios, n) {
				o.scenarios = append(o.scenarios, n)
			}
		}
	}
	bin, err := filepath.Abs(o.tokengate)
	if err != nil {
		return usage(err.Error())
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return usage(fmt.Sprintf("-tokengate %s: not a file (build it with `go build -o bin/tokengate ./cmd/tokengate`)", o.tokengate))
	}
	o.tokengate = bin

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var hadErrors bool
	switch {
	case o.scale > 0:
		hadErrors, err = runScale(ctx, o)
	case o.metrics == "compare":
		hadErrors, err = runMetricsCompare(ctx, o)
	case o.console == "compare":
		hadErrors, err = runConsoleCompare(ctx, o)
	default:
		hadErrors, err = runBench(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(stderr, "tgbench:", err)
		return 3
	}
	if hadErrors {
		fmt.Fprintln(stderr, "tgbench: some scenarios had errors (see the errors column and the samples above)")
		return 1
	}
	return 0
}

// features are the gateway's optional parts as the flags ask.
func (o options) features() features {
	return features{metrics: o.metrics != "off", console: o.console != "off", profile: o.cpuprofile != ""}
}

// comparedScenarios are the scenarios a comparison runs.
func (o options) comparedScenarios() []string {
	if len(o.scenarios) > 0 {
		return o.scenarios
	}
	return compareScenarios
}

// scenarioResult is one row of the table and of the JSON.
type scenarioResult struct {
	Name   string  `json:"name"`
	RPS    float64 `json:"rps"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	Ratio  float64 `json:"ratio"`
	Errors uint64  `json:"errors"`
	// CeilingRPS is what the ratio divides by: the mean of the ceiling
	// runs taken right before and right after this scenario (-ceiling-d;
	// CeilingBefore and CeilingAfter), or the first ceiling run.
	CeilingRPS    float64 `json:"ceiling_rps,omitempty"`
	CeilingBefore float64 `json:"ceiling_before_rps,omitempty"`
	CeilingAfter  float64 `json:"ceiling_after_rps,omitempty"`
	// RawRatio, on a -scale run's loaded rows, is loaded req/s ÷ empty
	// req/s; Ratio then divides each by its own ceilings first.
	RawRatio float64 `json:"raw_ratio,omitempty"`
	// FloorRatio, for acceleration_jwt, is req/s over the RS256 floor
	// measured right before it (RS256Floor, signatures/s).
	FloorRatio float64 `json:"rs256_floor_ratio,omitempty"`
	RS256Floor float64 `json:"rs256_floor_per_s,omitempty"`
	// FloorCoreRatio is the same per core: the gateway's req/s per core
	// of its CPU over the floor's signatures/s per core it got. The floor
	// has every core; the gateway shares them with tgbench, so FloorRatio
	// cannot pass tgbench's share, and this says what the JWT path costs
	// beyond its signature (0 where the CPU is not known).
	FloorCoreRatio float64 `json:"rs256_floor_core_ratio,omitempty"`
	FloorCores     float64 `json:"rs256_floor_cores,omitempty"` // the cores the floor got
	// Cores of CPU used during the window by the server under load and by
	// tgbench itself (from /proc; 0 where unavailable).
	ServerCPU  float64 `json:"server_cpu"`
	HarnessCPU float64 `json:"harness_cpu"`
	// Cores used by every other process during the window: noise.
	OtherCPU float64 `json:"other_cpu"`
	// ServerCPUPerReq is the server's CPU time per successful request, in
	// µs: less sensitive to other load on the machine than req/s.
	ServerCPUPerReq float64 `json:"server_cpu_us_per_req"`
}

// report is the JSON document -json writes.
type report struct {
	CeilingRPS float64          `json:"ceiling_rps"`
	RS256Floor float64          `json:"rs256_floor_per_s"`
	RSSMB      float64          `json:"rss_mb"`
	DBBytes    int64            `json:"db_bytes"`
	Scenarios  []scenarioResult `json:"scenarios"`
	Replicas   int              `json:"replicas,omitempty"`

	// RS256FloorCores is how many cores the floor measurement got.
	RS256FloorCores float64 `json:"rs256_floor_cores"`
	RSSPeakMB       float64 `json:"rss_peak_mb"`
	StartupMS       float64 `json:"startup_ms"`
	Conns           int     `json:"connections"`
	DurationS       float64 `json:"duration_s"`
	WarmupS         float64 `json:"warmup_s"`
	GOMAXPROCS      int     `json:"gomaxprocs"`
	NumCPU          int     `json:"num_cpu"`
	GoVersion       string  `json:"go_version"`
	Date            string  `json:"date"`
}

// ceilingRPS is the req/s of one -ceiling-d run of the ceiling server.
func ceilingRPS(ctx context.Context, o options, ceil *child) (float64, error) {
	co := o
	co.dur, co.cpuprofile = o.ceilingDur, ""
	cr, err := runOne(ctx, co, ceil.target(), ceilingScenario)
	if err != nil {
		return 0, err
	}
	return cr.rps(), nil
}

// bracket sets the ceiling runs taken right before and after the scenario
// and divides its ratio by their mean.
func (s *scenarioResult) bracket(before, after float64) {
	s.CeilingBefore, s.CeilingAfter = before, after
	s.CeilingRPS = (before + after) / 2
	s.Ratio = s.RPS / s.CeilingRPS
}

func toResult(name string, r *loadResult, ceiling float64) scenarioResult {
	s := scenarioResult{Name: name, RPS: r.rps(), P50: r.hist.quantile(0.50), P99: r.hist.quantile(0.99),
		P999: r.hist.quantile(0.999), Errors: r.errors, ServerCPU: r.serverCPU, HarnessCPU: r.harnessCPU, OtherCPU: r.otherCPU}
	if ceiling > 0 {
		s.Ratio, s.CeilingRPS = s.RPS/ceiling, ceiling
	}
	if s.RPS > 0 {
		s.ServerCPUPerReq = s.ServerCPU * 1e6 / s.RPS
	}
	return s
}

// runOne runs one scenario and reports progress and error samples on stderr.
// A scenario whose preparation fails is reported with one error and no
// throughput; only a cancelled run is an error.
func runOne(ctx context.Context, o options, t target, sc scenario) (*loadResult, error) {
	fmt.Fprintf(o.stderr, "tgbench: %-18s %s + %s warm-up, %d connections …\n", sc.name, o.dur, o.warmup, o.conns)
	lc := loadConfig{conns: o.conns, warmup: o.warmup, dur: o.dur}
	if o.cpuprofile != "" && t.pprof != "" {
		lc.profilePath = filepath.Join(o.cpuprofile, sc.name+".pprof")
	}
	r, err := runLoad(ctx, t, lc, sc.prepare)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		fmt.Fprintf(o.stderr, "tgbench: %s: %v\n", sc.name, err)
		return &loadResult{errors: 1, elapsed: o.dur}, nil
	}
	if r.errors > 0 {
		fmt.Fprintf(o.stderr, "tgbench: %s: %d errors, e.g.:\n", sc.name, r.errors)
		for _, s := range r.errSamples {
			fmt.Fprintln(o.stderr, "    ", s)
		}
	}
	return r, nil
}

func runBench(ctx context.Context, o options) (hadErrors bool, err error) {
	names := o.scenarios
	if len(names) == 0 {
		names = scenarioNames()
	}
	dir, err := os.MkdirTemp("", "tgbench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	rep := report{Conns: o.conns, DurationS: o.dur.Seconds(), WarmupS: o.warmup.Seconds(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		Date: time.Now().Format(time.RFC3339)}
	fmt.Fprintf(o.stderr, "tgbench: %s, %d connections, %s per scenario (+%s warm-up), %d CPUs, %s %s/%s\n",
		o.tokengate, o.conns, o.dur, o.warmup, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)

	// The ceiling first, alone on the machine.
	ceil, err := startCeiling(ctx, dir)
	if err != nil {
		return false, err
	}
	defer func() {
		if stopErr := ceil.stop(5 * time.Second); stopErr != nil {
			fmt.Fprintln(o.stderr, "tgbench:", stopErr)
		}
	}()
	cr, err := runOne(ctx, o, ceil.target(), ceilingScenario)
	if err != nil {
		return false, err
	}
	rep.CeilingRPS = cr.rps()
	rep.Scenarios = append(rep.Scenarios, toResult(ceilingScenario.name, cr, rep.CeilingRPS))

	// The gateway (or its replicas) on a fresh database, every scenario in turn.
	dbPath := filepath.Join(dir, "bench.db")
	if o.db != "" {
		dbPath = o.db
	}
	declaredSpec := ""
	if slices.Contains(names, "declared_token") {
		declaredSpec = o.declaredSpec
	}
	var gws []*child
	for range o.replicas {
		gw, err := startGateway(ctx, o.tokengate, dir, dbPath, declaredSpec, o.features(), o.startWait)
		if err != nil {
			return false, err
		}
		defer gw.stop(30 * time.Second)
		gws = append(gws, gw)
	}
	rep.Replicas = o.replicas
	rep.StartupMS = float64(gws[0].startup.Microseconds()) / 1000
	if o.watch {
		w, err := watchJournal(ctx, gws[0].base)
		if err != nil {
			return false, fmt.Errorf("-watch: %w", err)
		}
		defer func() { fmt.Fprintf(o.stderr, "tgbench: the live journal view was sent %d rows\n", w.stop()) }()
	}
	// The machine's speed drifts (other tenants): each scenario's ratio
	// divides by the mean of the ceiling runs taken right before and right
	// after it, the idle gateway beside them. ceilings[i] is the run before
	// names[i], and ceilings[i+1] the run after it.
	var ceilings []float64
	ceilingRun := func() error {
		c, err := ceilingRPS(ctx, o, ceil)
		if err == nil {
			ceilings = append(ceilings, c)
		}
		return err
	}
	first := len(rep.Scenarios) // the row of names[0]
	for _, n := range names {
		sc, _ := scenarioByName(n)
		if o.ceilingDur > 0 {
			if err := ceilingRun(); err != nil {
				return false, err
			}
		}
		var floor, floorCores float64
		if n == "acceleration_jwt" { // its ratio is to the signing floor, measured right before too
			if floor, floorCores, err = rs256Floor(o.rsaDur); err != nil {
				return false, fmt.Errorf("RS256 floor: %w", err)
			}
		}
		r, err := runOne(ctx, o, replicasTarget(gws), sc)
		if err != nil {
			return false, err
		}
		res := toResult(n, r, rep.CeilingRPS)
		if floor > 0 {
			res.RS256Floor, res.FloorRatio = floor, res.RPS/floor
			if floorCores > 0 && res.ServerCPU > 0 {
				res.FloorCores = floorCores
				res.FloorCoreRatio = (res.RPS / res.ServerCPU) / (floor / floorCores)
			}
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	if o.ceilingDur > 0 && len(names) > 0 {
		if err := ceilingRun(); err != nil {
			return false, err
		}
		for i := range names {
			rep.Scenarios[first+i].bracket(ceilings[i], ceilings[i+1])
		}
	}
	for _, gw := range gws { // RSS: the sum over replicas
		pid := gw.cmd.Process.Pid
		if kb, err := procStatusKB(pid, "VmRSS"); err == nil {
			rep.RSSMB += float64(kb) / 1024
		} else {
			fmt.Fprintln(o.stderr, "tgbench: reading the gateway's RSS:", err)
		}
		if kb, err := procStatusKB(pid, "VmHWM"); err == nil {
			rep.RSSPeakMB += float64(kb) / 1024
		}
	}
	if o.db == "" {
		rep.DBBytes = dbSize(dbPath)
	}
	for _, gw := range gws {
		if err := gw.stop(30 * time.Second); err != nil {
			fmt.Fprintln(o.stderr, "tgbench:", err)
		}
		if n := gw.logLines(); n > 0 {
			fmt.Fprintf(o.stderr, "tgbench: the gateway logged %d lines at warn or above; the last ones:\n%s\n", n, gw.logTail())
		}
	}

	fmt.Fprintf(o.stderr, "tgbench: RS256 floor, %s on %d goroutines …\n", o.rsaDur, runtime.GOMAXPROCS(0))
	if rep.RS256Floor, rep.RS256FloorCores, err = rs256Floor(o.rsaDur); err != nil {
		return false, fmt.Errorf("RS256 floor: %w", err)
	}

	printReport(o.stdout, o, &rep)
	for _, s := range rep.Scenarios {
		hadErrors = hadErrors || s.Errors > 0
	}
	return hadErrors, writeJSON(o.jsonPath, &rep)
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func printReport(w io.Writer, o options, rep *report) {
	fmt.Fprintf(w, "\ntokengate load test — %s, -c %d, -d %s (+%s warm-up), GOMAXPROCS %d, %s\n\n",
		rep.Date, rep.Conns, o.dur, o.warmup, rep.GOMAXPROCS, rep.GoVersion)
	printTable(w, rep.Scenarios, "ratio")
	for _, s := range rep.Scenarios {
		if s.Name == "authorization_code" {
			fmt.Fprintln(w, "\nauthorization_code counts whole flows: GET login page + POST login (303) + code exchange = 3 requests.")
		}
		if s.FloorRatio > 0 {
			fmt.Fprintf(w, "\n%s: %.3f of the RS256 floor measured right before it (%.0f signatures/s)", s.Name, s.FloorRatio, s.RS256Floor)
			if s.FloorCoreRatio > 0 {
				fmt.Fprintf(w, "; per core of the gateway's CPU, %.3f of the floor's per core", s.FloorCoreRatio)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\nharness limit (ceiling run): %.0f req/s — no scenario can exceed it on this machine\n", rep.CeilingRPS)
	if o.ceilingDur > 0 {
		fmt.Fprintf(w, "each ratio divides by the mean of the %s ceiling runs taken right before and right after its scenario (column \"ceiling\"): the machine's speed drifts\n", o.ceilingDur)
	}
	fmt.Fprintf(w, "RS256 floor: %.0f signatures/s (crypto/rsa SignPKCS1v15, 2048-bit, %d goroutines, which got %.2f cores)\n",
		rep.RS256Floor, rep.GOMAXPROCS, rep.RS256FloorCores)
	if o.db != "" {
		fmt.Fprintf(w, "%d gateway replica(s) on %s; RSS summed over replicas\n", rep.Replicas, redactURL(o.db))
	}
	fmt.Fprintf(w, "gateway after the run: RSS %.1f MB (peak %.1f MB), database %d bytes (.db + -wal + -shm; 0 for postgres), start-up %.0f ms\n",
		rep.RSSMB, rep.RSSPeakMB, rep.DBBytes, rep.StartupMS)
}

// printTable prints the scenario rows; ratioName heads the ratio column.
func printTable(w io.Writer, rows []scenarioResult, ratioName string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := len("scenario")
	for _, s := range rows {
		width = max(width, len(s.Name))
	}
	fmt.Fprintf(tw, "%-*s\treq/s\tp50 ms\tp99 ms\tp99.9 ms\t%s\tceiling\terrors\tcpu server\tcpu tgbench\tcpu other\tserver µs/req\t\n", width, "scenario", ratioName)
	for _, s := range rows {
		ceiling := "-" // a comparison's table (scale, metrics, console) has none
		if s.CeilingRPS > 0 {
			ceiling = fmt.Sprintf("%.0f", s.CeilingRPS)
		}
		fmt.Fprintf(tw, "%-*s\t%.0f\t%.2f\t%.2f\t%.2f\t%.3f\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t\n",
			width, s.Name, s.RPS, s.P50, s.P99, s.P999, s.Ratio, ceiling, s.Errors, s.ServerCPU, s.HarnessCPU, s.OtherCPU,
			s.ServerCPUPerReq)
	}
	tw.Flush()
}

// redactURL drops a password from a database URL for printing.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(database URL)"
	}
	return u.Redacted()
}
