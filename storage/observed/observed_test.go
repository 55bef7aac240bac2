package observed_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/observed"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// counter records each operation's calls and failures.
type counter struct {
	mu       sync.Mutex
	calls    map[string]int
	failures map[string]int
	batches  []int
}

func (c *counter) Op(name string) core.OpObserver { return op{c, name} }
func (c *counter) GroupCommit(requests, _ int) {
	c.mu.Lock()
	c.batches = append(c.batches, requests)
	c.mu.Unlock()
}

type op struct {
	c    *counter
	name string
}

func (o op) Done(d time.Duration, err error) {
	o.c.mu.Lock()
	defer o.c.mu.Unlock()
	o.c.calls[o.name]++
	if core.StoreFailure(err) {
		o.c.failures[o.name]++
	}
}

func TestWrap(t *testing.T) {
	ctx := context.Background()
	obs := &counter{calls: map[string]int{}, failures: map[string]int{}}
	raw, err := sqlite.Open(ctx, sqlite.MemoryPath, sqlite.Options{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	s := observed.Wrap(raw, obs)
	if _, ok := s.(core.ControlStore); ok {
		t.Fatal("the wrapped SQLite store claims core.ControlStore")
	}
	now := time.Now()
	tok := &core.Token{Digest: "d1", Kind: core.TokenAccess, ClientID: "c", Dialect: "oauth2", FamilyID: "f",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.InsertTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx, "missing"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("missing token: %v", err)
	}
	if _, err := s.GetToken(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx, "d1"); err == nil {
		t.Fatal("a closed store answered")
	}
	if obs.calls["InsertTokens"] != 1 || obs.calls["GetToken"] != 3 {
		t.Errorf("calls: %v", obs.calls)
	}
	// A missing row is an answer, a closed database a failure.
	if obs.failures["GetToken"] != 1 || obs.failures["InsertTokens"] != 0 {
		t.Errorf("failures: %v", obs.failures)
	}
	if len(obs.batches) != 1 || obs.batches[0] != 1 {
		t.Errorf("group commits: %v", obs.batches)
	}
}

// control is a store that is also a control store (PostgreSQL's shape).
type control struct {
	core.Store
	core.ControlStore
}

func (control) ControlVersion(context.Context) (int64, error) { return 7, nil }

func TestWrapKeepsControlStore(t *testing.T) {
	obs := &counter{calls: map[string]int{}, failures: map[string]int{}}
	cs, ok := observed.Wrap(control{}, obs).(core.ControlStore)
	if !ok {
		t.Fatal("the wrapped store lost core.ControlStore")
	}
	if v, err := cs.ControlVersion(context.Background()); v != 7 || err != nil || obs.calls["ControlVersion"] != 1 {
		t.Fatalf("ControlVersion: %d %v, calls %v", v, err, obs.calls)
	}
}
