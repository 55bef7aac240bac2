package declared_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/declared"
	"github.com/tokengate/tokengate/dialects/declared/spec"
	"github.com/tokengate/tokengate/dialects/internal/paritytest"
	"github.com/tokengate/tokengate/dialects/internal/paritytest/erroridsuite"
	"github.com/tokengate/tokengate/dialects/internal/paritytest/hurdlrsuite"
)

// specTarget is a vendor declared in the spec file under testdata, under
// the shared wire tests. variants maps a suite's variant to an edit of the
// spec text; a variant it lacks cannot be declared (why: notDeclarable).
func specTarget(t *testing.T, file string, variants map[string]func(string) string, notDeclarable map[string]string) paritytest.Target {
	path, err := filepath.Abs(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return paritytest.Target{
		Instance: func(t testing.TB, variant string) string {
			if variant == "" {
				return "type: declared, spec: " + path
			}
			if why, ok := notDeclarable[variant]; ok {
				t.Skip("not declarable: " + why)
			}
			edit, ok := variants[variant]
			if !ok {
				t.Fatalf("unknown variant %q", variant)
			}
			p := filepath.Join(t.TempDir(), file)
			if err := os.WriteFile(p, []byte(edit(string(text))), 0o600); err != nil {
				t.Fatal(err)
			}
			return "type: declared, spec: " + p
		},
		Start: func(t testing.TB, yaml string, authFailureLimit bool) paritytest.Gateway {
			g := tokengatetest.Start(t, tokengatetest.Options{YAML: yaml, AuthFailureLimit: authFailureLimit})
			return paritytest.Gateway{URL: g.URL, Clock: g.Clock(), Engine: g.App.Engine, Store: g.App.Store,
				Logs: g.Logs.String, Admin: g.Admin, Config: g.App.Config}
		},
		Dialect: func(t testing.TB) dialects.Dialect {
			s, err := spec.Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			d := declared.FromSpec(strings.TrimSuffix(file, ".yaml"), s)
			if err := d.Mount(noRoutes{}, dialects.Deps{Engine: core.New(core.Options{}), Secrets: dialects.NewSecrets()}); err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
}

type noRoutes struct{}

func (noRoutes) Add(string, string, echo.HandlerFunc) {}

// TestErrorIDParity runs the built-in errorid dialect's wire tests against
// the errorId API declared in testdata/errorid.yaml.
func TestErrorIDParity(t *testing.T) {
	erroridsuite.Run(t, specTarget(t, "errorid.yaml", map[string]func(string) string{
		"one_active_token": func(s string) string {
			return strings.Replace(s, "tokens:\n", "tokens:\n  one_active_access_token: true\n", 1)
		},
	}, map[string]string{
		"working_hours": "a schedule of working hours is Go code (the 503 NON_WORKING_HOURS rule itself is declared)",
	}))
}

// TestHurdlrParity runs the built-in hurdlr dialect's wire tests against
// the Hurdlr API declared in testdata/hurdlr.yaml.
func TestHurdlrParity(t *testing.T) {
	hurdlrsuite.Run(t, specTarget(t, "hurdlr.yaml", map[string]func(string) string{
		"require_bearer_off": func(s string) string { return s },
	}, map[string]string{
		"require_bearer": "a header that must be present but whose value is never checked is not an engine input",
	}))
}
