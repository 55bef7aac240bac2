package core

import "context"

// Trace is what the engine did with tokens while answering one request:
// the family it touched and how, for the request journal. The gateway
// gives each request one (WithTrace) inside a value it allocates anyway;
// the engine only assigns fields, and a context without a trace (the
// admin API, the sweeper) records nothing.
type Trace struct {
	// FamilyID is the token family the request issued, rotated, consumed
	// or revoked (the last one, should it touch several); ClientID is the
	// family's client.
	FamilyID, ClientID string
	// Did is what happened to the family.
	Did FamilyEvents
	// Kinds are the kinds of tokens the request stored.
	Kinds TokenKinds
}

// FamilyEvents is a set of things that happened to a token family.
type FamilyEvents uint8

const (
	// FamilyIssued: tokens of the family were stored (a new family, or
	// successors of a consumed token).
	FamilyIssued FamilyEvents = 1 << iota
	// FamilyConsumed: a code, refresh token, device code or user code of
	// the family was used up (a refresh with FamilyIssued is a rotation).
	FamilyConsumed
	// FamilyRevoked: tokens of the family were revoked.
	FamilyRevoked
	// FamilyReuse: a consumed code or refresh token of the family came
	// back, and reuse detection revoked the family.
	FamilyReuse
)

// Has reports whether every event of x happened.
func (e FamilyEvents) Has(x FamilyEvents) bool { return e&x == x }

// TokenKinds is a set of token kinds.
type TokenKinds uint8

// kindBits orders the kinds a TokenKinds can hold.
var kindBits = [...]TokenKind{TokenAccess, TokenRefresh, TokenCode, TokenDeviceCode, TokenUserCode}

func (k *TokenKinds) add(kind TokenKind) {
	for i, b := range kindBits {
		if b == kind {
			*k |= 1 << i
		}
	}
}

// List names the kinds in the set, access tokens first.
func (k TokenKinds) List() []TokenKind {
	var out []TokenKind
	for i, b := range kindBits {
		if k&(1<<i) != 0 {
			out = append(out, b)
		}
	}
	return out
}

type traceKey struct{}

// WithTrace makes the engine record into t what it does for ctx's request.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom is the trace of ctx's request, or nil.
func TraceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// family notes that event happened to tok's family; a nil trace or a
// token of no family (a used assertion's jti) records nothing.
func (t *Trace) family(tok *Token, event FamilyEvents) {
	if t == nil || tok.FamilyID == "" {
		return
	}
	if t.FamilyID != tok.FamilyID {
		t.FamilyID, t.ClientID, t.Did = tok.FamilyID, tok.ClientID, 0
	}
	t.Did |= event
}

// stored notes tokens just stored.
func (t *Trace) stored(tokens ...*Token) {
	if t == nil {
		return
	}
	for _, tok := range tokens {
		t.family(tok, FamilyIssued)
		t.Kinds.add(tok.Kind)
	}
}
