package errorid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/errorid"
	"github.com/tokengate/tokengate/dialects/internal/paritytest"
	"github.com/tokengate/tokengate/dialects/internal/paritytest/erroridsuite"
)

// goTarget is the built-in dialect under the shared wire tests.
var goTarget = paritytest.Target{
	Instance: func(t testing.TB, variant string) string {
		switch variant {
		case "":
			return ""
		case "one_active_token":
			return "one_active_token: true"
		case "working_hours":
			return `working_hours: "Mon-Fri 08:00-18:00", time_zone: "Europe/Berlin"`
		}
		t.Fatalf("unknown variant %q", variant)
		return ""
	},
	Start: func(t testing.TB, yaml string, authFailureLimit bool) paritytest.Gateway {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: yaml, AuthFailureLimit: authFailureLimit})
		return paritytest.Gateway{URL: g.URL, Clock: g.Clock(), Engine: g.App.Engine, Store: g.App.Store,
			Logs: g.Logs.String, Admin: g.Admin, Config: g.App.Config}
	},
	Dialect: func(testing.TB) dialects.Dialect { return &errorid.Dialect{} },
}

// TestWire runs the errorId wire tests (shared with the declared errorId
// spec, see dialects/internal/paritytest) against this dialect.
func TestWire(t *testing.T) { erroridsuite.Run(t, goTarget) }

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
