package hurdlr_test

import (
	"fmt"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/hurdlr"
	"github.com/tokengate/tokengate/dialects/internal/paritytest"
	"github.com/tokengate/tokengate/dialects/internal/paritytest/hurdlrsuite"
)

// goTarget is the built-in dialect under the shared wire tests.
var goTarget = paritytest.Target{
	Instance: func(t testing.TB, variant string) string {
		switch variant {
		case "":
			return ""
		case "require_bearer":
			return "require_bearer: true"
		case "require_bearer_off":
			return "require_bearer: false"
		}
		t.Fatalf("unknown variant %q", variant)
		return ""
	},
	Start: func(t testing.TB, yaml string, authFailureLimit bool) paritytest.Gateway {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: yaml, AuthFailureLimit: authFailureLimit})
		return paritytest.Gateway{URL: g.URL, Clock: g.Clock(), Engine: g.App.Engine, Store: g.App.Store,
			Logs: g.Logs.String, Admin: g.Admin, Config: g.App.Config}
	},
	Dialect: func(t testing.TB) dialects.Dialect {
		d, err := dialects.Lookup(hurdlr.Name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	},
}

// TestWire runs Hurdlr's wire tests (shared with the declared Hurdlr spec,
// see dialects/internal/paritytest) against this dialect.
func TestWire(t *testing.T) { hurdlrsuite.Run(t, goTarget) }

// start starts a gateway with only this dialect, its options dialectYAML.
func start(t testing.TB, dialectYAML string) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  hurdlr: " + dialectYAML + "\n" + hurdlrsuite.Rest})
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

// The paths and redirect URIs the fuzz target uses.
const (
	tokenPath     = "/rest/v5/accountant/token"
	authorizePath = "/rest/v5/accountant/authorize"
	callback      = hurdlrsuite.Callback
	otherCallback = "http://localhost:8081/other"
)
