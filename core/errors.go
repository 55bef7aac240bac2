package core

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an engine error. Dialects map kinds (and, where their wire
// format distinguishes more, reasons) to status codes and texts with a table.
type Kind string

const (
	KindInvalidRequest       Kind = "invalid_request"
	KindInvalidClient        Kind = "invalid_client"
	KindInvalidGrant         Kind = "invalid_grant"
	KindUnauthorizedClient   Kind = "unauthorized_client"
	KindUnsupportedGrantType Kind = "unsupported_grant_type"
	KindInvalidScope         Kind = "invalid_scope"
	KindInvalidToken         Kind = "invalid_token"
	KindExpiredToken         Kind = "expired_token"
	KindAccessDenied         Kind = "access_denied"
	KindNotFound             Kind = "not_found"
	KindConflict             Kind = "conflict"
	KindRateLimited          Kind = "rate_limited"
	KindUnavailable          Kind = "unavailable"
	KindServerError          Kind = "server_error"
)

// Reason refines a Kind where some dialect's wire format tells cases apart.
type Reason string

const (
	ReasonNone            Reason = ""
	ReasonMissing         Reason = "missing"         // a required parameter is absent
	ReasonDuplicate       Reason = "duplicate"       // a parameter was sent more than once
	ReasonMalformed       Reason = "malformed"       // a parameter or body cannot be parsed
	ReasonClientExpired   Reason = "client_expired"  // the client's registration lapsed
	ReasonClientDisabled  Reason = "client_disabled" // the client is switched off
	ReasonUnknownUser     Reason = "unknown_user"    // user id names nobody
	ReasonCodeReplay      Reason = "code_replay"     // an authorization code was redeemed twice
	ReasonRefreshReuse    Reason = "refresh_reuse"   // a rotated-out refresh token came back
	ReasonPKCE            Reason = "pkce"            // verifier missing or wrong
	ReasonRedirectURI     Reason = "redirect_uri"    // redirect_uri mismatch
	ReasonWrongClient     Reason = "wrong_client"    // a token or code belongs to another client
	ReasonBadCredentials  Reason = "bad_credentials" // wrong username or password
	ReasonTooLarge        Reason = "too_large"       // request body over the limit
	ReasonTimeout         Reason = "timeout"         // the request took too long to arrive
	ReasonClosedHours     Reason = "outside_hours"   // a dialect's working hours are over
	ReasonActiveToken     Reason = "active_token"    // the client already holds its one active access token
	ReasonNotAllowed      Reason = "method_not_allowed"
	ReasonSeparator       Reason = "separator"         // a query or form separates parameters with ';', not '&'
	ReasonHeadersTooLarge Reason = "headers_too_large" // the request's header fields are over the limit
)

// Error is the engine's one error type. Description is safe to show to a
// client; Cause is for logs only and never rendered.
type Error struct {
	Kind        Kind
	Reason      Reason
	Param       string // the offending parameter, for invalid_request
	Value       string // the value sent, where it is not a secret
	Description string
	Cause       error
	// RetryAfter, when set, tells the client when to try again (the
	// failure limiter's 429s); dialects send it as Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := string(e.Kind)
	if e.Reason != "" {
		s += "/" + string(e.Reason)
	}
	if e.Param != "" {
		s += " (" + e.Param + ")"
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// Errf builds an Error of kind with a client-safe description.
func Errf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

// WithReason returns a copy of e carrying reason r.
func (e *Error) WithReason(r Reason) *Error { c := *e; c.Reason = r; return &c }

// WithCause returns a copy of e carrying cause (logged, never rendered).
func (e *Error) WithCause(cause error) *Error { c := *e; c.Cause = cause; return &c }

// MissingParam reports a required parameter that was not sent.
func MissingParam(name string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonMissing, Param: name,
		Description: "missing required parameter: " + name}
}

// DuplicateParam reports a parameter sent more than once (RFC 6749 §3.1).
func DuplicateParam(name string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonDuplicate, Param: name,
		Description: "parameter sent more than once: " + name}
}

// InvalidParam reports a parameter whose value cannot be used.
func InvalidParam(name, value, description string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonMalformed, Param: name, Value: value,
		Description: description}
}

// Internal wraps an unexpected failure; the cause is logged, never shown.
func Internal(cause error) *Error {
	return &Error{Kind: KindServerError, Description: "internal error", Cause: cause}
}

// Unavailable wraps a storage outage; clients may retry.
func Unavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Description: "service temporarily unavailable", Cause: cause}
}

// AsError returns err as *Error, wrapping anything else as server_error.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ErrUnavailable) {
		return Unavailable(err)
	}
	return Internal(err)
}

// KindOf returns err's kind, or "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	return AsError(err).Kind
}

// Store sentinel errors. Backends return (or wrap) these.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("already exists")
	ErrConsumed    = errors.New("already consumed or revoked")
	ErrUnavailable = errors.New("storage unavailable")
	// ErrInvalidValue is a value the store cannot hold (text with NUL or
	// invalid UTF-8): the request was bad, not the store.
	ErrInvalidValue = errors.New("a value the store cannot hold")
	// ErrActiveToken is InsertTokensIfNoActive's refusal; it is an ErrConflict.
	ErrActiveToken = fmt.Errorf("the client holds an active access token: %w", ErrConflict)
)
