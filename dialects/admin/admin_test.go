package admin_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

const cfgYAML = `
admin_token: test-admin-token
dialects:
  oauth2: {}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - {user_id: demo-user, username: johndoe, email: john.doe@example.com, password: demo-password}
authorizations:
  - {auth_id: 1, auth_token: demo-auth-token, user_id: demo-user, client_id: demo-client}
`

func start(t *testing.T) *tokengatetest.Gateway {
	return tokengatetest.Start(t, tokengatetest.Options{YAML: cfgYAML})
}

func token(t *testing.T, g *tokengatetest.Gateway, id, secret string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func apiStatus(err error) int {
	var ae *admin.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func TestAdminAuth(t *testing.T) {
	g := start(t)
	for _, tok := range []string{"", "wrong", "demo-admin-token"} {
		c := &admin.Client{BaseURL: g.URL, Token: tok}
		if _, err := c.Clock(); apiStatus(err) != 401 {
			t.Fatalf("token %q: %v", tok, err)
		}
	}
	if _, err := g.Admin.Clock(); err != nil {
		t.Fatal(err)
	}
}

func TestClientCRUD(t *testing.T) {
	g := start(t)
	in := config.Client{ClientID: "ci-client", ClientSecret: "ci-secret", Grants: []string{"client_credentials"}}
	out, err := g.Admin.CreateClient(in)
	if err != nil {
		t.Fatal(err)
	}
	if out.ClientSecret != "" || out.ClientID != "ci-client" {
		t.Fatalf("create answered %+v", out)
	}
	if _, err := g.Admin.CreateClient(in); apiStatus(err) != 409 {
		t.Fatalf("duplicate create: %v", err)
	}
	if st, _ := token(t, g, "ci-client", "ci-secret"); st != 200 {
		t.Fatalf("new client cannot get a token: %d", st)
	}
	// PUT without a secret keeps it; disabling stops issuance.
	in.ClientSecret, in.Disabled = "", true
	if _, err := g.Admin.UpdateClient(in); err != nil {
		t.Fatal(err)
	}
	if st, _ := token(t, g, "ci-client", "ci-secret"); st != 401 {
		t.Fatalf("disabled client got %d", st)
	}
	got, err := g.Admin.GetClient("ci-client")
	if err != nil || !got.Disabled {
		t.Fatalf("get: %+v %v", got, err)
	}
	if err := g.Admin.DeleteClient("ci-client"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Admin.GetClient("ci-client"); apiStatus(err) != 404 {
		t.Fatalf("deleted client: %v", err)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	g := start(t)
	cases := []struct {
		body  string
		field string
	}{
		{`{"client_id":"x","client_secret":"s","grants":["implicit"]}`, "grants[0]"},
		{`{"client_id":"x","client_secret":"s","grants":["authorization_code"],"redirect_uris":["/relative"]}`, "redirect_uris[0]"},
		{`{"client_secret":"s","grants":["client_credentials"]}`, "client_id"},
		{`{"client_id":"x","client_secret":"s","grants":["client_credentials"],"bogus":1}`, ""},
	}
	for _, tc := range cases {
		var p admin.Problem
		err := g.Admin.Do(t.Context(), "POST", "/clients", rawJSON(tc.body), &p)
		var ae *admin.APIError
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if tc.field != "" && ae.Problem.Field != tc.field {
			t.Fatalf("%s: field %q, problems %v", tc.body, ae.Problem.Field, ae.Problem.Problems)
		}
		if tc.field == "" && !strings.Contains(ae.Problem.Message, "bogus") {
			t.Fatalf("unknown field not named: %+v", ae.Problem)
		}
	}
	if _, err := g.Admin.CreateAuthorization(config.Authorization{AuthID: 9, AuthToken: "t", UserID: "ghost", ClientID: "demo-client"}); apiStatus(err) != 400 {
		t.Fatalf("authorization for a missing user: %v", err)
	}
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestUsersAndAuthorizations(t *testing.T) {
	g := start(t)
	u := config.User{UserID: "u2", Username: "jane", Password: "pw", LinkedAccounts: map[string]config.LinkedAccount{
		"github": {ID: "42", Name: "Jane", Email: "jane@example.com"}}}
	out, err := g.Admin.CreateUser(u)
	if err != nil {
		t.Fatal(err)
	}
	if out.Password != "" || out.LinkedAccounts["github"].ID != "42" {
		t.Fatalf("user answered %+v", out)
	}
	if _, err := g.Admin.CreateAuthorization(config.Authorization{AuthID: 2, AuthToken: "tok", UserID: "u2", ClientID: "demo-client"}); err != nil {
		t.Fatal(err)
	}
	list, err := g.Admin.Authorizations()
	if err != nil || len(list) != 2 {
		t.Fatalf("authorizations: %v %v", list, err)
	}
	for _, a := range list {
		if a.AuthToken != "" {
			t.Fatal("auth token returned")
		}
	}
	if err := g.Admin.DeleteAuthorization(2); err != nil {
		t.Fatal(err)
	}
	if err := g.Admin.DeleteUser("u2"); err != nil {
		t.Fatal(err)
	}
}

func TestTokensRevokeAndReset(t *testing.T) {
	g := start(t)
	for range 3 {
		if st, _ := token(t, g, "demo-client", "demo-secret"); st != 200 {
			t.Fatal(st)
		}
	}
	toks, err := g.Admin.Tokens(url.Values{"client_id": {"demo-client"}})
	if err != nil || len(toks) != 3 {
		t.Fatalf("tokens: %d %v", len(toks), err)
	}
	if toks[0].Kind != "access" || toks[0].Dialect != "oauth2" || !toks[0].Active {
		t.Fatalf("metadata %+v", toks[0])
	}
	n, err := g.Admin.RevokeClientTokens("demo-client")
	if err != nil || n != 3 {
		t.Fatalf("revoked %d %v", n, err)
	}
	// reset to config restores a deleted client and wipes tokens.
	if err := g.Admin.DeleteClient("demo-client"); err != nil {
		t.Fatal(err)
	}
	if err := g.Admin.Reset(true); err != nil {
		t.Fatal(err)
	}
	if st, _ := token(t, g, "demo-client", "demo-secret"); st != 200 {
		t.Fatalf("client not restored: %d", st)
	}
	toks, _ = g.Admin.Tokens(nil)
	if len(toks) != 1 {
		t.Fatalf("reset left %d tokens", len(toks)-1)
	}
}

func TestClock(t *testing.T) {
	g := start(t)
	target := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := g.Admin.FreezeClock(true); err != nil {
		t.Fatal(err)
	}
	s, err := g.Admin.SetClock(target)
	if err != nil || s.Now != "2030-01-01T00:00:00Z" || !s.Frozen {
		t.Fatalf("set: %+v %v", s, err)
	}
	s, _ = g.Admin.AdvanceClock(2 * time.Hour)
	if s.Now != "2030-01-01T02:00:00Z" {
		t.Fatalf("advance: %+v", s)
	}
	if err := g.Admin.Do(t.Context(), "POST", "/clock", rawJSON(`{"advance":"2h","reset":true}`), nil); apiStatus(err) != 400 {
		t.Fatalf("two changes at once: %v", err)
	}
	if err := g.Admin.Do(t.Context(), "POST", "/clock", rawJSON(`{"advance":"soon"}`), nil); apiStatus(err) != 400 {
		t.Fatalf("bad duration: %v", err)
	}
	s, _ = g.Admin.ResetClock()
	if s.Frozen || s.Offset != "0s" {
		t.Fatalf("reset: %+v", s)
	}
}

func TestFaultsAndJournal(t *testing.T) {
	g := start(t)
	r, err := g.Admin.AddFault(control.Rule{Dialect: "oauth2", ClientID: "demo-client", Status: 503, Count: 2})
	if err != nil || r.ID == "" {
		t.Fatalf("add: %+v %v", r, err)
	}
	for i, want := range []int{503, 503, 200} {
		st, body := token(t, g, "demo-client", "demo-secret")
		if st != want {
			t.Fatalf("request %d: %d %s", i, st, body)
		}
		if st == 503 && !strings.Contains(body, `"error":"temporarily_unavailable"`) {
			t.Fatalf("fault not in oauth2 style: %s", body)
		}
	}
	rules, _ := g.Admin.Faults()
	if len(rules) != 1 || rules[0].Hits != 2 {
		t.Fatalf("rules %+v", rules)
	}
	if err := g.Admin.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Admin.AddFault(control.Rule{Dialect: "oauth2"}); apiStatus(err) != 400 {
		t.Fatalf("rule without action: %v", err)
	}
	if _, err := g.Admin.AddFault(control.Rule{Status: 503, Prob: 2}); apiStatus(err) != 400 {
		t.Fatalf("probability 2: %v", err)
	}

	// Latency and drop.
	if _, err := g.Admin.AddFault(control.Rule{Latency: "150ms", Count: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if st, _ := token(t, g, "demo-client", "demo-secret"); st != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("latency fault: %d after %v", st, time.Since(start))
	}
	if _, err := g.Admin.AddFault(control.Rule{Drop: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	if resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}

	entries, err := g.Admin.Requests(control.Filter{Dialect: "oauth2", Status: 503})
	if err != nil || len(entries) != 2 {
		t.Fatalf("journal: %d %v", len(entries), err)
	}
	e := entries[0]
	if e.ClientID != "demo-client" || e.GrantType != "client_credentials" || e.Headers["Authorization"] != "Basic [redacted]" || e.Fault == "" {
		t.Fatalf("entry %+v", e)
	}
	if err := g.Admin.ClearRequests(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := g.Admin.Requests(control.Filter{}); len(entries) != 0 {
		t.Fatalf("journal not cleared: %d", len(entries))
	}
}

func TestJournalAndLogsHoldNoSecrets(t *testing.T) {
	g := start(t)
	_, body := token(t, g, "demo-client", "demo-secret")
	req, _ := http.NewRequest("POST", g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	entries, err := g.Admin.Requests(control.Filter{})
	if err != nil || len(entries) != 2 {
		t.Fatalf("journal: %d %v", len(entries), err)
	}
	var dump strings.Builder
	for _, e := range entries {
		dump.WriteString(e.Headers["Authorization"])
		for k, v := range e.Params {
			dump.WriteString(k + "=" + strings.Join(v, ",") + "&")
		}
	}
	access := body[strings.Index(body, `"access_token":"`)+16:]
	access = access[:strings.Index(access, `"`)]
	for _, secret := range []string{"demo-secret", access, "ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ"} {
		if strings.Contains(dump.String(), secret) || strings.Contains(g.Logs.String(), secret) {
			t.Fatalf("secret %q leaked into the journal or logs", secret)
		}
	}
	if entries[0].Params["client_secret"][0] != control.Redacted {
		t.Fatalf("params %v", entries[0].Params)
	}
}

// The admin API lives on the main listener only: not under a dialect's
// prefix, not on a dialect's own listener.
func TestAdminNotReachableThroughDialects(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
admin_token: test-admin-token
dialects:
  oauth2: {prefix: /std}
  hurdlr: {listen: "localhost:0"}
`})
	hurdlrAddr := g.App.Addr("localhost:0")
	if hurdlrAddr == "" || "http://"+hurdlrAddr == g.URL {
		t.Fatalf("hurdlr has no listener of its own: %q", hurdlrAddr)
	}
	for _, u := range []string{g.URL + "/std/_admin/clock", "http://" + hurdlrAddr + "/_admin/clock"} {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer test-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s answered %d, want 404", u, resp.StatusCode)
		}
	}
	if _, err := g.Admin.Clock(); err != nil {
		t.Fatalf("admin on the main listener: %v", err)
	}
}
