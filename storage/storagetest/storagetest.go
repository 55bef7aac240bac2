// Package storagetest is the conformance suite every core.Store passes.
//
// A backend's tests call Run with a constructor of fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) core.Store { return openEmptyStore(t) })
//	}
//
// Run closes each store when its subtest ends; the constructor should only
// arrange the cleanup of what lies underneath (t.TempDir does that itself).
//
// Beyond the comments of core.Store, the suite pins down these rules:
//
//   - Put* inserts or replaces the whole record: fields left zero in the new
//     value are zero afterwards. The store keeps no reference to the value
//     passed in, and callers may modify what Get* returns.
//   - Every field round-trips: strings, slices and maps with their order and
//     contents (a nil and an empty slice or map may be returned for each
//     other), durations, booleans and times. Times compare with Equal, at
//     least to the microsecond (the suite uses no finer times), and a zero
//     time stays zero.
//   - Get* and Delete* of a missing row fail with core.ErrNotFound, and so
//     does RevokeToken of an unknown digest. Revoking a revoked token keeps
//     its first RevokedAt.
//   - ListClients and ListUsers are ordered by ID, ListAuthorizations by ID,
//     ListSigningKeys by CreatedAt (then ID), ListTokens by IssuedAt, newest
//     first.
//   - PutAuthorization with ID 0 assigns a fresh positive ID and writes it
//     back to the argument.
//   - GetUserByUsername matches exactly; the empty username finds no one.
//     PutUser with a non-empty username held by another user fails with
//     core.ErrConflict and changes nothing.
//   - InsertTokens of a digest that exists (in the store or twice in the
//     batch) fails with core.ErrConflict and stores none of the batch; it
//     never replaces a stored token.
//   - InsertTokensIfNoActive refuses with core.ErrActiveToken (an
//     core.ErrConflict), storing nothing, exactly while the client holds an
//     access token of the dialect that is neither revoked nor consumed and
//     expires after now; tokens of other clients, dialects or kinds do not
//     count.
//   - Exchange of an unknown digest fails with core.ErrConsumed (not
//     ErrNotFound): to a caller holding a token value, a token that is gone
//     cannot be exchanged for the same reason as one that was used. When a
//     successor's digest exists, Exchange fails with core.ErrConflict and the
//     token stays unconsumed.
//   - RevokeFamily and RevokeClientTokens revoke and count the live tokens,
//     those neither consumed nor revoked; consumed tokens keep a zero
//     RevokedAt so a replay of them is still recognised as reuse. Whether an
//     expired live token is counted is left open.
//   - DeleteExpiredTokens(cutoff) deletes exactly the tokens with
//     ExpiresAt < cutoff, consumed and revoked ones included.
//   - After Close, operations fail with an error wrapping
//     core.ErrUnavailable; a second Close does not panic.
package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// test is one conformance check; it gets a fresh, empty store.
type test struct {
	name string
	run  func(t *testing.T, s core.Store)
}

var tests = []test{
	{"ClientRoundTrip", testClientRoundTrip},
	{"ClientReplace", testClientReplace},
	{"ClientZeroValues", testClientZeroValues},
	{"ClientNotAliased", testClientNotAliased},
	{"ClientListAndDelete", testClientListAndDelete},
	{"UserRoundTrip", testUserRoundTrip},
	{"UserReplace", testUserReplace},
	{"UserByUsername", testUserByUsername},
	{"UserUsernameConflict", testUserUsernameConflict},
	{"UserListAndDelete", testUserListAndDelete},
	{"AuthorizationCRUD", testAuthorizationCRUD},
	{"AuthorizationAssignsID", testAuthorizationAssignsID},
	{"TokenRoundTrip", testTokenRoundTrip},
	{"TokenZeroTimes", testTokenZeroTimes},
	{"TokenNotFound", testTokenNotFound},
	{"InsertTokensAtomic", testInsertTokensAtomic},
	{"InsertTokensDuplicateInBatch", testInsertTokensDuplicateInBatch},
	{"InsertTokensIfNoActive", testInsertTokensIfNoActive},
	{"InsertTokensIfNoActiveConcurrent", testInsertTokensIfNoActiveConcurrent},
	{"Exchange", testExchange},
	{"ExchangeTwice", testExchangeTwice},
	{"ExchangeRevoked", testExchangeRevoked},
	{"ExchangeUnknown", testExchangeUnknown},
	{"ExchangeSuccessorConflict", testExchangeSuccessorConflict},
	{"ExchangeConcurrent", testExchangeConcurrent},
	{"RevokeToken", testRevokeToken},
	{"RevokeFamily", testRevokeFamily},
	{"RevokeClientTokens", testRevokeClientTokens},
	{"ListTokens", testListTokens},
	{"DeleteExpiredTokens", testDeleteExpiredTokens},
	{"DeleteExpiredTokensInChunks", testDeleteExpiredInChunks},
	{"DeleteAllTokens", testDeleteAllTokens},
	{"SigningKeys", testSigningKeys},
	{"Close", testClose},
}

// Run runs the conformance suite, one subtest per check, each against a
// store newStore returns fresh and empty.
func Run(t *testing.T, newStore func(t *testing.T) core.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			t.Cleanup(func() { _ = s.Close() })
			tc.run(t, s)
		})
	}
}

// base is the suite's reference instant: microsecond precision, in a zone
// other than UTC, so backends must keep the instant, not the wall clock.
var base = time.Date(2031, time.March, 4, 5, 6, 7, 123456000, time.FixedZone("UTC+2", 2*60*60))

// at returns base moved by d.
func at(d time.Duration) time.Time { return base.Add(d) }

func ctxFor(t *testing.T) context.Context { return t.Context() }

// digest names a token in tests by the digest of a readable value.
func digest(name string) string { return core.Digest("storagetest:" + name) }

// diff collects the differences between an expected and an actual record.
type diff []string

func (d *diff) str(field, want, got string) {
	if want != got {
		*d = append(*d, fmt.Sprintf("%s: got %q, want %q", field, got, want))
	}
}

func (d *diff) boolean(field string, want, got bool) {
	if want != got {
		*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
	}
}

func (d *diff) integer(field string, want, got int64) {
	if want != got {
		*d = append(*d, fmt.Sprintf("%s: got %d, want %d", field, got, want))
	}
}

func (d *diff) time(field string, want, got time.Time) {
	if want.IsZero() != got.IsZero() || !want.Equal(got) {
		*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
	}
}

// strs compares string slices by length and elements, so nil and empty match.
func strs[S ~string](d *diff, field string, want, got []S) {
	ok := len(want) == len(got)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] == got[i]
	}
	if !ok {
		*d = append(*d, fmt.Sprintf("%s: got %q, want %q", field, got, want))
	}
}

func (d *diff) bytes(field string, want, got []byte) {
	if string(want) != string(got) {
		*d = append(*d, fmt.Sprintf("%s: got %q, want %q", field, got, want))
	}
}

func (d diff) report(t *testing.T, what string) {
	t.Helper()
	for _, line := range d {
		t.Errorf("%s: %s", what, line)
	}
}

func clientDiff(want, got *core.Client) diff {
	var d diff
	d.str("ID", want.ID, got.ID)
	d.str("SecretHash", want.SecretHash, got.SecretHash)
	strs(&d, "Grants", want.Grants, got.Grants)
	strs(&d, "Dialects", want.Dialects, got.Dialects)
	strs(&d, "RedirectURIs", want.RedirectURIs, got.RedirectURIs)
	strs(&d, "Scopes", want.Scopes, got.Scopes)
	d.integer("AccessTTL", int64(want.AccessTTL), int64(got.AccessTTL))
	d.integer("RefreshTTL", int64(want.RefreshTTL), int64(got.RefreshTTL))
	d.boolean("AllowPlainPKCE", want.AllowPlainPKCE, got.AllowPlainPKCE)
	d.boolean("Disabled", want.Disabled, got.Disabled)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	return d
}

func userDiff(want, got *core.User) diff {
	var d diff
	d.str("ID", want.ID, got.ID)
	d.str("Username", want.Username, got.Username)
	d.str("FirstName", want.FirstName, got.FirstName)
	d.str("LastName", want.LastName, got.LastName)
	d.str("Email", want.Email, got.Email)
	d.str("PasswordHash", want.PasswordHash, got.PasswordHash)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	if len(want.Linked) != len(got.Linked) {
		d = append(d, fmt.Sprintf("Linked: got %d accounts %+v, want %d %+v", len(got.Linked), got.Linked, len(want.Linked), want.Linked))
	}
	for p, w := range want.Linked {
		g, ok := got.Linked[p]
		if !ok {
			d = append(d, fmt.Sprintf("Linked[%s]: missing", p))
			continue
		}
		if g != w {
			d = append(d, fmt.Sprintf("Linked[%s]: got %+v, want %+v", p, g, w))
		}
	}
	return d
}

func authorizationDiff(want, got *core.Authorization) diff {
	var d diff
	d.integer("ID", want.ID, got.ID)
	d.str("TokenDigest", want.TokenDigest, got.TokenDigest)
	d.str("UserID", want.UserID, got.UserID)
	d.str("ClientID", want.ClientID, got.ClientID)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	return d
}

func tokenDiff(want, got *core.Token) diff {
	var d diff
	d.str("Digest", want.Digest, got.Digest)
	d.str("Kind", string(want.Kind), string(got.Kind))
	d.str("ClientID", want.ClientID, got.ClientID)
	d.str("UserID", want.UserID, got.UserID)
	d.str("Dialect", want.Dialect, got.Dialect)
	strs(&d, "Scopes", want.Scopes, got.Scopes)
	d.str("FamilyID", want.FamilyID, got.FamilyID)
	d.time("IssuedAt", want.IssuedAt, got.IssuedAt)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.time("AuthTime", want.AuthTime, got.AuthTime)
	d.time("ConsumedAt", want.ConsumedAt, got.ConsumedAt)
	d.time("RevokedAt", want.RevokedAt, got.RevokedAt)
	d.str("RedirectURI", want.RedirectURI, got.RedirectURI)
	d.str("CodeChallenge", want.CodeChallenge, got.CodeChallenge)
	d.str("CodeChallengeMethod", want.CodeChallengeMethod, got.CodeChallengeMethod)
	return d
}

func signingKeyDiff(want, got *core.SigningKey) diff {
	var d diff
	d.str("ID", want.ID, got.ID)
	d.str("Dialect", want.Dialect, got.Dialect)
	d.str("Algorithm", want.Algorithm, got.Algorithm)
	d.bytes("PEM", want.PEM, got.PEM)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("RetiredAt", want.RetiredAt, got.RetiredAt)
	d.time("VerifyUntil", want.VerifyUntil, got.VerifyUntil)
	return d
}
