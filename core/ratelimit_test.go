package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

func TestFailureLimiterStopsGuessesNotKnownClients(t *testing.T) {
	f := newFixture(t)
	wall := core.NewFakeClock(t0)
	lim := core.NewFailureLimiter(3, 6).WithClock(wall) // 3 failures, then one every 10 s
	eng := core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim})
	ctx := core.WithSource(context.Background(), "203.0.113.7")
	if _, err := eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil { // legit client, now cached
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := eng.AuthenticateClient(ctx, f.p, "app", "guess")
		wantKind(t, err, core.KindInvalidClient, "")
		_ = i
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
	// Another client from the same source is limited too (per-address bucket)...
	_, err = eng.AuthenticateClient(ctx, f.p, "other", "s3cret")
	wantKind(t, err, core.KindRateLimited, "")
	// ...but not from another address.
	if _, err := eng.AuthenticateClient(core.WithSource(context.Background(), "198.51.100.1"), f.p, "other", "s3cret"); err != nil {
		t.Fatal(err)
	}
	wall.Advance(10 * time.Second) // one token back
	_, err = eng.AuthenticateClient(ctx, f.p, "app", "guess")
	wantKind(t, err, core.KindInvalidClient, "")
	_, err = eng.AuthenticateClient(ctx, f.p, "app", "guess")
	wantKind(t, err, core.KindRateLimited, "")
}

func TestFailureLimiterOnLogin(t *testing.T) {
	f := newFixture(t)
	lim := core.NewFailureLimiter(2, 1).WithClock(core.NewFakeClock(t0))
	eng := core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim})
	ctx := context.Background()
	for range 2 {
		_, err := eng.Login(ctx, "alice", "wrong")
		wantKind(t, err, core.KindAccessDenied, "")
	}
	_, err := eng.Login(ctx, "alice", "pw")
	wantKind(t, err, core.KindRateLimited, "")
	if _, err := eng.Login(ctx, "bob", "x"); core.KindOf(err) != core.KindAccessDenied {
		t.Fatalf("another username is not limited: %v", err)
	}
}
