// Package erroridsuite is the errorId financial API's wire tests, run
// against the built-in errorid dialect and the same API declared in a spec
// (see package paritytest).
package erroridsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/dialects/internal/paritytest"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Run runs every test of the suite against tg, one subtest each. The
// instance is named errorid; tg.Instance knows the variants
// "one_active_token" (a second token while one is active is 409 CONFLICT)
// and "working_hours" (Mon-Fri 08:00-18:00 Europe/Berlin; outside them 503
// NON_WORKING_HOURS with Retry-After), or skips the test saying why not.
func Run(t *testing.T, tg paritytest.Target) {
	tg.Run(t, []paritytest.Test{
		{Name: "TokenSpellings", Run: testTokenSpellings},
		{Name: "WorkingHours", Run: testWorkingHours},
		{Name: "AccessTokenTTL", Run: testAccessTokenTTL},
		{Name: "Errors", Run: testErrors},
		{Name: "PathsOutsideTheDialect", Run: testPathsOutsideTheDialect},
		{Name: "Prefix", Run: testPrefix},
		{Name: "ErrorIDInLogs", Run: testErrorIDInLogs},
		{Name: "OneActiveToken", Run: testOneActiveToken},
		{Name: "OneActiveTokenConcurrent", Run: testOneActiveTokenConcurrent},
		{Name: "OneActiveTokenOff", Run: testOneActiveTokenOff},
		{Name: "NoEchoDefaultBody", Run: testNoEchoDefaultBody},
		{Name: "JournalErrorID", Run: testJournalErrorID},
		{Name: "Faults", Run: testFaults},
		{Name: "BruteForceAnswers429", Run: testBruteForceAnswers429},
		{Name: "RenderInternal", Run: testRenderInternal},
		{Name: "RenderTable", Run: testRenderTable},
		{Name: "RenderRedactsSecrets", Run: testRenderRedactsSecrets},
		{Name: "PanicThroughGateway", Run: testPanicThroughGateway},
		{Name: "ParameterValueAsSent", Run: testParameterValueAsSent},
		{Name: "GrantType", Run: testGrantType},
		{Name: "NoChallengeOn401", Run: testNoChallengeOn401},
	})
}

// ClientsYAML are the clients every test of the suite has.
const ClientsYAML = `
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token]
  - client_id: other-client
    client_secret: other-secret
    grants: [client_credentials]
  - client_id: disabled-client
    client_secret: disabled-secret
    grants: [client_credentials]
    disabled: true
  - client_id: expired-client
    client_secret: expired-secret
    grants: [client_credentials]
    expires_at: 2020-01-01T00:00:00Z
  - client_id: code-only-client
    client_secret: code-only-secret
    grants: [authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
  - client_id: oauth2-only-client
    client_secret: oauth2-only-secret
    grants: [client_credentials]
    dialects: [oauth2]
`

// secrets never to appear in a response body.
var secrets = []string{"demo-secret", "other-secret", "disabled-secret", "expired-secret", "code-only-secret",
	"oauth2-only-secret", "wrong-secret", "s3cr3t-number"}

// start starts a gateway serving the dialect under test as instance
// errorid, in variant ("" or "one_active_token"), with extra instance keys.
func start(t *testing.T, tg paritytest.Target, variant, keys string) *paritytest.Gateway {
	t.Helper()
	return tg.Gateway(t, "errorid", variant, keys, ClientsYAML, false)
}

type response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

func do(t *testing.T, method, url, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, url, err, raw)
		}
	}
	return r
}

func postJSON(t *testing.T, g *paritytest.Gateway, body string) response {
	t.Helper()
	return do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(body))
}

// UUIDPattern matches the errorId of an error body: a lower-case version-4 UUID.
var UUIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkErrorBody checks the vendor's error schema field by field: exactly
// the five keys, errorId a UUID, code and text non-empty strings,
// parameter_name a string or null. It returns errorId.
func checkErrorBody(t *testing.T, r response) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	want := []string{"code", "errorId", "parameter_name", "parameter_value", "text"}
	if got := paritytest.Keys(r.Body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("error body keys = %v, want exactly %v\n%s", got, want, r.Raw)
	}
	id, ok := r.Body["errorId"].(string)
	if !ok || !UUIDPattern.MatchString(id) {
		t.Errorf("errorId = %#v, want a lower-case version-4 UUID", r.Body["errorId"])
	}
	for _, k := range []string{"code", "text"} {
		if s, ok := r.Body[k].(string); !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, r.Body[k])
		}
	}
	if code, _ := r.Body["code"].(string); !regexp.MustCompile(`^[A-Z][A-Z_]*[A-Z]$`).MatchString(code) {
		t.Errorf("code %q is not UPPER_SNAKE", code)
	}
	// parameter_value is the JSON value as sent: any type.
	switch r.Body["parameter_name"].(type) {
	case nil, string:
	default:
		t.Errorf("parameter_name = %#v, want a string or null", r.Body["parameter_name"])
	}
	if r.Body["parameter_name"] == nil && r.Body["parameter_value"] != nil {
		t.Errorf("parameter_value %#v without parameter_name", r.Body["parameter_value"])
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error Cache-Control = %q, want no-store", cc)
	}
	for _, s := range secrets {
		if strings.Contains(r.Raw, s) {
			t.Errorf("error body echoes the secret %q: %s", s, r.Raw)
		}
	}
	return id
}

func checkToken(t *testing.T, r response, ttl float64) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.Status, r.Raw)
	}
	if got := paritytest.Keys(r.Body); strings.Join(got, ",") != "access_token,expires_in,token_type" {
		t.Fatalf("token body keys = %v, want access_token, expires_in, token_type", got)
	}
	if s, ok := r.Body["access_token"].(string); !ok || len(s) < 20 {
		t.Errorf("access_token = %#v", r.Body["access_token"])
	}
	if r.Body["token_type"] != "Bearer" {
		t.Errorf("token_type = %#v, want Bearer", r.Body["token_type"])
	}
	if r.Body["expires_in"] != ttl {
		t.Errorf("expires_in = %#v, want %v", r.Body["expires_in"], ttl)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token response cache headers: %q %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// testTokenSpellings sends the vendor's one documented request, with the
// property names in both spellings the lost rendering allows.
func testTokenSpellings(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	cases := []struct{ name, ct, body string }{
		{"snake_case", "application/json", `{"client_id": "demo-client", "client_secret": "demo-secret"}`},
		{"camelCase", "application/json", `{"clientId": "demo-client", "clientSecret": "demo-secret"}`},
		{"mixed", "application/json", `{"clientId": "demo-client", "client_secret": "demo-secret"}`},
		{"charset parameter", "application/json; charset=utf-8", `{"client_id":"demo-client","client_secret":"demo-secret"}`},
		{"unknown properties ignored", "application/json", `{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"client_credentials","scope":null}`},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", tc.ct, strings.NewReader(tc.body))
			checkToken(t, r, 3600)
			tok := r.Body["access_token"].(string)
			if seen[tok] {
				t.Errorf("access token issued twice")
			}
			seen[tok] = true
			stored, err := g.Store.GetToken(context.Background(), core.TokenKey(tok))
			if err != nil {
				t.Fatalf("issued token not stored: %v", err)
			}
			if stored.Dialect != "errorid" || stored.ClientID != "demo-client" || stored.Kind != core.TokenAccess {
				t.Errorf("stored token %+v", stored)
			}
		})
	}
}

func testAccessTokenTTL(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "access_token_ttl: 15m")
	r := postJSON(t, g, `{"client_id":"demo-client","client_secret":"demo-secret"}`)
	checkToken(t, r, 900)
}

// chunked hides a reader's length so the request is sent chunked.
type chunked struct{ io.Reader }

// testErrors checks every failure class: status, code and the parameter fields.
func testErrors(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	const tooBig = 1<<20 + 1
	big := `{"client_id":"demo-client","client_secret":"demo-secret","pad":"` + strings.Repeat("x", tooBig) + `"}`
	null := any(nil)
	cases := []struct {
		name, method, path, ct string
		body                   io.Reader
		status                 int
		code                   string
		param, value           any
		text                   string
		header                 [2]string
	}{
		// Input validation: 400 VALIDATION_ERROR naming the parameter.
		{name: "both id spellings", body: strings.NewReader(`{"client_id":"demo-client","clientId":"demo-client","client_secret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_id", value: null, text: "client_id and clientId are the same property; send only one"},
		{name: "both secret spellings", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret","clientSecret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_secret", value: null},
		{name: "missing client id", body: strings.NewReader(`{"client_secret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_id", value: null, text: "missing required parameter: client_id"},
		{name: "missing client secret", body: strings.NewReader(`{"clientId":"demo-client"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_secret", value: null},
		{name: "empty object", body: strings.NewReader(`{}`), status: 400, code: "VALIDATION_ERROR", param: "client_id", value: null},
		{name: "null client id", body: strings.NewReader(`{"clientId":null,"clientSecret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "clientId", value: null},
		{name: "empty client id", body: strings.NewReader(`{"client_id":"","client_secret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_id", value: "", text: "client_id must not be empty"},
		{name: "numeric client id", body: strings.NewReader(`{"client_id":12345,"client_secret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_id", value: float64(12345), text: "client_id must be a string"},
		{name: "object client id", body: strings.NewReader(`{"clientId":{"a":1},"clientSecret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "clientId", value: map[string]any{"a": float64(1)}},
		{name: "numeric secret is not echoed", body: strings.NewReader(`{"client_id":"demo-client","client_secret":["s3cr3t-number"]}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_secret", value: null},
		{name: "empty secret is not echoed", body: strings.NewReader(`{"client_id":"demo-client","clientSecret":""}`),
			status: 400, code: "VALIDATION_ERROR", param: "clientSecret", value: null},
		{name: "duplicate JSON key", body: strings.NewReader(`{"client_id":"demo-client","client_id":"other-client","client_secret":"demo-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_id", value: null, text: "parameter sent more than once: client_id"},
		{name: "duplicate secret key", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret","client_secret":"wrong-secret"}`),
			status: 400, code: "VALIDATION_ERROR", param: "client_secret", value: null},
		// Unparseable bodies: 400 MALFORMED_REQUEST, no parameter.
		{name: "malformed JSON", body: strings.NewReader(`{"client_id":"demo-client",`),
			status: 400, code: "MALFORMED_REQUEST", param: null, value: null, text: "the body is not valid JSON"},
		{name: "JSON array", body: strings.NewReader(`[{"client_id":"demo-client"}]`),
			status: 400, code: "MALFORMED_REQUEST", param: null, value: null, text: "the body must be a JSON object"},
		{name: "trailing data", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"} {}`),
			status: 400, code: "MALFORMED_REQUEST", param: null, value: null},
		{name: "empty body", body: strings.NewReader(``), status: 400, code: "MALFORMED_REQUEST", param: null, value: null},
		// Wrong media type: 415 naming the header.
		{name: "form body", ct: "application/x-www-form-urlencoded", body: strings.NewReader(`client_id=demo-client&client_secret=demo-secret`),
			status: 415, code: "UNSUPPORTED_MEDIA_TYPE", param: "Content-Type", value: "application/x-www-form-urlencoded"},
		{name: "text/plain", ct: "text/plain", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`),
			status: 415, code: "UNSUPPORTED_MEDIA_TYPE", param: "Content-Type", value: "text/plain"},
		{name: "no content type", ct: "-", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`),
			status: 415, code: "UNSUPPORTED_MEDIA_TYPE", param: "Content-Type", value: null},
		// Credentials and client state.
		{name: "unknown client", body: strings.NewReader(`{"client_id":"nobody","client_secret":"wrong-secret"}`),
			status: 401, code: "INVALID_CLIENT", param: null, value: null, text: "Client authentication failed."},
		{name: "wrong secret", body: strings.NewReader(`{"client_id":"demo-client","client_secret":"wrong-secret"}`),
			status: 401, code: "INVALID_CLIENT", param: null, value: null},
		{name: "disabled client", body: strings.NewReader(`{"client_id":"disabled-client","client_secret":"disabled-secret"}`),
			status: 409, code: "CONFLICT", param: null, value: null, text: "client is disabled"},
		{name: "disabled client, wrong secret", body: strings.NewReader(`{"client_id":"disabled-client","client_secret":"wrong-secret"}`),
			status: 401, code: "INVALID_CLIENT", param: null, value: null},
		{name: "expired client", body: strings.NewReader(`{"client_id":"expired-client","client_secret":"expired-secret"}`),
			status: 409, code: "CONFLICT", param: null, value: null, text: "client registration has expired"},
		{name: "client without client_credentials", body: strings.NewReader(`{"client_id":"code-only-client","client_secret":"code-only-secret"}`),
			status: 403, code: "UNAUTHORIZED_CLIENT", param: null, value: null},
		{name: "client of another dialect", body: strings.NewReader(`{"client_id":"oauth2-only-client","client_secret":"oauth2-only-secret"}`),
			status: 403, code: "UNAUTHORIZED_CLIENT", param: null, value: null},
		// Framework errors under /v1/oauth.
		{name: "unknown path", method: http.MethodGet, path: "/v1/oauth/nope", status: 404, code: "NOT_FOUND", param: null, value: null},
		{name: "prefix itself", method: http.MethodPost, path: "/v1/oauth", status: 404, code: "NOT_FOUND", param: null, value: null},
		{name: "deep unknown path", method: http.MethodPost, path: "/v1/oauth/token/extra", status: 404, code: "NOT_FOUND", param: null, value: null},
		{name: "GET token", method: http.MethodGet, path: "/v1/oauth/token", status: 405, code: "METHOD_NOT_ALLOWED", param: null, value: null,
			header: [2]string{"Allow", "OPTIONS, POST"}},
		{name: "PUT token", method: http.MethodPut, path: "/v1/oauth/token", body: strings.NewReader(`{}`), status: 405, code: "METHOD_NOT_ALLOWED", param: null, value: null},
		{name: "oversized body", body: strings.NewReader(big), status: 413, code: "PAYLOAD_TOO_LARGE", param: null, value: null},
		{name: "oversized chunked body", body: chunked{strings.NewReader(big)}, status: 413, code: "PAYLOAD_TOO_LARGE", param: null, value: null},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, path, ct := tc.method, tc.path, tc.ct
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/v1/oauth/token"
			}
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			body := tc.body
			if body == nil {
				body = http.NoBody
			}
			r := do(t, method, g.URL+path, ct, body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			checkErrorBody(t, r)
			if r.Body["code"] != tc.code {
				t.Errorf("code = %#v, want %q", r.Body["code"], tc.code)
			}
			if r.Body["parameter_name"] != tc.param {
				t.Errorf("parameter_name = %#v, want %#v", r.Body["parameter_name"], tc.param)
			}
			if !reflect.DeepEqual(r.Body["parameter_value"], tc.value) {
				t.Errorf("parameter_value = %#v, want %#v", r.Body["parameter_value"], tc.value)
			}
			if tc.text != "" && r.Body["text"] != tc.text {
				t.Errorf("text = %#v, want %q", r.Body["text"], tc.text)
			}
			if tc.header[0] != "" && r.Header.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s = %q, want %q", tc.header[0], r.Header.Get(tc.header[0]), tc.header[1])
			}
			if r.Header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q on a %d", r.Header.Get("Retry-After"), r.Status)
			}
		})
	}
}

// testPathsOutsideTheDialect checks that Owns claims /v1/oauth only.
func testPathsOutsideTheDialect(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	r := do(t, http.MethodGet, g.URL+"/v1/oauthx", "", nil)
	if r.Status != 404 || r.Body["errorId"] != nil {
		t.Fatalf("/v1/oauthx: %d %s; want the gateway's neutral 404, not this dialect's", r.Status, r.Raw)
	}
}

func testPrefix(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "prefix: /fin")
	r := do(t, http.MethodPost, g.URL+"/fin/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
	checkToken(t, r, 3600)
	r = do(t, http.MethodGet, g.URL+"/fin/v1/oauth/nope", "", nil)
	if r.Status != 404 {
		t.Fatalf("status %d", r.Status)
	}
	if checkErrorBody(t, r); r.Body["code"] != "NOT_FOUND" {
		t.Fatalf("code %v", r.Body["code"])
	}
	if r = do(t, http.MethodGet, g.URL+"/v1/oauth/nope", "", nil); r.Body["errorId"] != nil {
		t.Fatalf("unprefixed path answered in errorid style: %s", r.Raw)
	}
}

type logLine struct {
	Msg      string `json:"msg"`
	Status   int    `json:"status"`
	Dialect  string `json:"dialect"`
	ClientID string `json:"client_id"`
	Error    string `json:"error"`
	ErrorID  string `json:"error_id"`
}

func findLog(t *testing.T, logs, errorID string) *logLine {
	t.Helper()
	var found *logLine
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, errorID) {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if l.Msg == "request" && l.ErrorID == errorID {
			if found != nil {
				t.Fatalf("error id %s logged twice", errorID)
			}
			found = &l
		}
	}
	return found
}

// testErrorIDInLogs: an operator finds the event from the errorId a client reports.
func testErrorIDInLogs(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ids := map[string]bool{}
	cases := []struct {
		name   string
		send   func() response
		status int
		client string
	}{
		{"bad credentials", func() response {
			return postJSON(t, g, `{"client_id":"demo-client","client_secret":"wrong-secret"}`)
		}, 401, "demo-client"},
		{"validation", func() response { return postJSON(t, g, `{"client_id":"demo-client"}`) }, 400, "demo-client"},
		{"not found", func() response { return do(t, http.MethodGet, g.URL+"/v1/oauth/missing", "", nil) }, 404, ""},
		{"method", func() response { return do(t, http.MethodDelete, g.URL+"/v1/oauth/token", "", nil) }, 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send()
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d", r.Status, tc.status)
			}
			id := checkErrorBody(t, r)
			if ids[id] {
				t.Fatalf("errorId %s reused", id)
			}
			ids[id] = true
			l := findLog(t, g.Logs(), id)
			if l == nil {
				t.Fatalf("errorId %s not in the logs:\n%s", id, g.Logs())
			}
			if l.Status != tc.status || l.Dialect != "errorid" || l.ClientID != tc.client {
				t.Errorf("log line %+v", *l)
			}
		})
	}
	if strings.Contains(g.Logs(), "wrong-secret") {
		t.Errorf("a secret reached the logs")
	}
}

// testWorkingHours moves the engine's clock to instants inside and outside
// "Mon-Fri 08:00-18:00" Europe/Berlin, across both 2026 DST changes.
func testWorkingHours(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "working_hours", "")
	clock := g.Clock
	clock.Freeze(true)
	t.Cleanup(func() { clock.Freeze(false) })
	good := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	cases := []struct {
		name, at, ct, body string
		open               bool
		retryAfter         string
	}{
		{"wednesday 10:00 CET", "2026-03-25T09:00:00Z", "", good, true, ""},
		{"wednesday 07:59:59 CET", "2026-03-25T06:59:59Z", "", good, false, "1"},
		{"friday 18:00 CET, spring forward weekend", "2026-03-27T17:00:00Z", "", good, false, "219600"},
		{"saturday noon", "2026-03-28T11:00:00Z", "", good, false, "154800"},
		{"sunday 03:30 CEST, just after the change", "2026-03-29T01:30:00Z", "", good, false, "102600"},
		{"monday 08:00 CEST", "2026-03-30T06:00:00Z", "", good, true, ""},
		{"monday 07:00 CEST (08:00 in winter)", "2026-03-30T05:00:00Z", "", good, false, "3600"},
		{"friday 18:00 CEST, fall back weekend", "2026-10-23T16:00:00Z", "", good, false, "226800"},
		{"monday 08:00 CET", "2026-10-26T07:00:00Z", "", good, true, ""},
		{"closed before the body is read", "2026-03-28T11:00:00Z", "application/json", `{"client_id":`, false, "154800"},
		{"closed before the content type is checked", "2026-03-28T11:00:00Z", "text/plain", `x`, false, "154800"},
		{"closed before credentials are checked", "2026-03-28T11:00:00Z", "", `{"client_id":"demo-client","client_secret":"wrong-secret"}`, false, "154800"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock.Set(utc(tc.at))
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", ct, strings.NewReader(tc.body))
			if tc.open {
				checkToken(t, r, 3600)
				return
			}
			if r.Status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", r.Status, r.Raw)
			}
			id := checkErrorBody(t, r)
			want := map[string]any{"errorId": id, "code": "NON_WORKING_HOURS",
				"text":           "The server is currently unavailable due to non-working hours. Please try again later.",
				"parameter_name": nil, "parameter_value": nil}
			for k, v := range want {
				if r.Body[k] != v {
					t.Errorf("%s = %#v, want %#v", k, r.Body[k], v)
				}
			}
			if got := r.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			if l := findLog(t, g.Logs(), id); l == nil || l.Status != 503 {
				t.Errorf("503 not logged with its error id: %+v", l)
			}
		})
	}
	// Unknown paths and methods are answered as such, whatever the hour.
	clock.Set(utc("2026-03-28T11:00:00Z"))
	if r := do(t, http.MethodGet, g.URL+"/v1/oauth/nope", "", nil); r.Status != 404 || r.Body["code"] != "NOT_FOUND" {
		t.Errorf("404 outside hours: %d %s", r.Status, r.Raw)
	}
	if r := do(t, http.MethodGet, g.URL+"/v1/oauth/token", "", nil); r.Status != 405 || r.Body["code"] != "METHOD_NOT_ALLOWED" {
		t.Errorf("405 outside hours: %d %s", r.Status, r.Raw)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// testOneActiveToken: under one_active_token a second request while the
// first token lives is 409 CONFLICT; it succeeds again once the token expires
// or is revoked.
func testOneActiveToken(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "one_active_token", "access_token_ttl: 10m")
	ctx := context.Background()
	req := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	checkToken(t, postJSON(t, g, req), 600)

	r := postJSON(t, g, req)
	if r.Status != http.StatusConflict {
		t.Fatalf("second token: status %d, want 409: %s", r.Status, r.Raw)
	}
	checkErrorBody(t, r)
	if r.Body["code"] != "CONFLICT" || r.Body["text"] != "client already holds an active access token" {
		t.Errorf("409 body %s", r.Raw)
	}
	// Authentication comes first: a wrong secret is still 401, not 409.
	if r := postJSON(t, g, `{"client_id":"demo-client","client_secret":"wrong-secret"}`); r.Status != 401 {
		t.Errorf("wrong secret with an active token: %d, want 401", r.Status)
	}
	// Another client is not affected.
	checkToken(t, postJSON(t, g, `{"clientId":"other-client","clientSecret":"other-secret"}`), 600)

	g.Clock.Advance(10*time.Minute - time.Second)
	if r := postJSON(t, g, req); r.Status != http.StatusConflict {
		t.Fatalf("a second before expiry: %d, want 409", r.Status)
	}
	g.Clock.Advance(2 * time.Second)
	checkToken(t, postJSON(t, g, req), 600)

	if _, err := g.Store.RevokeClientTokens(ctx, "demo-client", core.Revocation{At: g.Engine.Now(), Cause: core.RevokeAdmin}); err != nil {
		t.Fatal(err)
	}
	checkToken(t, postJSON(t, g, req), 600)
}

// testOneActiveTokenConcurrent: the check and the issue are atomic within
// the process, so of concurrent requests exactly one gets a token.
func testOneActiveTokenConcurrent(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "one_active_token", "")
	const n = 32
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/v1/oauth/token",
				strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 409", count, n-1)
	}
}

func testOneActiveTokenOff(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	req := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	checkToken(t, postJSON(t, g, req), 3600)
	checkToken(t, postJSON(t, g, req), 3600)
}

// testNoEchoDefaultBody: no framework body ever leaks under /v1/oauth.
func testNoEchoDefaultBody(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodDelete} {
		req, _ := http.NewRequest(m, g.URL+"/v1/oauth/token", bytes.NewReader(nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Errorf("%s: status %d", m, resp.StatusCode)
		}
		if m != http.MethodHead && (strings.Contains(string(raw), `"message"`) || !strings.Contains(string(raw), `"errorId"`)) {
			t.Errorf("%s: body %s", m, raw)
		}
	}
}

// testJournalErrorID: the admin journal carries the same errorId, and no secret.
func testJournalErrorID(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	r := postJSON(t, g, `{"clientId":"demo-client","clientSecret":"wrong-secret"}`)
	id := checkErrorBody(t, r)
	entries, err := g.Admin.Requests(control.Filter{Dialect: "errorid"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("journal has %d entries, want 1: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.ErrorID != id || e.Status != 401 || e.ClientID != "demo-client" || e.Route != "/v1/oauth/token" {
		t.Fatalf("journal entry %+v, want error id %s", e, id)
	}
	if raw, _ := json.Marshal(e); strings.Contains(string(raw), "wrong-secret") {
		t.Fatalf("journal leaks the secret: %s", raw)
	}
}

// testFaults: injected faults answer in this dialect's style, with the
// status, code and text the rule asks for.
func testFaults(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	req := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	cases := []struct {
		rule       control.Rule
		status     int
		code, text string
	}{
		{control.Rule{Dialect: "errorid", Status: 503, Count: 1}, 503, "SERVICE_UNAVAILABLE", "injected fault: Service Unavailable"},
		{control.Rule{Dialect: "errorid", Status: 500, Code: "BACKEND_DOWN", Text: "core banking is down", Count: 1}, 500, "BACKEND_DOWN", "core banking is down"},
		{control.Rule{Dialect: "errorid", ClientID: "demo-client", Status: 409, Count: 1}, 409, "CONFLICT", "injected fault: Conflict"},
		{control.Rule{Dialect: "errorid", Status: 429, Text: "slow down", Count: 1}, 429, "RATE_LIMITED", "slow down"},
		{control.Rule{Dialect: "errorid", Status: 418, Count: 1}, 418, "MALFORMED_REQUEST", "injected fault: I'm a teapot"},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			if _, err := g.Admin.AddFault(tc.rule); err != nil {
				t.Fatal(err)
			}
			r := postJSON(t, g, req)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			checkErrorBody(t, r)
			if r.Body["code"] != tc.code || r.Body["text"] != tc.text || r.Body["parameter_name"] != nil {
				t.Fatalf("body %s, want code %s text %q", r.Raw, tc.code, tc.text)
			}
			// The rule fired once; the next request is served normally.
			checkToken(t, postJSON(t, g, req), 3600)
		})
	}
}

// testBruteForceAnswers429: the engine's failed-authentication limiter
// answers 429 RATE_LIMITED in this style with Retry-After, while the known
// good credentials keep working.
func testBruteForceAnswers429(t *testing.T, tg paritytest.Target) {
	g := tg.Gateway(t, "errorid", "", "", ClientsYAML, true)
	good := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	bad := `{"client_id":"demo-client","client_secret":"wrong-secret"}`
	checkToken(t, postJSON(t, g, good), 3600)
	var r response
	for i := 0; i < 100; i++ {
		if r = postJSON(t, g, bad); r.Status != http.StatusUnauthorized {
			break
		}
	}
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("never limited; last answer %d %s", r.Status, r.Raw)
	}
	checkErrorBody(t, r)
	if r.Body["code"] != "RATE_LIMITED" || r.Body["parameter_name"] != nil {
		t.Errorf("429 body %s", r.Raw)
	}
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	checkToken(t, postJSON(t, g, good), 3600)
}

func render(t *testing.T, tg paritytest.Target, err error) (response, echo.Context) {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/v1/oauth/token", nil)
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	if rerr := dialects.RenderError(tg.Dialect(t), c, err); rerr != nil {
		t.Fatalf("RenderError: %v", rerr)
	}
	r := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if jerr := json.Unmarshal(rec.Body.Bytes(), &r.Body); jerr != nil {
		t.Fatalf("body is not JSON: %v: %s", jerr, rec.Body)
	}
	return r, c
}

// testRenderInternal: a 500 never shows the cause, whatever it is.
func testRenderInternal(t *testing.T, tg paritytest.Target) {
	cases := map[string]error{
		"core.Internal":      core.Internal(errors.New("secret internal detail")),
		"plain error":        errors.New("secret internal detail"),
		"wrapped core error": fmt.Errorf("outer: %w", core.Internal(errors.New("secret internal detail"))),
		"panic":              core.Internal(fmt.Errorf("%w: %v", gateway.ErrPanic, "secret internal detail")),
		"unknown kind":       &core.Error{Kind: "made_up", Description: "secret internal detail"},
	}
	for name, err := range cases {
		t.Run(name, func(t *testing.T) {
			r, c := render(t, tg, err)
			if r.Status != http.StatusInternalServerError {
				t.Fatalf("status %d", r.Status)
			}
			id := checkErrorBody(t, r)
			if strings.Contains(r.Raw, "secret internal detail") || strings.Contains(r.Raw, "panic") ||
				strings.Contains(r.Raw, "goroutine") {
				t.Fatalf("500 body leaks internals: %s", r.Raw)
			}
			want := map[string]any{"errorId": id, "code": "INTERNAL_ERROR", "text": "Internal server error.",
				"parameter_name": nil, "parameter_value": nil}
			for k, v := range want {
				if r.Body[k] != v {
					t.Errorf("%s = %#v, want %#v", k, r.Body[k], v)
				}
			}
			if got := wire.RequestOf(c).ErrorID; got != id {
				t.Errorf("the request's ErrorID = %q, want the body's errorId %q", got, id)
			}
		})
	}
}

// testRenderTable pins the kind/reason -> (status, code) table the doc lists.
func testRenderTable(t *testing.T, tg paritytest.Target) {
	cases := []struct {
		err    *core.Error
		status int
		code   string
	}{
		{core.MissingParam("client_id"), 400, "VALIDATION_ERROR"},
		{core.DuplicateParam("client_id"), 400, "VALIDATION_ERROR"},
		{core.InvalidParam("client_id", "x", "bad"), 400, "VALIDATION_ERROR"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Description: "the body is not valid JSON"}, 400, "MALFORMED_REQUEST"},
		{wire.WrongContentType("application/json", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{wire.TooLarge(), 413, "PAYLOAD_TOO_LARGE"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout}, 408, "REQUEST_TIMEOUT"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonNotAllowed}, 405, "METHOD_NOT_ALLOWED"},
		{&core.Error{Kind: core.KindNotFound}, 404, "NOT_FOUND"},
		{&core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonBadCredentials}, 401, "INVALID_CLIENT"},
		{&core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonMalformed}, 401, "INVALID_CLIENT"},
		{&core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonClientDisabled}, 409, "CONFLICT"},
		{&core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonClientExpired}, 409, "CONFLICT"},
		{&core.Error{Kind: core.KindConflict}, 409, "CONFLICT"},
		{&core.Error{Kind: core.KindUnauthorizedClient}, 403, "UNAUTHORIZED_CLIENT"},
		{&core.Error{Kind: core.KindInvalidGrant}, 400, "INVALID_GRANT"},
		{&core.Error{Kind: core.KindUnsupportedGrantType}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{&core.Error{Kind: core.KindInvalidScope}, 400, "INVALID_SCOPE"},
		{&core.Error{Kind: core.KindInvalidToken}, 401, "INVALID_TOKEN"},
		{&core.Error{Kind: core.KindExpiredToken}, 401, "INVALID_TOKEN"},
		{&core.Error{Kind: core.KindAccessDenied}, 403, "ACCESS_DENIED"},
		{&core.Error{Kind: core.KindRateLimited}, 429, "RATE_LIMITED"},
		{core.Unavailable(errors.New("db down at 10.0.0.1")), 503, "SERVICE_UNAVAILABLE"},
		{&core.Error{Kind: core.KindUnavailable, Reason: core.ReasonClosedHours}, 503, "NON_WORKING_HOURS"},
		{core.Internal(errors.New("x")), 500, "INTERNAL_ERROR"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			r, _ := render(t, tg, tc.err)
			checkErrorBody(t, r)
			if r.Status != tc.status || r.Body["code"] != tc.code {
				t.Fatalf("%v: %d %v, want %d %s", tc.err, r.Status, r.Body["code"], tc.status, tc.code)
			}
			if strings.Contains(r.Raw, "10.0.0.1") {
				t.Fatalf("cause leaked: %s", r.Raw)
			}
		})
	}
}

// testRenderRedactsSecrets: a secret-named parameter never has its value echoed.
func testRenderRedactsSecrets(t *testing.T, tg paritytest.Target) {
	for _, name := range []string{"client_secret", "clientSecret", "password", "refresh_token", "accessToken"} {
		r, _ := render(t, tg, core.InvalidParam(name, "hunter2", name+" must be a string"))
		if r.Body["parameter_name"] != name || r.Body["parameter_value"] != nil || strings.Contains(r.Raw, "hunter2") {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	r, _ := render(t, tg, core.InvalidParam("client_id", strings.Repeat("é", 200), "bad"))
	v, _ := r.Body["parameter_value"].(string)
	if len(v) > 128 || !strings.HasPrefix(v, "éé") || strings.ContainsRune(v, '\uFFFD') {
		t.Errorf("long value not clipped cleanly: %d bytes %q", len(v), v)
	}
}

// testPanicThroughGateway mounts the dialect in a gateway whose middleware
// panics for one request: the gateway's recovery must yield this dialect's
// 500 with an errorId that is logged, and no panic text.
func testPanicThroughGateway(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	panicky := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Test-Panic") != "" {
				panic("secret internal detail")
			}
			return next(c)
		}
	}
	logs := &strings.Builder{}
	gw, err := gateway.New(gateway.Options{Config: g.Config, Engine: g.Engine, Logger: newLogger(logs),
		Middleware: []echo.MiddlewareFunc{panicky}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/oauth/token",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-Panic", "1")
	rec := httptest.NewRecorder()
	gw.Handler().ServeHTTP(rec, req)
	r := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &r.Body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if r.Status != 500 || r.Body["code"] != "INTERNAL_ERROR" {
		t.Fatalf("status %d body %s", r.Status, r.Raw)
	}
	id := checkErrorBody(t, r)
	if strings.Contains(r.Raw, "secret internal detail") {
		t.Fatalf("panic value leaked: %s", r.Raw)
	}
	if l := findLog(t, logs.String(), id); l == nil || l.Status != 500 || l.Error != "server_error" {
		t.Fatalf("panic's errorId %s not in the access log: %+v\n%s", id, l, logs)
	}
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testParameterValueAsSent: the document says parameter_value is "set to
// input value of named parameter": the JSON value as sent, whatever its
// type; a secret never.
func testParameterValueAsSent(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	cases := []struct {
		body  string
		param string
		value any
	}{
		{`{"client_id":12345,"client_secret":"demo-secret"}`, "client_id", float64(12345)},
		{`{"client_id":true,"client_secret":"demo-secret"}`, "client_id", true},
		{`{"client_id":{"id":"x"},"client_secret":"demo-secret"}`, "client_id", map[string]any{"id": "x"}},
		{`{"client_id":["a",1],"client_secret":"demo-secret"}`, "client_id", []any{"a", float64(1)}},
		{`{"client_id":"","client_secret":"demo-secret"}`, "client_id", ""},
		{`{"client_id":null,"client_secret":"demo-secret"}`, "client_id", nil},
		{`{"client_id":"demo-client","client_secret":12345}`, "client_secret", nil},
		{`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":7}`, "grant_type", float64(7)},
		{`{"client_id":` + strings.Repeat("1", 200) + `,"client_secret":"demo-secret"}`, "client_id", strings.Repeat("1", 128)},
	}
	for _, tc := range cases {
		r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(tc.body))
		checkErrorBody(t, r)
		if r.Status != 400 || r.Body["parameter_name"] != tc.param || !reflect.DeepEqual(r.Body["parameter_value"], tc.value) {
			t.Errorf("%s: %d %s, want parameter %s = %#v", tc.body, r.Status, r.Raw, tc.param, tc.value)
		}
	}
}

// testGrantType: the document names no grant_type; a body without one, or
// with client_credentials, gets a token, and any other grant is refused
// rather than served as client credentials.
func testGrantType(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	for _, body := range []string{`{"client_id":"demo-client","client_secret":"demo-secret"}`,
		`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"client_credentials"}`} {
		if r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(body)); r.Status != 200 {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
	}
	r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"password"}`))
	checkErrorBody(t, r)
	if r.Status != 400 || r.Body["code"] != "UNSUPPORTED_GRANT_TYPE" || r.Body["parameter_name"] != "grant_type" ||
		r.Body["parameter_value"] != "password" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

// testNoChallengeOn401: errorid's credentials travel in the JSON body, so
// its 401 names no HTTP authentication scheme (docs/dialects/errorid.md).
func testNoChallengeOn401(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	r := do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"wrong"}`))
	if r.Status != 401 || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("%d, WWW-Authenticate %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}
