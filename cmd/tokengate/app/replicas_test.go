package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/storage/postgres"
)

// Three gateways on one PostgreSQL schema: any replica answers any request
// the same way.
func startReplicas(t *testing.T) []*tokengatetest.Gateway {
	dsn := postgres.TestDSN(t)
	var gs []*tokengatetest.Gateway
	for range 3 {
		gs = append(gs, tokengatetest.Start(t, tokengatetest.Options{DB: dsn}))
	}
	return gs
}

func post(t *testing.T, u string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
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

func issue(t *testing.T, g *tokengatetest.Gateway) map[string]any {
	st, b := post(t, g.URL+"/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"grant_type": {"client_credentials"}, "userId": {"demo-user"}}, false)
	if st != 200 {
		t.Fatalf("issue: %d %v", st, b)
	}
	return b
}

func active(t *testing.T, g *tokengatetest.Gateway, token string) bool {
	st, b := post(t, g.URL+"/oauth2/introspect", url.Values{"token": {token}}, true)
	if st != 200 {
		t.Fatalf("introspect: %d %v", st, b)
	}
	return b["active"] == true
}

func TestReplicasShareTokens(t *testing.T) {
	r := startReplicas(t)
	// Tokens are scoped to the dialect instance that issued them: this one
	// is issued, introspected and revoked through oauth2.
	st, tok := post(t, r[0].URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, true)
	if st != 200 {
		t.Fatalf("issue: %d %v", st, tok)
	}
	at := tok["access_token"].(string)
	if !active(t, r[1], at) || !active(t, r[2], at) {
		t.Fatal("a token issued by one replica is not active on the others")
	}
	if st, _ := post(t, r[2].URL+"/oauth2/revoke", url.Values{"token": {at}}, true); st != 200 {
		t.Fatal(st)
	}
	if active(t, r[0], at) {
		t.Fatal("revoked on one replica, still active on another")
	}
}

func TestRefreshRacedAcrossReplicasSucceedsOnce(t *testing.T) {
	r := startReplicas(t)
	for round := range 3 {
		rt := issue(t, r[0])["refresh_token"].(string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := post(t, r[i%2].URL+"/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"},
					"client_secret": {"demo-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}, false)
				if st == 200 {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("round %d: %d of 10 racing refreshes succeeded", round, wins)
		}
	}
}

// loginForm opens the oauth2 login page of the gateway at base in a new
// browser (which keeps its CSRF cookie) and returns the browser and the
// form to post: the authorize parameters, the page's CSRF token and the
// demo user's credentials.
func loginForm(t *testing.T, base string) (*http.Client, url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"demo-client"}, "redirect_uri": {"http://localhost:8081/callback"}, "response_type": {"code"}}
	resp, err := browser.Get(base + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(string(page))
	if csrf == nil {
		t.Fatalf("no login form: %d %s", resp.StatusCode, page)
	}
	q.Set("csrf_token", csrf[1])
	q.Set("username", "johndoe")
	q.Set("password", "demo-password")
	return browser, q
}

func TestCodeRedeemedOnceAcrossReplicas(t *testing.T) {
	r := startReplicas(t)
	browser, q := loginForm(t, r[0].URL)
	// The page came from replica 0; the form goes to replica 1 (same cookie
	// jar host, 127.0.0.1): the shared wire key makes the CSRF token valid there.
	resp, err := browser.PostForm(r[1].URL+"/oauth2/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("login posted to another replica: %d, no code", resp.StatusCode)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = post(t, r[1+i%2].URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"},
				"code": {code}, "redirect_uri": {"http://localhost:8081/callback"}}, true)
		}()
	}
	wg.Wait()
	wins := 0
	for _, s := range statuses {
		if s == 200 {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("code redeemed %d times across replicas: %v", wins, statuses)
	}
}

// A login form passes once across replicas: the spent CSRF token is
// recorded in the shared database, so replaying the form to any other
// replica gets the error page and no second code.
func TestLoginFormSpentOnceAcrossReplicas(t *testing.T) {
	r := startReplicas(t)
	browser, q := loginForm(t, r[0].URL)
	for i, g := range []*tokengatetest.Gateway{r[1], r[2], r[0], r[1]} {
		resp, err := browser.PostForm(g.URL+"/oauth2/authorize", q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		code := resp.Header.Get("Location")
		if want := i == 0; (resp.StatusCode == http.StatusSeeOther && strings.Contains(code, "code=")) != want {
			t.Fatalf("submission %d: %d %q (only the first may pass)", i, resp.StatusCode, code)
		}
	}
}

func TestClientChangeReachesEveryReplicaWithinASecond(t *testing.T) {
	r := startReplicas(t)
	if _, err := r[0].Admin.CreateClient(config.Client{ClientID: "ci", ClientSecret: "ci-secret", Grants: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	cc := func(g *tokengatetest.Gateway) int {
		st, _ := post(t, g.URL+"/v1/token/", url.Values{"client_id": {"ci"}, "client_secret": {"ci-secret"}}, false)
		return st
	}
	for _, g := range r {
		if st := cc(g); st != 200 {
			t.Fatalf("new client on a replica: %d", st)
		}
	}
	if err := r[0].Admin.DeleteClient("ci"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for _, g := range r[1:] {
		for cc(g) == 200 {
			if time.Now().After(deadline) {
				t.Fatal("a deleted client still works on another replica after one second")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestClockFaultsAndJournalAreShared(t *testing.T) {
	r := startReplicas(t)
	if _, err := r[0].Admin.AdvanceClock(3 * time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, g := range r[1:] {
		s, err := g.Admin.Clock()
		if err != nil || !strings.HasPrefix(s.Offset, "3h0m") {
			t.Fatalf("clock on another replica: %+v %v", s, err)
		}
	}
	tok := issue(t, r[1])
	if created := int64(tok["created_at"].(float64)); time.Unix(created, 0).Before(time.Now().Add(170 * time.Minute)) {
		t.Fatalf("created_at %d does not follow the shared clock", created)
	}
	if _, err := r[0].Admin.AddFault(control.Rule{Dialect: "hurdlr", Status: 503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	fired := 0
	for i := range 6 {
		st, _ := post(t, r[i%3].URL+"/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
			"grant_type": {"client_credentials"}, "userId": {"demo-user"}}, false)
		if st == 503 {
			fired++
		}
	}
	if fired != 2 {
		t.Fatalf("a count-2 fault fired %d times across replicas", fired)
	}
	rules, err := r[2].Admin.Faults()
	if err != nil || len(rules) != 1 || rules[0].Hits != 2 {
		t.Fatalf("faults seen from another replica: %+v %v", rules, err)
	}
	e0, _ := r[0].Admin.Requests(control.Filter{Limit: 1})
	e1, _ := r[1].Admin.Requests(control.Filter{Limit: 1})
	if len(e0) != 1 || len(e1) != 1 || e0[0].Replica == "" || e0[0].Replica == e1[0].Replica {
		t.Fatalf("journal entries do not name distinct replicas: %+v %+v", e0, e1)
	}
}

// A dropped database connection makes requests fail with the dialect's 503
// and recover by themselves.
func TestDatabaseConnectionLossIs503ThenRecovers(t *testing.T) {
	dsn := postgres.TestDSN(t)
	g := tokengatetest.Start(t, tokengatetest.Options{DB: dsn})
	issue(t, g)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), postgres.TestServerDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, cfg.RuntimeParams["application_name"]); err != nil {
		t.Fatal(err)
	}
	saw := map[int]int{}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, b := post(t, g.URL+"/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
			"grant_type": {"client_credentials"}, "userId": {"demo-user"}}, false)
		saw[st]++
		if st == 503 && b["error"] != "temporarily_unavailable" {
			t.Fatalf("503 not in Hurdlr's style: %v", b)
		}
		if st != 200 && st != 503 {
			t.Fatalf("unexpected %d %v", st, b)
		}
		if saw[200] >= 5 {
			break
		}
	}
	if saw[200] < 5 {
		t.Fatalf("did not recover: %v", saw)
	}
	t.Logf("after pg_terminate_backend: %v", saw)
}

// errorid's one_active_token holds across replicas: of concurrent requests
// spread over three gateways on one database exactly one gets a token.
func TestReplicasOneActiveToken(t *testing.T) {
	dsn := postgres.TestDSN(t)
	var gs []*tokengatetest.Gateway
	for range 3 {
		gs = append(gs, tokengatetest.Start(t, tokengatetest.Options{DB: dsn, YAML: `
dialects:
  errorid: {one_active_token: true}
clients:
  - {client_id: demo-client, client_secret: demo-secret, grants: [client_credentials]}
`}))
	}
	const n = 30
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", gs[i%len(gs)].URL+"/v1/oauth/token",
				strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 409", count, n-1)
	}
}

// tinySpec is a vendor added at run time in the replica tests.
const tinySpec = `name: tiny
base_path: /tiny
routes:
  - method: POST
    path: /tiny/token
    operation: token
    grant: client_credentials
    inputs: {client_id: basic.id, client_secret: basic.secret}
    response: {body: {tiny_token: "{access_token}"}}
errors:
  body: {tiny_error: "{code}"}
  default: {status: 400, code: nope}
`

// TestDialectAddedAtRunTimeReachesEveryReplica: a dialect added through one
// replica's admin API is served by the others from their next request (they
// learn of it through the shared control version), and removing it through
// a third unmounts it everywhere.
func TestDialectAddedAtRunTimeReachesEveryReplica(t *testing.T) {
	r := startReplicas(t)
	tiny := func(g *tokengatetest.Gateway) (int, map[string]any) {
		return post(t, g.URL+"/tiny/token", url.Values{}, true)
	}
	if st, _ := tiny(r[1]); st != 404 {
		t.Fatalf("before: %d", st)
	}
	if _, err := r[0].Admin.AddDialect(admin.DialectRequest{Spec: tinySpec}); err != nil {
		t.Fatal(err)
	}
	for i, g := range r {
		st, b := tiny(g)
		if tok, _ := b["tiny_token"].(string); st != 200 || tok == "" {
			t.Fatalf("replica %d: %d %v", i, st, b)
		}
	}
	if list, err := r[1].Admin.Dialects(); err != nil || list[len(list)-1].Name != "tiny" || list[len(list)-1].Source != admin.SourceAdmin {
		t.Fatalf("replica 1 lists %+v %v", list, err)
	}
	if _, err := r[1].Admin.AddDialect(admin.DialectRequest{Spec: tinySpec}); err == nil {
		t.Fatal("the same name added twice across replicas")
	}
	if err := r[2].Admin.RemoveDialect("tiny"); err != nil {
		t.Fatal(err)
	}
	for i, g := range r {
		if st, b := tiny(g); st != 404 || b["tiny_error"] != nil {
			t.Fatalf("replica %d after DELETE: %d %v", i, st, b)
		}
	}
}
