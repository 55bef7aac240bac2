package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// op is one closed-loop iteration of a scenario: usually one HTTP request,
// for authorization_code one whole login-and-exchange flow. nil means it
// succeeded.
type op func(ctx context.Context) error

// target is a running server the load is aimed at.
type target struct {
	bases []string // http://127.0.0.1:port of each replica; worker i uses bases[i%len]
	pids  []int    // the server processes, for CPU accounting
	// pprof is the first server's runtime profiler (http://127.0.0.1:port),
	// when it was started with one.
	pprof string
}

// worker is one closed-loop connection's state.
type worker struct {
	id     int
	base   string
	client *http.Client
	buf    bytes.Buffer // the last response body, reused
	rng    *rand.Rand
}

// statusError is an answer with an unexpected status code.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// newClient is the load generator's HTTP client: c keep-alive connections to
// one host, never more, no compression, no redirects followed (the login
// POST's 303 is an answer, not a hop).
func newClient(c int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// request builds a request to the worker's target; body "" sends none.
func (w *worker) request(ctx context.Context, method, path, contentType, body string) (*http.Request, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// do sends req and reads the whole body into w.buf. want 0 accepts any 2xx;
// otherwise exactly that status is accepted.
func (w *worker) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if want != 0 {
		ok = resp.StatusCode == want
	}
	if !ok {
		body := w.buf.String()
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		return resp, &statusError{code: resp.StatusCode, body: strings.TrimSpace(body)}
	}
	return resp, nil
}

// loadConfig is how one scenario is driven.
type loadConfig struct {
	conns  int
	warmup time.Duration
	dur    time.Duration
	// profilePath, when set, receives a CPU profile of the target's
	// profiler taken over the measured window.
	profilePath string
}

// loadResult is what one scenario run measured.
type loadResult struct {
	ok         uint64
	errors     uint64
	hist       histogram
	errSamples []string
	serverCPU  float64 // cores used by the target process during the window
	harnessCPU float64 // cores used by tgbench itself during the window
	otherCPU   float64 // cores used by every other process on the machine
	elapsed    time.Duration
}

func (r *loadResult) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// runLoad prepares one op per connection (in parallel, before the clock
// starts) and primes the server with one un-timed iteration on one
// connection (so one-off work such as the first KDF check of a client
// secret or the creation of a signing key is not paid by all connections at
// once inside the window), then runs the ops closed-loop: warm-up, then the
// measured window. An op is counted when it completes inside the window,
// whenever it started; after the window no new op starts and the ones in
// flight are let finish, uncounted (cancelling them would make the server
// log errors).
func runLoad(ctx context.Context, t target, lc loadConfig, prepare func(ctx context.Context, w *worker) (op, error)) (*loadResult, error) {
	client := newClient(lc.conns)
	defer client.CloseIdleConnections()
	workers := make([]*worker, lc.conns)
	ops := make([]op, lc.conns)
	errs := make([]error, lc.conns)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{id: i, base: t.bases[i%len(t.bases)], client: client, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))}
		wg.Go(func() { ops[i], errs[i] = prepare(ctx, workers[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("preparing: %w", err)
	}
	if err := ops[0](ctx); err != nil {
		return nil, fmt.Errorf("priming: %w", err)
	}

	start := time.Now()
	from := start.Add(lc.warmup)
	end := from.Add(lc.dur)

	type partial struct {
		h       histogram
		ok, bad uint64
		samples []string
	}
	parts := make([]*partial, lc.conns)
	cpu := make(chan [3]float64, 1)
	go func() { cpu <- measureCPU(ctx, t.pids, from, end) }()
	profiled := make(chan error, 1)
	if lc.profilePath != "" && t.pprof != "" {
		go func() { profiled <- captureProfile(ctx, t.pprof, lc.profilePath, from, lc.dur) }()
	} else {
		profiled <- nil
	}
	for i := range workers {
		parts[i] = &partial{}
		wg.Go(func() {
			p, run := parts[i], ops[i]
			for {
				t0 := time.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					return
				}
				err := run(ctx)
				t1 := time.Now()
				if t1.Before(from) {
					continue
				}
				if t1.After(end) {
					return
				}
				if err != nil {
					p.bad++
					if len(p.samples) < 3 {
						p.samples = append(p.samples, err.Error())
					}
					continue
				}
				p.ok++
				p.h.record(t1.Sub(t0))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &loadResult{elapsed: end.Sub(from)}
	for _, p := range parts {
		res.hist.merge(&p.h)
		res.ok += p.ok
		res.errors += p.bad
		for _, s := range p.samples {
			if len(res.errSamples) < 5 {
				res.errSamples = append(res.errSamples, s)
			}
		}
	}
	c := <-cpu
	res.serverCPU, res.harnessCPU, res.otherCPU = c[0], c[1], c[2]
	if err := <-profiled; err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return res, nil
}

// captureProfile waits for the window to open, then asks the profiler at
// base for a CPU profile of the window's length (whole seconds, at least
// one: the profiler's unit) and writes it to path.
func captureProfile(ctx context.Context, base, path string, from time.Time, dur time.Duration) error {
	select {
	case <-time.After(time.Until(from)):
	case <-ctx.Done():
		return ctx.Err()
	}
	secs := max(1, int(dur.Round(time.Second)/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", req.URL, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// measureCPU samples the CPU time of process pid, of this process and of the
// whole machine at from and at end, and returns as cores (CPU seconds per
// wall second) what pid used, what tgbench used, and what everything else
// used: on a shared machine the last one says how much the run was
// disturbed. Where /proc is not readable it returns zeros.
func measureCPU(ctx context.Context, pids []int, from, end time.Time) [3]float64 {
	procsCPU := func() time.Duration {
		var sum time.Duration
		for _, p := range pids {
			c := procCPU(p)
			if c < 0 {
				return -1
			}
			sum += c
		}
		return sum
	}
	wait := func(at time.Time) bool {
		select {
		case <-time.After(time.Until(at)):
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !wait(from) {
		return [3]float64{}
	}
	s0, h0, m0, t0 := procsCPU(), selfCPU(), machineCPU(), time.Now()
	if !wait(end) {
		return [3]float64{}
	}
	s1, h1, m1, t1 := procsCPU(), selfCPU(), machineCPU(), time.Now()
	wall := t1.Sub(t0).Seconds()
	if wall <= 0 || s0 < 0 || s1 < 0 {
		return [3]float64{}
	}
	server, harness := (s1-s0).Seconds()/wall, (h1-h0).Seconds()/wall
	other := 0.0
	if m0 >= 0 && m1 >= 0 {
		other = max(0, (m1-m0).Seconds()/wall-server-harness)
	}
	return [3]float64{server, harness, other}
}
