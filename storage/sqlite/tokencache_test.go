package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
)

// cached reports whether the token read cache holds digest's row.
func cached(s *Store, digest string) bool {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	for _, g := range []generation{s.cache.cur, s.cache.old} {
		if row, ok := g.rows[digest]; ok && row.forgotten == 0 {
			return true
		}
	}
	return false
}

// Every write that changes or removes a stored token is seen by the next
// GetToken of a token the cache held: each case reads the token (so the
// cache holds it), writes, and reads again.
func TestTokenCacheSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	at := time.Now().Truncate(time.Microsecond)
	revocation := core.Revocation{At: at, Cause: core.RevokeAdmin}
	cases := []struct {
		name  string
		write func(s *Store, tk *core.Token) error
		check func(got *core.Token, err error) error
	}{
		{"RevokeToken", func(s *Store, tk *core.Token) error {
			return s.RevokeToken(ctx, tk.Digest, revocation)
		}, revoked},
		{"RevokeFamily", func(s *Store, tk *core.Token) error {
			_, err := s.RevokeFamily(ctx, tk.FamilyID, revocation)
			return err
		}, revoked},
		{"RevokeClientTokens", func(s *Store, tk *core.Token) error {
			_, err := s.RevokeClientTokens(ctx, tk.ClientID, revocation)
			return err
		}, revoked},
		{"Exchange", func(s *Store, tk *core.Token) error {
			return s.Exchange(ctx, tk.Digest, at)
		}, func(got *core.Token, err error) error {
			if err != nil || got.ConsumedAt.IsZero() {
				return fmt.Errorf("after Exchange: consumed at %v, %v; want consumed", got.ConsumedAt, err)
			}
			return nil
		}},
		{"UpdateToken", func(s *Store, tk *core.Token) error {
			return s.UpdateToken(ctx, tk.Digest, func(t *core.Token) error { t.UserID = "someone else"; return nil })
		}, func(got *core.Token, err error) error {
			if err != nil || got.UserID != "someone else" {
				return fmt.Errorf("after UpdateToken: user %q, %v; want someone else", got.UserID, err)
			}
			return nil
		}},
		{"DeleteExpiredTokens", func(s *Store, tk *core.Token) error {
			_, err := s.DeleteExpiredTokens(ctx, tk.ExpiresAt.Add(time.Second))
			return err
		}, gone},
		{"DeleteAllTokens", func(s *Store, _ *core.Token) error {
			return s.DeleteAllTokens(ctx)
		}, gone},
	}
	// The cache holds a row the store wrote, or one it read.
	for _, origin := range []string{"written", "read"} {
		for _, kind := range []string{"memory", "file"} {
			for _, c := range cases {
				t.Run(origin+"/"+kind+"/"+c.name, func(t *testing.T) {
					path := MemoryPath
					if kind == "file" {
						path = filepath.Join(t.TempDir(), "cache.db")
					}
					s := openT(t, path, Options{})
					tk := &core.Token{Digest: core.Digest(c.name), Kind: core.TokenRefresh, ClientID: "c", UserID: "u",
						FamilyID: "family", IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
					if err := s.InsertTokens(ctx, tk); err != nil {
						t.Fatal(err)
					}
					if origin == "read" {
						s.cache.clear()
					}
					checkCacheSeesWrite(t, s, tk, c.write, c.check)
				})
			}
		}
	}
}

func checkCacheSeesWrite(t *testing.T, s *Store, tk *core.Token, write func(*Store, *core.Token) error,
	check func(*core.Token, error) error) {
	t.Helper()
	ctx := t.Context()
	if got, err := s.GetToken(ctx, tk.Digest); err != nil || !got.RevokedAt.IsZero() || !got.ConsumedAt.IsZero() {
		t.Fatalf("before the write: %+v, %v", got, err)
	}
	if !cached(s, tk.Digest) {
		t.Fatal("the token is not cached: the case tests nothing")
	}
	if err := write(s, tk); err != nil {
		t.Fatal(err)
	}
	if err := check(s.GetToken(ctx, tk.Digest)); err != nil {
		t.Fatal(err)
	}
}

func revoked(got *core.Token, err error) error {
	if err != nil || got.RevokedAt.IsZero() {
		return fmt.Errorf("after the revocation: revoked at %v, %v; want revoked", got.RevokedAt, err)
	}
	return nil
}

func gone(_ *core.Token, err error) error {
	if !errors.Is(err, core.ErrNotFound) {
		return fmt.Errorf("after the delete: %v, want core.ErrNotFound", err)
	}
	return nil
}

// Reads racing with revocations never leave a stale row behind: once
// RevokeToken has returned, every read sees the token revoked, however the
// reads that ran during it were interleaved with it.
func TestTokenCacheReadsRacingWrites(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "race.db"), Options{})
	now := time.Now()
	const tokens = 200
	ts := make([]*core.Token, tokens)
	for i := range ts {
		ts[i] = &core.Token{Digest: core.Digest(fmt.Sprint("race-", i)), Kind: core.TokenAccess, ClientID: "c",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := s.InsertTokens(ctx, ts...); err != nil {
		t.Fatal(err)
	}
	var current atomic.Int64 // the token being revoked now
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.GetToken(ctx, ts[current.Load()].Digest); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i, tk := range ts {
		current.Store(int64(i))
		time.Sleep(50 * time.Microsecond) // let readers cache it
		if err := s.RevokeToken(ctx, tk.Digest, core.Revocation{At: now, Cause: core.RevokeAdmin}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			got, err := s.GetToken(ctx, tk.Digest)
			if err != nil || got.RevokedAt.IsZero() {
				close(stop)
				wg.Wait()
				t.Fatalf("token %d read after its revocation returned: revoked at %v, %v", i, got.RevokedAt, err)
			}
		}
	}
	close(stop)
	wg.Wait()
}

// A read or write that began before a write to its token finished does not
// cache its row, while one that began before a write to another token does;
// the cache holds at most its size, the rows used last; dropping a
// tombstone turns away every row read before; a row longer than
// maxCachedRow is not kept; a negative size holds nothing.
func TestTokenCacheBounds(t *testing.T) {
	c := newTokenCache(4)
	_, at, _ := c.get("a")
	c.forget("a") // a write to "a" finishes while the read of "a" runs
	c.put("a", "stale", at)
	if _, _, ok := c.get("a"); ok {
		t.Fatal("a read that raced with a write to its token was cached")
	}
	_, at, _ = c.get("b")
	c.forget("a")
	c.put("b", "row", at)
	if _, _, ok := c.get("b"); !ok {
		t.Fatal("a read that raced with a write to another token was not cached")
	}
	_, at, _ = c.get("a")
	c.put("a", "fresh", at) // read after the write: replaces the tombstone
	if enc, _, ok := c.get("a"); !ok || enc != "fresh" {
		t.Fatalf("a read after the write: %q, %v", enc, ok)
	}
	_, at, _ = c.get("x")
	c.clear()
	c.put("x", "stale", at)
	if _, _, ok := c.get("x"); ok {
		t.Fatal("a read that raced with a clear was cached")
	}

	c.forget("t") // a tombstone, then enough rows to push it out
	_, at, _ = c.get("late")
	for i := range 10 {
		_, at, _ := c.get(fmt.Sprint(i))
		c.put(fmt.Sprint(i), "row", at)
	}
	if n := len(c.cur.rows) + len(c.old.rows); n > 4 {
		t.Fatalf("the cache holds %d entries, want at most 4", n)
	}
	for _, k := range []string{"8", "9"} {
		if _, _, ok := c.get(k); !ok {
			t.Fatalf("row %s, used last, is not cached", k)
		}
	}
	c.put("late", "row", at)
	if _, _, ok := c.get("late"); ok {
		t.Fatal("a read that began before a tombstone was dropped was cached")
	}

	_, at, _ = c.get("long")
	c.put("long", strings.Repeat("x", maxCachedRow+1), at)
	if _, _, ok := c.get("long"); ok {
		t.Fatal("a row longer than maxCachedRow was cached")
	}

	none := newTokenCache(-1)
	_, at, _ = none.get("a")
	none.put("a", "row", at)
	if _, _, ok := none.get("a"); ok {
		t.Fatal("a cache of no rows cached one")
	}
}

// BenchmarkGetTokenCached reads 256 tokens over and over, as the gateway's
// validation scenarios do: after the first round every read is the cache's.
func BenchmarkGetTokenCached(b *testing.B) {
	sqlstoretest.BenchmarkGetTokens(b, openT(b, filepath.Join(b.TempDir(), "bench.db"), Options{}), 256)
}
