package core_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/tokengate/tokengate/core"
)

// oneClientStore serves one client: a credential check reads nothing else
// (any other call panics on the nil embedded Store).
type oneClientStore struct {
	core.Store
	client core.Client
}

func (s oneClientStore) GetClient(_ context.Context, id string) (*core.Client, error) {
	if id != s.client.ID {
		return nil, core.ErrNotFound
	}
	c := s.client
	return &c, nil
}

// Concurrent first checks of one credential run the KDF once between them;
// later checks come from the cache, and a wrong secret still runs the KDF
// and fails.
func TestConcurrentFirstChecksShareTheKDF(t *testing.T) {
	hash, err := core.HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var runs atomic.Int32
		release := make(chan struct{})
		kdf := func(hash, secret string) bool {
			runs.Add(1)
			<-release // hold every run until all checks have arrived
			return core.CheckSecret(hash, secret)
		}
		eng := core.New(core.Options{Store: oneClientStore{client: core.Client{ID: "app", SecretHash: hash, Grants: core.AllGrants}},
			Clock: core.NewFakeClock(t0), CheckSecret: kdf})
		const n = 16
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := eng.AuthenticateClient(ctx, &core.Profile{Dialect: "test", Type: "test"}, "app", "s3cret")
				errs <- err
			}()
		}
		// Every check is now in the KDF or waiting for the one that is.
		synctest.Wait()
		concurrent := runs.Load()
		close(release)
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if concurrent != 1 {
			t.Fatalf("%d concurrent first checks ran the KDF %d times, want once", n, concurrent)
		}
		if _, err := eng.AuthenticateClient(ctx, &core.Profile{Dialect: "test", Type: "test"}, "app", "s3cret"); err != nil {
			t.Fatal(err)
		}
		if got := runs.Load(); got != 1 {
			t.Fatalf("a check after the shared run ran the KDF again (%d runs)", got)
		}
		if _, err := eng.AuthenticateClient(ctx, &core.Profile{Dialect: "test", Type: "test"}, "app", "nope"); core.KindOf(err) != core.KindInvalidClient {
			t.Fatalf("wrong secret after the shared run: %v", err)
		}
		if got := runs.Load(); got != 2 {
			t.Fatalf("a wrong secret ran the KDF %d times in all, want 2", got)
		}
	})
}
