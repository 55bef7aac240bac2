package console

import (
	"context"
	"errors"
	"time"

	"github.com/tokengate/tokengate/config"
)

// Backend is everything the console reads and changes. The console knows
// nothing else of the gateway: an adapter implements it over the engine
// and the control plane.
type Backend interface {
	// Dialects lists the mounted dialect instances with their listeners
	// and routes: the config's, then those added at run time.
	Dialects() []Dialect
	DeclaredDialects
	// Overview counts what the gateway holds and names its storage.
	Overview(ctx context.Context) (Overview, error)
	Journal
	Tokens(ctx context.Context, q TokenQuery) ([]Token, error)
	State
	Faults(ctx context.Context) ([]Fault, error)
	AddFault(ctx context.Context, f Fault) (Fault, error)
	DeleteFault(ctx context.Context, id string) error
	Clock(ctx context.Context) (ClockState, error)
	MoveClock(ctx context.Context, m ClockMove) (ClockState, error)
}

// DeclaredDialects adds and removes dialects at run time, declared by a
// spec (as POST and DELETE /_admin/dialects do).
type DeclaredDialects interface {
	// Dialect is one mounted instance, with its spec text when it was
	// added at run time; ErrNotFound when none has the name.
	Dialect(ctx context.Context, name string) (Dialect, error)
	// AddDialect validates, mounts and stores a declared dialect. An
	// invalid spec is an *InputError listing each problem with its path
	// in the spec; routes other instances claim, an *InputError marked
	// Conflict.
	AddDialect(ctx context.Context, d NewDialect) (Dialect, error)
	// RemoveDialect removes a dialect added at run time; a config
	// instance is an *InputError, an unknown name ErrNotFound.
	RemoveDialect(ctx context.Context, name string) error
}

// NewDialect is a declared dialect to add: its spec's text, the instance
// name (empty: the spec's) and prefix.
type NewDialect struct {
	Name, Prefix, Spec string
}

// Journal is the request journal.
type Journal interface {
	// Requests lists up to limit journaled requests, newest first.
	Requests(ctx context.Context, limit int) ([]Request, error)
	// Request finds one request by ID, with the token family it touched
	// when that is known; ErrNotFound when it has left the journal.
	Request(ctx context.Context, id string) (Request, error)
	// Watch follows new requests; ErrBusy when too many already watch.
	Watch() (Watch, error)
}

// Watch is one live view of the journal.
type Watch interface {
	Requests() <-chan Request
	// Dropped counts requests this watch missed because it read too slowly.
	Dropped() int64
	Close()
}

// State is the clients, users and authorizations, in the config file's
// shape. Save creates (create=true, failing with a conflict when the id is
// taken) or replaces; an empty secret, password or auth token on replace
// keeps the stored one. Listed values never carry secrets.
type State interface {
	Clients(ctx context.Context) ([]config.Client, error)
	SaveClient(ctx context.Context, c config.Client, create bool) error
	DeleteClient(ctx context.Context, id string) error
	Users(ctx context.Context) ([]config.User, error)
	SaveUser(ctx context.Context, u config.User, create bool) error
	DeleteUser(ctx context.Context, id string) error
	Authorizations(ctx context.Context) ([]config.Authorization, error)
	SaveAuthorization(ctx context.Context, a config.Authorization, create bool) error
	DeleteAuthorization(ctx context.Context, id int64) error
}

// Errors a Backend returns; the console renders them.
var (
	ErrNotFound = errors.New("not found")
	ErrBusy     = errors.New("too many live views are open")
)

// InputError is input the backend refused, with the field at fault when
// one is known. Conflict marks an id that is already taken.
type InputError struct {
	Field    string
	Problems []string
	Conflict bool
}

func (e *InputError) Error() string {
	if len(e.Problems) == 0 {
		return "invalid input"
	}
	return e.Problems[0]
}

// Overview is the gateway at a glance.
type Overview struct {
	AdminListen string
	Storage     string // "sqlite" or "postgres"
	Database    string // the SQLite file; empty for PostgreSQL (its URL may hold a password)
	Replica     string
	Clients     int
	Users       int
	LiveTokens  int
	// LiveTokensAtLeast marks LiveTokens as a lower bound (counting stopped).
	LiveTokensAtLeast bool
	ActiveFaults      int
	Clock             ClockState
}

// Dialect is one mounted dialect instance and where it answers.
type Dialect struct {
	Name   string
	Type   string
	Listen string
	Prefix string
	Routes []Route
	// Runtime marks an instance added at run time (Added is when; Spec its
	// spec text, from Backend.Dialect); the others come from the config.
	Runtime bool
	Added   time.Time
	Spec    string
}

// Route is one method and path.
type Route struct{ Method, Path string }

// Request is one journaled request; secrets in its headers and parameters
// are already redacted.
type Request struct {
	ID string
	// RequestID is the gateway's request id (X-Request-Id).
	RequestID string
	Time      time.Time
	Replica   string
	Dialect   string
	Route     string
	Method    string
	ClientID  string
	GrantType string
	Status    int
	Latency   time.Duration
	Error     string
	ErrorID   string
	Fault     string // id of the fault rule that answered
	Headers   map[string]string
	Params    map[string][]string
	// Family is the token family the request issued, rotated, consumed or
	// revoked, as the engine reported it (ClientID is filled in by
	// Journal.Request); Reuse marks a request whose replayed code or
	// refresh token made reuse detection revoke it.
	Family FamilyRef
	Reuse  bool
}

// FamilyRef names a token family.
type FamilyRef struct{ ClientID, ID string }

// TokenQuery selects tokens; zero fields match anything.
type TokenQuery struct {
	ClientID string
	FamilyID string
	// LiveOnly keeps tokens neither consumed, revoked nor expired now.
	LiveOnly bool
	Limit    int
}

// Token is a token's record (never the token itself).
type Token struct {
	ID       string // SHA-256 digest
	Kind     string // access, refresh, code
	ClientID string
	UserID   string
	Dialect  string
	Scopes   []string
	FamilyID string
	Issued   time.Time
	Expires  time.Time
	Consumed time.Time
	Revoked  time.Time
	// RevokeReason is why the engine revoked the token (reuse, requested,
	// admin, client_deleted), as it recorded on the token.
	RevokeReason string
	// RevokedByReuse marks a token revoked because a consumed token of its
	// family (a rotated refresh token or a redeemed code) came back;
	// Replayed is that token's ID.
	RevokedByReuse bool
	Replayed       string
}

// Fault is one fault-injection rule: match fields (empty: any) and an action.
type Fault struct {
	ID          string
	Dialect     string
	Route       string
	ClientID    string
	GrantType   string
	Status      int
	Code        string
	Text        string
	Latency     time.Duration
	Drop        bool
	Count       int
	Probability float64
	Hits        int64
}

// ClockState is the gateway clock.
type ClockState struct {
	Now    time.Time
	Offset time.Duration // from real time
	Frozen bool
}

// ClockMove is one change of the clock: exactly one field set.
type ClockMove struct {
	Advance time.Duration
	Set     time.Time
	Freeze  *bool
	Reset   bool
}
