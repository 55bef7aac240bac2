package declared_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

// acmeSpec is a vendor a test suite defines in its own setup: a token
// endpoint with one secret of its own (a "pin" header), its token format
// and error style.
const acmeSpec = `name: acme
title: ACME
base_path: /oauth
secrets: [pin]
tokens:
  access: {format: "acme_{base62:32}", lifetime: 10m}
routes:
  - method: POST
    path: /oauth/token
    operation: token
    grant: client_credentials
    inputs:
      client_id: form.client_id
      client_secret: form.client_secret
    response:
      body:
        access_token: "{access_token}"
        expires_in: "{expires_in}"
  - method: POST
    path: /oauth/introspect
    operation: introspect
    inputs:
      token: form.token
      client_id: form.client_id
      client_secret: form.client_secret
    response:
      body: {active: "{active}", client: "{client_id}", exp: "{expires_at:rfc3339}"}
    inactive:
      body: {active: false}
errors:
  body: {error: "{code}", message: "{description}", at: "{now:rfc3339}"}
  rules:
    - when: {kind: invalid_client}
      status: 401
      code: bad_credentials
      text: Wrong client id or secret.
  default: {status: 400, code: bad_request, text: The request failed.}
`

func acmeToken(t *testing.T, base string, extra url.Values) reply {
	t.Helper()
	form := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}
	for k, v := range extra {
		form[k] = v
	}
	return postForm(t, base+"/oauth/token", form, nil)
}

// TestAddedAtRunTime: a dialect added over the admin API answers at once,
// in its own style, with the engine's semantics; it survives a restart on
// the same database; DELETE unmounts it.
func TestAddedAtRunTime(t *testing.T) {
	db := filepath.Join(t.TempDir(), "runtime.db")
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n" + demoClients, DB: db})
	if r := acmeToken(t, g.URL+"/acme", nil); r.status != 404 || r.json["acme"] != nil {
		t.Fatalf("before: %d %s", r.status, r.raw)
	}
	d, err := g.Admin.AddDialect(admin.DialectRequest{Spec: acmeSpec, Prefix: "/acme"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "acme" || d.Source != admin.SourceAdmin || d.Type != "declared" || d.CreatedAt == nil ||
		strings.Join(d.Routes, ",") != "POST /acme/oauth/token,POST /acme/oauth/introspect" {
		t.Fatalf("added %+v", d)
	}
	r := acmeToken(t, g.URL+"/acme", nil)
	tok, _ := r.json["access_token"].(string)
	if r.status != 200 || !strings.HasPrefix(tok, "acme_") || r.json["expires_in"] != float64(600) {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	stored, err := g.App.Store.GetToken(t.Context(), core.TokenKey(tok))
	if err != nil || stored.Dialect != "acme" {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// Its errors and unrouted paths answer in its style.
	if r := acmeToken(t, g.URL+"/acme", url.Values{"client_secret": {"wrong"}}); r.status != 401 || r.json["error"] != "bad_credentials" {
		t.Fatalf("wrong secret: %d %s", r.status, r.raw)
	}
	r = send(t, nil, http.MethodGet, g.URL+"/acme/oauth/token", "", "", nil)
	if r.status != 400 || r.json["error"] != "bad_request" || r.header.Get("Allow") != "OPTIONS, POST" {
		t.Fatalf("wrong method: %d %v %s", r.status, r.header, r.raw)
	}
	if r := send(t, nil, http.MethodGet, g.URL+"/acme/oauth/nope", "", "", nil); r.status != 400 || r.json["message"] != "no such endpoint" {
		t.Fatalf("unrouted: %d %s", r.status, r.raw)
	}
	// The engine's clock decides: the token dies after 10 minutes.
	introspect := func() reply {
		return postForm(t, g.URL+"/acme/oauth/introspect", url.Values{"token": {tok}, "client_id": {"demo-client"},
			"client_secret": {"demo-secret"}}, nil)
	}
	if r := introspect(); r.json["active"] != true || r.json["client"] != "demo-client" {
		t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	g.Clock().Advance(10 * time.Minute)
	if r := introspect(); r.status != 200 || r.raw != `{"active":false}` {
		t.Fatalf("introspect after expiry: %d %s", r.status, r.raw)
	}

	list, err := g.Admin.Dialects()
	if err != nil || len(list) != 2 || list[0].Source != admin.SourceConfig || list[1].Name != "acme" || list[1].Spec != "" {
		t.Fatalf("list %+v %v", list, err)
	}
	if one, err := g.Admin.GetDialect("acme"); err != nil || one.Spec != acmeSpec {
		t.Fatalf("get %+v %v", one, err)
	}

	// A restart on the same database serves it again, after the config's.
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g = tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n" + demoClients, DB: db})
	if r := acmeToken(t, g.URL+"/acme", nil); r.status != 200 {
		t.Fatalf("after a restart: %d %s", r.status, r.raw)
	}
	if err := g.Admin.RemoveDialect("acme"); err != nil {
		t.Fatal(err)
	}
	if r := acmeToken(t, g.URL+"/acme", nil); r.status != 404 || r.json["error"] != "not_found" {
		t.Fatalf("after DELETE: %d %s", r.status, r.raw)
	}
	if err := g.Admin.RemoveDialect("acme"); apiStatus(err) != 404 {
		t.Fatalf("second DELETE: %v", err)
	}
	if err := g.Admin.RemoveDialect("oauth2"); apiStatus(err) != 409 {
		t.Fatalf("DELETE of a config dialect: %v", err)
	}
	// Removed for good: not back after a restart.
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g = tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n" + demoClients, DB: db})
	if r := acmeToken(t, g.URL+"/acme", nil); r.status != 404 {
		t.Fatalf("removed, then restarted: %d %s", r.status, r.raw)
	}
}

func apiStatus(err error) int {
	if ae, ok := errors.AsType[*admin.APIError](err); ok {
		return ae.Status
	}
	return 0
}

// TestAddRefusals: invalid specs come back 400 with every problem and its
// path; route collisions with config and run-time instances, names in use
// and listeners the gateway does not serve are refused; nothing is mounted.
func TestAddRefusals(t *testing.T) {
	g := startYAML(t, "dialects:\n  errorid: {type: declared, spec: errorid.yaml}\n  oauth2: {}\n"+demoClients)
	problems := func(err error) []string {
		ae, _ := errors.AsType[*admin.APIError](err)
		if ae == nil {
			t.Fatalf("no API error: %v", err)
		}
		return append([]string{ae.Problem.Error}, ae.Problem.Problems...)
	}
	broken := strings.Replace(acmeSpec, `"{expires_in}"`, `"{expires_inn}"`, 1)
	broken = strings.Replace(broken, "operation: introspect", "opration: introspect", 1)
	_, err := g.Admin.AddDialect(admin.DialectRequest{Spec: broken})
	if p := problems(err); apiStatus(err) != 400 || len(p) != 4 ||
		p[1] != `spec: routes[0].response.body.expires_in: unknown placeholder "expires_inn" (did you mean "expires_in"?) (line 18)` ||
		p[2] != `spec: routes[1].operation: is required (line 19)` ||
		p[3] != `spec: routes[1].opration: unknown key (did you mean "operation"?) (line 21)` {
		t.Fatalf("broken spec: %v", p)
	}
	for name, tc := range map[string]struct {
		req    admin.DialectRequest
		status int
		want   string
	}{
		"collides with a config instance": {admin.DialectRequest{Name: "errorid2", Spec: readSpec(t, "errorid.yaml")}, 409,
			"route collision: POST /v1/oauth/token on 127.0.0.1:0 is claimed by dialects errorid and errorid2"},
		"config name":            {admin.DialectRequest{Name: "oauth2", Spec: acmeSpec}, 409, "already mounted"},
		"reserved path":          {admin.DialectRequest{Prefix: "/_admin", Spec: acmeSpec}, 409, "is reserved for the gateway"},
		"bad name":               {admin.DialectRequest{Name: "a b", Spec: acmeSpec}, 400, "is not a dialect name"},
		"bad prefix":             {admin.DialectRequest{Prefix: "acme", Spec: acmeSpec}, 400, "must start with /"},
		"unknown listener":       {admin.DialectRequest{Listen: "127.0.0.1:1", Spec: acmeSpec}, 400, "is not served by this gateway"},
		"another type":           {admin.DialectRequest{Type: "oauth2", Spec: acmeSpec}, 400, "only declared dialects"},
		"not even YAML":          {admin.DialectRequest{Spec: "name: [x"}, 400, "spec: "},
		"collides with run-time": {admin.DialectRequest{Name: "acme2", Prefix: "/acme", Spec: acmeSpec}, 409, "is claimed by dialects acme and acme2"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "collides with run-time" {
				if _, err := g.Admin.AddDialect(admin.DialectRequest{Prefix: "/acme", Spec: acmeSpec}); err != nil {
					t.Fatal(err)
				}
				defer func() { _ = g.Admin.RemoveDialect("acme") }()
			}
			_, err := g.Admin.AddDialect(tc.req)
			ae, _ := errors.AsType[*admin.APIError](err)
			if ae == nil || ae.Status != tc.status || !strings.Contains(ae.Error(), tc.want) {
				t.Fatalf("%v, want %d with %q", err, tc.status, tc.want)
			}
			list, _ := g.Admin.Dialects()
			for _, d := range list {
				if d.Name == "errorid2" || d.Name == "acme2" || (d.Name == "acme" && name != "collides with run-time") {
					t.Fatalf("mounted after a refusal: %+v", d)
				}
			}
		})
	}
	// The config's instance still answers.
	r := send(t, nil, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", `{"client_id":"demo-client","client_secret":"demo-secret"}`, nil)
	if r.status != 200 {
		t.Fatalf("errorid after the refusals: %d %s", r.status, r.raw)
	}
}

func readSpec(t *testing.T, file string) string {
	t.Helper()
	b, err := readFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestControlPlaneOnRunTimeDialects: the journal (with the spec's own
// secret redacted), fault rules, the clock and client restrictions work
// for a dialect added at run time as for a configured one.
func TestControlPlaneOnRunTimeDialects(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n" + demoClients})
	if _, err := g.Admin.AddDialect(admin.DialectRequest{Spec: acmeSpec, Prefix: "/acme"}); err != nil {
		t.Fatal(err)
	}
	base := g.URL + "/acme"

	// Journal: the instance, route, client and status; no secret.
	if r := acmeToken(t, base, url.Values{"pin": {"8642"}}); r.status != 200 {
		t.Fatal(r.raw)
	}
	entries, err := g.Admin.Requests(control.Filter{Dialect: "acme"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("journal %+v %v", entries, err)
	}
	e := entries[0]
	raw, _ := json.Marshal(e)
	if e.Route != "/acme/oauth/token" || e.ClientID != "demo-client" || e.Status != 200 ||
		strings.Contains(string(raw), "8642") || strings.Contains(string(raw), "demo-secret") || !strings.Contains(string(raw), `"pin"`) {
		t.Fatalf("journal entry %s", raw)
	}

	// Faults by the instance's name, answered in its style.
	if _, err := g.Admin.AddFault(control.Rule{Dialect: "acme", Status: 503, Code: "maintenance", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if r := acmeToken(t, base, nil); r.status != 503 || r.json["error"] != "maintenance" || r.json["message"] != "injected fault: Service Unavailable" {
		t.Fatalf("fault: %d %s", r.status, r.raw)
	}
	if r := acmeToken(t, base, nil); r.status != 200 {
		t.Fatalf("after the fault: %d %s", r.status, r.raw)
	}

	// The clock: {now} in an error follows the admin clock.
	if _, err := g.Admin.SetClock(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if r := acmeToken(t, base, url.Values{"client_secret": {"wrong"}}); r.json["at"] != "2031-05-06T07:08:09Z" {
		t.Fatalf("error time: %s", r.raw)
	}

	// A client limited to the run-time instance may use it, and only it.
	if _, err := g.Admin.CreateClient(config.Client{ClientID: "acme-only", ClientSecret: "acme-secret",
		Grants: []string{"client_credentials"}, Dialects: []string{"acme"}}); err != nil {
		t.Fatal(err)
	}
	if r := postForm(t, base+"/oauth/token", url.Values{"client_id": {"acme-only"}, "client_secret": {"acme-secret"}}, nil); r.status != 200 {
		t.Fatalf("acme-only on acme: %d %s", r.status, r.raw)
	}
	r := send(t, nil, http.MethodPost, g.URL+"/oauth2/token", "application/x-www-form-urlencoded",
		"grant_type=client_credentials&client_id=acme-only&client_secret=acme-secret", nil)
	if r.status == 200 {
		t.Fatalf("acme-only on oauth2: %s", r.raw)
	}
}
