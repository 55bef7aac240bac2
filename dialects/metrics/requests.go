package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokengate/tokengate/core"
)

// grants are the grant label's values: the three grants, "none" for a
// request that presented none and "other" for anything else a client sent
// (so a client cannot make new series).
var grants = [...]string{"none", string(core.GrantClientCredentials), string(core.GrantAuthorizationCode),
	string(core.GrantRefreshToken), "other"}

func grantIndex(g string) uint8 {
	switch g {
	case "":
		return 0
	case string(core.GrantClientCredentials):
		return 1
	case string(core.GrantAuthorizationCode):
		return 2
	case string(core.GrantRefreshToken):
		return 3
	}
	return 4
}

// requestCounter is tokengate_http_requests_total: a collector of its own
// rather than a CounterVec, so that counting a request needs no label
// lookup (each route holds its cells) and no lock (the cells a route has
// seen are read through an atomic pointer; only a new status and grant
// pair takes the route's mutex, once).
type requestCounter struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	routes []*route
	byKey  map[[3]string]*route
}

func newRequestCounter() *requestCounter {
	return &requestCounter{desc: prometheus.NewDesc(namespace+"_http_requests_total",
		"Dialect requests answered, by instance, route pattern (unrouted: a path the instance owns but does not route), method, status code and grant presented.",
		[]string{"dialect", "method", "route", "status", "grant"}, nil), byKey: map[[3]string]*route{}}
}

// route returns the counters of one route, the same ones when a route is
// mounted again (an instance added at run time, removed, added back), so
// no series is collected twice.
func (rc *requestCounter) route(instance, method, path string, latency prometheus.Observer) *route {
	key := [3]string{instance, method, path}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r := rc.byKey[key]; r != nil {
		return r
	}
	r := &route{labels: key, latency: latency}
	rc.routes = append(rc.routes, r)
	rc.byKey[key] = r
	return r
}

func (rc *requestCounter) Describe(ch chan<- *prometheus.Desc) { ch <- rc.desc }

func (rc *requestCounter) Collect(ch chan<- prometheus.Metric) {
	rc.mu.Lock()
	routes := rc.routes
	rc.mu.Unlock()
	for _, r := range routes {
		cells := r.cells.Load()
		if cells == nil {
			continue
		}
		for _, c := range *cells {
			ch <- prometheus.MustNewConstMetric(rc.desc, prometheus.CounterValue, float64(c.n.Load()),
				r.labels[0], r.labels[1], r.labels[2], statusLabel(c.status), grants[c.grant])
		}
	}
}

// route counts one route's requests: a cell per status and grant seen.
type route struct {
	labels  [3]string // dialect, method, route
	latency prometheus.Observer
	mu      sync.Mutex
	cells   atomic.Pointer[[]*cell] // copied on write under mu
}

type cell struct {
	status int
	grant  uint8
	n      atomic.Uint64
}

// Observe implements wire.RouteMetrics.
func (r *route) Observe(status int, grant string, latency time.Duration) {
	r.latency.Observe(latency.Seconds())
	g := grantIndex(grant)
	if cells := r.cells.Load(); cells != nil {
		for _, c := range *cells {
			if c.status == status && c.grant == g {
				c.n.Add(1)
				return
			}
		}
	}
	r.add(status, g)
}

// add counts the first request of a status and grant pair (or one that
// raced another to add it).
func (r *route) add(status int, g uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cells []*cell
	if p := r.cells.Load(); p != nil {
		cells = *p
	}
	for _, c := range cells {
		if c.status == status && c.grant == g {
			c.n.Add(1)
			return
		}
	}
	c := &cell{status: status, grant: g}
	c.n.Store(1)
	next := append(cells[:len(cells):len(cells)], c)
	r.cells.Store(&next)
}
