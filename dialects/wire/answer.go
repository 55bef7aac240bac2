package wire

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Answer is a neutral description of an error response, which a dialect
// writes in its own envelope: a dialect describes a domain error as an
// Answer (its kind and reason table), the gateway builds one straight from a
// ForcedAnswer, and both go through the dialect's one envelope writer.
type Answer struct {
	Status int
	Code   string // the envelope's error code, where it has one
	Text   string // the human-readable message
	// Param names the offending parameter and Value its value as a JSON
	// value, as sent (nil: none; never a secret), for envelopes that carry
	// them.
	Param  string
	Value  json.RawMessage
	Header http.Header // extra response headers
	Err    *core.Error // the domain error described; nil for a forced answer
}

// ForcedAnswer is an answer the control plane imposes (a fault rule): not a
// domain error. Every dialect answers it with exactly this status, and this
// code and text where given, in its own envelope.
type ForcedAnswer struct {
	Status     int
	Code, Text string
	// RetryAfter is sent as Retry-After when positive.
	RetryAfter time.Duration
}

func (f *ForcedAnswer) Error() string {
	return fmt.Sprintf("forced answer %d %s %s", f.Status, f.Code, f.Text)
}

// DomainError is the domain error closest to the forced status: a dialect
// describes it to fill in the code when the rule gives none.
func (f *ForcedAnswer) DomainError() *core.Error { return &core.Error{Kind: f.Kind()} }

// Kind is the domain error kind closest to the forced status.
func (f *ForcedAnswer) Kind() core.Kind {
	switch s := f.Status; {
	case s == http.StatusUnauthorized:
		return core.KindInvalidClient
	case s == http.StatusForbidden:
		return core.KindAccessDenied
	case s == http.StatusNotFound:
		return core.KindNotFound
	case s == http.StatusConflict:
		return core.KindConflict
	case s == http.StatusTooManyRequests:
		return core.KindRateLimited
	case s == http.StatusServiceUnavailable || s == http.StatusBadGateway || s == http.StatusGatewayTimeout:
		return core.KindUnavailable
	case s < http.StatusInternalServerError:
		return core.KindInvalidRequest
	}
	return core.KindServerError
}

// Facts is what a dialect declares about its wire for the control plane,
// which names no dialect: the parameters and headers whose values are
// secrets beyond the standard ones, and where the client id and the grant
// type are.
type Facts struct {
	SecretParams   []string // compared case-insensitively
	SecretHeaders  []string
	ClientIDParams []string // parameters that carry the client id, in order
	ClientIDHeader string   // a header that carries it (Accounda's Client-ID)
	ClientIDBasic  bool     // Authorization: Basic carries it
	GrantParams    []string // parameters that carry the grant type
}

// StandardFacts are RFC 6749's: client_id (or Basic) and grant_type.
var StandardFacts = Facts{ClientIDParams: []string{"client_id"}, ClientIDBasic: true, GrantParams: []string{"grant_type"}}
