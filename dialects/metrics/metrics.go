// Package metrics is tokengate's Prometheus instrumentation: it implements
// the engine's and the storage's observer ports (core.Observer,
// core.StoreObserver), counts every dialect request by instance, route
// pattern, status and grant, and serves /metrics.
//
// The request path stays cheap: each route's counters and latency
// histogram are resolved once, at mount; a request then costs one
// histogram observation and one atomic add, with no label lookup and no
// allocation. Label values come from fixed sets (instance names, route
// patterns, status codes, the three grants), never from what a client
// sent, so the series stay few.
package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

const namespace = "tokengate"

// latencyBuckets span a cached token answer (well under a millisecond) to
// a bcrypt check under load or a slow database.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Metrics holds every series tokengate exports. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests *requestCounter
	latency  *prometheus.HistogramVec

	issued    *prometheus.CounterVec
	refreshed *prometheus.CounterVec
	revoked   *prometheus.CounterVec
	reuse     *prometheus.CounterVec
	limited   *prometheus.CounterVec
	faults    *prometheus.CounterVec

	storeLatency *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	groupCommit  prometheus.Histogram
	groupRows    prometheus.Histogram

	dialects sync.Map // instance name -> *dialectCounters
}

// New makes the metrics, registered with a registry of their own (plus the
// Go runtime's and the process's).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), requests: newRequestCounter()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "http_request_duration_seconds", Help: "Time from receiving a dialect request to answering it, by instance and route.",
		Buckets: latencyBuckets}, []string{"dialect", "method", "route"})
	m.issued = counter("tokens_issued_total", "Tokens issued (stored), by dialect instance and kind (access, refresh, code).", "dialect", "kind")
	m.refreshed = counter("tokens_refreshed_total", "Successful refresh grants, by dialect instance.", "dialect")
	m.revoked = counter("tokens_revoked_total",
		"Tokens revoked, by dialect instance and cause (requested: RFC 7009; reuse: a replayed code or refresh token took its family; admin: the control plane, dialect empty).",
		"dialect", "cause")
	m.reuse = counter("token_reuse_detections_total",
		"Consumed refresh tokens or codes presented again, by dialect instance and reason (refresh_reuse, code_replay).", "dialect", "reason")
	m.limited = counter("rate_limiter_refusals_total",
		"Attempts the failure limiter refused before checking them, by what was limited (client, user).", "limiter")
	m.faults = counter("fault_rules_fired_total", "Fault rules that fired, by dialect instance and action (status, latency, drop).",
		"dialect", "action")
	m.storeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "storage_operation_duration_seconds", Help: "Latency of storage operations, by operation (Store method).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}}, []string{"op"})
	m.storeErrors = counter("storage_operation_errors_total",
		"Storage operations that failed (not a missing row or a lost race), by operation and kind (unavailable, other).", "op", "kind")
	sizes := prometheus.ExponentialBuckets(1, 2, 9) // 1 .. 256, the committer's largest batch
	m.groupCommit = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
		Name: "sqlite_group_commit_requests", Help: "Requests served by each SQLite group-commit transaction.", Buckets: sizes})
	m.groupRows = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
		Name: "sqlite_group_commit_rows", Help: "Token rows written by each SQLite group-commit transaction.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	m.reg.MustRegister(m.requests, m.latency, m.issued, m.refreshed, m.revoked, m.reuse, m.limited, m.faults,
		m.storeLatency, m.storeErrors, m.groupCommit, m.groupRows,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where every series is registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Journal exports the journal's size at every scrape: entries and
// estimated bytes held.
func (m *Metrics) Journal(stats func() (entries int, bytes int64)) {
	gauge := func(name, help string, read func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, read)
	}
	m.reg.MustRegister(
		gauge("journal_entries", "Requests the admin journal holds.", func() float64 { n, _ := stats(); return float64(n) }),
		gauge("journal_bytes", "Estimated bytes of the requests the admin journal holds.", func() float64 { _, b := stats(); return float64(b) }),
	)
}

// Route returns what counts the requests of one route of an instance; the
// gateway asks once per route at mount. method and route "" stand for the
// paths the instance owns but does not route.
func (m *Metrics) Route(instance, method, route string) wire.RouteMetrics {
	if route == "" {
		method, route = "any", "unrouted"
	}
	return m.requests.route(instance, method, route, m.latency.WithLabelValues(instance, method, route))
}

// FaultFired counts a fired fault rule.
func (m *Metrics) FaultFired(dialect, action string) { m.faults.WithLabelValues(dialect, action).Inc() }

// ---- core.Observer ----

// dialectCounters are one instance's engine counters, resolved once.
type dialectCounters struct {
	access, refresh, code prometheus.Counter
	refreshed             prometheus.Counter
}

func (m *Metrics) forDialect(name string) *dialectCounters {
	if d, ok := m.dialects.Load(name); ok {
		return d.(*dialectCounters)
	}
	d := &dialectCounters{
		access:    m.issued.WithLabelValues(name, string(core.TokenAccess)),
		refresh:   m.issued.WithLabelValues(name, string(core.TokenRefresh)),
		code:      m.issued.WithLabelValues(name, string(core.TokenCode)),
		refreshed: m.refreshed.WithLabelValues(name),
	}
	actual, _ := m.dialects.LoadOrStore(name, d)
	return actual.(*dialectCounters)
}

// Issued implements core.Observer.
func (m *Metrics) Issued(dialect string, kind core.TokenKind) {
	d := m.forDialect(dialect)
	switch kind {
	case core.TokenAccess:
		d.access.Inc()
	case core.TokenRefresh:
		d.refresh.Inc()
	case core.TokenCode:
		d.code.Inc()
	default:
		m.issued.WithLabelValues(dialect, string(kind)).Inc()
	}
}

// Refreshed implements core.Observer.
func (m *Metrics) Refreshed(dialect string) { m.forDialect(dialect).refreshed.Inc() }

// Revoked implements core.Observer. Revocations are rare: no resolving.
func (m *Metrics) Revoked(dialect string, cause core.RevokeCause, n int) {
	m.revoked.WithLabelValues(dialect, string(cause)).Add(float64(n))
}

// ReuseDetected implements core.Observer.
func (m *Metrics) ReuseDetected(dialect string, reason core.Reason) {
	m.reuse.WithLabelValues(dialect, string(reason)).Inc()
}

// RateLimited implements core.Observer.
func (m *Metrics) RateLimited(limiter string) { m.limited.WithLabelValues(limiter).Inc() }

// ---- core.StoreObserver ----

// Op implements core.StoreObserver: the operation's series, resolved once.
func (m *Metrics) Op(name string) core.OpObserver {
	return &storeOp{latency: m.storeLatency.WithLabelValues(name),
		unavailable: m.storeErrors.WithLabelValues(name, "unavailable"), other: m.storeErrors.WithLabelValues(name, "other")}
}

// GroupCommit implements core.StoreObserver.
func (m *Metrics) GroupCommit(requests, rows int) {
	m.groupCommit.Observe(float64(requests))
	m.groupRows.Observe(float64(rows))
}

type storeOp struct {
	latency            prometheus.Observer
	unavailable, other prometheus.Counter
}

func (o *storeOp) Done(d time.Duration, err error) {
	o.latency.Observe(d.Seconds())
	switch {
	case !core.StoreFailure(err):
	case errors.Is(err, core.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		o.unavailable.Inc()
	default:
		o.other.Inc()
	}
}

// statusText holds the status label of every code, made once.
var statusText = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return strconv.Itoa(code)
}

var (
	_ core.Observer      = (*Metrics)(nil)
	_ core.StoreObserver = (*Metrics)(nil)
)
