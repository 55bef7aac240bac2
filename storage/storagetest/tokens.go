package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// tok builds a live token issued at base+issued, expiring an hour later.
func tok(name string, kind core.TokenKind, clientID, userID, family string, issued time.Duration) *core.Token {
	return &core.Token{Digest: digest(name), Kind: kind, ClientID: clientID, UserID: userID, Dialect: "alpha",
		Scopes: []string{"read", "write"}, FamilyID: family, IssuedAt: at(issued), ExpiresAt: at(issued + time.Hour),
		AuthTime: at(issued - time.Minute)}
}

// fullToken sets every field of a token, the consumed and revoked times too.
func fullToken(name string) *core.Token {
	return &core.Token{
		Digest:              digest(name),
		Kind:                core.TokenCode,
		ClientID:            "client-" + name,
		UserID:              "user-" + name,
		Dialect:             "dialect-" + name,
		Scopes:              []string{"z", "a", "openid profile"},
		FamilyID:            "family-" + name,
		IssuedAt:            at(-10 * time.Minute),
		ExpiresAt:           at(-5 * time.Minute),
		AuthTime:            time.Date(1969, time.July, 20, 20, 17, 40, 1000, time.UTC),
		ConsumedAt:          at(-7 * time.Minute),
		RevokedAt:           at(-6 * time.Minute),
		RedirectURI:         "https://app.example/cb?state=" + name,
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Details: core.TokenDetails{
			Nonce:          "n-0S6_WzA2Mj",
			IDTokenClaims:  []string{"email", "name"},
			UserInfoClaims: []string{"preferred_username"},
			Audience:       []string{"https://api.example", "urn:other"},
			Resource:       []string{"https://api.example/v1"},
			Subject:        "subject-" + name,
			Actor:          "actor-" + name,
			Format:         core.FormatJWT,
			DeviceCode:     digest("device-" + name),
			Interval:       10,
			LastPoll:       at(-8 * time.Minute),
			Decision:       core.DeviceApproved,
			RevokedReason:  core.RevokeReuse,
			Replayed:       digest("replayed-" + name),
		},
	}
}

func insert(t *testing.T, s core.Store, ts ...*core.Token) {
	t.Helper()
	if err := s.InsertTokens(ctxFor(t), ts...); err != nil {
		t.Fatalf("InsertTokens(%d tokens): %v", len(ts), err)
	}
}

func getToken(t *testing.T, s core.Store, d string) *core.Token {
	t.Helper()
	got, err := s.GetToken(ctxFor(t), d)
	if err != nil {
		t.Fatalf("GetToken(%.12s…): %v", d, err)
	}
	if got == nil {
		t.Fatalf("GetToken(%.12s…) returned nil and no error", d)
	}
	return got
}

// wantToken checks the stored token equals want in every field.
func wantToken(t *testing.T, s core.Store, what string, want *core.Token) {
	t.Helper()
	tokenDiff(want, getToken(t, s, want.Digest)).report(t, what)
}

// wantAbsent checks no token with each digest is stored.
func wantAbsent(t *testing.T, s core.Store, what string, ts ...*core.Token) {
	t.Helper()
	for _, tk := range ts {
		_, err := s.GetToken(ctxFor(t), tk.Digest)
		if !errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s: GetToken(%.12s…) = %v, want core.ErrNotFound (the token must not be stored)", what, tk.Digest, err)
		}
	}
}

func with(tk *core.Token, f func(*core.Token)) *core.Token {
	c := *tk
	c.Scopes = append([]string(nil), tk.Scopes...)
	f(&c)
	return &c
}

func testTokenRoundTrip(t *testing.T, s core.Store) {
	full := fullToken("full")
	access := tok("access", core.TokenAccess, "c1", "", "f1", 0)
	refresh := tok("refresh", core.TokenRefresh, "c1", "u1", "f1", time.Second)
	refresh.Dialect, refresh.Scopes = "beta", nil
	// The usual issued token: no redirect, challenge or details, here
	// without an auth time and (access, refresh) with one (a backend may
	// write those another way than the others).
	usual := tok("usual", core.TokenAccess, "c1", "u1", "f1", 0)
	usual.AuthTime = time.Time{}
	insert(t, s, full, access, usual, refresh)
	wantToken(t, s, "GetToken of a token with every field set", full)
	wantToken(t, s, "GetToken of a token with only the usual fields set", usual)
	wantToken(t, s, "GetToken of an access token", access)
	wantToken(t, s, "GetToken of a refresh token", refresh)
}

func testTokenZeroTimes(t *testing.T, s core.Store) {
	bare := &core.Token{Digest: digest("bare"), Kind: core.TokenAccess, ClientID: "c", IssuedAt: at(0), ExpiresAt: at(time.Hour)}
	insert(t, s, bare)
	got := getToken(t, s, bare.Digest)
	tokenDiff(bare, got).report(t, "GetToken of a bare token")
	if !got.AuthTime.IsZero() || !got.ConsumedAt.IsZero() || !got.RevokedAt.IsZero() {
		t.Errorf("zero times came back non-zero: AuthTime %v, ConsumedAt %v, RevokedAt %v", got.AuthTime, got.ConsumedAt, got.RevokedAt)
	}
	if !got.Active(at(time.Minute)) {
		t.Errorf("a fresh bare token is not Active: %+v", got)
	}
}

func testTokenNotFound(t *testing.T, s core.Store) {
	insert(t, s, tok("a", core.TokenAccess, "c", "u", "f", 0))
	_, err := s.GetToken(ctxFor(t), digest("b"))
	wantNotFound(t, "GetToken of an unknown digest", err)
	if err := s.InsertTokens(ctxFor(t)); err != nil {
		t.Errorf("InsertTokens of no tokens: %v", err)
	}
}

func testInsertTokensAtomic(t *testing.T, s core.Store) {
	existing := tok("existing", core.TokenAccess, "c1", "u1", "f1", 0)
	insert(t, s, existing)
	n1 := tok("new1", core.TokenAccess, "c2", "u2", "f2", 0)
	n2 := tok("new2", core.TokenRefresh, "c2", "u2", "f2", 0)
	clash := with(existing, func(t *core.Token) { t.ClientID, t.Kind = "c2", core.TokenRefresh })
	err := s.InsertTokens(ctxFor(t), n1, clash, n2)
	if !errors.Is(err, core.ErrConflict) {
		t.Errorf("InsertTokens with a stored digest: %v, want core.ErrConflict", err)
	}
	wantAbsent(t, s, "after a failed InsertTokens", n1, n2)
	wantToken(t, s, "a stored token after a clashing InsertTokens", existing)
	list, err := s.ListTokens(ctxFor(t), core.TokenFilter{})
	if err != nil || len(list) != 1 {
		t.Errorf("ListTokens after a failed InsertTokens: %d tokens, %v; want 1", len(list), err)
	}
	insert(t, s, n1, n2)
	wantToken(t, s, "retried InsertTokens", n2)
}

func testInsertTokensDuplicateInBatch(t *testing.T, s core.Store) {
	a := tok("a", core.TokenAccess, "c", "u", "f", 0)
	b := tok("b", core.TokenRefresh, "c", "u", "f", 0)
	a2 := with(a, func(t *core.Token) { t.UserID = "other" })
	err := s.InsertTokens(ctxFor(t), a, b, a2)
	if !errors.Is(err, core.ErrConflict) {
		t.Errorf("InsertTokens with a digest twice: %v, want core.ErrConflict", err)
	}
	wantAbsent(t, s, "after InsertTokens with a digest twice", a, b)
	insert(t, s, a, b)
	wantToken(t, s, "InsertTokens after the failed batch", a)
}

func exchange(t *testing.T, s core.Store, parent *core.Token, now time.Time, succ ...*core.Token) {
	t.Helper()
	if err := s.Exchange(ctxFor(t), parent.Digest, now, succ...); err != nil {
		t.Fatalf("Exchange(%.12s…): %v", parent.Digest, err)
	}
}

func wantConsumed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrConsumed) {
		t.Errorf("%s: got %v, want core.ErrConsumed", what, err)
	}
}

func testExchange(t *testing.T, s core.Store) {
	parent := tok("r1", core.TokenRefresh, "c", "u", "f", 0)
	other := tok("r-other", core.TokenRefresh, "c", "u", "g", 0)
	code := fullToken("code")
	code.ConsumedAt, code.RevokedAt = time.Time{}, time.Time{}
	insert(t, s, parent, other, code)

	now := at(30 * time.Minute)
	a2 := tok("a2", core.TokenAccess, "c", "u", "f", 30*time.Minute)
	r2 := tok("r2", core.TokenRefresh, "c", "u", "f", 30*time.Minute)
	exchange(t, s, parent, now, a2, r2)
	wantToken(t, s, "the exchanged token", with(parent, func(t *core.Token) { t.ConsumedAt = now }))
	wantToken(t, s, "successor access token", a2)
	wantToken(t, s, "successor refresh token", r2)
	wantToken(t, s, "another token of the same client", other)

	// A code is exchanged the same way; with no successors too.
	exchange(t, s, code, now)
	wantToken(t, s, "the exchanged code", with(code, func(t *core.Token) { t.ConsumedAt = now }))
}

func testExchangeTwice(t *testing.T, s core.Store) {
	parent := tok("r1", core.TokenRefresh, "c", "u", "f", 0)
	insert(t, s, parent)
	first := at(time.Minute)
	a2 := tok("a2", core.TokenAccess, "c", "u", "f", time.Minute)
	exchange(t, s, parent, first, a2)

	a3 := tok("a3", core.TokenAccess, "c", "u", "f", 2*time.Minute)
	r3 := tok("r3", core.TokenRefresh, "c", "u", "f", 2*time.Minute)
	wantConsumed(t, "second Exchange", s.Exchange(ctxFor(t), parent.Digest, at(2*time.Minute), a3, r3))
	wantAbsent(t, s, "successors of a failed Exchange", a3, r3)
	wantToken(t, s, "the token exchanged twice keeps its first ConsumedAt", with(parent, func(t *core.Token) { t.ConsumedAt = first }))
	wantToken(t, s, "the first exchange's successor", a2)

	// A token stored consumed cannot be exchanged either.
	used := with(tok("used", core.TokenCode, "c", "u", "g", 0), func(t *core.Token) { t.ConsumedAt = at(time.Second) })
	insert(t, s, used)
	a4 := tok("a4", core.TokenAccess, "c", "u", "g", time.Minute)
	wantConsumed(t, "Exchange of a token stored consumed", s.Exchange(ctxFor(t), used.Digest, at(time.Minute), a4))
	wantAbsent(t, s, "successor of a token stored consumed", a4)
	wantToken(t, s, "a token stored consumed", used)
}

func testExchangeRevoked(t *testing.T, s core.Store) {
	parent := tok("r1", core.TokenRefresh, "c", "u", "f", 0)
	insert(t, s, parent)
	revokedAt := at(time.Minute)
	if err := s.RevokeToken(ctxFor(t), parent.Digest, core.Revocation{At: revokedAt, Cause: core.RevokeAdmin}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	a2 := tok("a2", core.TokenAccess, "c", "u", "f", 2*time.Minute)
	wantConsumed(t, "Exchange of a revoked token", s.Exchange(ctxFor(t), parent.Digest, at(2*time.Minute), a2))
	wantAbsent(t, s, "successor of a revoked token", a2)
	wantToken(t, s, "a revoked token after Exchange", with(parent, revokedBy(core.Revocation{At: revokedAt, Cause: core.RevokeAdmin})))

	stored := with(tok("stored-revoked", core.TokenRefresh, "c", "u", "g", 0), func(t *core.Token) { t.RevokedAt = at(time.Second) })
	insert(t, s, stored)
	wantConsumed(t, "Exchange of a token stored revoked", s.Exchange(ctxFor(t), stored.Digest, at(time.Minute), a2))
	wantAbsent(t, s, "successor of a token stored revoked", a2)
	wantToken(t, s, "a token stored revoked", stored)
}

func testExchangeUnknown(t *testing.T, s core.Store) {
	insert(t, s, tok("known", core.TokenRefresh, "c", "u", "f", 0))
	a2 := tok("a2", core.TokenAccess, "c", "u", "f", time.Minute)
	wantConsumed(t, "Exchange of an unknown digest", s.Exchange(ctxFor(t), digest("unknown"), at(time.Minute), a2))
	wantAbsent(t, s, "successor of an unknown token", a2)
}

func testExchangeSuccessorConflict(t *testing.T, s core.Store) {
	parent := tok("r1", core.TokenRefresh, "c", "u", "f", 0)
	existing := tok("existing", core.TokenAccess, "c", "u", "g", 0)
	insert(t, s, parent, existing)
	a2 := tok("a2", core.TokenAccess, "c", "u", "f", time.Minute)
	clash := with(existing, func(t *core.Token) { t.FamilyID = "f" })
	err := s.Exchange(ctxFor(t), parent.Digest, at(time.Minute), a2, clash)
	if !errors.Is(err, core.ErrConflict) {
		t.Errorf("Exchange with a successor whose digest exists: %v, want core.ErrConflict", err)
	}
	wantToken(t, s, "a token whose Exchange failed stays unconsumed", parent)
	wantToken(t, s, "a stored token clashing with a successor", existing)
	wantAbsent(t, s, "successor of a failed Exchange", a2)

	exchange(t, s, parent, at(2*time.Minute), a2)
	wantToken(t, s, "retried Exchange", with(parent, func(t *core.Token) { t.ConsumedAt = at(2 * time.Minute) }))
	wantToken(t, s, "successor of the retried Exchange", a2)
}

func testExchangeConcurrent(t *testing.T, s core.Store) {
	const n = 20
	parent := tok("parent", core.TokenRefresh, "c", "u", "f", 0)
	insert(t, s, parent)
	succ := make([]*core.Token, n)
	for i := range succ {
		succ[i] = tok(fmt.Sprintf("succ-%d", i), core.TokenRefresh, "c", "u", "f", time.Minute)
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Exchange(ctxFor(t), parent.Digest, at(time.Duration(i+1)*time.Second), succ[i])
		}()
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("exchanges %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, core.ErrConsumed):
			t.Errorf("exchange %d: %v, want nil or core.ErrConsumed", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent exchanges succeeded: %v", n, errs)
	}
	wantToken(t, s, "the winning successor", succ[winner])
	for i, sc := range succ {
		if i != winner {
			wantAbsent(t, s, fmt.Sprintf("successor of losing exchange %d", i), sc)
		}
	}
	wantToken(t, s, "the parent", with(parent, func(t *core.Token) { t.ConsumedAt = at(time.Duration(winner+1) * time.Second) }))
	list, err := s.ListTokens(ctxFor(t), core.TokenFilter{ClientID: "c"})
	if err != nil || len(list) != 2 {
		t.Errorf("ListTokens after concurrent exchanges: %d tokens, %v; want 2", len(list), err)
	}
}

// revokedBy marks a token revoked as a store records r.
func revokedBy(r core.Revocation) func(*core.Token) {
	return func(t *core.Token) {
		t.RevokedAt, t.Details.RevokedReason, t.Details.Replayed = r.At, r.Cause, r.Replayed
	}
}

func testRevokeToken(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	a := tok("a", core.TokenAccess, "c", "u", "f", 0)
	b := tok("b", core.TokenAccess, "c", "u", "f", 0)
	// Details of its own stay beside the revocation's.
	c := with(tok("c", core.TokenAccess, "c", "u", "f", 0), func(t *core.Token) {
		t.Details = core.TokenDetails{Audience: []string{"https://api.example"}, Format: core.FormatJWT}
	})
	insert(t, s, a, b, c)
	r1 := core.Revocation{At: at(time.Minute), Cause: core.RevokeRequested}
	if err := s.RevokeToken(ctx, a.Digest, r1); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	revoked := with(a, revokedBy(r1))
	wantToken(t, s, "a revoked token", revoked)
	wantToken(t, s, "a token of the same family", b)
	if got := getToken(t, s, a.Digest); got.Active(at(2 * time.Minute)) {
		t.Errorf("a revoked token is Active")
	}
	rc := core.Revocation{At: at(time.Minute), Cause: core.RevokeReuse, Replayed: digest("r")}
	if err := s.RevokeToken(ctx, c.Digest, rc); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	wantToken(t, s, "a revoked token with details", with(c, revokedBy(rc)))

	if err := s.RevokeToken(ctx, a.Digest, core.Revocation{At: at(2 * time.Minute), Cause: core.RevokeAdmin}); err != nil {
		t.Errorf("RevokeToken of a revoked token: %v", err)
	}
	wantToken(t, s, "a token revoked twice keeps its first RevokedAt and cause", revoked)
	wantNotFound(t, "RevokeToken of an unknown digest", s.RevokeToken(ctx, digest("unknown"), r1))
	wantAbsent(t, s, "RevokeToken of an unknown digest", tok("unknown", core.TokenAccess, "", "", "", 0))
}

// familyFixture stores, in family F: two live tokens, one revoked and one
// consumed; in family G one live token.
type familyFixture struct {
	live1, live2, revoked, consumed, other *core.Token
}

func newFamilyFixture(t *testing.T, s core.Store) familyFixture {
	f := familyFixture{
		live1: with(tok("f-access", core.TokenAccess, "c1", "u", "F", time.Minute), func(t *core.Token) {
			t.Details = core.TokenDetails{Subject: "s", Actor: "a"}
		}),
		live2: tok("f-refresh", core.TokenRefresh, "c1", "u", "F", time.Minute),
		revoked: with(tok("f-revoked", core.TokenAccess, "c1", "u", "F", 0),
			revokedBy(core.Revocation{At: at(time.Second), Cause: core.RevokeRequested})),
		consumed: with(tok("f-consumed", core.TokenRefresh, "c1", "u", "F", 0), func(t *core.Token) { t.ConsumedAt = at(time.Minute) }),
		other:    tok("g-access", core.TokenAccess, "c1", "u", "G", time.Minute),
	}
	insert(t, s, f.live1, f.live2, f.revoked, f.consumed, f.other)
	return f
}

func testRevokeFamily(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	f := newFamilyFixture(t, s)
	r := core.Revocation{At: at(2 * time.Minute), Cause: core.RevokeReuse, Replayed: f.consumed.Digest}
	n, err := s.RevokeFamily(ctx, "F", r)
	if err != nil || n != 2 {
		t.Fatalf("RevokeFamily: %d, %v; want 2 (the live tokens)", n, err)
	}
	wantToken(t, s, "live token 1 after RevokeFamily", with(f.live1, revokedBy(r)))
	wantToken(t, s, "live token 2 after RevokeFamily", with(f.live2, revokedBy(r)))
	wantToken(t, s, "a token revoked before RevokeFamily", f.revoked)
	wantToken(t, s, "a consumed token after RevokeFamily", f.consumed)
	wantToken(t, s, "a token of another family", f.other)

	n, err = s.RevokeFamily(ctx, "F", core.Revocation{At: at(3 * time.Minute), Cause: core.RevokeAdmin})
	if err != nil || n != 0 {
		t.Errorf("RevokeFamily again: %d, %v; want 0", n, err)
	}
	wantToken(t, s, "live token 1 after a second RevokeFamily", with(f.live1, revokedBy(r)))
	n, err = s.RevokeFamily(ctx, "unknown", r)
	if err != nil || n != 0 {
		t.Errorf("RevokeFamily of an unknown family: %d, %v; want 0", n, err)
	}
}

func testRevokeClientTokens(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	f := newFamilyFixture(t, s) // all of client c1: 3 live, 1 revoked, 1 consumed
	c2a := tok("c2-access", core.TokenAccess, "c2", "u", "H", 0)
	c2r := tok("c2-refresh", core.TokenRefresh, "c2", "u", "H", 0)
	insert(t, s, c2a, c2r)
	r := core.Revocation{At: at(2 * time.Minute), Cause: core.RevokeClientDeleted}
	n, err := s.RevokeClientTokens(ctx, "c1", r)
	if err != nil || n != 3 {
		t.Fatalf("RevokeClientTokens: %d, %v; want 3 (the live tokens)", n, err)
	}
	for _, live := range []*core.Token{f.live1, f.live2, f.other} {
		wantToken(t, s, "a live token after RevokeClientTokens", with(live, revokedBy(r)))
	}
	wantToken(t, s, "a token revoked before RevokeClientTokens", f.revoked)
	wantToken(t, s, "a consumed token after RevokeClientTokens", f.consumed)
	wantToken(t, s, "another client's access token", c2a)
	wantToken(t, s, "another client's refresh token", c2r)

	n, err = s.RevokeClientTokens(ctx, "c1", core.Revocation{At: at(3 * time.Minute), Cause: core.RevokeAdmin})
	if err != nil || n != 0 {
		t.Errorf("RevokeClientTokens again: %d, %v; want 0", n, err)
	}
	n, err = s.RevokeClientTokens(ctx, "unknown", r)
	if err != nil || n != 0 {
		t.Errorf("RevokeClientTokens of an unknown client: %d, %v; want 0", n, err)
	}
}

func testListTokens(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	mk := func(name, client, user, dialect string, kind core.TokenKind, issued time.Duration) *core.Token {
		tk := tok(name, kind, client, user, "fam-"+name, issued)
		tk.Dialect = dialect
		return tk
	}
	ts := map[string]*core.Token{
		"t1": mk("t1", "c1", "u1", "alpha", core.TokenAccess, -1*time.Hour),
		"t2": mk("t2", "c1", "u1", "alpha", core.TokenRefresh, -2*time.Hour),
		"t3": mk("t3", "c1", "u2", "beta", core.TokenAccess, -3*time.Hour),
		"t4": mk("t4", "c2", "u1", "beta", core.TokenCode, -4*time.Hour),
		"t5": mk("t5", "c2", "", "alpha", core.TokenAccess, -5*time.Hour),
		"t6": mk("t6", "c2", "u2", "alpha", core.TokenRefresh, -6*time.Hour),
	}
	ts["t4"].RevokedAt = at(0)
	ts["t6"].ConsumedAt = at(0)
	// Insert out of IssuedAt order, in two batches.
	insert(t, s, ts["t4"], ts["t1"], ts["t6"])
	insert(t, s, ts["t3"], ts["t5"], ts["t2"])

	for _, tc := range []struct {
		f    core.TokenFilter
		want []string
	}{
		{core.TokenFilter{}, []string{"t1", "t2", "t3", "t4", "t5", "t6"}},
		{core.TokenFilter{ClientID: "c1"}, []string{"t1", "t2", "t3"}},
		{core.TokenFilter{ClientID: "c2"}, []string{"t4", "t5", "t6"}},
		{core.TokenFilter{UserID: "u1"}, []string{"t1", "t2", "t4"}},
		{core.TokenFilter{Dialect: "beta"}, []string{"t3", "t4"}},
		{core.TokenFilter{Kind: core.TokenAccess}, []string{"t1", "t3", "t5"}},
		{core.TokenFilter{Kind: core.TokenCode}, []string{"t4"}},
		{core.TokenFilter{ClientID: "c2", Kind: core.TokenRefresh}, []string{"t6"}},
		{core.TokenFilter{ClientID: "c1", UserID: "u2", Dialect: "beta", Kind: core.TokenAccess}, []string{"t3"}},
		{core.TokenFilter{ClientID: "c1", Dialect: "beta", Kind: core.TokenRefresh}, nil},
		{core.TokenFilter{FamilyID: "fam-t3"}, []string{"t3"}},
		{core.TokenFilter{ClientID: "c2", FamilyID: "fam-t3"}, nil},
		{core.TokenFilter{ClientID: "nope"}, nil},
		{core.TokenFilter{Limit: 2}, []string{"t1", "t2"}},
		{core.TokenFilter{Limit: 1}, []string{"t1"}},
		{core.TokenFilter{Kind: core.TokenAccess, Limit: 2}, []string{"t1", "t3"}},
		{core.TokenFilter{Dialect: "alpha", Limit: 3}, []string{"t1", "t2", "t5"}},
		{core.TokenFilter{Limit: 100}, []string{"t1", "t2", "t3", "t4", "t5", "t6"}},
	} {
		got, err := s.ListTokens(ctx, tc.f)
		if err != nil {
			t.Errorf("ListTokens(%+v): %v", tc.f, err)
			continue
		}
		var names []string
		for _, g := range got {
			name := "?"
			for n, w := range ts {
				if w.Digest == g.Digest {
					name = n
					tokenDiff(w, g).report(t, fmt.Sprintf("ListTokens(%+v)[%s]", tc.f, n))
				}
			}
			names = append(names, name)
		}
		if !equal(names, tc.want) {
			t.Errorf("ListTokens(%+v) = %v, want %v", tc.f, names, tc.want)
		}
	}
}

func testDeleteExpiredTokens(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	cutoff := at(0)
	exp := func(name string, expires time.Time) *core.Token {
		tk := tok(name, core.TokenAccess, "c", "u", "f", -48*time.Hour)
		tk.ExpiresAt = expires
		return tk
	}
	gone := []*core.Token{
		exp("just-before", cutoff.Add(-time.Microsecond)),
		with(exp("consumed", cutoff.Add(-24*time.Hour)), func(t *core.Token) { t.ConsumedAt = at(-30 * time.Hour) }),
		with(exp("revoked", cutoff.Add(-time.Hour)), func(t *core.Token) { t.RevokedAt = at(-47 * time.Hour) }),
	}
	kept := []*core.Token{
		exp("at-cutoff", cutoff),
		exp("just-after", cutoff.Add(time.Microsecond)),
		with(exp("later-consumed", cutoff.Add(time.Hour)), func(t *core.Token) { t.ConsumedAt = at(-time.Hour) }),
	}
	insert(t, s, append(append([]*core.Token{}, gone...), kept...)...)

	n, err := s.DeleteExpiredTokens(ctx, cutoff.In(time.UTC))
	if err != nil || n != len(gone) {
		t.Fatalf("DeleteExpiredTokens: %d, %v; want %d", n, err, len(gone))
	}
	wantAbsent(t, s, "a token that expired before the cutoff", gone...)
	for _, k := range kept {
		wantToken(t, s, "a token expiring at or after the cutoff", k)
	}
	n, err = s.DeleteExpiredTokens(ctx, cutoff)
	if err != nil || n != 0 {
		t.Errorf("DeleteExpiredTokens again: %d, %v; want 0", n, err)
	}
}

func testDeleteAllTokens(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	if err := s.DeleteAllTokens(ctx); err != nil {
		t.Fatalf("DeleteAllTokens of an empty store: %v", err)
	}
	putClient(t, s, fullClient("c"))
	putUser(t, s, fullUser("u", "ada"))
	ts := []*core.Token{tok("a", core.TokenAccess, "c", "u", "f", 0), tok("r", core.TokenRefresh, "c", "u", "f", 0), fullToken("x")}
	insert(t, s, ts...)
	if err := s.DeleteAllTokens(ctx); err != nil {
		t.Fatalf("DeleteAllTokens: %v", err)
	}
	wantAbsent(t, s, "after DeleteAllTokens", ts...)
	list, err := s.ListTokens(ctx, core.TokenFilter{})
	if err != nil || len(list) != 0 {
		t.Errorf("ListTokens after DeleteAllTokens: %d tokens, %v; want 0", len(list), err)
	}
	clientDiff(fullClient("c"), getClient(t, s, "c")).report(t, "a client after DeleteAllTokens")
	userDiff(fullUser("u", "ada"), getUser(t, s, "u")).report(t, "a user after DeleteAllTokens")
	insert(t, s, ts...)
	wantToken(t, s, "a token inserted again after DeleteAllTokens", ts[2])
}

func pem(id string) []byte {
	return []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI" + id + "\n-----END PRIVATE KEY-----\n")
}

// fullSigningKey sets every field of a signing key: a retired one.
func fullSigningKey() *core.SigningKey {
	return &core.SigningKey{ID: "k3", Dialect: "beta", Algorithm: "EdDSA", PEM: pem("k3"), CreatedAt: at(-3 * time.Hour),
		RetiredAt: at(-time.Hour), VerifyUntil: at(time.Hour)}
}

func testSigningKeys(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	k1 := &core.SigningKey{ID: "k1", Dialect: "alpha", Algorithm: "RS256", PEM: pem("k1"), CreatedAt: at(-2 * time.Hour)}
	k2 := &core.SigningKey{ID: "k2", Dialect: "alpha", Algorithm: "ES256", PEM: pem("k2"), CreatedAt: at(-time.Hour)}
	k3 := fullSigningKey()
	for _, k := range []*core.SigningKey{k2, k3, k1} {
		if err := s.PutSigningKey(ctx, k); err != nil {
			t.Fatalf("PutSigningKey(%s): %v", k.ID, err)
		}
	}
	check := func(what, dialect string, want ...*core.SigningKey) {
		t.Helper()
		got, err := s.ListSigningKeys(ctx, dialect)
		if err != nil {
			t.Fatalf("%s: ListSigningKeys(%q): %v", what, dialect, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: ListSigningKeys(%q) returned %d keys, want %d", what, dialect, len(got), len(want))
		}
		for i := range want {
			signingKeyDiff(want[i], got[i]).report(t, fmt.Sprintf("%s: ListSigningKeys(%q)[%d]", what, dialect, i))
		}
	}
	check("initial", "alpha", k1, k2)
	check("initial", "beta", k3)
	check("initial", "gamma")

	// Retire k1: the same ID is updated, not added.
	k1r := *k1
	k1r.RetiredAt, k1r.VerifyUntil = at(-time.Hour), at(23*time.Hour)
	if err := s.PutSigningKey(ctx, &k1r); err != nil {
		t.Fatalf("PutSigningKey (retire): %v", err)
	}
	check("after retiring k1", "alpha", &k1r, k2)
	// And un-retire it: zero times overwrite.
	if err := s.PutSigningKey(ctx, k1); err != nil {
		t.Fatalf("PutSigningKey (un-retire): %v", err)
	}
	check("after un-retiring k1", "alpha", k1, k2)
	check("after un-retiring k1", "beta", k3)
}

func testClose(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	putClient(t, s, fullClient("c"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.GetClient(ctx, "c"); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("GetClient after Close: %v, want core.ErrUnavailable", err)
	}
	if err := s.InsertTokens(ctx, tok("a", core.TokenAccess, "c", "u", "f", 0)); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("InsertTokens after Close: %v, want core.ErrUnavailable", err)
	}
	if err := s.Exchange(ctx, digest("a"), at(0)); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Exchange after Close: %v, want core.ErrUnavailable", err)
	}
	_ = s.Close() // a second Close must not panic
}

// testDeleteExpiredInChunks sweeps more expired tokens than one chunk of a
// backend's sweep and checks all go and none of the live ones.
func testDeleteExpiredInChunks(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	var batch []*core.Token
	for i := range 2600 {
		exp := at(-time.Hour)
		if i%10 == 0 {
			exp = at(time.Hour)
		}
		batch = append(batch, &core.Token{Digest: digest(fmt.Sprint("sweep-", i)), Kind: core.TokenAccess, ClientID: "c",
			FamilyID: "f", IssuedAt: at(-2 * time.Hour), ExpiresAt: exp})
	}
	if err := s.InsertTokens(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpiredTokens(ctx, at(0))
	if err != nil || n != 2340 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want 2340", n, err)
	}
	left, err := s.ListTokens(ctx, core.TokenFilter{})
	if err != nil || len(left) != 260 {
		t.Fatalf("%d tokens left, %v; want the 260 live ones", len(left), err)
	}
}
