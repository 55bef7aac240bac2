package core

import (
	"errors"
	"time"
)

// Observer is told what the engine did, for metrics: core names no metrics
// library, dialects/metrics implements it. The engine calls it on the hot
// path, so its methods must be cheap, never block and be safe for
// concurrent use. dialect is the instance name ("" for the control plane's
// operations).
type Observer interface {
	// Issued: a token of kind was stored.
	Issued(dialect string, kind TokenKind)
	// Refreshed: a refresh grant succeeded.
	Refreshed(dialect string)
	// Revoked: n tokens were revoked, for cause.
	Revoked(dialect string, cause RevokeCause, n int)
	// ReuseDetected: a consumed refresh token or code was presented again
	// (reason ReasonRefreshReuse or ReasonCodeReplay); its family is revoked.
	ReuseDetected(dialect string, reason Reason)
	// RateLimited: the failure limiter refused an attempt before checking
	// it; limiter names what was limited ("client" or "user").
	RateLimited(limiter string)
}

// RevokeCause says why tokens were revoked.
type RevokeCause string

const (
	// RevokeRequested: a client asked (RFC 7009 revocation).
	RevokeRequested RevokeCause = "requested"
	// RevokeReuse: a replayed code or refresh token took its family down.
	RevokeReuse RevokeCause = "reuse"
	// RevokeAdmin: the control plane revoked them.
	RevokeAdmin RevokeCause = "admin"
	// RevokeClientDeleted: their client was deleted.
	RevokeClientDeleted RevokeCause = "client_deleted"
)

// Revocation is when and why tokens are revoked. Stores record the why in
// each token they revoke (TokenDetails.RevokedReason, .Replayed), so it
// is known after a restart as well.
type Revocation struct {
	At    time.Time
	Cause RevokeCause
	// Replayed is the digest of the consumed code or refresh token whose
	// return revoked the family (Cause RevokeReuse).
	Replayed string
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Issued(string, TokenKind)         {}
func (nopObserver) Refreshed(string)                 {}
func (nopObserver) Revoked(string, RevokeCause, int) {}
func (nopObserver) ReuseDetected(string, Reason)     {}
func (nopObserver) RateLimited(string)               {}
func (nopObserver) Op(string) OpObserver             { return nopObserver{} }
func (nopObserver) GroupCommit(int, int)             {}
func (nopObserver) Done(time.Duration, error)        {}

// NopObserver observes nothing: it is an Observer, a StoreObserver and an
// OpObserver.
var NopObserver = nopObserver{}

// StoreObserver is told how storage operations went, for metrics. The
// storage packages call it (storage/observed wraps any Store; SQLite's
// group committer reports its batches), so the port lives here: storage
// imports no dialects.
type StoreObserver interface {
	// Op returns the observer of one operation, named by its Store method,
	// resolved once so that observing costs no lookup.
	Op(name string) OpObserver
	// GroupCommit is told each group-commit transaction's size: the
	// requests it served and the token rows it wrote.
	GroupCommit(requests, rows int)
}

// OpObserver is told about each call of one storage operation.
type OpObserver interface {
	// Done: the call took d and failed with err (nil: it worked; see
	// StoreFailure for which errors count).
	Done(d time.Duration, err error)
}

// StoreFailure reports whether err is a storage failure rather than an
// answer: a missing row, a consumed token or a conflict is the store
// working.
func StoreFailure(err error) bool {
	return err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConsumed) && !errors.Is(err, ErrConflict)
}
