package admin_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

// problem sends one admin call and returns the refusal (failing the test
// on success or on another status).
func problem(t *testing.T, g *tokengatetest.Gateway, method, path, body string, status int) admin.Problem {
	t.Helper()
	var in any
	if body != "" {
		in = rawJSON(body)
	}
	err := g.Admin.Do(t.Context(), method, path, in, nil)
	var ae *admin.APIError
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("%s %s %s: %v, want %d", method, path, body, err, status)
	}
	return ae.Problem
}

func words(p admin.Problem) string { return p.Message + " " + strings.Join(p.Problems, "; ") }

// The decoder refuses a key given twice (encoding/json would keep the last
// silently) and words a wrong type without Go type names.
func TestAdminDecoder(t *testing.T) {
	g := start(t)
	for body, want := range map[string]string{
		`{"client_id":"a","client_id":"b","client_secret":"s","grants":["client_credentials"]}`: "client_id: given twice",
		`{"client_id":"a","CLIENT_ID":"b","client_secret":"s","grants":["client_credentials"]}`: "CLIENT_ID: given twice",
		`{"client_id":"a","client_secret":"s","grants":["client_credentials"],"scopes":["x"],"expires_at":"2031-01-01T00:00:00Z","redirect_uris":[],"dialects":[],"access_token_ttl":"1h","disabled":false,"allow_plain_pkce":false,"refresh_token_ttl":"1h","grants":[]}`: "grants: given twice",
		`[]`:                                     "the body must be a JSON object",
		`{"client_id":5}`:                        "client_id: must be a string",
		`{"client_id":"a","grants":"x"}`:         "grants: must be an array",
		`{"client_id":"a","disabled":"no"}`:      "disabled: must be true or false",
		`{"client_id":"a","access_token_ttl":5}`: "access_token_ttl: must be a duration",
	} {
		p := problem(t, g, "POST", "/clients", body, 400)
		if got := words(p); !strings.Contains(got, want) || strings.Contains(got, "config.") || strings.Contains(got, "admin.") {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	p := problem(t, g, "POST", "/users", `{"user_id":"u","username":"x","linked_accounts":{"github":{"id":"1","id":"2"}}}`, 400)
	if !strings.Contains(words(p), "linked_accounts.github.id: given twice") {
		t.Errorf("nested duplicate: %q", words(p))
	}
	p = problem(t, g, "POST", "/clock", `{"advance":"1h","advance":"-1h"}`, 400)
	if !strings.Contains(words(p), "advance: given twice") {
		t.Errorf("clock duplicate: %q", words(p))
	}
	p = problem(t, g, "POST", "/faults", `[]`, 400)
	if w := words(p); !strings.Contains(w, "the body must be a JSON object") || strings.Contains(w, "control.") {
		t.Errorf("fault body []: %q", w)
	}
}

// Fault rules cannot hold requests until clients give up, and their
// refusals are worded.
func TestAdminFaultBounds(t *testing.T) {
	g := start(t)
	for body, want := range map[string]string{
		`{"latency":"10m"}`:                  "latency: must be at most 5m0s",
		`{"latency":"2562047h"}`:             "latency: must be at most 5m0s",
		`{"status":503,"count":2000000}`:     "count: must be at most 1000000",
		`{"status":503,"probability":-0.5}`:  "probability: must be at least 0",
		`{"status":503,"probability":1.5}`:   "probability: must be at most 1",
		`{"status":503,"retry_after":"48h"}`: "retry_after: must be at most 1h0m0s",
		`{"status":503,"retry_after":1e300}`: "out of range",
		`{"status":503,"count":1e30}`:        "count: must be a whole number",
		`{"status":200}`:                     "status: must be at least 400",
	} {
		if got := words(problem(t, g, "POST", "/faults", body, 400)); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

// Redirect URIs that run code or read files in a browser are refused, as
// OAuth 2.1 servers do.
func TestAdminRefusesDangerousRedirectURIs(t *testing.T) {
	g := start(t)
	for _, uri := range []string{"javascript:alert(document.cookie)//", "JAVASCRIPT:alert(1)", "data:text/html,<script>x</script>",
		"vbscript:msgbox", "file:///etc/passwd"} {
		body := `{"client_id":"x","client_secret":"s","grants":["authorization_code"],"redirect_uris":["` + uri + `"]}`
		p := problem(t, g, "POST", "/clients", body, 400)
		if p.Field != "redirect_uris[0]" {
			t.Errorf("%s: %+v", uri, p)
		}
	}
}

func TestAdminTokensLimitChecked(t *testing.T) {
	g := start(t)
	for _, q := range []string{"abc", "-1", "1e3"} {
		if p := problem(t, g, "GET", "/tokens?limit="+q, "", 400); p.Field != "limit" {
			t.Errorf("limit=%s: %+v", q, p)
		}
	}
	if err := g.Admin.Do(t.Context(), "GET", "/tokens?limit=5", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// The clock stays within the range stores and JSON represent: times
// outside it and advances past it answer 400 saying the range, and change
// nothing; listings keep working.
func TestAdminClockRange(t *testing.T) {
	g := start(t)
	before, _ := g.Admin.Clock()
	for _, body := range []string{`{"set":"9999-12-31T00:00:00Z"}`, `{"set":"2400-01-01T00:00:00Z"}`,
		`{"set":"0000-01-01T00:00:00Z"}`, `{"advance":"2562047h"}`, `{"advance":"-2562047h"}`} {
		p := problem(t, g, "POST", "/clock", body, 400)
		if !strings.Contains(p.Message, "between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z") {
			t.Errorf("%s: %+v", body, p)
		}
	}
	if _, err := g.Admin.AdvanceClock(100 * 365 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if p := problem(t, g, "POST", "/clock", `{"advance":"2562047h"}`, 400); p.Field != "advance" {
		t.Errorf("second large advance: %+v", p)
	}
	after, _ := g.Admin.Clock()
	if !strings.HasPrefix(after.Now, "21") {
		t.Fatalf("clock after refusals: %s (was %s)", after.Now, before.Now)
	}
	token(t, g, "demo-client", "demo-secret") // journaled at the far-future time
	if _, err := g.Admin.Requests(control.Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Admin.Tokens(nil); err != nil {
		t.Fatal(err)
	}
}

// A journal entry dated where JSON cannot write it (an older build's clock
// could) does not make GET /_admin/requests fail.
func TestAdminJournalSurvivesAnyTime(t *testing.T) {
	g := start(t)
	g.App.Plane.Journal.Add(control.Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Dialect: "oauth2"})
	if entries, err := g.Admin.Requests(control.Filter{}); err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
}

// DNS rebinding: on a loopback listener /_admin (API and console) answers
// only loopback Host names and admin_allowed_hosts; dialect routes are not
// concerned.
func TestAdminHostCheck(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: cfgYAML + "admin_allowed_hosts: [tokengate.test]\n"})
	call := func(host, path string) int {
		req, _ := http.NewRequest("GET", g.URL+path, nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer test-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 403 && !strings.Contains(string(body), `"error":"forbidden_host"`) {
			t.Errorf("403 not in admin style: %s", body)
		}
		return resp.StatusCode
	}
	for _, host := range []string{"attacker.example", "attacker.example:8080", "127.0.0.1.nip.io", "localhost.attacker.example", "10.0.0.1"} {
		for _, path := range []string{"/_admin/clients", "/_admin/ui/", "/_admin"} {
			if st := call(host, path); st != 403 {
				t.Errorf("Host %s %s: %d, want 403", host, path, st)
			}
		}
	}
	for _, host := range []string{"localhost", "LOCALHOST:1234", "app.localhost", "127.0.0.1", "127.9.9.9:80", "[::1]:8080",
		"tokengate.test", "tokengate.test:443"} {
		if st := call(host, "/_admin/clients"); st != 200 {
			t.Errorf("Host %s: %d, want 200", host, st)
		}
	}
	if st := call("attacker.example", "/healthz"); st != 200 {
		t.Errorf("healthz with another Host: %d", st)
	}
	if st := call("attacker.example", "/oauth2/.well-known/nothing"); st == 403 {
		t.Errorf("a dialect path was guarded")
	}
}
