package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"
)

// compareScenarios are the token endpoints -metrics compare and -console
// compare measure by default: issuance, refresh and the read paths, where
// the request counters, latency histograms and journal are a measurable
// share of the work (acceleration_jwt is an RSA signature per request;
// their share is nil).
var compareScenarios = []string{"oauth2_cc", "accounda_token", "errorid_token", "hurdlr_cc", "hurdlr_refresh",
	"oauth2_introspect", "accounda_validate"}

// side is one gateway of a comparison, on its own fresh database.
type side struct {
	name string
	f    features
	// watch keeps one live journal view of the console open on it.
	watch bool
}

// sideSums adds up one scenario's rounds on one side.
type sideSums struct {
	ok, errors uint64
	secs, cpu  float64 // window seconds; server CPU seconds
	p99        float64 // the worst round's
}

func (s sideSums) rps() float64 {
	if s.secs == 0 {
		return 0
	}
	return float64(s.ok) / s.secs
}

// cpuPerReq is the server's CPU time per successful request, in µs.
func (s sideSums) cpuPerReq() float64 {
	if s.ok == 0 {
		return 0
	}
	return s.cpu * 1e6 / float64(s.ok)
}

// roundsOf is how often a comparison of n gateways runs each scenario on each.
func (o options) roundsOf(n int) int {
	if o.rounds > 0 {
		return o.rounds
	}
	return n
}

// compareSides starts one gateway per side and runs every scenario of names
// on each, o.roundsOf(len(sides)) times; the order rotates each round, so
// that drift on a shared machine falls on every side alike. It returns, per
// scenario, one sum per side, and the rows each watched side's live view
// was sent.
func compareSides(ctx context.Context, o options, names []string, sides []side) ([][]sideSums, []int64, error) {
	rounds := o.roundsOf(len(sides))
	dir, err := os.MkdirTemp("", "tgbench-compare-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	gws := make([]*child, len(sides))
	watchers := make([]*watcher, len(sides))
	watched := make([]int64, len(sides))
	defer func() { // on an early return
		for _, w := range watchers {
			if w != nil {
				w.stop()
			}
		}
	}()
	for i, s := range sides {
		gw, err := startGateway(ctx, o.tokengate, dir, filepath.Join(dir, s.name+".db"), "", s.f, o.startWait)
		if err != nil {
			return nil, nil, err
		}
		defer gw.stop(30 * time.Second)
		gws[i] = gw
		if s.watch {
			if watchers[i], err = watchJournal(ctx, gw.base); err != nil {
				return nil, nil, fmt.Errorf("watching %s: %w", s.name, err)
			}
		}
	}
	var out [][]sideSums
	for _, n := range names {
		sc, _ := scenarioByName(n)
		sums := make([]sideSums, len(sides))
		for round := range rounds {
			for k := range sides {
				i := (k + round) % len(sides)
				fmt.Fprintf(o.stderr, "tgbench: round %d of %d, gateway %q:\n", round+1, rounds, sides[i].name)
				r, err := runOne(ctx, o, gws[i].target(), sc)
				if err != nil {
					return nil, nil, err
				}
				res := toResult(n, r, 0)
				s := &sums[i]
				s.ok += r.ok
				s.secs += r.elapsed.Seconds()
				s.cpu += res.ServerCPU * r.elapsed.Seconds()
				s.errors += res.Errors
				s.p99 = max(s.p99, res.P99)
			}
		}
		out = append(out, sums)
	}
	for i, w := range watchers {
		if w != nil {
			watched[i], watchers[i] = w.stop(), nil
		}
	}
	return out, watched, nil
}

// metricsRow is one scenario's comparison.
type metricsRow struct {
	Name      string  `json:"name"`
	RPSOn     float64 `json:"rps_metrics_on"`
	RPSOff    float64 `json:"rps_metrics_off"`
	RPSChange float64 `json:"rps_change_pct"`
	CPUOn     float64 `json:"server_cpu_us_per_req_metrics_on"`
	CPUOff    float64 `json:"server_cpu_us_per_req_metrics_off"`
	CPUChange float64 `json:"server_cpu_change_pct"`
	P99On     float64 `json:"p99_ms_metrics_on"`
	P99Off    float64 `json:"p99_ms_metrics_off"`
	ErrorsOn  uint64  `json:"errors_metrics_on"`
	ErrorsOff uint64  `json:"errors_metrics_off"`
	compareRun
}

// compareRun is how a comparison's rows were measured.
type compareRun struct {
	RoundsEach  int     `json:"rounds_each"`
	DurationS   float64 `json:"duration_s"`
	Connections int     `json:"connections"`
}

func (o options) compareRun(sides int) compareRun {
	return compareRun{RoundsEach: o.roundsOf(sides), DurationS: o.dur.Seconds(), Connections: o.conns}
}

// runMetricsCompare runs every scenario on a gateway with metrics and on
// one without (each on its own fresh database), alternately, and prints
// what the metrics cost: req/s and server CPU per request.
func runMetricsCompare(ctx context.Context, o options) (hadErrors bool, err error) {
	names := o.comparedScenarios()
	fmt.Fprintf(o.stderr, "tgbench: metrics on vs off, %d connections, %s per run (+%s warm-up), %d rounds each, %d CPUs\n",
		o.conns, o.dur, o.warmup, o.roundsOf(2), runtime.NumCPU())
	console := o.console != "off"
	sums, _, err := compareSides(ctx, o, names, []side{{name: "on", f: features{metrics: true, console: console}},
		{name: "off", f: features{console: console}}})
	if err != nil {
		return false, err
	}
	var rows []metricsRow
	for k, n := range names {
		on, off := sums[k][0], sums[k][1]
		row := metricsRow{Name: n, compareRun: o.compareRun(2), ErrorsOn: on.errors, ErrorsOff: off.errors, P99On: on.p99, P99Off: off.p99,
			RPSOn: on.rps(), RPSOff: off.rps(), CPUOn: on.cpuPerReq(), CPUOff: off.cpuPerReq()}
		row.RPSChange, row.CPUChange = change(row.RPSOff, row.RPSOn), change(row.CPUOff, row.CPUOn)
		rows = append(rows, row)
		hadErrors = hadErrors || row.ErrorsOn > 0 || row.ErrorsOff > 0
	}
	printMetricsCompare(o.stdout, o, rows)
	return hadErrors, writeJSON(o.jsonPath, rows)
}

// change is the relative change from base to v, in percent.
func change(base, v float64) float64 {
	if base == 0 {
		return 0
	}
	return (v - base) / base * 100
}

func printMetricsCompare(w io.Writer, o options, rows []metricsRow) {
	fmt.Fprintf(w, "\ntokengate metrics cost — %s, -c %d, -d %s (+%s warm-up) × %d rounds per side, GOMAXPROCS %d, %s\n\n",
		time.Now().Format(time.RFC3339), o.conns, o.dur, o.warmup, o.roundsOf(2), runtime.GOMAXPROCS(0), runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\treq/s on\treq/s off\tchange\tµs/req on\tµs/req off\tchange\tp99 ms on\tp99 ms off\terrors\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%+.1f %%\t%.0f\t%.0f\t%+.1f %%\t%.2f\t%.2f\t%d\t\n", r.Name, r.RPSOn, r.RPSOff, r.RPSChange,
			r.CPUOn, r.CPUOff, r.CPUChange, r.P99On, r.P99Off, r.ErrorsOn+r.ErrorsOff)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nchange: metrics on relative to off (req/s: negative is slower; µs/req: server CPU per request, positive costs more).")
}

// consoleRow is one scenario's comparison of the console's cost: a gateway
// without the console (its journal feed bypassed), one with the console
// and no one watching, and one with a live journal view open.
type consoleRow struct {
	Name           string  `json:"name"`
	RPSOff         float64 `json:"rps_console_off"`
	RPSOn          float64 `json:"rps_console_on"`
	RPSWatched     float64 `json:"rps_console_watched"`
	CPUOff         float64 `json:"server_cpu_us_per_req_console_off"`
	CPUOn          float64 `json:"server_cpu_us_per_req_console_on"`
	CPUWatched     float64 `json:"server_cpu_us_per_req_console_watched"`
	CPUOnChange    float64 `json:"server_cpu_change_on_pct"`
	CPUWatchChange float64 `json:"server_cpu_change_watched_pct"`
	P99Off         float64 `json:"p99_ms_console_off"`
	P99On          float64 `json:"p99_ms_console_on"`
	P99Watched     float64 `json:"p99_ms_console_watched"`
	Errors         uint64  `json:"errors"`
	compareRun
}

// runConsoleCompare measures what the console costs the token endpoints:
// every scenario on three gateways, alternately.
func runConsoleCompare(ctx context.Context, o options) (hadErrors bool, err error) {
	names := o.comparedScenarios()
	fmt.Fprintf(o.stderr, "tgbench: console off vs on vs watched, %d connections, %s per run (+%s warm-up), %d rounds each, %d CPUs\n",
		o.conns, o.dur, o.warmup, o.roundsOf(3), runtime.NumCPU())
	metrics := o.metrics != "off"
	sums, watched, err := compareSides(ctx, o, names, []side{{name: "off", f: features{metrics: metrics}},
		{name: "on", f: features{metrics: metrics, console: true}}, {name: "watched", f: features{metrics: metrics, console: true}, watch: true}})
	if err != nil {
		return false, err
	}
	var rows []consoleRow
	for k, n := range names {
		off, on, wa := sums[k][0], sums[k][1], sums[k][2]
		row := consoleRow{Name: n, compareRun: o.compareRun(3), RPSOff: off.rps(), RPSOn: on.rps(), RPSWatched: wa.rps(), CPUOff: off.cpuPerReq(), CPUOn: on.cpuPerReq(),
			CPUWatched: wa.cpuPerReq(), P99Off: off.p99, P99On: on.p99, P99Watched: wa.p99, Errors: off.errors + on.errors + wa.errors}
		row.CPUOnChange, row.CPUWatchChange = change(row.CPUOff, row.CPUOn), change(row.CPUOff, row.CPUWatched)
		rows = append(rows, row)
		hadErrors = hadErrors || row.Errors > 0
	}
	w := o.stdout
	fmt.Fprintf(w, "\ntokengate console cost — %s, -c %d, -d %s (+%s warm-up) × %d rounds per side, GOMAXPROCS %d, %s\n\n",
		time.Now().Format(time.RFC3339), o.conns, o.dur, o.warmup, o.roundsOf(3), runtime.GOMAXPROCS(0), runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tµs/req off\tµs/req on\tchange\tµs/req watched\tchange\treq/s off\treq/s on\treq/s watched\tp99 ms off\ton\twatched\terrors\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%+.1f %%\t%.1f\t%+.1f %%\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t\n", r.Name, r.CPUOff, r.CPUOn,
			r.CPUOnChange, r.CPUWatched, r.CPUWatchChange, r.RPSOff, r.RPSOn, r.RPSWatched, r.P99Off, r.P99On, r.P99Watched, r.Errors)
	}
	tw.Flush()
	fmt.Fprintf(w, "\noff: console.enabled false (no journal feed); on: the console, no one watching; watched: one live journal view open (sent %d rows).\n", watched[2])
	fmt.Fprintln(w, "change: server CPU per request relative to off (positive costs more).")
	return hadErrors, writeJSON(o.jsonPath, rows)
}
