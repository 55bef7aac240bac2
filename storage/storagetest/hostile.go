package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// unstorable is text no backend can hold alike: NUL and invalid UTF-8
// (PostgreSQL's text refuses both, SQLite would keep them).
var unstorable = []string{"demo\x00client", "\xff\xfe", "caf\xc3"}

func wantInvalidValue(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrInvalidValue) {
		t.Errorf("%s: got error %v, want core.ErrInvalidValue", what, err)
	}
}

// testUnstorableText: lookups by a key no backend can store find nothing
// (never an internal error), and writes of such text are refused with
// core.ErrInvalidValue, storing nothing, on every backend alike.
func testUnstorableText(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	putClient(t, s, fullClient("c"))
	insert(t, s, tok("t", core.TokenAccess, "c", "", "f", 0))
	for _, bad := range unstorable {
		_, err := s.GetClient(ctx, bad)
		wantNotFound(t, "GetClient", err)
		_, err = s.GetUser(ctx, bad)
		wantNotFound(t, "GetUser", err)
		_, err = s.GetUserByUsername(ctx, bad)
		wantNotFound(t, "GetUserByUsername", err)
		_, err = s.GetToken(ctx, bad)
		wantNotFound(t, "GetToken", err)
		wantNotFound(t, "DeleteClient", s.DeleteClient(ctx, bad))
		wantNotFound(t, "DeleteUser", s.DeleteUser(ctx, bad))
		r := core.Revocation{At: at(0), Cause: core.RevokeAdmin}
		wantNotFound(t, "RevokeToken", s.RevokeToken(ctx, bad, r))
		if n, err := s.RevokeClientTokens(ctx, bad, r); n != 0 || err != nil {
			t.Errorf("RevokeClientTokens: %d, %v; want 0, nil", n, err)
		}
		if n, err := s.RevokeFamily(ctx, bad, r); n != 0 || err != nil {
			t.Errorf("RevokeFamily: %d, %v; want 0, nil", n, err)
		}
		for _, f := range []core.TokenFilter{{ClientID: bad}, {UserID: bad}, {Dialect: bad}, {Kind: core.TokenKind(bad)}, {FamilyID: bad}} {
			if list, err := s.ListTokens(ctx, f); len(list) != 0 || err != nil {
				t.Errorf("ListTokens(%+v): %d tokens, %v; want none", f, len(list), err)
			}
		}
		if keys, err := s.ListSigningKeys(ctx, bad); len(keys) != 0 || err != nil {
			t.Errorf("ListSigningKeys: %d keys, %v; want none", len(keys), err)
		}

		wantInvalidValue(t, "PutClient", s.PutClient(ctx, fullClient(bad)))
		wantInvalidValue(t, "PutUser with a bad id", s.PutUser(ctx, fullUser(bad, "name")))
		wantInvalidValue(t, "PutUser with a bad username", s.PutUser(ctx, fullUser("u", bad)))
		u := fullUser("u2", "other")
		u.FirstName = bad
		wantInvalidValue(t, "PutUser with a bad first name", s.PutUser(ctx, u))
		a := fullAuthorization()
		a.ClientID = bad
		wantInvalidValue(t, "PutAuthorization", s.PutAuthorization(ctx, a))
		bt := tok("bad", core.TokenCode, "c", "", "f", 0)
		bt.CodeChallenge = bad
		wantInvalidValue(t, "InsertTokens", s.InsertTokens(ctx, bt))
		wantInvalidValue(t, "Exchange", s.Exchange(ctx, digest("t"), at(time.Minute), bt))
		wantInvalidValue(t, "InsertTokensIfNoActive", s.InsertTokensIfNoActive(ctx, "c", "other-dialect", at(0), bt))
	}
	if list, _ := s.ListClients(ctx); len(list) != 1 {
		t.Errorf("%d clients stored, want the one good one", len(list))
	}
	if list, _ := s.ListUsers(ctx); len(list) != 0 {
		t.Errorf("%d users stored, want none", len(list))
	}
	if list, _ := s.ListAuthorizations(ctx); len(list) != 0 {
		t.Errorf("%d authorizations stored, want none", len(list))
	}
	if got := getToken(t, s, digest("t")); !got.ConsumedAt.IsZero() {
		t.Error("a refused Exchange consumed its token")
	}
	if _, err := s.GetToken(ctx, digest("bad")); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a refused token was stored: %v", err)
	}
}

// testClockRangeTimes: the times the engine's clock may produce (its range,
// plus the longest token lifetime) round-trip on every backend.
func testClockRangeTimes(t *testing.T, s core.Store) {
	for i, times := range [][2]time.Time{
		{core.ClockMin, core.ClockMin.Add(time.Hour)},
		{core.ClockMax, core.ClockMax.Add(core.MaxLifetime)},
	} {
		want := tok(string(rune('a'+i)), core.TokenAccess, "c", "", "f", 0)
		want.IssuedAt, want.ExpiresAt, want.AuthTime = times[0], times[1], times[0]
		insert(t, s, want)
		tokenDiff(want, getToken(t, s, want.Digest)).report(t, "GetToken at "+times[0].String())
	}
}
