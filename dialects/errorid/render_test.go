package errorid_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/errorid"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/dialects/wire"
)

func render(t *testing.T, err error) (response, echo.Context) {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/v1/oauth/token", nil)
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	if rerr := dialects.RenderError(&errorid.Dialect{}, c, err); rerr != nil {
		t.Fatalf("RenderError: %v", rerr)
	}
	r := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if jerr := json.Unmarshal(rec.Body.Bytes(), &r.Body); jerr != nil {
		t.Fatalf("body is not JSON: %v: %s", jerr, rec.Body)
	}
	return r, c
}

// TestRenderInternal: a 500 never shows the cause, whatever it is.
func TestRenderInternal(t *testing.T) {
	cases := map[string]error{
		"core.Internal":      core.Internal(errors.New("secret internal detail")),
		"plain error":        errors.New("secret internal detail"),
		"wrapped core error": fmt.Errorf("outer: %w", core.Internal(errors.New("secret internal detail"))),
		"panic":              core.Internal(fmt.Errorf("%w: %v", gateway.ErrPanic, "secret internal detail")),
		"unknown kind":       &core.Error{Kind: "made_up", Description: "secret internal detail"},
	}
	for name, err := range cases {
		t.Run(name, func(t *testing.T) {
			r, c := render(t, err)
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

// TestRenderTable pins the kind/reason -> (status, code) table the doc lists.
func TestRenderTable(t *testing.T) {
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
			r, _ := render(t, tc.err)
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

// TestRenderRedactsSecrets: a secret-named parameter never has its value echoed.
func TestRenderRedactsSecrets(t *testing.T) {
	for _, name := range []string{"client_secret", "clientSecret", "password", "refresh_token", "accessToken"} {
		r, _ := render(t, core.InvalidParam(name, "hunter2", name+" must be a string"))
		if r.Body["parameter_name"] != name || r.Body["parameter_value"] != nil || strings.Contains(r.Raw, "hunter2") {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	r, _ := render(t, core.InvalidParam("client_id", strings.Repeat("é", 200), "bad"))
	v, _ := r.Body["parameter_value"].(string)
	if len(v) > 128 || !strings.HasPrefix(v, "éé") || strings.ContainsRune(v, '\uFFFD') {
		t.Errorf("long value not clipped cleanly: %d bytes %q", len(v), v)
	}
}

// TestPanicThroughGateway mounts the dialect in a gateway whose middleware
// panics for one request: the gateway's recovery must yield this dialect's
// 500 with an errorId that is logged, and no panic text.
func TestPanicThroughGateway(t *testing.T) {
	g := start(t, "")
	panicky := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Test-Panic") != "" {
				panic("secret internal detail")
			}
			return next(c)
		}
	}
	logs := &strings.Builder{}
	gw, err := gateway.New(gateway.Options{Config: g.App.Config, Engine: g.App.Engine, Logger: newLogger(logs),
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
