package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid spec; the broken specs below each change it.
const minimal = `name: demo
routes:
  - method: POST
    path: /token
    operation: token
    grant: client_credentials
    inputs:
      client_id: form.client_id
      client_secret: form.client_secret
    response:
      body:
        access_token: "{access_token}"
        team: {id: T1}
errors:
  body: {error: "{code}"}
  rules:
    - when: {kind: invalid_client}
      status: 401
      code: invalid_client
  default: {status: 500, code: server_error}
`

// edit returns minimal with old replaced by new (old must occur once).
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(minimal, old) != 1 {
		t.Fatalf("%q does not occur exactly once in the minimal spec", old)
	}
	return strings.Replace(minimal, old, new, 1)
}

func TestMinimalSpecParses(t *testing.T) {
	s, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "demo" || s.Title != "demo" || len(s.Routes) != 1 || s.Routes[0].Body != BodyForm {
		t.Fatalf("parsed %+v", s)
	}
}

// TestBrokenSpecs: each mistake is reported with its exact path and line,
// all problems at once, in file order.
func TestBrokenSpecs(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown placeholder in a nested object", "team: {id: T1}", `team: {id: "{team_idd}"}`,
			[]string{`routes[0].response.body.team.id: unknown placeholder "team_idd" (line 13)`}},
		{"placeholder typo gets a suggestion", `access_token: "{access_token}"`, `access_token: "{acess_token}"`,
			[]string{`routes[0].response.body.access_token: unknown placeholder "acess_token" (did you mean "access_token"?) (line 12)`}},
		{"unquoted placeholder", `access_token: "{access_token}"`, `access_token: {access_token}`,
			[]string{`routes[0].response.body.access_token: a placeholder must be quoted: write "{access_token}" (line 12)`}},
		{"placeholder of another context", `body: {error: "{code}"}`, `body: {error: "{code}", token: "{access_token}"}`,
			[]string{`errors.body.token: placeholder "access_token" cannot be used in an error answer (available: base_url, code, correlation_id, description, error_id, now, param, status, text, timestamp, trace_id, value) (line 15)`}},
		{"unknown key with a suggestion, and the key it misspells", "    operation: token\n", "    opration: token\n",
			[]string{
				`routes[0].operation: is required (line 3)`,
				`routes[0].opration: unknown key (did you mean "operation"?) (line 5)`,
			}},
		{"token format with too little randomness", "name: demo\n", "name: demo\ntokens:\n  access: {format: \"tok_{hex:16}\"}\n",
			[]string{`tokens.access.format: "tok_{hex:16}" has 64 bits of randomness; at least 128 are needed (e.g. {hex:32} has 128) (line 3)`}},
		{"unknown character class", "name: demo\n", "name: demo\ntokens:\n  access: {format: \"{hx:32}\"}\n",
			[]string{`tokens.access.format: "{hx:32}": unknown character class "hx" (use hex, HEX, digits, lower, upper, alpha, alnum, base62, base64url or uuid) (line 3)`}},
		{"form body must be flat", "      body:\n        access_token", "      content_type: [form, json]\n      body:\n        access_token",
			[]string{`routes[0].response.body.team: a form-encoded body must be flat: nested objects and lists cannot be form-encoded (line 14)`}},
		{"a variable no rule sets", `body: {error: "{code}"}`, `body: {error: "{code}", uri: "{vars.error_uri}"}`,
			[]string{
				`errors.rules[0]: the answer uses {vars.error_uri}, which neither this rule nor errors.vars sets (line 17)`,
				`errors.default: the answer uses {vars.error_uri}, which neither this rule nor errors.vars sets (line 20)`,
			}},
		{"token route without a secret input", "      client_secret: form.client_secret\n", "",
			[]string{`routes[0].inputs: a token route needs the client_secret input (line 8)`}},
		{"authorization_code needs code and redirect_uri", "grant: client_credentials", "grant: authorization_code",
			[]string{
				`routes[0].inputs: a token route needs the code input (line 8)`,
				`routes[0].inputs: a token route needs the redirect_uri input (line 8)`,
			}},
		{"unknown error kind", "kind: invalid_client", "kind: invalid_clent",
			[]string{`errors.rules[0].when.kind: unknown value "invalid_clent" (did you mean "invalid_client"? use invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_token, expired_token, access_denied, not_found, conflict, rate_limited, unavailable, server_error) (line 17)`}},
		{"unknown input and source", "client_id: form.client_id", "clientid: body.client_id",
			[]string{
				`routes[0].inputs: a token route needs the client_id input (line 8)`,
				`routes[0].inputs.clientid: unknown input "clientid" (did you mean "client_id"?) (line 8)`,
			}},
		{"unknown source", "client_id: form.client_id", "client_id: body.client_id",
			[]string{
				`routes[0].inputs: a token route needs the client_id input (line 8)`,
				`routes[0].inputs.client_id: unknown source "body.client_id" (use form.NAME, json.PATH, query.NAME, header.NAME, bearer, basic.id or basic.secret) (line 8)`,
			}},
		{"form and json inputs", "client_id: form.client_id", "client_id: json.client.id",
			[]string{`routes[0].inputs.client_secret: reads form.client_secret, but the route's body is json (line 9)`}},
		{"duplicate route", "errors:\n", "  - method: POST\n    path: /token\n    operation: static\n    response: {body: {a: 1}}\nerrors:\n",
			[]string{`routes[1]: POST /token is already declared by routes[0] (line 14)`}},
		{"the login form's POST is taken", "errors:\n", "  - path: /token\n    operation: authorize\nerrors:\n",
			[]string{`routes[1]: POST /token is already declared by routes[0] (line 14)`}},
		{"refresh rotation not a boolean", "name: demo\n", "name: demo\ntokens:\n  rotate_refresh: sometimes\n",
			[]string{`tokens.rotate_refresh: must be true or false (line 3)`}},
		{"code lifetime over ten minutes", "name: demo\n", "name: demo\ntokens:\n  code: {lifetime: 1h}\n",
			[]string{`tokens.code.lifetime: authorization codes live at most 10m0s (RFC 6749 §4.1.2) (line 3)`}},
		{"lifetime in the wrong syntax", "name: demo\n", "name: demo\ntokens:\n  access: {lifetime: 90 days}\n",
			[]string{`tokens.access.lifetime: invalid duration "90 days": use Go syntax such as 90s, 15m or 2160h (line 3)`}},
		{"JWT without jti", "name: demo\n", "name: demo\ntokens:\n  access:\n    format: jwt\n    jwt: {claims: {sub: \"{subject}\", email: \"{user.email}\"}}\n",
			[]string{
				`tokens.access.jwt.claims: must contain "{jti}" so that every token is unique (128 random bits) (line 5)`,
				`tokens.access.jwt.claims.email: placeholder "user.email" cannot be used in JWT claims (available: client_id, created_at, expires_at, expires_in, issued_at, jti, now, scope, subject, timestamp, user.id) (line 5)`,
			}},
		{"required for a grant the route does not run", "client_id: form.client_id", "client_id: {from: form.client_id, required: [refresh_token]}",
			[]string{`routes[0].inputs.client_id: required for refresh_token, which this route does not run (line 8)`}},
		{"status out of range", "status: 401", "status: 99",
			[]string{`errors.rules[0].status: 99 is not an HTTP status from 200 to 599 (line 18)`}},
		{"optional placeholder inside a string", `access_token: "{access_token}"`, `access_token: "Bearer {access_token?}"`,
			[]string{`routes[0].response.body.access_token: "{access_token?}" can only stand alone as a value, not inside a string (line 12)`}},
		{"rule without when", "    - when: {kind: invalid_client}\n      status: 401", "    - status: 401",
			[]string{"errors.rules[0].when: is required (or make this the default rule) (line 17)"}},
		{"header set by tokengate", "      body:\n        access_token", "      headers: {content-type: text/html}\n      body:\n        access_token",
			[]string{`routes[0].response.headers.content-type: is set by tokengate (use content_type for the body's format) (line 11)`}},
		{"two documents", "default: {status: 500, code: server_error}\n", "default: {status: 500, code: server_error}\n---\nname: other\n",
			[]string{`a spec file holds one YAML document (line 21)`}},
		{"YAML syntax", "name: demo\n", "name: demo\n  bad: indent\n",
			[]string{`mapping values are not allowed in this context (line 2)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(edit(t, tc.old, tc.new)))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse: %v, want a *ValidationError", err)
			}
			sameLines(t, ve.Lines(), tc.want)
		})
	}
}

// TestAllProblemsAtOnce: several mistakes in different sections come back
// together, sorted by line.
func TestAllProblemsAtOnce(t *testing.T) {
	src := strings.NewReplacer(
		"name: demo", "name: Demo!",
		`team: {id: T1}`, `team: {id: "{team_idd}"}`,
		"status: 401", "status: 4001",
		"default: {status: 500, code: server_error}", "default: {status: 500}",
	).Replace(minimal)
	_, err := Parse([]byte(src))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse: %v", err)
	}
	want := []string{
		`name: "Demo!": use lower-case letters, digits, - and _ (line 1)`,
		`routes[0].response.body.team.id: unknown placeholder "team_idd" (line 13)`,
		`errors.rules[0].status: 4001 is not an HTTP status from 200 to 599 (line 18)`,
		`errors.default.code: is required (line 20)`,
	}
	sameLines(t, ve.Lines(), want)
}

// specFiles are the five specs the project ships or tests with.
var specFiles = []string{
	"../testdata/errorid.yaml",
	"../testdata/hurdlr.yaml",
	"../../../docs/examples/github.yaml",
	"../../../docs/examples/slack.yaml",
	"../../../docs/examples/microsoft.yaml",
}

func loadSpec(t testing.TB, file string) *Spec {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		t.Fatalf("%s:\n%v", file, err)
	}
	return s
}

func TestShippedSpecsValidate(t *testing.T) {
	for _, f := range specFiles {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := loadSpec(t, f)
			if s.Name+".yaml" != filepath.Base(f) {
				t.Errorf("name %q does not match the file", s.Name)
			}
		})
	}
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestDocsFirstSpec keeps the docs' first example a valid spec.
func TestDocsFirstSpec(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/declared-dialects.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(doc), "## A first spec\n\n```yaml\n")
	src, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("no example under \"A first spec\"")
	}
	if _, err := Parse([]byte(src)); err != nil {
		t.Fatalf("the docs' first spec:\n%v", err)
	}
}

// TestAliasBombs: aliases that refer to themselves or multiply are refused,
// not followed forever.
func TestAliasBombs(t *testing.T) {
	const errs = "errors: {body: {e: 1}, default: {status: 500, code: x}}\n"
	cases := map[string]string{
		"self in a list": "name: x\nroutes: [{operation: static, path: /a, response: {body: &x {a: [*x]}}}]\n" + errs,
		"self merge":     "name: x\nroutes: [{operation: static, path: /a, response: {body: &x {<<: *x}}}]\n" + errs,
		"laughs":         "name: x\na: &a [1,1,1,1,1,1,1,1,1,1]\n",
		"merge fan-out":  "name: x\n",
	}
	var b strings.Builder
	b.WriteString("name: x\nroutes: [{operation: static, path: /a, response: {body: &l0 {k: 1}}}]\nerrors:\n  body: {e: 1}\n  default: {status: 500, code: x}\n  vars:\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "    l%d: &l%d {<<: [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]}\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	cases["merge fan-out"] = b.String()
	lol := "name: x\nroutes: [{operation: static, path: /a, response: {body: &d0 [1,1,1,1,1,1,1,1,1,1]}}]\nerrors:\n  body: {e: 1}\n  default: {status: 500, code: x}\n  vars:\n"
	for i := 1; i < 9; i++ {
		lol += fmt.Sprintf("    d%d: &d%d [*d%d,*d%d,*d%d,*d%d,*d%d,*d%d,*d%d,*d%d,*d%d,*d%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	cases["laughs"] = lol
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := Parse([]byte(src)); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "alias") {
					t.Fatalf("got %v, want the alias refused", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Parse did not return")
			}
		})
	}
}
