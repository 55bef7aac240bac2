package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/metrics"
)

// gatewayConfig is a config with metricsYAML as its metrics section.
func gatewayConfig(metricsYAML string) string {
	return `
admin_token: test-admin-token
limits:
  auth_failures: {burst: 3, per_minute: 0.001}
metrics: ` + metricsYAML + `
dialects:
  oauth2: {}
  hurdlr: {}
  accounda: {}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - {user_id: demo-user, username: johndoe, password: demo-password}
`
}

// post sends a form and returns the status and the decoded JSON body.
func post(t *testing.T, g *tokengatetest.Gateway, path string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("demo-client", "demo-secret")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestScriptedSequence drives a known sequence of requests through every
// dialect path that counts something and checks each series exactly.
func TestScriptedSequence(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig("{token: test-metrics-token}"), AuthFailureLimit: true})
	want := func(status int, got int, what string) {
		t.Helper()
		if got != status {
			t.Fatalf("%s: status %d, want %d", what, got, status)
		}
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	var access string
	for range 3 { // oauth2: three tokens
		s, body := post(t, g, "/oauth2/token", cc, true)
		want(200, s, "oauth2 client_credentials")
		access, _ = body["access_token"].(string)
	}
	s, _ := post(t, g, "/oauth2/revoke", url.Values{"token": {access}}, true)
	want(200, s, "oauth2 revoke")
	s, _ = post(t, g, "/oauth2/revoke", url.Values{"token": {access}}, true) // already revoked: revokes nothing
	want(200, s, "oauth2 revoke again")

	// hurdlr: a token pair, a refresh, then the old refresh token again.
	s, first := post(t, g, "/rest/v5/accountant/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "userId": {"demo-user"}}, false)
	want(200, s, "hurdlr client_credentials")
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"refresh_token": {first["refresh_token"].(string)}}
	s, _ = post(t, g, "/rest/v5/accountant/token", refresh, false)
	want(200, s, "hurdlr refresh")
	s, _ = post(t, g, "/rest/v5/accountant/token", refresh, false)
	want(400, s, "hurdlr refresh reuse")

	// An unrouted path the oauth2 dialect owns.
	resp, err := http.Get(g.URL + "/oauth2/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want(404, resp.StatusCode, "unrouted")

	// A fault rule answering accounda's token endpoint once.
	if _, err := g.Admin.AddFault(control.Rule{Dialect: "accounda", Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}
	accounda := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}
	s, _ = post(t, g, "/v1/token/", accounda, false)
	want(503, s, "accounda fault")
	s, _ = post(t, g, "/v1/token/", accounda, false)
	want(200, s, "accounda token")

	// Wrong secrets: three failures fill the limiter's burst, the fourth is
	// refused before it is checked.
	bad := url.Values{"client_id": {"demo-client"}, "client_secret": {"wrong"}, "grant_type": {"client_credentials"}}
	for range 3 {
		s, _ = post(t, g, "/oauth2/token", bad, false)
		want(401, s, "wrong secret")
	}
	s, _ = post(t, g, "/oauth2/token", bad, false)
	want(429, s, "limited")

	m := g.App.Metrics
	got := series(t, m.Registry(), "tokengate_http_requests_total", "tokengate_tokens_issued_total",
		"tokengate_tokens_refreshed_total", "tokengate_tokens_revoked_total", "tokengate_token_reuse_detections_total",
		"tokengate_rate_limiter_refusals_total", "tokengate_fault_rules_fired_total", "tokengate_journal_entries")
	wantSeries := map[string]float64{
		`tokengate_http_requests_total{dialect="oauth2",grant="client_credentials",method="POST",route="/oauth2/token",status="200"}`:             3,
		`tokengate_http_requests_total{dialect="oauth2",grant="client_credentials",method="POST",route="/oauth2/token",status="401"}`:             3,
		`tokengate_http_requests_total{dialect="oauth2",grant="client_credentials",method="POST",route="/oauth2/token",status="429"}`:             1,
		`tokengate_http_requests_total{dialect="oauth2",grant="none",method="POST",route="/oauth2/revoke",status="200"}`:                          2,
		`tokengate_http_requests_total{dialect="oauth2",grant="none",method="any",route="unrouted",status="404"}`:                                 1,
		`tokengate_http_requests_total{dialect="hurdlr",grant="client_credentials",method="POST",route="/rest/v5/accountant/token",status="200"}`: 1,
		`tokengate_http_requests_total{dialect="hurdlr",grant="refresh_token",method="POST",route="/rest/v5/accountant/token",status="200"}`:      1,
		`tokengate_http_requests_total{dialect="hurdlr",grant="refresh_token",method="POST",route="/rest/v5/accountant/token",status="400"}`:      1,
		`tokengate_http_requests_total{dialect="accounda",grant="none",method="POST",route="/v1/token/",status="503"}`:                            1,
		`tokengate_http_requests_total{dialect="accounda",grant="client_credentials",method="POST",route="/v1/token/",status="200"}`:              1,
		`tokengate_tokens_issued_total{dialect="oauth2",kind="access"}`:                                                                           3,
		`tokengate_tokens_issued_total{dialect="oauth2",kind="refresh"}`:                                                                          0,
		`tokengate_tokens_issued_total{dialect="oauth2",kind="code"}`:                                                                             0,
		`tokengate_tokens_issued_total{dialect="hurdlr",kind="access"}`:                                                                           2,
		`tokengate_tokens_issued_total{dialect="hurdlr",kind="refresh"}`:                                                                          2,
		`tokengate_tokens_issued_total{dialect="hurdlr",kind="code"}`:                                                                             0,
		`tokengate_tokens_issued_total{dialect="accounda",kind="access"}`:                                                                         1,
		`tokengate_tokens_issued_total{dialect="accounda",kind="refresh"}`:                                                                        0,
		`tokengate_tokens_issued_total{dialect="accounda",kind="code"}`:                                                                           0,
		`tokengate_tokens_refreshed_total{dialect="oauth2"}`:                                                                                      0,
		`tokengate_tokens_refreshed_total{dialect="hurdlr"}`:                                                                                      1,
		`tokengate_tokens_refreshed_total{dialect="accounda"}`:                                                                                    0,
		`tokengate_tokens_revoked_total{cause="requested",dialect="oauth2"}`:                                                                      1,
		`tokengate_tokens_revoked_total{cause="reuse",dialect="hurdlr"}`:                                                                          3, // both access tokens and the live refresh token
		`tokengate_token_reuse_detections_total{dialect="hurdlr",reason="refresh_reuse"}`:                                                         1,
		`tokengate_rate_limiter_refusals_total{limiter="client"}`:                                                                                 1,
		`tokengate_fault_rules_fired_total{action="status",dialect="accounda"}`:                                                                   1,
		`tokengate_journal_entries`: 15,
	}
	if diff := cmp.Diff(wantSeries, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}

	// Storage: every operation the engine ran was timed, none failed, and
	// each token write went through exactly one group-commit slot.
	ops := histogramCounts(t, m.Registry(), "tokengate_storage_operation_duration_seconds", "op")
	for _, op := range []string{"GetClient", "InsertTokens", "Exchange", "GetToken", "RevokeToken", "RevokeFamily"} {
		if ops[op] == 0 {
			t.Errorf("storage operation %s not observed: %v", op, ops)
		}
	}
	if errs := series(t, m.Registry(), "tokengate_storage_operation_errors_total"); sum(errs) != 0 {
		t.Errorf("storage errors: %v", errs)
	}
	batches := histogramSums(t, m.Registry(), "tokengate_sqlite_group_commit_requests")
	if w := ops["InsertTokens"] + ops["Exchange"] + ops["InsertTokensIfNoActive"]; batches != float64(w) {
		t.Errorf("group commits served %v requests, want %d (the token writes)", batches, w)
	}

	scraped := scrape(t, g, "", http.StatusOK)
	lint(t, m.Registry(), scraped)
	if !strings.Contains(scraped, `tokengate_tokens_refreshed_total{dialect="hurdlr"} 1`) {
		t.Errorf("the scrape lacks the refresh:\n%s", scraped)
	}
}

// TestAccess: /metrics is open on a loopback admin listener unless a token
// is required; then the admin token and the metrics token both work.
func TestAccess(t *testing.T) {
	open := tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig("{}")})
	scrape(t, open, "", http.StatusOK)

	closed := tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig("{token: test-metrics-token, require_token: true}")})
	scrape(t, closed, "", http.StatusUnauthorized)
	scrape(t, closed, "wrong", http.StatusUnauthorized)
	scrape(t, closed, "test-metrics-token", http.StatusOK)
	scrape(t, closed, "test-admin-token", http.StatusOK)

	off := tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig("{enabled: false}")})
	if off.App.Metrics != nil {
		t.Fatal("metrics collected with enabled: false")
	}
	resp, err := http.Get(off.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics with enabled: false: %d", resp.StatusCode)
	}
}

func scrape(t *testing.T, g *tokengatetest.Gateway, token string, status int) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET /metrics with token %q: %d, want %d: %s", token, resp.StatusCode, status, body)
	}
	return string(body)
}

// lint checks the names with promtool when it is installed (Debian's
// prometheus package) and with client_golang's linter always.
func lint(t *testing.T, g prometheus.Gatherer, scraped string) {
	t.Helper()
	problems, err := testutil.GatherAndLint(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (apt-get install prometheus): linted with client_golang's testutil only")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scraped)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// series flattens the named families' counters and gauges into
// name{labels} -> value, labels sorted by name.
func series(t *testing.T, g prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range gather(t, g, names...) {
		for _, m := range f.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out[f.GetName()+labels(m)] = v
		}
	}
	return out
}

func histogramCounts(t *testing.T, g prometheus.Gatherer, name, label string) map[string]uint64 {
	out := map[string]uint64{}
	for _, f := range gather(t, g, name) {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return out
}

func histogramSums(t *testing.T, g prometheus.Gatherer, name string) float64 {
	var s float64
	for _, f := range gather(t, g, name) {
		for _, m := range f.GetMetric() {
			s += m.GetHistogram().GetSampleSum()
		}
	}
	return s
}

func gather(t *testing.T, g prometheus.Gatherer, names ...string) []*dto.MetricFamily {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, f := range fams {
		for _, n := range names {
			if f.GetName() == n {
				out = append(out, f)
			}
		}
	}
	return out
}

func labels(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// TestRouteMountedTwice: a route mounted again (a run-time instance
// removed and added back) keeps counting into the same series.
func TestRouteMountedTwice(t *testing.T) {
	m := metrics.New()
	m.Route("rt", "POST", "/t").Observe(200, "", 0)
	m.Route("rt", "POST", "/t").Observe(200, "", 0)
	got := series(t, m.Registry(), "tokengate_http_requests_total")
	want := map[string]float64{`tokengate_http_requests_total{dialect="rt",grant="none",method="POST",route="/t",status="200"}`: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRuntimeDialectCounted: a dialect added at run time is counted like a
// configured one, its unrouted paths too, and again after it is removed and
// added back.
func TestRuntimeDialectCounted(t *testing.T) {
	spec, err := os.ReadFile("../declared/testdata/errorid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig("{}")})
	add := func() {
		t.Helper()
		if _, err := g.Admin.AddDialect(admin.DialectRequest{Name: "rt", Prefix: "/rt", Spec: string(spec)}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(path string, want int) {
		t.Helper()
		resp, err := http.Post(g.URL+path, "application/json", strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	add()
	send("/rt/v1/oauth/token", 200)
	send("/rt/v1/oauth/nothing", 404)
	if err := g.Admin.RemoveDialect("rt"); err != nil {
		t.Fatal(err)
	}
	add()
	send("/rt/v1/oauth/token", 200)
	got := series(t, g.App.Metrics.Registry(), "tokengate_http_requests_total")
	want := map[string]float64{
		`tokengate_http_requests_total{dialect="rt",grant="client_credentials",method="POST",route="/rt/v1/oauth/token",status="200"}`: 2,
		`tokengate_http_requests_total{dialect="rt",grant="none",method="any",route="unrouted",status="404"}`:                          1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
