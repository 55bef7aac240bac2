package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// UpdateToken: the read-modify-write a device code's state goes through.

func testUpdateToken(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	device := tok("device", core.TokenDeviceCode, "c", "", "f", 0)
	device.Details = core.TokenDetails{Interval: 5}
	other := tok("other", core.TokenAccess, "c", "u", "f", 0)
	insert(t, s, device, other)
	full := fullToken("full").Details
	var seen *core.Token
	err := s.UpdateToken(ctx, device.Digest, func(tk *core.Token) error {
		cp := *tk
		seen = &cp
		tk.UserID, tk.AuthTime, tk.Details = "u9", at(3*time.Minute), full
		// Fields UpdateToken does not write stay as stored.
		tk.ClientID, tk.Scopes, tk.ExpiresAt = "changed", nil, at(99*time.Hour)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	tokenDiff(device, seen).report(t, "the token change is given")
	want := *device
	want.UserID, want.AuthTime, want.Details = "u9", at(3*time.Minute), full
	wantToken(t, s, "the updated token", &want)
	wantToken(t, s, "another token", other)

	// A refusal writes nothing and comes back as it is.
	refusal := errors.New("no")
	err = s.UpdateToken(ctx, device.Digest, func(tk *core.Token) error { tk.UserID = "nobody"; return refusal })
	if err != refusal {
		t.Fatalf("UpdateToken with a refusing change: %v, want the refusal itself", err)
	}
	wantToken(t, s, "the token after a refused change", &want)
}

func testUpdateTokenNotLive(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	consumed := tok("consumed", core.TokenDeviceCode, "c", "", "f", 0)
	revoked := tok("revoked", core.TokenDeviceCode, "c", "", "f", 0)
	insert(t, s, consumed, revoked)
	if err := s.Exchange(ctx, consumed.Digest, at(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, revoked.Digest, core.Revocation{At: at(time.Second), Cause: core.RevokeAdmin}); err != nil {
		t.Fatal(err)
	}
	called := false
	change := func(*core.Token) error { called = true; return nil }
	for _, tc := range []struct {
		name, digest string
		want         error
	}{
		{"unknown", digest("nowhere"), core.ErrNotFound},
		{"consumed", consumed.Digest, core.ErrConsumed},
		{"revoked", revoked.Digest, core.ErrConsumed},
	} {
		if err := s.UpdateToken(ctx, tc.digest, change); !errors.Is(err, tc.want) {
			t.Errorf("UpdateToken of a %s token: %v, want %v", tc.name, err, tc.want)
		}
	}
	if called {
		t.Error("change was called for a token that is not live")
	}
}

// Concurrent updates of one token each see the previous one's write: none
// is lost.
func testUpdateTokenConcurrent(t *testing.T, s core.Store) {
	const n = 20
	device := tok("device", core.TokenDeviceCode, "c", "", "f", 0)
	insert(t, s, device)
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.UpdateToken(ctxFor(t), device.Digest, func(tk *core.Token) error {
				tk.Details.Interval++
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	if got := getToken(t, s, device.Digest).Details.Interval; got != n {
		t.Fatalf("after %d concurrent increments the interval is %d", n, got)
	}
}
