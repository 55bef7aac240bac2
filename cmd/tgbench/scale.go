package main

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// preloadChunk is how many tokens go into one InsertTokensBulk call (one
// transaction of 1000-row INSERTs). A variable so the test can make chunks
// small.
var preloadChunk = 50_000

// defaultScaleScenarios are run on the empty and on the loaded database.
var defaultScaleScenarios = []string{"oauth2_cc", "accounda_validate"}

// scaleReport is the JSON document of a -scale run.
type scaleReport struct {
	N               int     `json:"n"`
	PreloadS        float64 `json:"preload_s"`
	PreloadRowsPerS float64 `json:"preload_rows_per_s"`
	// DBBytes is the loaded database right after the preload (closed, so
	// checkpointed); BytesPerToken is DBBytes / N.
	DBBytes         int64   `json:"db_bytes"`
	BytesPerToken   float64 `json:"bytes_per_token"`
	DBBytesAfterRun int64   `json:"db_bytes_after_run"`
	StartupEmptyMS  float64 `json:"startup_empty_ms"`
	StartupLoadedMS float64 `json:"startup_loaded_ms"`
	RSSEmptyMB      float64 `json:"rss_empty_mb"`
	RSSLoadedMB     float64 `json:"rss_loaded_mb"`
	// Empty has ratio 1. Loaded has ratio loaded ÷ empty, each row's
	// req/s first divided by the mean of the ceiling runs right before and
	// after it (-ceiling-d; the phases are minutes apart and the machine's
	// speed drifts), and raw_ratio the plain quotient of the req/s.
	Empty      []scenarioResult `json:"empty"`
	Loaded     []scenarioResult `json:"loaded"`
	Conns      int              `json:"connections"`
	DurationS  float64          `json:"duration_s"`
	GOMAXPROCS int              `json:"gomaxprocs"`
	GoVersion  string           `json:"go_version"`
	Date       string           `json:"date"`
}

// runScale: the scenarios on a fresh database, then a preload of N tokens
// into a second fresh database through storage/sqlite's bulk path, then the
// scenarios again on that one.
func runScale(ctx context.Context, o options) (hadErrors bool, err error) {
	names := o.scenarios
	if len(names) == 0 {
		names = defaultScaleScenarios
	}
	dir, err := os.MkdirTemp("", "tgbench-scale-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	rep := scaleReport{N: o.scale, Conns: o.conns, DurationS: o.dur.Seconds(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), Date: time.Now().Format(time.RFC3339)}
	fmt.Fprintf(o.stderr, "tgbench: scale test, N = %d tokens, in %s\n", o.scale, dir)

	var ceil *child
	if o.ceilingDur > 0 {
		if ceil, err = startCeiling(ctx, dir); err != nil {
			return false, err
		}
		defer func() {
			if stopErr := ceil.stop(5 * time.Second); stopErr != nil {
				fmt.Fprintln(o.stderr, "tgbench:", stopErr)
			}
		}()
	}

	phase := func(label, dbPath string) (rows []scenarioResult, startup time.Duration, rss float64, err error) {
		fmt.Fprintf(o.stderr, "tgbench: starting the gateway on the %s database …\n", label)
		gw, err := startGateway(ctx, o.tokengate, dir, dbPath, "", o.features(), o.startWait)
		if err != nil {
			return nil, 0, 0, err
		}
		defer gw.stop(30 * time.Second)
		fmt.Fprintf(o.stderr, "tgbench: start-up (process start to /healthz 200): %s\n", gw.startup.Round(time.Millisecond))
		var ceilings []float64 // ceilings[i] before names[i], ceilings[i+1] after it
		if ceil != nil {
			c, err := ceilingRPS(ctx, o, ceil) // the gateway idle
			if err != nil {
				return nil, 0, 0, err
			}
			ceilings = append(ceilings, c)
		}
		for i, n := range names {
			sc, _ := scenarioByName(n)
			r, err := runOne(ctx, o, gw.target(), sc)
			if err != nil {
				return nil, 0, 0, err
			}
			rows = append(rows, toResult(n, r, 0))
			if ceil != nil {
				c, err := ceilingRPS(ctx, o, ceil) // the gateway idle
				if err != nil {
					return nil, 0, 0, err
				}
				ceilings = append(ceilings, c)
				rows[i].bracket(ceilings[i], ceilings[i+1])
			}
		}
		if kb, err := procStatusKB(gw.cmd.Process.Pid, "VmRSS"); err == nil {
			rss = float64(kb) / 1024
		}
		if err := gw.stop(30 * time.Second); err != nil {
			fmt.Fprintln(o.stderr, "tgbench:", err)
		}
		return rows, gw.startup, rss, nil
	}

	var startup time.Duration
	if rep.Empty, startup, rep.RSSEmptyMB, err = phase("empty", filepath.Join(dir, "empty.db")); err != nil {
		return false, err
	}
	rep.StartupEmptyMS = float64(startup.Microseconds()) / 1000
	for i := range rep.Empty {
		rep.Empty[i].Ratio = 1
	}

	loaded := filepath.Join(dir, "loaded.db")
	took, err := preload(ctx, loaded, o.scale, o.stderr)
	if err != nil {
		return false, fmt.Errorf("preloading %d tokens: %w", o.scale, err)
	}
	rep.PreloadS = took.Seconds()
	rep.PreloadRowsPerS = float64(o.scale) / took.Seconds()
	rep.DBBytes = dbSize(loaded)
	rep.BytesPerToken = float64(rep.DBBytes) / float64(o.scale)

	if rep.Loaded, startup, rep.RSSLoadedMB, err = phase("loaded", loaded); err != nil {
		return false, err
	}
	rep.StartupLoadedMS = float64(startup.Microseconds()) / 1000
	rep.DBBytesAfterRun = dbSize(loaded)
	for i := range rep.Loaded {
		l, e := &rep.Loaded[i], rep.Empty[i]
		if e.RPS > 0 {
			l.RawRatio = l.RPS / e.RPS
			l.Ratio = overCeiling(*l) / overCeiling(e)
		}
	}

	w := o.stdout
	fmt.Fprintf(w, "\ntokengate scale test — %s, N = %d, -c %d, -d %s, GOMAXPROCS %d, %s\n\n",
		rep.Date, rep.N, rep.Conns, o.dur, rep.GOMAXPROCS, rep.GoVersion)
	var rows []scenarioResult
	for i := range rep.Empty {
		e, l := rep.Empty[i], rep.Loaded[i]
		e.Name += " (empty)"
		l.Name += " (loaded)"
		rows = append(rows, e, l)
	}
	printTable(w, rows, "loaded/empty")
	if ceil != nil {
		fmt.Fprintln(w, "\nloaded/empty: each req/s over the mean of the ceiling runs right before and after it, loaded over empty; without the ceilings:")
		for _, l := range rep.Loaded {
			fmt.Fprintf(w, "  %-18s %.3f\n", l.Name, l.RawRatio)
		}
	}
	fmt.Fprintf(w, "\npreload: %d tokens in %s (%.0f rows/s)\n", rep.N, took.Round(time.Millisecond), rep.PreloadRowsPerS)
	fmt.Fprintf(w, "database after the preload: %d bytes, %.1f bytes per stored token (after the run: %d bytes)\n",
		rep.DBBytes, rep.BytesPerToken, rep.DBBytesAfterRun)
	fmt.Fprintf(w, "start-up (process start to /healthz 200): empty %.0f ms, loaded %.0f ms\n", rep.StartupEmptyMS, rep.StartupLoadedMS)
	fmt.Fprintf(w, "gateway RSS after its run: empty %.1f MB, loaded %.1f MB\n", rep.RSSEmptyMB, rep.RSSLoadedMB)
	for _, r := range rows {
		hadErrors = hadErrors || r.Errors > 0
	}
	return hadErrors, writeJSON(o.jsonPath, &rep)
}

// overCeiling is a row's req/s over the mean of its ceiling runs, or its
// req/s when it has none (-ceiling-d 0).
func overCeiling(r scenarioResult) float64 {
	if r.CeilingRPS > 0 {
		return r.RPS / r.CeilingRPS
	}
	return r.RPS
}

// preload creates path (seeded with the default config's clients, users and
// authorizations, as the gateway would) and inserts n access tokens of
// demo-client in the oauth2 dialect with random digests, expiring in a day.
// Generators on GOMAXPROCS-1 goroutines (at least one) build chunks while
// one writer inserts them: SQLite has a single writer, so the insert side
// is one core, kept busy.
func preload(ctx context.Context, path string, n int, progress io.Writer) (time.Duration, error) {
	start := time.Now()
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	cfg, err := config.Default(dialects.Catalog())
	if err != nil {
		return 0, err
	}
	seed, err := cfg.Seed()
	if err == nil {
		err = core.New(core.Options{Store: store}).Seed(ctx, seed)
	}
	if err != nil {
		return 0, fmt.Errorf("seeding: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []*core.Token, 2)
	var next atomic.Int64
	nChunks := int64((n + preloadChunk - 1) / preloadChunk)
	// The preloaded tokens were issued one microsecond apart, the last just
	// before now.
	first := time.Now().Add(-time.Duration(n) * time.Microsecond)
	var gens sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)-1) {
		gens.Go(func() {
			var seed [32]byte
			crand.Read(seed[:])
			rng := rand.NewChaCha8(seed)
			for {
				i := next.Add(1) - 1
				if i >= nChunks {
					return
				}
				size := min(preloadChunk, n-int(i)*preloadChunk)
				c := makeTokens(rng, size, first.Add(time.Duration(i)*time.Duration(preloadChunk)*time.Microsecond))
				select {
				case chunks <- c:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { gens.Wait(); close(chunks) }()

	done, lastReport := 0, time.Now()
	fmt.Fprintf(progress, "tgbench: preloading %d tokens in chunks of %d …\n", n, preloadChunk)
	for c := range chunks {
		if err := store.InsertTokensBulk(ctx, c); err != nil {
			return 0, err
		}
		done += len(c)
		if time.Since(lastReport) >= 5*time.Second || done == n {
			lastReport = time.Now()
			el := time.Since(start)
			rate := float64(done) / el.Seconds()
			eta := time.Duration(float64(n-done) / rate * float64(time.Second))
			fmt.Fprintf(progress, "tgbench: preload %d / %d (%.0f%%), %.0f rows/s, %s elapsed, ETA %s\n",
				done, n, 100*float64(done)/float64(n), rate, el.Round(time.Second), eta.Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if done != n {
		return 0, fmt.Errorf("inserted %d of %d tokens", done, n)
	}
	if err := store.Close(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// makeTokens builds size access tokens as the oauth2 dialect issues them,
// one microsecond apart from first: opaque values with time-ordered keys and
// time-ordered family ids (core's formats), so a chunk's inserts append to
// the key index as issuance does.
func makeTokens(rng io.Reader, size int, first time.Time) []*core.Token {
	tokens := make([]*core.Token, size)
	backing := make([]core.Token, size)
	minter := core.OpaqueMinter{Rand: rng}
	for i := range tokens {
		issued := first.Add(time.Duration(i) * time.Microsecond)
		value, _ := minter.Mint(context.Background(), core.Claims{IssuedAt: issued})
		family, _ := core.NewFamilyID(rng, issued)
		t := &backing[i]
		t.Digest = core.TokenKey(value)
		t.Kind = core.TokenAccess
		t.ClientID = demoClient
		t.Dialect = "oauth2"
		t.FamilyID = family
		t.IssuedAt = issued
		t.AuthTime = issued
		t.ExpiresAt = issued.Add(24 * time.Hour)
		tokens[i] = t
	}
	return tokens
}
