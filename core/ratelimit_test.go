package core_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// limited builds an engine over f's store with a failure limiter of burst
// failures per identity and source, refilled at perMinute, on a wall clock
// the test moves.
func limited(f *fixture, burst int, perMinute float64) (*core.Engine, *core.FakeClock) {
	wall := core.NewFakeClock(t0)
	lim := core.NewFailureLimiter(core.LimiterOptions{Burst: burst, PerMinute: perMinute}).WithClock(wall)
	return core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim}), wall
}

func TestFailureLimiterStopsGuessesNotKnownClients(t *testing.T) {
	f := newFixture(t)
	eng, wall := limited(f, 3, 6) // 3 failures, then one every 10 s
	ctx := core.WithSource(context.Background(), "203.0.113.7")
	if _, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil { // legit client, now cached
		t.Fatal(err)
	}
	for range 3 {
		_, err := eng.AuthenticateClient(ctx, f.p, "app", "guess")
		wantKind(t, err, core.KindInvalidClient, "")
	}
	_, err := eng.AuthenticateClient(ctx, f.p, "app", "guess")
	wantKind(t, err, core.KindRateLimited, "")
	if ce := err.(*core.Error); ce.RetryAfter <= 0 || ce.RetryAfter > 10*time.Second {
		t.Fatalf("RetryAfter %v", ce.RetryAfter)
	}
	// The right secret, already verified, is never limited.
	if _, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		t.Fatalf("known-good credentials limited: %v", err)
	}
	// Another client from the same source is not: failures at one identity
	// never slow another.
	if _, err := eng.AuthenticateClient(ctx, f.p, "other", "s3cret"); err != nil {
		t.Fatalf("another client limited by failures at app: %v", err)
	}
	wall.Advance(10 * time.Second) // one token back
	_, err = eng.AuthenticateClient(ctx, f.p, "app", "guess")
	wantKind(t, err, core.KindInvalidClient, "")
	_, err = eng.AuthenticateClient(ctx, f.p, "app", "guess")
	wantKind(t, err, core.KindRateLimited, "")
}

// The scenario: 100 failures for client A from 127.0.0.1 never make
// a correct request of client B fail (B never verified before, so not
// cached), nor one of A after its window; a new client and a user logging in
// from the same address are not slowed either.
func TestFailuresAtOneIdentityNeverRefuseAnother(t *testing.T) {
	f := newFixture(t)
	eng, wall := limited(f, 20, 10)
	ctx := core.WithSource(context.Background(), "127.0.0.1")
	for range 100 {
		if _, err := eng.AuthenticateClient(ctx, f.p, "app", "guess"); err == nil {
			t.Fatal("a wrong secret passed")
		}
	}
	if _, err := eng.AuthenticateClient(ctx, f.p, "other", "s3cret"); err != nil {
		t.Fatalf("client B refused after failures of A: %v", err)
	}
	hash, _ := core.HashSecret("new-secret")
	if _, err := eng.CreateClient(ctx, &core.Client{ID: "new", SecretHash: hash, Grants: core.AllGrants}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.AuthenticateClient(ctx, f.p, "new", "new-secret"); err != nil {
		t.Fatalf("a new client refused after failures of A: %v", err)
	}
	if _, err := eng.Login(ctx, "alice", "pw"); err != nil {
		t.Fatalf("a user refused after failures of client A: %v", err)
	}
	// A itself, never verified, is locked out while its bucket is empty...
	_, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindRateLimited, "")
	wait := err.(*core.Error).RetryAfter
	// ...and passes once the window it was told has passed.
	wall.Advance(wait)
	if _, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		t.Fatalf("client A refused after its window (%v): %v", wait, err)
	}
}

// Guessing one identity from many addresses is limited by its bucket for
// every source.
func TestFailureLimiterPerIdentityAcrossSources(t *testing.T) {
	f := newFixture(t)
	lim := core.NewFailureLimiter(core.LimiterOptions{Burst: 2, PerMinute: 1, IdentityBurst: 5, IdentityPerMinute: 1}).
		WithClock(core.NewFakeClock(t0))
	eng := core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim})
	for i := range 5 {
		ctx := core.WithSource(context.Background(), "198.51.100."+string(rune('1'+i)))
		_, err := eng.AuthenticateClient(ctx, f.p, "app", "guess")
		wantKind(t, err, core.KindInvalidClient, "")
	}
	_, err := eng.AuthenticateClient(core.WithSource(context.Background(), "192.0.2.1"), f.p, "app", "guess")
	wantKind(t, err, core.KindRateLimited, "")
}

func TestFailureLimiterOnLogin(t *testing.T) {
	f := newFixture(t)
	eng, _ := limited(f, 2, 1)
	ctx := context.Background()
	if _, err := eng.Login(ctx, "alice", "pw"); err != nil { // verified once, now cached
		t.Fatal(err)
	}
	for range 2 {
		_, err := eng.Login(ctx, "alice", "wrong")
		wantKind(t, err, core.KindAccessDenied, "")
	}
	_, err := eng.Login(ctx, "alice", "guess")
	wantKind(t, err, core.KindRateLimited, "")
	if _, err := eng.Login(ctx, "alice", "pw"); err != nil {
		t.Fatalf("a password verified before is limited: %v", err)
	}
	if _, err := eng.Login(ctx, "bob", "x"); core.KindOf(err) != core.KindAccessDenied {
		t.Fatalf("another username is limited: %v", err)
	}
}

// The admin API's reset (Engine.Reset) forgets every failure.
func TestResetClearsTheLimiter(t *testing.T) {
	f := newFixture(t)
	eng, _ := limited(f, 2, 1)
	ctx := core.WithSource(context.Background(), "127.0.0.1")
	for range 3 {
		_, _ = eng.AuthenticateClient(ctx, f.p, "app", "guess")
	}
	_, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindRateLimited, "")
	if err := eng.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		t.Fatalf("limited after reset: %v", err)
	}
}

// Hostile ids cost the limiter a fixed-size key each, and it keeps at most
// MaxKeys of them: 600 failures with 256 KB ids (the attack, which
// left 292 MB of live heap) leave next to nothing behind.
func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	f := newFixture(t)
	lim := core.NewFailureLimiter(core.LimiterOptions{MaxKeys: 100})
	eng := core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim})
	before := liveHeap()
	for i := range 600 {
		id := strings.Repeat(rand.Text(), 256<<10/26)
		ctx := core.WithSource(context.Background(), fmt.Sprintf("2001:db8::%x", i)) // one address each, as from an IPv6 range
		_, _ = eng.AuthenticateClient(ctx, f.p, id, "guess")
	}
	if n := lim.Len(); n > 100 {
		t.Fatalf("%d buckets kept, want at most 100", n)
	}
	grew := liveHeap() - before
	t.Logf("600 failures with 256 KB ids from 600 addresses: %d buckets, live heap %+d bytes", lim.Len(), grew)
	if grew > 4<<20 {
		t.Fatalf("live heap grew by %d bytes after 600 failures with 256 KB ids", grew)
	}
	runtime.KeepAlive(eng)
}

// The least recently failed buckets are evicted first.
func TestFailureLimiterEvictsOldestFirst(t *testing.T) {
	wall := core.NewFakeClock(t0)
	lim := core.NewFailureLimiter(core.LimiterOptions{Burst: 1, PerMinute: 1, IdentityBurst: 1, MaxKeys: 4}).WithClock(wall)
	fail := func(id string) { wall.Advance(time.Millisecond); lim.Fail("client", id, "src") }
	blocked := func(id string) bool { _, b := lim.Blocked("client", id, "src"); return b }
	fail("a")
	fail("b")
	fail("a") // a is now the most recent
	if !blocked("a") || !blocked("b") {
		t.Fatal("one failure at burst 1 does not block")
	}
	fail("c") // two new buckets: b's two go
	if !blocked("a") || blocked("b") || !blocked("c") {
		t.Fatalf("after c: a %v b %v c %v; want b evicted", blocked("a"), blocked("b"), blocked("c"))
	}
	if lim.Len() != 4 {
		t.Fatalf("%d buckets", lim.Len())
	}
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Blocked skips its keyed digests once every drained bucket has refilled;
// until then each attempt is still judged by its own buckets, so a bucket
// drained later keeps refusing after an earlier one has refilled.
func TestFailureLimiterRefusesUntilTheLastRefill(t *testing.T) {
	wall := core.NewFakeClock(t0)
	lim := core.NewFailureLimiter(core.LimiterOptions{Burst: 1, PerMinute: 60, IdentityBurst: 1, IdentityPerMinute: 60}).WithClock(wall)
	blocked := func(id string) bool { _, b := lim.Blocked("client", id, "src"); return b }
	if blocked("a") {
		t.Fatal("a fresh limiter refuses")
	}
	lim.Fail("client", "a", "src") // refills at +1 s
	wall.Advance(500 * time.Millisecond)
	lim.Fail("client", "b", "src") // refills at +1.5 s
	if !blocked("a") || !blocked("b") || blocked("c") {
		t.Fatalf("at +0.5 s: a %v b %v c %v; want a and b refused", blocked("a"), blocked("b"), blocked("c"))
	}
	wall.Advance(700 * time.Millisecond)
	if blocked("a") || !blocked("b") {
		t.Fatalf("at +1.2 s: a %v b %v; want only b refused", blocked("a"), blocked("b"))
	}
	wall.Advance(400 * time.Millisecond)
	if blocked("a") || blocked("b") {
		t.Fatalf("at +1.6 s: a %v b %v; want neither refused", blocked("a"), blocked("b"))
	}
	// A later failure that refills sooner must not shorten an earlier
	// one's refusal: d fails twice (refills 2 s later), then e once.
	lim.Fail("client", "d", "src")
	lim.Fail("client", "d", "src")
	wall.Advance(500 * time.Millisecond)
	lim.Fail("client", "e", "src")
	wall.Advance(1200 * time.Millisecond)
	if !blocked("d") || blocked("e") {
		t.Fatalf("1.7 s after d's two failures: d %v e %v; want only d refused", blocked("d"), blocked("e"))
	}
	lim.Fail("client", "a", "src")
	lim.Reset()
	if blocked("a") {
		t.Fatal("refused after Reset")
	}
}
