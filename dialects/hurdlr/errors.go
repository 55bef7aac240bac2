package hurdlr

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// errorBody is Hurdlr's error style (inferred; the vendor doc shows no
// error): OAuth2 / Doorkeeper-like {"error", "error_description"}, both
// always present.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// wireError is how one core error kind goes on the wire.
type wireError struct {
	status      int
	code        string
	description string // used when the core error carries none
}

// kinds maps every core error kind to its status and error code.
var kinds = map[core.Kind]wireError{
	core.KindInvalidRequest:       {http.StatusBadRequest, "invalid_request", "The request is missing a required parameter or is otherwise malformed."},
	core.KindInvalidClient:        {http.StatusUnauthorized, "invalid_client", "Client authentication failed."},
	core.KindInvalidGrant:         {http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired or revoked."},
	core.KindUnauthorizedClient:   {http.StatusBadRequest, "unauthorized_client", "The client is not authorized to perform this request."},
	core.KindUnsupportedGrantType: {http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported."},
	core.KindInvalidScope:         {http.StatusBadRequest, "invalid_scope", "The requested scope is invalid."},
	core.KindInvalidToken:         {http.StatusUnauthorized, "invalid_token", "The access token is invalid."},
	core.KindExpiredToken:         {http.StatusUnauthorized, "invalid_token", "The access token expired."},
	core.KindAccessDenied:         {http.StatusForbidden, "access_denied", "Access denied."},
	core.KindNotFound:             {http.StatusNotFound, "not_found", "No such endpoint."},
	core.KindConflict:             {http.StatusConflict, "conflict", "The request conflicts with the current state."},
	core.KindRateLimited:          {http.StatusTooManyRequests, "rate_limited", "Too many requests; slow down."},
	core.KindUnavailable:          {http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable."},
	core.KindServerError:          {http.StatusInternalServerError, "server_error", "Internal error."},
}

// reasons override the kind's status and code where the reason matters on
// the wire (transport-level failures).
var reasons = map[core.Reason]wireError{
	core.ReasonTooLarge:   {http.StatusRequestEntityTooLarge, "invalid_request", "Request body too large."},
	core.ReasonNotAllowed: {http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed."},
	core.ReasonTimeout:    {http.StatusRequestTimeout, "invalid_request", "Request timeout."},
	core.ReasonHeadersTooLarge: {http.StatusRequestHeaderFieldsTooLarge, "invalid_request",
		"Request header fields too large."},
}

// describe returns the client-safe description of e (core promises
// Description is safe to show; values are never echoed: they may be
// secrets, codes or tokens).
func describe(e *core.Error, w wireError) string {
	switch {
	case e.Reason == core.ReasonUnknownUser:
		return "userId does not name a known accountant"
	case e.Description != "":
		return e.Description
	}
	return w.description
}

// Describe maps a domain error to its status and code by the tables above.
func (d *Dialect) Describe(_ echo.Context, e *core.Error) wire.Answer {
	w, ok := reasons[e.Reason]
	if !ok {
		w, ok = kinds[e.Kind]
	}
	if !ok {
		w = kinds[core.KindServerError]
	}
	return wire.Answer{Status: w.status, Code: w.code, Text: describe(e, w)}
}

// WriteError writes {"error", "error_description"}; 401s carry a Bearer
// challenge, the endpoint's documented authorization scheme.
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	wire.NoStore(c)
	if a.Status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="`+realm+`"`)
	}
	return wire.JSON(c, a.Status, errorBody{Error: a.Code, Description: a.Text})
}
