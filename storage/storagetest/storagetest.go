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
//     time stays zero. Records are compared whole, with go-cmp (Diff), and
//     the full* fixtures set every field, so a field added to a core model
//     is checked on every backend as soon as its fixture sets it (the
//     package's own tests fail until it does).
//   - Get* and Delete* of a missing row fail with core.ErrNotFound, and so
//     does RevokeToken of an unknown digest. Revoking a revoked token keeps
//     its first RevokedAt.
//   - ListClients and ListUsers are ordered by ID, ListAuthorizations by ID,
//     ListSigningKeys by CreatedAt (then ID), ListDialectSpecs by CreatedAt
//     (then name), ListTokens by IssuedAt, newest first.
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
//   - Text with NUL or invalid UTF-8 is handled alike by every backend:
//     lookups by such a key find nothing (core.ErrNotFound, zero counts,
//     empty lists), and writes of it fail with core.ErrInvalidValue and
//     store nothing.
//   - Times from core.ClockMin to core.ClockMax plus core.MaxLifetime
//     round-trip (the engine's clock never leaves that range).
//   - After Close, operations fail with an error wrapping
//     core.ErrUnavailable; a second Close does not panic.
package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
	{"DialectSpecs", testDialectSpecs},
	{"UnstorableText", testUnstorableText},
	{"ClockRangeTimes", testClockRangeTimes},
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

// cmpOptions compare whole records, so a field added to a core model is
// compared without touching the suite: times by instant (time.Time's Equal,
// which go-cmp calls by itself), and nil and empty slices and maps alike.
var cmpOptions = []cmp.Option{cmpopts.EquateEmpty()}

// Diff reports how got differs from want in any field of any depth, "" if
// in none, under the suite's rules of equality (see the package comment).
// Backends' own tests use it to compare records as the suite does.
func Diff(want, got any) string { return cmp.Diff(want, got, cmpOptions...) }

// diff is a Diff report, empty when the records are equal.
type diff string

func recordDiff[T any](want, got *T) diff { return diff(Diff(want, got)) }

var (
	clientDiff        = recordDiff[core.Client]
	userDiff          = recordDiff[core.User]
	authorizationDiff = recordDiff[core.Authorization]
	tokenDiff         = recordDiff[core.Token]
	signingKeyDiff    = recordDiff[core.SigningKey]
)

func (d diff) report(t *testing.T, what string) {
	t.Helper()
	if d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", what, d)
	}
}
