package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

var dialectSpecDiff = recordDiff[core.DialectSpec]

// fullDialectSpec sets every field of a run-time dialect.
func fullDialectSpec(name string) *core.DialectSpec {
	return &core.DialectSpec{Name: name, Type: "declared", Prefix: "/" + name, Listen: "127.0.0.1:9090",
		Spec: "name: " + name + "\n# “quotes”, tabs\tand newlines survive\n", CreatedAt: at(-time.Hour)}
}

// testDialectSpecs: run-time dialects round-trip whole, list oldest first,
// refuse a name twice (keeping the first) and delete by name.
func testDialectSpecs(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	check := func(what string, want ...*core.DialectSpec) {
		t.Helper()
		got, err := s.ListDialectSpecs(ctx)
		if err != nil {
			t.Fatalf("%s: ListDialectSpecs: %v", what, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d specs, want %d", what, len(got), len(want))
		}
		for i := range want {
			dialectSpecDiff(want[i], got[i]).report(t, fmt.Sprintf("%s: ListDialectSpecs[%d]", what, i))
		}
	}
	check("empty")
	late := &core.DialectSpec{Name: "late", Type: "declared", Spec: "name: late", CreatedAt: at(time.Hour)}
	full := fullDialectSpec("acme")
	for _, d := range []*core.DialectSpec{late, full} {
		if err := s.InsertDialectSpec(ctx, d); err != nil {
			t.Fatalf("InsertDialectSpec(%s): %v", d.Name, err)
		}
	}
	check("inserted", full, late)
	again := fullDialectSpec("acme")
	again.Spec = "name: other"
	if err := s.InsertDialectSpec(ctx, again); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("InsertDialectSpec of a name in use: %v, want ErrConflict", err)
	}
	check("after the refused insert", full, late)
	if err := s.DeleteDialectSpec(ctx, "acme"); err != nil {
		t.Fatalf("DeleteDialectSpec: %v", err)
	}
	if err := s.DeleteDialectSpec(ctx, "acme"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("DeleteDialectSpec of a missing name: %v, want ErrNotFound", err)
	}
	check("after delete", late)
}
