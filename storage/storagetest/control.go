package storagetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// RunControl checks a core.ControlStore: versioned documents and hit
// counters that never count past their limit, even under concurrency.
// Backends that share the control plane between replicas run it.
func RunControl(t *testing.T, newStore func(t *testing.T) core.ControlStore) {
	t.Helper()
	for _, tc := range controlTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

var controlTests = []struct {
	name string
	run  func(t *testing.T, s core.ControlStore)
}{
	{"ControlDocumentsBumpTheVersion", func(t *testing.T, s core.ControlStore) {
		ctx := ctxFor(t)
		v0, err := s.ControlVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetControl(ctx, "clock"); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("unset key: %v, want ErrNotFound", err)
		}
		if err := s.PutControl(ctx, "clock", []byte(`{"offset":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutControl(ctx, "clock", []byte(`{"offset":2}`)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetControl(ctx, "clock")
		if err != nil || string(got) != `{"offset":2}` {
			t.Fatalf("GetControl = %q, %v", got, err)
		}
		if v, _ := s.ControlVersion(ctx); v != v0+2 {
			t.Fatalf("version %d after two puts from %d", v, v0)
		}
	}},
	{"DialectChangesBumpTheVersion", func(t *testing.T, s core.ControlStore) {
		ds, ok := s.(core.DialectStore)
		if !ok {
			t.Skip("the control store keeps no dialects")
		}
		ctx := ctxFor(t)
		v0, err := s.ControlVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.InsertDialectSpec(ctx, fullDialectSpec("acme")); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.ControlVersion(ctx); v != v0+1 {
			t.Fatalf("version %d after adding a dialect, want %d", v, v0+1)
		}
		if err := ds.InsertDialectSpec(ctx, fullDialectSpec("acme")); !errors.Is(err, core.ErrConflict) {
			t.Fatalf("second insert: %v", err)
		}
		if v, _ := s.ControlVersion(ctx); v != v0+1 {
			t.Fatalf("a refused insert bumped the version to %d", v)
		}
		if err := ds.DeleteDialectSpec(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.ControlVersion(ctx); v != v0+2 {
			t.Fatalf("version %d after removing the dialect, want %d", v, v0+2)
		}
	}},
	{"EnsureControlKeepsTheFirstValue", func(t *testing.T, s core.ControlStore) {
		ctx := ctxFor(t)
		got, err := s.EnsureControl(ctx, "key", []byte("first"))
		if err != nil || string(got) != "first" {
			t.Fatalf("EnsureControl = %q, %v", got, err)
		}
		if got, err := s.EnsureControl(ctx, "key", []byte("second")); err != nil || string(got) != "first" {
			t.Fatalf("second EnsureControl = %q, %v; want the first value", got, err)
		}
	}},
	{"HitCountsUpToTheLimitUnderConcurrency", func(t *testing.T, s core.ControlStore) {
		ctx := ctxFor(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counted := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Hit(ctx, "fault:a", 5)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					counted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if counted != 5 {
			t.Fatalf("%d hits counted with limit 5", counted)
		}
		for range 3 {
			if ok, err := s.Hit(ctx, "fault:b", 0); !ok || err != nil {
				t.Fatalf("unlimited hit: %v %v", ok, err)
			}
		}
		if ok, _ := s.Hit(ctx, "other:c", 1); !ok {
			t.Fatal("first hit of a limit-1 counter refused")
		}
		c, err := s.Counters(ctx, "fault:")
		if err != nil || len(c) != 2 || c["fault:a"] != 5 || c["fault:b"] != 3 {
			t.Fatalf("Counters = %v, %v", c, err)
		}
		if err := s.ResetCounters(ctx, "fault:"); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Counters(ctx, ""); len(c) != 1 || c["other:c"] != 1 {
			t.Fatalf("after reset: %v", c)
		}
	}},
}
