package core

import (
	"context"
	"time"
)

// Store is the persistence the engine needs: a small set of operations, not a
// generic repository. Implementations live in storage/ and all pass
// storage/storagetest. Lookups of missing rows return ErrNotFound; a store
// that cannot reach its database returns an error wrapping ErrUnavailable.
type Store interface {
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context) ([]*Client, error)
	PutClient(ctx context.Context, c *Client) error // insert or replace
	DeleteClient(ctx context.Context, id string) error

	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	PutUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, id string) error

	GetAuthorization(ctx context.Context, id int64) (*Authorization, error)
	ListAuthorizations(ctx context.Context) ([]*Authorization, error)
	PutAuthorization(ctx context.Context, a *Authorization) error
	DeleteAuthorization(ctx context.Context, id int64) error

	// InsertTokens stores tokens atomically: all or none.
	InsertTokens(ctx context.Context, tokens ...*Token) error
	// InsertTokensIfNoActive stores tokens like InsertTokens unless the
	// client already holds an active access token of the dialect at now
	// (neither revoked nor consumed, ExpiresAt after now): then it stores
	// nothing and fails with an error wrapping ErrActiveToken (an
	// ErrConflict). The check and
	// the insert are one atomic step for every process sharing the
	// database, so of concurrent calls for one client and dialect at most
	// one succeeds while none is active.
	InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*Token) error
	GetToken(ctx context.Context, digest string) (*Token, error)
	// Exchange atomically marks the token with digest consumed at now and
	// inserts successors. It fails with ErrConsumed (storing nothing) when
	// the token was already consumed or revoked, so of any number of
	// concurrent exchanges of one token exactly one succeeds.
	Exchange(ctx context.Context, digest string, now time.Time, successors ...*Token) error
	// UpdateToken reads the live token with digest, passes it to change
	// and writes back the UserID, AuthTime and Details change leaves, in
	// one transaction: concurrent updates of one token run one after the
	// other, each seeing the previous one's writes (a device code's state).
	// An unknown digest fails with ErrNotFound, a consumed or revoked token
	// with ErrConsumed; an error from change is returned as it is, and
	// nothing is written.
	UpdateToken(ctx context.Context, digest string, change func(*Token) error) error
	// RevokeToken marks the token with digest revoked at r.At, recording
	// r's cause (and replayed digest) in its details. Revoking a revoked
	// token keeps its first time and cause; an unknown digest is
	// ErrNotFound.
	RevokeToken(ctx context.Context, digest string, r Revocation) error
	// RevokeFamily revokes every live token of a family (neither consumed
	// nor revoked) as RevokeToken does and reports how many.
	RevokeFamily(ctx context.Context, familyID string, r Revocation) (int, error)
	// RevokeClientTokens revokes every live token of a client likewise.
	RevokeClientTokens(ctx context.Context, clientID string, r Revocation) (int, error)
	ListTokens(ctx context.Context, f TokenFilter) ([]*Token, error)
	// DeleteExpiredTokens removes tokens that expired before cutoff.
	DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error)
	DeleteAllTokens(ctx context.Context) error

	KeyStore
	DialectStore

	Close() error
}

// KeyStore keeps signing keys: the port a KeyRing loads from and key
// rotation writes to. Every Store is one.
type KeyStore interface {
	// PutSigningKey inserts or replaces a key by ID.
	PutSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns the keys of owner (a dialect instance name),
	// oldest CreatedAt first.
	ListSigningKeys(ctx context.Context, owner string) ([]*SigningKey, error)
}

// TokenFilter narrows ListTokens; zero fields match anything.
type TokenFilter struct {
	ClientID string
	UserID   string
	Dialect  string
	Kind     TokenKind
	FamilyID string
	Limit    int // 0: no limit
}
