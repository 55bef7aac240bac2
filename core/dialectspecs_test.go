package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// TestDialectSpecs: the engine stores run-time dialects with the engine
// clock's creation time, refuses a name twice and reports what is missing.
func TestDialectSpecs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.eng.CreateDialectSpec(ctx, &core.DialectSpec{Name: "acme", Type: "declared", Prefix: "/acme", Spec: "name: acme"})
	must(t, err)
	if !s.CreatedAt.Equal(t0) {
		t.Fatalf("created at %v, want the engine clock's %v", s.CreatedAt, t0)
	}
	f.clock.Advance(time.Minute)
	_, err = f.eng.CreateDialectSpec(ctx, &core.DialectSpec{Name: "acme", Type: "declared", Spec: "name: acme"})
	wantKind(t, err, core.KindConflict, "")
	for _, bad := range []core.DialectSpec{{Type: "declared", Spec: "x"}, {Name: "a", Spec: "x"}, {Name: "a", Type: "declared"}} {
		_, err := f.eng.CreateDialectSpec(ctx, &bad)
		wantKind(t, err, core.KindInvalidRequest, core.ReasonMissing)
	}
	_, err = f.eng.CreateDialectSpec(ctx, &core.DialectSpec{Name: "beta", Type: "declared", Spec: "name: beta"})
	must(t, err)
	list, err := f.eng.ListDialectSpecs(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "acme" || list[1].Name != "beta" || list[0].Prefix != "/acme" {
		t.Fatalf("list %+v", list)
	}
	must(t, f.eng.DeleteDialectSpec(ctx, "acme"))
	wantKind(t, f.eng.DeleteDialectSpec(ctx, "acme"), core.KindNotFound, "")
	f.store.down = true
	_, err = f.eng.ListDialectSpecs(ctx)
	wantKind(t, err, core.KindUnavailable, "")
}
