package hurdlr_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/hurdlr"
	"github.com/tokengate/tokengate/dialects/wire"
)

// TestRenderErrorTable renders every kind of failure, including those only
// middleware produces (429, 503) and non-core errors (500), and checks the
// status, code and that no cause leaks.
func TestRenderErrorTable(t *testing.T) {
	d, err := dialects.Lookup(hurdlr.Name)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{core.MissingParam("userId"), 400, "invalid_request"},
		{core.DuplicateParam("code"), 400, "invalid_request"},
		{&core.Error{Kind: core.KindInvalidClient}, 401, "invalid_client"},
		{&core.Error{Kind: core.KindInvalidGrant, Reason: core.ReasonUnknownUser, Param: "user_id", Value: "x"}, 400, "invalid_grant"},
		{&core.Error{Kind: core.KindUnauthorizedClient}, 400, "unauthorized_client"},
		{&core.Error{Kind: core.KindUnsupportedGrantType}, 400, "unsupported_grant_type"},
		{&core.Error{Kind: core.KindInvalidScope}, 400, "invalid_scope"},
		{&core.Error{Kind: core.KindInvalidToken}, 401, "invalid_token"},
		{&core.Error{Kind: core.KindExpiredToken}, 401, "invalid_token"},
		{&core.Error{Kind: core.KindAccessDenied}, 403, "access_denied"},
		{&core.Error{Kind: core.KindNotFound}, 404, "not_found"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonNotAllowed}, 405, "method_not_allowed"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout}, 408, "invalid_request"},
		{&core.Error{Kind: core.KindConflict}, 409, "conflict"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTooLarge}, 413, "invalid_request"},
		{&core.Error{Kind: core.KindRateLimited, Description: "slow down"}, 429, "rate_limited"},
		{core.Internal(errors.New("database exploded")), 500, "server_error"},
		{errors.New("database exploded"), 500, "server_error"},
		{&wire.ForcedAnswer{Status: 502, Text: "injected"}, 502, "temporarily_unavailable"},
		{&wire.ForcedAnswer{Status: 401, Code: "custom_code", Text: "injected"}, 401, "custom_code"},
		{&wire.ForcedAnswer{Status: 418, Text: "injected"}, 418, "invalid_request"},
		{core.Unavailable(errors.New("database exploded")), 503, "temporarily_unavailable"},
		{&core.Error{Kind: "made_up"}, 500, "server_error"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/rest/v5/accountant/token", nil), rec)
			if err := dialects.RenderError(d, c, tc.err); err != nil {
				t.Fatal(err)
			}
			r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			if err := jsonDecode(r.raw, &r.body); err != nil {
				t.Fatal(err)
			}
			checkError(t, r, tc.status, tc.code)
			if strings.Contains(r.raw, "exploded") || strings.Contains(r.raw, `"x"`) {
				t.Fatalf("cause or value leaked: %s", r.raw)
			}
		})
	}
}

// TestOptions: require_bearer is the only option; a typo fails Configure
// (config check), naming the key.
func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]any
		err  string
	}{
		{nil, ""},
		{map[string]any{"require_bearer": true}, ""},
		{map[string]any{"require_bearer": false}, ""},
		{map[string]any{"require_barer": true}, "require_barer: unknown key"},
		{map[string]any{"require_bearer": "sometimes"}, "require_bearer: cannot unmarshal !!str `sometimes` into bool"},
	} {
		d, _ := dialects.Lookup(hurdlr.Name)
		err := d.Configure(dialects.Instance{Name: hurdlr.Name, Type: hurdlr.Name, Config: config.DialectConfig{Options: tc.opts}})
		if got := fmt.Sprint(err); (err == nil) != (tc.err == "") || (err != nil && got != tc.err) {
			t.Fatalf("options %v: err = %v, want %q", tc.opts, err, tc.err)
		}
	}
	d, _ := dialects.Lookup(hurdlr.Name)
	if err := d.Configure(dialects.Instance{Name: hurdlr.Name, Type: hurdlr.Name}); err != nil {
		t.Fatal(err)
	}
	r := routes{}
	if err := d.Mount(r, dialects.Deps{Engine: core.New(core.Options{}), Secrets: dialects.NewSecrets()}); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /rest/v5/accountant/token", "GET /rest/v5/accountant/authorize", "POST /rest/v5/accountant/authorize"}
	for _, w := range want {
		if !r[w] {
			t.Fatalf("route %s not mounted (got %v)", w, r)
		}
	}
	if len(r) != len(want) {
		t.Fatalf("routes %v", r)
	}
	for path, owned := range map[string]bool{"/rest/v5/accountant": true, "/rest/v5/accountant/x/y": true,
		"/rest/v5/accountants": false, "/rest/v5": false, "/oauth2/token": false} {
		if d.Owns(path) != owned {
			t.Fatalf("Owns(%q) = %v", path, !owned)
		}
	}
}

type routes map[string]bool

func (r routes) Add(method, path string, _ echo.HandlerFunc) { r[method+" "+path] = true }

// TestInjectedFaults: 429, 500 and 503 faults from the admin API come in
// Hurdlr's error style, and the client's next request succeeds again.
func TestInjectedFaults(t *testing.T) {
	g := start(t, "{}")
	ok := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	for _, tc := range []struct {
		rule   control.Rule
		status int
		code   string
	}{
		{control.Rule{Dialect: hurdlr.Name, Status: 429, Count: 1}, 429, "rate_limited"},
		{control.Rule{Dialect: hurdlr.Name, Status: 500, Count: 1}, 500, "server_error"},
		{control.Rule{Dialect: hurdlr.Name, ClientID: "demo-client", GrantType: "client_credentials", Status: 503, Count: 1}, 503, "temporarily_unavailable"},
		{control.Rule{Dialect: hurdlr.Name, Status: 400, Code: "invalid_grant", Text: "made up", Count: 1}, 400, "invalid_grant"},
	} {
		if _, err := g.Admin.AddFault(tc.rule); err != nil {
			t.Fatal(err)
		}
		checkError(t, do(t, nil, seedRequest(t, g, ok)), tc.status, tc.code)
		tokens(t, g, ok)
	}
}
