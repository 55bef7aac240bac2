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

// compareScenarios are the token endpoints -metrics compare measures by
// default: issuance, refresh and the read paths, where the request
// counters and latency histograms are a measurable share of the work
// (acceleration_jwt is an RSA signature per request; its share is nil).
var compareScenarios = []string{"oauth2_cc", "accounda_token", "errorid_token", "hurdlr_cc", "hurdlr_refresh",
	"oauth2_introspect", "accounda_validate"}

// compareRounds is how often each scenario runs on each gateway; the
// order alternates (on first, then off first) so that drift on a shared
// machine falls on both alike.
const compareRounds = 2

// metricsRow is one scenario's comparison.
type metricsRow struct {
	Name        string  `json:"name"`
	RPSOn       float64 `json:"rps_metrics_on"`
	RPSOff      float64 `json:"rps_metrics_off"`
	RPSChange   float64 `json:"rps_change_pct"`
	CPUOn       float64 `json:"server_cpu_us_per_req_metrics_on"`
	CPUOff      float64 `json:"server_cpu_us_per_req_metrics_off"`
	CPUChange   float64 `json:"server_cpu_change_pct"`
	P99On       float64 `json:"p99_ms_metrics_on"`
	P99Off      float64 `json:"p99_ms_metrics_off"`
	ErrorsOn    uint64  `json:"errors_metrics_on"`
	ErrorsOff   uint64  `json:"errors_metrics_off"`
	RoundsEach  int     `json:"rounds_each"`
	DurationS   float64 `json:"duration_s"`
	Connections int     `json:"connections"`
}

// runMetricsCompare runs every scenario on a gateway with metrics and on
// one without (each on its own fresh database), alternately, and prints
// what the metrics cost: req/s and server CPU per request.
func runMetricsCompare(ctx context.Context, o options) (hadErrors bool, err error) {
	names := o.scenarios
	if len(names) == 0 {
		names = compareScenarios
	}
	dir, err := os.MkdirTemp("", "tgbench-metrics-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(o.stderr, "tgbench: metrics on vs off, %d connections, %s per run (+%s warm-up), %d rounds each, %d CPUs\n",
		o.conns, o.dur, o.warmup, compareRounds, runtime.NumCPU())
	on, err := startGateway(ctx, o.tokengate, dir, filepath.Join(dir, "on.db"), "", true, o.startWait)
	if err != nil {
		return false, err
	}
	defer on.stop(30 * time.Second)
	off, err := startGateway(ctx, o.tokengate, dir, filepath.Join(dir, "off.db"), "", false, o.startWait)
	if err != nil {
		return false, err
	}
	defer off.stop(30 * time.Second)

	var rows []metricsRow
	for _, n := range names {
		sc, _ := scenarioByName(n)
		var sums [2]struct {
			ok, errors uint64
			secs, cpu  float64
			p99        float64
		}
		for round := range compareRounds {
			order := []int{0, 1}
			if round%2 == 1 {
				order = []int{1, 0}
			}
			for _, i := range order {
				gw := []*child{on, off}[i]
				r, err := runOne(ctx, o, gw.target(), sc)
				if err != nil {
					return false, err
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
		row := metricsRow{Name: n, RoundsEach: compareRounds, DurationS: o.dur.Seconds(), Connections: o.conns,
			ErrorsOn: sums[0].errors, ErrorsOff: sums[1].errors, P99On: sums[0].p99, P99Off: sums[1].p99}
		row.RPSOn, row.RPSOff = float64(sums[0].ok)/sums[0].secs, float64(sums[1].ok)/sums[1].secs
		if sums[0].ok > 0 && sums[1].ok > 0 {
			row.CPUOn, row.CPUOff = sums[0].cpu*1e6/float64(sums[0].ok), sums[1].cpu*1e6/float64(sums[1].ok)
		}
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
		time.Now().Format(time.RFC3339), o.conns, o.dur, o.warmup, compareRounds, runtime.GOMAXPROCS(0), runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\treq/s on\treq/s off\tchange\tµs/req on\tµs/req off\tchange\tp99 ms on\tp99 ms off\terrors\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%+.1f %%\t%.0f\t%.0f\t%+.1f %%\t%.2f\t%.2f\t%d\t\n", r.Name, r.RPSOn, r.RPSOff, r.RPSChange,
			r.CPUOn, r.CPUOff, r.CPUChange, r.P99On, r.P99Off, r.ErrorsOn+r.ErrorsOff)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nchange: metrics on relative to off (req/s: negative is slower; µs/req: server CPU per request, positive costs more).")
}
