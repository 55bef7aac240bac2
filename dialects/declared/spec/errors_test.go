package spec

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// renderError describes err and renders it, returning the output and the
// decoded JSON body (nil for a non-JSON body).
func renderError(t *testing.T, s *Spec, err error, grant core.GrantType, accept string) (Output, map[string]any, Values) {
	t.Helper()
	a := s.Errors.Describe(err, grant)
	v := Values{Now: issued}
	var out Output
	s.Errors.Render(&out, accept, &a, &v)
	var body map[string]any
	if out.ContentType == "application/json" {
		if err := json.Unmarshal(out.Body, &body); err != nil {
			t.Fatalf("%s: %v", out.Body, err)
		}
	}
	return out, body, v
}

func header(out Output, name string) string {
	for _, h := range out.Header {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// TestErrorIDRules: the errorId spec maps engine errors as the Go dialect
// does, including when a parameter's value is echoed.
func TestErrorIDRules(t *testing.T) {
	s := loadSpec(t, "../testdata/errorid.yaml")
	null := any(nil)
	long := strings.Repeat("é", 100) // 200 bytes
	cases := []struct {
		name         string
		err          error
		status       int
		code, text   string
		param, value any
	}{
		{"missing", core.MissingParam("client_id"), 400, "VALIDATION_ERROR", "missing required parameter: client_id", "client_id", null},
		{"duplicate", core.DuplicateParam("client_id"), 400, "VALIDATION_ERROR", "parameter sent more than once: client_id", "client_id", null},
		{"not a string", core.InvalidParam("client_id", "12345", "client_id must be a string"), 400, "VALIDATION_ERROR", "client_id must be a string", "client_id", "12345"},
		{"empty is a value", core.InvalidParam("client_id", "", "client_id must not be empty"), 400, "VALIDATION_ERROR", "client_id must not be empty", "client_id", ""},
		{"secret never echoed", core.InvalidParam("clientSecret", "s3cr3t", "clientSecret must be a string"), 400, "VALIDATION_ERROR", "clientSecret must be a string", "clientSecret", null},
		{"long value clipped", core.InvalidParam("client_id", long, "x"), 400, "VALIDATION_ERROR", "x", "client_id", strings.Repeat("é", 64)},
		{"media type", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Param: "Content-Type", Value: "text/plain", Description: "Content-Type must be application/json"},
			415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", "Content-Type", "text/plain"},
		{"no media type", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Param: "Content-Type"},
			415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", "Content-Type", null},
		{"malformed body", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Description: "the body is not valid JSON"},
			400, "MALFORMED_REQUEST", "the body is not valid JSON", null, null},
		{"bad credentials", &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonBadCredentials, Description: "client authentication failed"},
			401, "INVALID_CLIENT", "Client authentication failed.", null, null},
		{"disabled", &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonClientDisabled}, 409, "CONFLICT", "client is disabled", null, null},
		{"unauthorized names no parameter", &core.Error{Kind: core.KindUnauthorizedClient, Param: "grant_type", Value: "client_credentials"},
			403, "UNAUTHORIZED_CLIENT", "The client may not obtain tokens from this API.", null, null},
		{"too large", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTooLarge}, 413, "PAYLOAD_TOO_LARGE", "The request body is too large.", null, null},
		{"405", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonNotAllowed}, 405, "METHOD_NOT_ALLOWED", "Method not allowed.", null, null},
		{"internal", errors.New("database exploded"), 500, "INTERNAL_ERROR", "Internal server error.", null, null},
		{"unknown kind", &core.Error{Kind: "made_up"}, 500, "INTERNAL_ERROR", "Internal server error.", null, null},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, body, v := renderError(t, s, tc.err, "", "")
			if out.Status != tc.status || body["code"] != tc.code || body["text"] != tc.text {
				t.Fatalf("got %d %s", out.Status, out.Body)
			}
			if body["parameter_name"] != tc.param || body["parameter_value"] != tc.value {
				t.Errorf("parameter %#v = %#v, want %#v = %#v", body["parameter_name"], body["parameter_value"], tc.param, tc.value)
			}
			if len(body) != 5 {
				t.Errorf("keys %v, want the five of the envelope", body)
			}
			if id, _ := body["errorId"].(string); !uuidRE.MatchString(id) || id != v.ErrorID {
				t.Errorf("errorId %q (values carry %q)", id, v.ErrorID)
			}
			if header(out, "Cache-Control") != "no-store" || strings.Contains(string(out.Body), "exploded") {
				t.Errorf("headers %v body %s", out.Header, out.Body)
			}
		})
	}
	// Key order follows the declaration, including the merged envelope.
	out, _, v := renderError(t, s, core.MissingParam("client_id"), "", "")
	want := `{"errorId":"` + v.ErrorID + `","code":"VALIDATION_ERROR","text":"missing required parameter: client_id","parameter_name":"client_id","parameter_value":null}`
	if string(out.Body) != want {
		t.Errorf("body\n got %s\nwant %s", out.Body, want)
	}
}

// TestForcedAnswers: a fault rule's status, code and text, else the code
// of the kind's rule and "injected fault: <status text>", with Retry-After.
func TestForcedAnswers(t *testing.T) {
	s := loadSpec(t, "../testdata/errorid.yaml")
	cases := []struct {
		kind        core.Kind
		status      int
		code, text  string
		retry       time.Duration
		wantCode    string
		wantText    string
		retryHeader string
	}{
		{core.KindUnavailable, 503, "", "", 0, "SERVICE_UNAVAILABLE", "injected fault: Service Unavailable", ""},
		{core.KindServerError, 500, "BACKEND_DOWN", "core banking is down", 0, "BACKEND_DOWN", "core banking is down", ""},
		{core.KindConflict, 409, "", "", 0, "CONFLICT", "injected fault: Conflict", ""},
		{core.KindRateLimited, 429, "", "slow down", 1500 * time.Millisecond, "RATE_LIMITED", "slow down", "2"},
		{core.KindInvalidRequest, 418, "", "", 0, "MALFORMED_REQUEST", "injected fault: I'm a teapot", ""},
		{core.KindInvalidRequest, 400, "invalid_grant", "", 0, "invalid_grant", "injected fault: Bad Request", ""},
	}
	for _, tc := range cases {
		a := s.Errors.Forced(tc.kind, tc.status, tc.code, tc.text, tc.retry)
		var out Output
		v := Values{}
		s.Errors.Render(&out, "", &a, &v)
		var body map[string]any
		_ = json.Unmarshal(out.Body, &body)
		if out.Status != tc.status || body["code"] != tc.wantCode || body["text"] != tc.wantText || body["parameter_name"] != nil {
			t.Errorf("%d %s: got %d %s", tc.status, tc.code, out.Status, out.Body)
		}
		if got := header(out, "Retry-After"); got != tc.retryHeader {
			t.Errorf("%d: Retry-After %q, want %q", tc.status, got, tc.retryHeader)
		}
	}
	// Hurdlr: a forced 401 carries the Bearer challenge of the kind's rule.
	h := loadSpec(t, "../testdata/hurdlr.yaml")
	a := h.Errors.Forced(core.KindInvalidClient, 401, "custom_code", "", 0)
	var out Output
	h.Errors.Render(&out, "", &a, &Values{})
	if header(out, "Www-Authenticate") != `Bearer realm="Hurdlr"` || !strings.Contains(string(out.Body), `"error":"custom_code"`) {
		t.Errorf("hurdlr forced 401: %v %s", out.Header, out.Body)
	}
}

func TestHurdlrRules(t *testing.T) {
	s := loadSpec(t, "../testdata/hurdlr.yaml")
	out, body, _ := renderError(t, s, &core.Error{Kind: core.KindInvalidGrant, Reason: core.ReasonUnknownUser,
		Param: "user_id", Value: "x", Description: "unknown user"}, core.GrantClientCredentials, "")
	if out.Status != 400 || body["error"] != "invalid_grant" || body["error_description"] != "userId does not name a known accountant" {
		t.Errorf("unknown user: %d %s", out.Status, out.Body)
	}
	out, body, _ = renderError(t, s, &core.Error{Kind: core.KindInvalidGrant, Description: "unknown refresh token"}, core.GrantRefreshToken, "")
	if out.Status != 400 || body["error_description"] != "unknown refresh token" || header(out, "Www-Authenticate") != "" {
		t.Errorf("invalid grant: %d %s %v", out.Status, out.Body, out.Header)
	}
	out, body, _ = renderError(t, s, &core.Error{Kind: core.KindInvalidClient}, "", "")
	if out.Status != 401 || body["error_description"] != "Client authentication failed." || header(out, "Www-Authenticate") != `Bearer realm="Hurdlr"` {
		t.Errorf("invalid client: %d %s %v", out.Status, out.Body, out.Header)
	}
}

// TestGitHubErrorsAre200: token errors answer HTTP 200, form-encoded unless
// Accept asks for JSON, with each error's documentation link.
func TestGitHubErrorsAre200(t *testing.T) {
	s := loadSpec(t, "../../../docs/examples/github.yaml")
	bad := &core.Error{Kind: core.KindInvalidGrant, Description: "unknown code token"}
	out, _, _ := renderError(t, s, bad, core.GrantAuthorizationCode, "")
	want := "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired." +
		"&error_uri=https%3A%2F%2Fdocs.github.com%2Fapps%2Fmanaging-oauth-apps%2Ftroubleshooting-oauth-app-access-token-request-errors%2F%23bad-verification-code"
	if out.Status != 200 || out.ContentType != "application/x-www-form-urlencoded" || string(out.Body) != want {
		t.Errorf("form: %d %s %s", out.Status, out.ContentType, out.Body)
	}
	out, body, _ := renderError(t, s, bad, core.GrantAuthorizationCode, "application/json")
	if out.Status != 200 || body["error"] != "bad_verification_code" {
		t.Errorf("json: %d %s", out.Status, out.Body)
	}
	out, body, _ = renderError(t, s, &core.Error{Kind: core.KindInvalidGrant, Reason: core.ReasonRedirectURI}, "", "application/json")
	if body["error"] != "redirect_uri_mismatch" || !strings.HasSuffix(body["error_uri"].(string), "#redirect-uri-mismatch2") {
		t.Errorf("redirect: %s", out.Body)
	}
	out, body, _ = renderError(t, s, core.MissingParam("client_secret"), "", "application/json")
	if body["error"] != "incorrect_client_credentials" || !strings.HasSuffix(body["error_uri"].(string), "errors") {
		t.Errorf("missing secret: %s", out.Body)
	}
}

func TestSlackErrors(t *testing.T) {
	s := loadSpec(t, "../../../docs/examples/slack.yaml")
	cases := []struct {
		err    error
		grant  core.GrantType
		status int
		code   string
	}{
		{&core.Error{Kind: core.KindInvalidGrant}, core.GrantAuthorizationCode, 200, "invalid_code"},
		{&core.Error{Kind: core.KindInvalidGrant, Reason: core.ReasonRefreshReuse}, core.GrantRefreshToken, 200, "invalid_refresh_token"},
		{core.MissingParam("code"), core.GrantAuthorizationCode, 200, "invalid_code"},
		{&core.Error{Kind: core.KindInvalidClient}, core.GrantAuthorizationCode, 200, "bad_client_secret"},
		{&core.Error{Kind: core.KindUnsupportedGrantType}, "", 200, "invalid_grant_type"},
		{&core.Error{Kind: core.KindRateLimited, RetryAfter: 30 * time.Second}, "", 429, "ratelimited"},
		{errors.New("boom"), "", 500, "internal_error"},
	}
	for _, tc := range cases {
		out, _, _ := renderError(t, s, tc.err, tc.grant, "")
		want := `{"ok":false,"error":"` + tc.code + `"}`
		if out.Status != tc.status || string(out.Body) != want {
			t.Errorf("%v: got %d %s, want %d %s", tc.err, out.Status, out.Body, tc.status, want)
		}
	}
	out, _, _ := renderError(t, s, &core.Error{Kind: core.KindRateLimited, RetryAfter: 30 * time.Second}, "", "")
	if header(out, "Retry-After") != "30" {
		t.Errorf("Retry-After %v", out.Header)
	}
}

// TestMicrosoftEnvelope: error_codes, timestamp, trace_id and
// correlation_id, repeated inside error_description, and a rule text
// naming the parameter.
func TestMicrosoftEnvelope(t *testing.T) {
	s := loadSpec(t, "../../../docs/examples/microsoft.yaml")
	out, body, v := renderError(t, s, core.MissingParam("scope"), core.GrantClientCredentials, "")
	if out.Status != 400 || body["error"] != "invalid_request" {
		t.Fatalf("%d %s", out.Status, out.Body)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(900144) {
		t.Errorf("error_codes %#v", body["error_codes"])
	}
	if body["timestamp"] != "2026-03-01 12:00:00Z" || !uuidRE.MatchString(v.TraceID) || !uuidRE.MatchString(v.CorrelationID) ||
		body["trace_id"] != v.TraceID || body["correlation_id"] != v.CorrelationID || v.TraceID == v.CorrelationID {
		t.Errorf("ids: %s", out.Body)
	}
	wantDesc := "AADSTS900144: The request body must contain the following parameter: 'scope'.\r\nTrace ID: " + v.TraceID +
		"\r\nCorrelation ID: " + v.CorrelationID + "\r\nTimestamp: 2026-03-01 12:00:00Z"
	if body["error_description"] != wantDesc {
		t.Errorf("description\n got %q\nwant %q", body["error_description"], wantDesc)
	}
	if !strings.Contains(string(out.Body), `\r\nTrace ID`) {
		t.Errorf("CR LF must be escaped in JSON: %s", out.Body)
	}
	// The engine's own description where the rule has no fixed text.
	_, body, _ = renderError(t, s, &core.Error{Kind: core.KindInvalidGrant, Description: "the code has expired"}, core.GrantAuthorizationCode, "")
	if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS70000: the code has expired\r\n") {
		t.Errorf("description %q", d)
	}
	out, _, _ = renderError(t, s, &core.Error{Kind: core.KindInvalidClient}, "", "")
	if out.Status != 401 {
		t.Errorf("invalid_client: %d", out.Status)
	}
}

// TestValueAsSent: with SetSent, {value} in a JSON body is the JSON value
// the request held (typed, clipped); text keeps the string; an answer that
// shows no value ignores it; an unsupported grant type shows its value.
func TestValueAsSent(t *testing.T) {
	s := loadSpec(t, "../testdata/errorid.yaml")
	render := func(err error, sent string) map[string]any {
		a := s.Errors.Describe(err, "")
		a.SetSent(json.RawMessage(sent))
		v := Values{Now: issued}
		var out Output
		s.Errors.Render(&out, "", &a, &v)
		var body map[string]any
		if err := json.Unmarshal(out.Body, &body); err != nil {
			t.Fatalf("%s: %v", out.Body, err)
		}
		return body
	}
	for _, tc := range []struct {
		err  error
		sent string
		want any
	}{
		{core.InvalidParam("client_id", "12345", "client_id must be a string"), `12345`, float64(12345)},
		{core.InvalidParam("client_id", `{"a":1}`, "x"), `{"a":1}`, map[string]any{"a": float64(1)}},
		{core.InvalidParam("client_id", "x", "x"), `"` + strings.Repeat("é", 100) + `"`, strings.Repeat("é", 64)},
		{core.InvalidParam("client_id", "x", "x"), strings.Repeat("1", 200), strings.Repeat("1", 128)},
		{core.InvalidParam("client_secret", "x", "x"), `12345`, nil},
		{core.MissingParam("client_id"), `12345`, nil},
		{&core.Error{Kind: core.KindUnsupportedGrantType, Param: "grant_type", Value: "password"}, `"password"`, "password"},
	} {
		if got := render(tc.err, tc.sent)["parameter_value"]; !reflectEqual(got, tc.want) {
			t.Errorf("%v with %s: parameter_value %#v, want %#v", tc.err, tc.sent, got, tc.want)
		}
	}
}

func reflectEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
