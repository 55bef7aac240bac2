package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/metrics"
)

// BenchmarkRouteObserve is what counting one request costs: the latency
// histogram and the status/grant cell, from every core at once.
func BenchmarkRouteObserve(b *testing.B) {
	r := metrics.New().Route("oauth2", "POST", "/oauth2/token")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe(200, "client_credentials", 300*time.Microsecond)
		}
	})
}

// BenchmarkTokenRequestMetrics is all the metrics work one client
// credentials token request adds: its route's counters, the engine's
// issued counter, the timed store insert and its group-commit batch.
func BenchmarkTokenRequestMetrics(b *testing.B) {
	m := metrics.New()
	r := m.Route("oauth2", "POST", "/oauth2/token")
	insert := m.Op("InsertTokens")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			m.Issued("oauth2", core.TokenAccess)
			insert.Done(time.Since(start), nil)
			m.GroupCommit(1, 1)
			r.Observe(200, "client_credentials", time.Since(start))
		}
	})
}

// BenchmarkTokenEndpoint is oauth2's client_credentials request through the
// whole gateway in process (no network), with and without metrics.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "metrics", false: "no_metrics"}[on]
		b.Run(name, func(b *testing.B) {
			yaml := "admin_token: t\nlog_level: warn\ndialects: {oauth2: {}}\nmetrics: {enabled: " +
				map[bool]string{true: "true", false: "false"}[on] + "}\n" +
				"clients: [{client_id: demo-client, client_secret: demo-secret, grants: [client_credentials]}]\n"
			g := tokengatetest.Start(b, tokengatetest.Options{YAML: yaml, NoOpenAPICheck: true})
			h := g.App.Gateway.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("demo-client", "demo-secret")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
