// Package paritytest holds the wire tests of the built-in errorId and
// Hurdlr dialects as shared tables, parameterised by the dialect under
// test: the Go dialects run them (dialects/errorid, dialects/hurdlr) and so
// do the same vendors declared in spec files (dialects/declared), so both
// answer every request alike.
//
// A suite starts gateways through its Target, which the calling test
// package builds on tokengatetest (this package cannot import cmd).
package paritytest

import (
	"maps"
	"slices"
	"testing"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
)

// Gateway is a running gateway as the suites use it.
type Gateway struct {
	URL    string
	Clock  *core.AdjustableClock
	Engine *core.Engine
	Store  core.Store
	Logs   func() string // everything logged so far (JSON lines)
	Admin  *admin.Client
	Config *config.Config
}

// Target is a dialect under test.
type Target struct {
	// Instance returns the config keys of the instance under test (named
	// as the suite's vendor: errorid, hurdlr), without braces, for a
	// variant: "" is the dialect as documented; a suite names the others
	// it needs (errorid: "one_active_token").
	Instance func(t testing.TB, variant string) string
	// Start starts a gateway on a whole config; authFailureLimit keeps the
	// brute-force limiter on (test gateways turn it off by default).
	Start func(t testing.TB, yaml string, authFailureLimit bool) Gateway
	// Dialect returns the dialect configured as documented, unmounted, for
	// rendering errors without a gateway.
	Dialect func(t testing.TB) dialects.Dialect
}

// Gateway starts a gateway enabling only the dialect under test, as
// instance name, in variant and with extra instance keys (e.g. "prefix:
// /fin"), followed by rest (clients, users).
func (tg Target) Gateway(t testing.TB, name, variant, keys, rest string, authFailureLimit bool) *Gateway {
	t.Helper()
	inst := tg.Instance(t, variant)
	if keys != "" {
		if inst != "" {
			inst += ", "
		}
		inst += keys
	}
	g := tg.Start(t, "dialects:\n  "+name+": {"+inst+"}\n"+rest, authFailureLimit)
	return &g
}

// Test is one wire test of a suite.
type Test struct {
	Name string
	Run  func(*testing.T, Target)
}

// Run runs tests against tg, one subtest each.
func (tg Target) Run(t *testing.T, tests []Test) {
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) { tc.Run(t, tg) })
	}
}

// Keys lists a decoded JSON object's keys, sorted.
func Keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
