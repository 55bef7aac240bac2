// Package sqlstoretest holds the test helpers storage/sqlite and
// storage/postgres share, beyond the conformance suite storage/storagetest.
package sqlstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
	"gorm.io/gorm"
)

// CheckErrorMapping checks that fail (a store's) maps the first error of
// each pair of mapped, and the errors every store maps alike, to the
// sentinel second in the pair while keeping the cause, and wraps none of the
// sentinels around the errors of unmapped.
func CheckErrorMapping(t *testing.T, fail func(op string, err error) error, mapped [][2]error, unmapped []error) {
	t.Helper()
	mapped = append([][2]error{
		{gorm.ErrRecordNotFound, core.ErrNotFound},
		{fmt.Errorf("wrapped: %w", gorm.ErrRecordNotFound), core.ErrNotFound},
		{core.ErrConsumed, core.ErrConsumed},
	}, mapped...)
	for _, tc := range mapped {
		err, want := tc[0], tc[1]
		got := fail("op", err)
		if !errors.Is(got, want) {
			t.Errorf("fail(%v) = %v, want it to wrap %v", err, got, want)
		}
		if !errors.Is(got, err) && !errors.Is(err, gorm.ErrRecordNotFound) {
			t.Errorf("fail(%v) = %v lost the cause", err, got)
		}
	}
	for _, err := range unmapped {
		got := fail("op", err)
		for _, sentinel := range []error{core.ErrNotFound, core.ErrConflict, core.ErrConsumed, core.ErrUnavailable} {
			if errors.Is(got, sentinel) {
				t.Errorf("fail(%v) = %v, wrongly wraps %v", err, got, sentinel)
			}
		}
	}
}

// CheckNoSecretsLogged opens a store with open, giving it a logger, and has
// it insert, read and put rows, some of which fail, and close. Then neither
// that logger nor gorm's may have seen SQL, digests, hashes or any of
// secrets, and the logger must have received each of events.
func CheckNoSecretsLogged(t *testing.T, open func(log *slog.Logger) core.Store, secrets []string, events ...string) {
	t.Helper()
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := t.Context()
	s := open(log)
	tk := &core.Token{Digest: core.Digest("secret-token"), Kind: core.TokenAccess, ClientID: "c",
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	_ = s.InsertTokens(ctx, tk)
	_ = s.InsertTokens(ctx, tk) // conflict
	_, _ = s.GetToken(ctx, core.Digest("missing"))
	_ = s.PutClient(ctx, &core.Client{ID: "c", SecretHash: "$2a$04$supersecrethash"})
	_ = s.Close()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range append([]string{tk.Digest, core.Digest("missing"), "supersecrethash", "INSERT", "SELECT"}, secrets...) {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains %q:\n%s", secret, out)
		}
	}
	for _, want := range events {
		if !strings.Contains(out, want) {
			t.Errorf("the logger did not receive the %s event: %q", want, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BulkTokens returns n access tokens of client "bulk", digests derived from
// prefix, half of them revoked (some NULL times, some set).
func BulkTokens(prefix string, n int) []*core.Token {
	now := time.Now()
	ts := make([]*core.Token, n)
	for i := range ts {
		ts[i] = &core.Token{Digest: core.Digest(fmt.Sprintf("%s-%d", prefix, i)), Kind: core.TokenAccess, ClientID: "bulk",
			Scopes: []string{"read"}, FamilyID: fmt.Sprint(i), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if i%2 == 0 {
			ts[i].RevokedAt = now
		}
	}
	return ts
}

// BenchmarkInsertTokens inserts one token a call.
func BenchmarkInsertTokens(b *testing.B, s core.Store) {
	ctx := context.Background()
	now := time.Now()
	i := 0
	for b.Loop() {
		tk := &core.Token{Digest: core.Digest(fmt.Sprint("bench-", i)), Kind: core.TokenAccess, ClientID: "c", UserID: "u",
			Dialect: "d", Scopes: []string{"read"}, FamilyID: "f", IssuedAt: now, ExpiresAt: now.Add(time.Hour), AuthTime: now}
		if err := s.InsertTokens(ctx, tk); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BulkStore is a store with a bulk insert for preloading.
type BulkStore interface {
	core.Store
	InsertTokensBulk(ctx context.Context, tokens []*core.Token) error
}

// BenchmarkGetToken reads one of 10000 tokens a call.
func BenchmarkGetToken(b *testing.B, s BulkStore) { BenchmarkGetTokens(b, s, 10000) }

// BenchmarkGetTokens reads n tokens in turn, one a call.
func BenchmarkGetTokens(b *testing.B, s BulkStore, n int) {
	ctx := context.Background()
	ts := BulkTokens("get", n)
	if err := s.InsertTokensBulk(ctx, ts); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := s.GetToken(ctx, ts[i%len(ts)].Digest); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
