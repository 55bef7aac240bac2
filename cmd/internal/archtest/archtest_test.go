package archtest

import (
	"slices"
	"testing"
)

// The module keeps every dependency rule.
func TestModuleKeepsTheRules(t *testing.T) {
	pkgs, err := List(".", Module+"/...")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Check(pkgs, Rules) {
		t.Error(p)
	}
}

// Check reports direct and indirect violations with their chain, and a
// rule whose room has no packages.
func TestCheckReportsViolations(t *testing.T) {
	m := Module + "/"
	pkgs := []Package{
		{ImportPath: m + "core", Imports: []string{m + "core/inner", "context"}},
		{ImportPath: m + "core/inner", Imports: []string{"net/http", m + "config"}},
		{ImportPath: m + "config", Imports: []string{m + "core"}},
		{ImportPath: m + "storage/sqlite", Imports: []string{m + "core", "gorm.io/gorm", "github.com/labstack/echo/v4"}},
		{ImportPath: m + "dialects/x", Imports: []string{m + "dialects/wire", m + "core"}},
		{ImportPath: m + "dialects/wire", Imports: []string{m + "storage/sqlite"}},
		{ImportPath: m + "dialectsfoo", Imports: []string{"gorm.io/gorm"}}, // not in the dialects room
		{ImportPath: "net/http", Imports: []string{"context"}},
		{ImportPath: "gorm.io/gorm"},
		{ImportPath: "github.com/labstack/echo/v4", Imports: []string{"net/http"}},
		{ImportPath: "context"},
	}
	rules := append(slices.Clone(Rules), Rule{Room: "missing", Forbidden: []string{"context"}})
	got := Check(pkgs, rules)
	want := []string{
		"core must not depend on net/http: core -> core/inner -> net/http",
		"core must not depend on config: core -> core/inner -> config",
		"core must not depend on net/http: core/inner -> net/http",
		"core must not depend on config: core/inner -> config",
		"storage must not depend on github.com/labstack/echo/v4: storage/sqlite -> github.com/labstack/echo/v4",
		"storage must not depend on net/http: storage/sqlite -> core -> core/inner -> net/http",
		"storage must not depend on config: storage/sqlite -> core -> core/inner -> config",
		"dialects must not depend on storage/sqlite: dialects/wire -> storage/sqlite",
		"dialects must not depend on storage/sqlite: dialects/x -> dialects/wire -> storage/sqlite",
		// config reaches net/http (allowed there) and no forbidden package;
		// dialectsfoo is not in the dialects room.
		"missing: no packages in the list (a misspelt room?)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Check:\n%q\nwant\n%q", got, want)
	}
}
