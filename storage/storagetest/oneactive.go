package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// insertIfNoActive calls InsertTokensIfNoActive for the tokens' client in
// dialect "alpha" (the dialect tok gives) at base.
func insertIfNoActive(t *testing.T, s core.Store, clientID string, ts ...*core.Token) error {
	t.Helper()
	return s.InsertTokensIfNoActive(ctxFor(t), clientID, "alpha", at(0), ts...)
}

// wantActiveRefusal checks err is the refusal: ErrActiveToken, an ErrConflict.
func wantActiveRefusal(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrActiveToken) || !errors.Is(err, core.ErrConflict) {
		t.Errorf("%s: got %v, want core.ErrActiveToken (a core.ErrConflict)", what, err)
	}
}

func testInsertTokensIfNoActive(t *testing.T, s core.Store) {
	first := tok("first", core.TokenAccess, "c1", "", "f1", 0)
	if err := insertIfNoActive(t, s, "c1", first); err != nil {
		t.Fatalf("no token yet: %v", err)
	}
	wantToken(t, s, "first token", first)

	second := tok("second", core.TokenAccess, "c1", "", "f2", time.Minute)
	wantActiveRefusal(t, "while the first lives", insertIfNoActive(t, s, "c1", second))
	wantAbsent(t, s, "refused token", second)

	// Other clients, other dialects and other kinds do not block.
	if err := insertIfNoActive(t, s, "c2", tok("other-client", core.TokenAccess, "c2", "", "f3", 0)); err != nil {
		t.Errorf("another client: %v", err)
	}
	if err := s.InsertTokensIfNoActive(ctxFor(t), "c1", "beta", at(0),
		with(tok("other-dialect", core.TokenAccess, "c1", "", "f4", 0), func(t *core.Token) { t.Dialect = "beta" })); err != nil {
		t.Errorf("another dialect: %v", err)
	}
	insert(t, s, tok("refresh", core.TokenRefresh, "c3", "", "f5", 0))
	if err := insertIfNoActive(t, s, "c3", tok("after-refresh", core.TokenAccess, "c3", "", "f5", 0)); err != nil {
		t.Errorf("a live refresh token blocked: %v", err)
	}

	// An expired token does not block: it expires at base exactly.
	insert(t, s, tok("expired", core.TokenAccess, "c4", "", "f6", -time.Hour))
	if err := insertIfNoActive(t, s, "c4", tok("after-expiry", core.TokenAccess, "c4", "", "f7", 0)); err != nil {
		t.Errorf("an expired token blocked: %v", err)
	}

	// Nor does a revoked or a consumed one.
	if err := s.RevokeToken(ctxFor(t), first.Digest, core.Revocation{At: at(time.Second), Cause: core.RevokeAdmin}); err != nil {
		t.Fatal(err)
	}
	third := tok("third", core.TokenAccess, "c1", "", "f8", 2*time.Minute)
	if err := insertIfNoActive(t, s, "c1", third); err != nil {
		t.Errorf("a revoked token blocked: %v", err)
	}
	if err := s.Exchange(ctxFor(t), third.Digest, at(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := insertIfNoActive(t, s, "c1", tok("fourth", core.TokenAccess, "c1", "", "f9", 3*time.Minute)); err != nil {
		t.Errorf("a consumed token blocked: %v", err)
	}
}

// testInsertTokensIfNoActiveConcurrent: of 20 concurrent attempts for one
// client exactly one stores its token; the others get the refusal.
func testInsertTokensIfNoActiveConcurrent(t *testing.T, s core.Store) {
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			name := fmt.Sprintf("race-%d", i)
			errs[i] = insertIfNoActive(t, s, "racer", tok(name, core.TokenAccess, "racer", "", name, 0),
				tok(name+"-refresh", core.TokenRefresh, "racer", "", name, 0))
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
			continue
		}
		wantActiveRefusal(t, fmt.Sprintf("attempt %d", i), err)
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent attempts stored a token, want exactly 1", wins, n)
	}
	stored, err := s.ListTokens(ctxFor(t), core.TokenFilter{ClientID: "racer"})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("%d tokens stored, want the winner's access and refresh token", len(stored))
	}
}
