package accounda

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// The messages of Accounda's {"error": "..."} bodies. The first eight are
// verbatim from Accounda's documents; the rest are ours (docs/dialects/accounda.md).
const (
	MsgMissingClientCredentials = "Missing client credentials"
	MsgInvalidClientCredentials = "Invalid client credentials"
	MsgHeadersRequired          = "Authorization and Client-ID headers are required"
	MsgInvalidAccessToken       = "Invalid access token"
	MsgExpiredAccessToken       = "Access token has expired"
	MsgInvalidClientID          = "Invalid client ID"
	MsgInvalidAuthIDOrToken     = "Invalid auth ID or token"
	MsgInvalidAuthID            = "Invalid auth ID"
	MsgApplicationExpired       = "The application associated with the provided client_id has expired. Please renew your access or contact support."

	MsgMissingAccessToken = "Missing access token"
	MsgGrantNotAllowed    = "Client is not authorized to use this grant type"
	MsgUserDataRequired   = "Linked account data requires the user_data parameter"
	MsgInvalidUserData    = "Invalid value for user_data: use 1 or 0"
	MsgContentType        = "Content-Type must be application/x-www-form-urlencoded"
	MsgMalformed          = "Malformed request"
	MsgInvalidRequest     = "Invalid request"
	MsgTooLarge           = "Request body too large"
	MsgHeadersTooLarge    = "Request header fields too large"
	MsgTimeout            = "Request timeout"
	MsgNotFound           = "Not found"
	MsgMethodNotAllowed   = "Method not allowed"
	MsgRateLimited        = "Too many requests"
	MsgUnsupportedGrant   = "Unsupported grant type"
	MsgSeparator          = "Malformed request: ';' does not separate parameters, use '&' (send a ';' inside a value as %3B)"
	MsgParamsInQuery      = "Send auth_id and the other parameters in the query string: the body of a GET request is not read"
	MsgUnavailable        = "Service temporarily unavailable"
	MsgInternal           = "Internal server error"
	msgDuplicatePrefix    = "Duplicate parameter: "
	msgRequiredLinkPrefix = "Required linked account missing: "
)

// MsgDuplicate is the message for a parameter sent more than once.
func MsgDuplicate(param string) string { return msgDuplicatePrefix + param }

// MsgInvalidFlag is the message for a linked-account flag other than 1 or 8.
func MsgInvalidFlag(provider string) string {
	return "Invalid value for " + provider + ": use 1 (optional) or 8 (required)"
}

// MsgMangledMicrosoft is the message for the document's sample lines as the
// vendor's page renders them: "&micro" of "&microsoft=1" read as the HTML
// entity µ, so "discord=1&microsoft=1" arrives as discord = "1µsoft=1".
func MsgMangledMicrosoft(in string) string {
	return `Malformed parameter "µsoft" in the value of ` + in + `: probably "&microsoft=1" with "&micro" turned into "µ" ` +
		`by an HTML entity; send &microsoft=1`
}

// MsgRequiredLinkMissing is the message when flag 8 names providers the
// user has no account at (comma-separated, in google, microsoft, discord,
// github order).
func MsgRequiredLinkMissing(providers string) string { return msgRequiredLinkPrefix + providers }

// endpoint tells Describe which route's wording applies.
type endpoint int

const (
	epNone endpoint = iota
	epToken
	epRefresh
	epValidate
	epInformation
)

// endpointOf is the endpoint whose route the request matched (epNone for
// unrouted paths).
func (d *Dialect) endpointOf(c echo.Context) endpoint {
	switch strings.TrimPrefix(c.Path(), d.prefix) {
	case PathToken:
		return epToken
	case PathRefresh:
		return epRefresh
	case PathValidate:
		return epValidate
	case PathInformation:
		return epInformation
	}
	return epNone
}

// knownParams are the parameter names a duplicate message may name; they
// are all ours, never caller input.
var knownParams = []string{"client_id", "client_secret", "access_token", "auth_id", "user_data",
	"google", "microsoft", "discord", "github"}

func isProvider(param string) bool { return slices.Contains(core.Providers, core.Provider(param)) }

// describe is the error table: status and message for an error on an
// endpoint. It switches on Kind, Reason and Param only.
func describe(e *core.Error, ep endpoint) (int, string) {
	user := ep == epValidate || ep == epInformation
	switch e.Reason {
	case core.ReasonTooLarge:
		return http.StatusRequestEntityTooLarge, MsgTooLarge
	case core.ReasonHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge, MsgHeadersTooLarge
	case core.ReasonTimeout:
		return http.StatusRequestTimeout, MsgTimeout
	case core.ReasonNotAllowed:
		return http.StatusMethodNotAllowed, MsgMethodNotAllowed
	case core.ReasonClientExpired, core.ReasonClientDisabled:
		if user {
			return http.StatusForbidden, MsgApplicationExpired
		}
		// The token document lists 400 answers only.
		return http.StatusBadRequest, MsgApplicationExpired
	case core.ReasonSeparator:
		return http.StatusBadRequest, MsgSeparator
	}
	switch e.Kind {
	case core.KindInvalidRequest:
		switch {
		case e.Param == headerAuthorization || e.Param == headerClientID:
			return http.StatusBadRequest, MsgHeadersRequired
		case e.Param == paramMangledMicrosoft:
			return http.StatusBadRequest, MsgMangledMicrosoft(e.Value)
		case e.Param == paramBody:
			return http.StatusBadRequest, MsgParamsInQuery
		case e.Reason == core.ReasonDuplicate:
			if slices.Contains(knownParams, e.Param) {
				return http.StatusBadRequest, MsgDuplicate(e.Param)
			}
			return http.StatusBadRequest, MsgMalformed
		case e.Param == "client_id" || e.Param == "client_secret":
			return http.StatusBadRequest, MsgMissingClientCredentials
		case e.Param == "access_token" || e.Param == "refresh_token":
			return http.StatusBadRequest, MsgMissingAccessToken
		case e.Param == "Content-Type":
			return http.StatusBadRequest, MsgContentType
		case isProvider(e.Param):
			return http.StatusBadRequest, MsgInvalidFlag(e.Param)
		case e.Param == "user_data" && e.Reason == core.ReasonMissing:
			return http.StatusBadRequest, MsgUserDataRequired
		case e.Param == "user_data":
			return http.StatusBadRequest, MsgInvalidUserData
		case e.Reason == core.ReasonMalformed:
			return http.StatusBadRequest, MsgMalformed
		}
		return http.StatusBadRequest, MsgInvalidRequest
	case core.KindInvalidClient:
		if user {
			return http.StatusForbidden, MsgInvalidClientID
		}
		return http.StatusBadRequest, MsgInvalidClientCredentials
	case core.KindUnauthorizedClient:
		switch {
		case e.Param == "grant_type":
			return http.StatusBadRequest, MsgGrantNotAllowed
		case user:
			return http.StatusForbidden, MsgInvalidClientID
		}
		return http.StatusBadRequest, MsgInvalidClientCredentials
	case core.KindUnsupportedGrantType:
		return http.StatusBadRequest, MsgUnsupportedGrant
	case core.KindInvalidGrant:
		return http.StatusBadRequest, MsgInvalidAccessToken
	case core.KindInvalidToken:
		return http.StatusUnauthorized, MsgInvalidAccessToken
	case core.KindExpiredToken:
		return http.StatusUnauthorized, MsgExpiredAccessToken
	case core.KindAccessDenied:
		switch {
		case isProvider(e.Param):
			return http.StatusForbidden, MsgRequiredLinkMissing(e.Value)
		case ep == epInformation:
			return http.StatusForbidden, MsgInvalidAuthID
		}
		return http.StatusForbidden, MsgInvalidAuthIDOrToken
	case core.KindNotFound:
		return http.StatusNotFound, MsgNotFound
	case core.KindRateLimited:
		return http.StatusTooManyRequests, MsgRateLimited
	case core.KindUnavailable:
		return http.StatusServiceUnavailable, MsgUnavailable
	case core.KindServerError:
		return http.StatusInternalServerError, MsgInternal
	}
	if s := wire.Status(e); s < http.StatusInternalServerError {
		return http.StatusBadRequest, MsgInvalidRequest
	}
	return http.StatusInternalServerError, MsgInternal
}

// errorBody is Accounda's one error shape.
type errorBody struct {
	Error string `json:"error"`
}

// Describe maps a domain error to the status and message of the table
// above, worded for the endpoint the request reached.
func (d *Dialect) Describe(c echo.Context, e *core.Error) wire.Answer {
	status, msg := describe(e, d.endpointOf(c))
	return wire.Answer{Status: status, Text: msg}
}

// WriteError writes Accounda's one error shape, {"error": "..."}: the code
// when the answer has one (a fault rule's), else the message. 401s (a
// bearer token that is invalid or expired: a missing one is 400) carry
// WWW-Authenticate: Bearer with error="invalid_token" (RFC 6750 §3), 405s
// an Allow header, and every error Cache-Control: no-store.
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	h := c.Response().Header()
	switch a.Status {
	case http.StatusUnauthorized:
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="accounda", error="invalid_token"`)
	case http.StatusMethodNotAllowed:
		if allow, _ := c.Get(echo.ContextKeyHeaderAllow).(string); allow != "" {
			h.Set(echo.HeaderAllow, allow)
		}
	}
	wire.NoStore(c)
	return wire.JSON(c, a.Status, errorBody{Error: cmp.Or(a.Code, a.Text)})
}
