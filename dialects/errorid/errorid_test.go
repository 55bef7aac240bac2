package errorid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
)

const clientsYAML = `
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

func start(t *testing.T, dialectYAML string) *tokengatetest.Gateway {
	t.Helper()
	if dialectYAML == "" {
		dialectYAML = "{}"
	}
	return tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  errorid: " + dialectYAML + "\n" + clientsYAML})
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

func postJSON(t *testing.T, g *tokengatetest.Gateway, body string) response {
	t.Helper()
	return do(t, http.MethodPost, g.URL+"/v1/oauth/token", "application/json", strings.NewReader(body))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkErrorBody checks the vendor's error schema field by field: exactly
// the five keys, errorId a UUID, code and text non-empty strings,
// parameter_name a string or null. It returns errorId.
func checkErrorBody(t *testing.T, r response) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	want := []string{"code", "errorId", "parameter_name", "parameter_value", "text"}
	if got := keys(r.Body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("error body keys = %v, want exactly %v\n%s", got, want, r.Raw)
	}
	id, ok := r.Body["errorId"].(string)
	if !ok || !uuidRE.MatchString(id) {
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
	if got := keys(r.Body); strings.Join(got, ",") != "access_token,expires_in,token_type" {
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

// TestTokenSpellings sends the vendor's one documented request, with the
// property names in both spellings the lost rendering allows.
func TestTokenSpellings(t *testing.T) {
	g := start(t, "")
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
			stored, err := g.App.Store.GetToken(context.Background(), core.Digest(tok))
			if err != nil {
				t.Fatalf("issued token not stored: %v", err)
			}
			if stored.Dialect != "errorid" || stored.ClientID != "demo-client" || stored.Kind != core.TokenAccess {
				t.Errorf("stored token %+v", stored)
			}
		})
	}
}

func TestAccessTokenTTL(t *testing.T) {
	g := start(t, "{access_token_ttl: 15m}")
	r := postJSON(t, g, `{"client_id":"demo-client","client_secret":"demo-secret"}`)
	checkToken(t, r, 900)
}

// chunked hides a reader's length so the request is sent chunked.
type chunked struct{ io.Reader }

// TestErrors checks every failure class: status, code and the parameter fields.
func TestErrors(t *testing.T) {
	g := start(t, "")
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

// TestPathsOutsideTheDialect checks that Owns claims /v1/oauth only.
func TestPathsOutsideTheDialect(t *testing.T) {
	g := start(t, "")
	r := do(t, http.MethodGet, g.URL+"/v1/oauthx", "", nil)
	if r.Status != 404 || r.Body["errorId"] != nil {
		t.Fatalf("/v1/oauthx: %d %s; want the gateway's neutral 404, not this dialect's", r.Status, r.Raw)
	}
}

func TestPrefix(t *testing.T) {
	g := start(t, "{prefix: /fin}")
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

// TestErrorIDInLogs: an operator finds the event from the errorId a client reports.
func TestErrorIDInLogs(t *testing.T) {
	g := start(t, "")
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
			l := findLog(t, g.Logs.String(), id)
			if l == nil {
				t.Fatalf("errorId %s not in the logs:\n%s", id, g.Logs.String())
			}
			if l.Status != tc.status || l.Dialect != "errorid" || l.ClientID != tc.client {
				t.Errorf("log line %+v", *l)
			}
		})
	}
	if strings.Contains(g.Logs.String(), "wrong-secret") {
		t.Errorf("a secret reached the logs")
	}
}

// TestWorkingHours moves the engine's clock to instants inside and outside
// "Mon-Fri 08:00-18:00" Europe/Berlin, across both 2026 DST changes.
func TestWorkingHours(t *testing.T) {
	g := start(t, `{working_hours: "Mon-Fri 08:00-18:00", time_zone: "Europe/Berlin"}`)
	clock := g.Clock()
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
			if l := findLog(t, g.Logs.String(), id); l == nil || l.Status != 503 {
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

// TestOneActiveToken: under one_active_token a second request while the
// first token lives is 409 CONFLICT; it succeeds again once the token expires
// or is revoked.
func TestOneActiveToken(t *testing.T) {
	g := start(t, `{one_active_token: true, access_token_ttl: 10m}`)
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

	g.Clock().Advance(10*time.Minute - time.Second)
	if r := postJSON(t, g, req); r.Status != http.StatusConflict {
		t.Fatalf("a second before expiry: %d, want 409", r.Status)
	}
	g.Clock().Advance(2 * time.Second)
	checkToken(t, postJSON(t, g, req), 600)

	if _, err := g.App.Store.RevokeClientTokens(ctx, "demo-client", g.App.Engine.Now()); err != nil {
		t.Fatal(err)
	}
	checkToken(t, postJSON(t, g, req), 600)
}

// TestOneActiveTokenConcurrent: the check and the issue are atomic within
// the process, so of concurrent requests exactly one gets a token.
func TestOneActiveTokenConcurrent(t *testing.T) {
	g := start(t, `{one_active_token: true}`)
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

func TestOneActiveTokenOff(t *testing.T) {
	g := start(t, "")
	req := `{"client_id":"demo-client","client_secret":"demo-secret"}`
	checkToken(t, postJSON(t, g, req), 3600)
	checkToken(t, postJSON(t, g, req), 3600)
}

// TestOptionErrors: invalid options fail config validation (config check,
// before serve opens storage), each naming its exact key.
func TestOptionErrors(t *testing.T) {
	cases := []struct{ options, want string }{
		{`{working_hours: "Mon-Fry 08:00-18:00"}`, `dialects[errorid].working_hours: "Mon-Fry 08:00-18:00": window 1 "Mon-Fry 08:00-18:00": unknown day "Fry"`},
		{`{working_hours: "Mon-Fri 8-18"}`, `dialects[errorid].working_hours: "Mon-Fri 8-18"`},
		{`{working_hours: "Mon-Fri 08:00-18:00", time_zone: "Berlin"}`, `dialects[errorid].time_zone: "Berlin" is not an IANA time zone name`},
		{`{time_zone: "Mars/Olympus"}`, `dialects[errorid].time_zone: "Mars/Olympus"`},
		{`{working_hour: "Mon-Fri 08:00-18:00"}`, `dialects[errorid].working_hour: unknown key`},
		{`{one_active_token: "maybe"}`, "dialects[errorid].one_active_token: cannot unmarshal !!str `maybe` into bool"},
	}
	for _, tc := range cases {
		t.Run(tc.options, func(t *testing.T) {
			_, err := config.Parse([]byte("dialects:\n  errorid: "+tc.options+"\n"), dialects.Catalog())
			var ve *config.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0], tc.want) {
				t.Fatalf("error %v, want one problem starting %q", err, tc.want)
			}
		})
	}
}

// TestNoEchoDefaultBody: no framework body ever leaks under /v1/oauth.
func TestNoEchoDefaultBody(t *testing.T) {
	g := start(t, "")
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

// TestJournalErrorID: the admin journal carries the same errorId, and no secret.
func TestJournalErrorID(t *testing.T) {
	g := start(t, "")
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

// TestFaults: injected faults answer in this dialect's style, with the
// status, code and text the rule asks for.
func TestFaults(t *testing.T) {
	g := start(t, "")
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

// TestBruteForceAnswers429: the engine's failed-authentication limiter
// answers 429 RATE_LIMITED in this style with Retry-After, while the known
// good credentials keep working.
func TestBruteForceAnswers429(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  errorid: {}\n" + clientsYAML, AuthFailureLimit: true})
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
