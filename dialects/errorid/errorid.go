package errorid

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Name is the dialect's type (and default instance name).
const Name = "errorid"

// PathPrefix is the part of the URL space the dialect owns (below its
// configured prefix): every 404/405 under it comes in this dialect's style.
const PathPrefix = "/v1/oauth"

// TokenPath is the token endpoint.
const TokenPath = PathPrefix + "/token"

func init() { dialects.Register(Name, func() dialects.Dialect { return &Dialect{} }) }

// Options are the dialect-specific config keys.
type Options struct {
	// WorkingHours limits when the dialect's routes answer, e.g.
	// "Mon-Fri 08:00-18:00" (see Schedule for the grammar); empty: always.
	WorkingHours string `yaml:"working_hours"`
	// TimeZone is the IANA zone WorkingHours is read in; empty: UTC.
	TimeZone string `yaml:"time_zone"`
	// OneActiveToken refuses (409) a token request while the client still
	// holds an active access token issued by this dialect (an atomic store
	// operation, so it holds across replicas).
	OneActiveToken bool `yaml:"one_active_token"`
}

// Dialect implements dialects.Dialect.
type Dialect struct {
	inst    dialects.Instance
	engine  *core.Engine
	profile *core.Profile
	opts    Options
	hours   *Schedule // nil: always open
}

// Owns claims /v1/oauth and everything below it.
func (d *Dialect) Owns(path string) bool { return dialects.HasPathPrefix(path, PathPrefix) }

// WireFacts: the client id and secret are JSON properties spelt either
// way; the grant is implied.
func (d *Dialect) WireFacts() wire.Facts {
	return wire.Facts{ClientIDParams: idNames[:], SecretParams: secretNames[1:]}
}

// Configure decodes the options and parses the working hours.
func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	var p config.Problems
	p.Merge(inst.Config.DecodeOptions(&d.opts))
	if loc, err := LoadZone(d.opts.TimeZone); err != nil {
		p.Add("time_zone", "%v", err)
	} else if d.hours, err = NewSchedule(d.opts.WorkingHours, loc); err != nil {
		p.Add("working_hours", "%v", err)
	}
	return p.Err()
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine = deps.Engine
	ttl := time.Duration(d.inst.Config.AccessTokenTTL)
	if ttl <= 0 {
		ttl = core.DefaultAccessTTL
	}
	d.profile = &core.Profile{Dialect: d.inst.Name, Type: d.inst.Type, AccessTTL: ttl, OneActiveAccessToken: d.opts.OneActiveToken}
	r.Add(http.MethodPost, TokenPath, d.duringHours(d.token))
	return nil
}

// duringHours answers 503 NON_WORKING_HOURS with Retry-After outside the
// working hours, read on the engine's clock.
func (d *Dialect) duringHours(h echo.HandlerFunc) echo.HandlerFunc {
	if d.hours == nil {
		return h
	}
	return func(c echo.Context) error {
		now := d.engine.Now()
		if wait := d.hours.RetryAfter(now); wait > 0 {
			c.Response().Header().Set(echo.HeaderRetryAfter, strconv.FormatInt(wait, 10))
			return &core.Error{Kind: core.KindUnavailable, Reason: core.ReasonClosedHours,
				Description: "outside working hours"}
		}
		return h(c)
	}
}

// The two spellings of each body property (the vendor's page lost the names).
var (
	idNames     = [2]string{"client_id", "clientId"}
	secretNames = [2]string{"client_secret", "clientSecret"}
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (d *Dialect) token(c echo.Context) error {
	obj, err := wire.JSONObject(c)
	if err != nil {
		return err
	}
	id, err := property(obj, idNames)
	if err != nil {
		return err
	}
	wire.NoteClient(c, id, string(core.GrantClientCredentials))
	secret, err := property(obj, secretNames)
	if err != nil {
		return err
	}
	if err := checkGrant(obj); err != nil {
		return err
	}
	res, err := d.engine.Token(c.Request().Context(), d.profile,
		core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: id, ClientSecret: secret})
	if err != nil {
		return err
	}
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, TokenType: res.TokenType, ExpiresIn: res.ExpiresIn})
}

// checkGrant accepts a body without grant_type (the document names none: the
// grant is client credentials) or with grant_type client_credentials, and
// refuses any other grant rather than issue a token for it.
func checkGrant(obj map[string]json.RawMessage) error {
	g, err := wire.JSONString(obj, "grant_type")
	if err != nil || g == "" || core.GrantType(g) == core.GrantClientCredentials {
		return err
	}
	return &core.Error{Kind: core.KindUnsupportedGrantType, Param: "grant_type", Value: g,
		Description: "unsupported grant_type: only client_credentials"}
}

// property reads one required, non-empty string property that may be spelt
// either way; sending both spellings is a duplicate.
func property(obj map[string]json.RawMessage, names [2]string) (string, error) {
	_, has0 := obj[names[0]]
	_, has1 := obj[names[1]]
	key := names[0]
	switch {
	case has0 && has1:
		return "", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate, Param: names[0],
			Description: names[0] + " and " + names[1] + " are the same property; send only one"}
	case has1:
		key = names[1]
	case !has0:
		return "", core.MissingParam(names[0])
	}
	v, err := wire.JSONString(obj, key)
	if err != nil {
		return "", err
	}
	if string(obj[key]) == "null" {
		return "", core.MissingParam(key)
	}
	if v == "" {
		return "", core.InvalidParam(key, "", key+" must not be empty")
	}
	return v, nil
}

// ErrorBody is the vendor's error schema: all five keys are always present.
type ErrorBody struct {
	ErrorID        string          `json:"errorId"`
	Code           string          `json:"code"`
	Text           string          `json:"text"`
	ParameterName  *string         `json:"parameter_name"`
	ParameterValue json.RawMessage `json:"parameter_value"`
}

// class is one row of the error table.
type class struct {
	Status int
	Code   string
	Text   string
	// Detail uses the error's own (client-safe) description as text, when it has one.
	Detail bool
	// Param fills parameter_name / parameter_value.
	Param bool
}

// The error table. Reasons are looked up first, then kinds; input errors
// (invalid_request) are split by what they name, see classify.
var (
	classValidation  = class{http.StatusBadRequest, "VALIDATION_ERROR", "Request validation failed.", true, true}
	classMalformed   = class{http.StatusBadRequest, "MALFORMED_REQUEST", "The request body must be one JSON object.", true, false}
	classMediaType   = class{http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.", false, true}
	classInternal    = class{http.StatusInternalServerError, "INTERNAL_ERROR", "Internal server error.", false, false}
	classUnavailable = class{http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please try again later.", false, false}

	byReason = map[core.Reason]class{
		core.ReasonTooLarge:        {http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "The request body is too large.", false, false},
		core.ReasonTimeout:         {http.StatusRequestTimeout, "REQUEST_TIMEOUT", "The request took too long to arrive.", false, false},
		core.ReasonHeadersTooLarge: {http.StatusRequestHeaderFieldsTooLarge, "HEADERS_TOO_LARGE", "The request header fields are too large.", false, false},
		core.ReasonNotAllowed:      {http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed.", false, false},
		core.ReasonClosedHours:     {http.StatusServiceUnavailable, "NON_WORKING_HOURS", "The server is currently unavailable due to non-working hours. Please try again later.", false, false},
		core.ReasonClientDisabled:  {http.StatusConflict, "CONFLICT", "client is disabled", false, false},
		core.ReasonClientExpired:   {http.StatusConflict, "CONFLICT", "client registration has expired", false, false},
		core.ReasonActiveToken:     {http.StatusConflict, "CONFLICT", "client already holds an active access token", false, false},
	}
	byKind = map[core.Kind]class{
		core.KindInvalidClient:        {http.StatusUnauthorized, "INVALID_CLIENT", "Client authentication failed.", false, false},
		core.KindUnauthorizedClient:   {http.StatusForbidden, "UNAUTHORIZED_CLIENT", "The client may not obtain tokens from this API.", false, false},
		core.KindInvalidGrant:         {http.StatusBadRequest, "INVALID_GRANT", "The grant is invalid.", false, false},
		core.KindUnsupportedGrantType: {http.StatusBadRequest, "UNSUPPORTED_GRANT_TYPE", "Unsupported grant type: only client_credentials.", false, true},
		core.KindInvalidScope:         {http.StatusBadRequest, "INVALID_SCOPE", "Invalid scope.", false, false},
		core.KindInvalidToken:         {http.StatusUnauthorized, "INVALID_TOKEN", "Invalid token.", false, false},
		core.KindExpiredToken:         {http.StatusUnauthorized, "INVALID_TOKEN", "Invalid token.", false, false},
		core.KindAccessDenied:         {http.StatusForbidden, "ACCESS_DENIED", "Access denied.", false, false},
		core.KindNotFound:             {http.StatusNotFound, "NOT_FOUND", "Not found.", false, false},
		core.KindConflict:             {http.StatusConflict, "CONFLICT", "Action could not be completed because of conflict.", false, false},
		core.KindRateLimited:          {http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests. Please try again later.", false, false},
		core.KindUnavailable:          classUnavailable,
		core.KindServerError:          classInternal,
	}
)

// classify picks the table row for e; anything unknown is an internal error.
func classify(e *core.Error) class {
	if c, ok := byReason[e.Reason]; ok {
		return c
	}
	if e.Kind == core.KindInvalidRequest {
		switch {
		case e.Param == echo.HeaderContentType:
			return classMediaType
		case e.Param == "":
			return classMalformed
		}
		return classValidation
	}
	if c, ok := byKind[e.Kind]; ok {
		return c
	}
	return classInternal
}

// maxValueLen bounds the echoed parameter_value.
const maxValueLen = 128

// Describe maps a domain error to its row of the table; parameter_name and
// parameter_value name the offending parameter where the row says so.
func (d *Dialect) Describe(c echo.Context, e *core.Error) wire.Answer {
	cl := classify(e)
	a := wire.Answer{Status: cl.Status, Code: cl.Code, Text: cl.Text}
	if cl.Detail && e.Description != "" {
		a.Text = e.Description
	}
	if cl.Param && e.Param != "" {
		a.Param = e.Param
		// A value exists only for a parameter that was sent and could not be
		// used; a missing or duplicated one has none, and a secret is never echoed.
		// An absent Content-Type header has no value either.
		if (e.Reason == core.ReasonMalformed || e.Kind == core.KindUnsupportedGrantType) && !isSecret(e.Param) &&
			!(cl.Code == classMediaType.Code && e.Value == "") {
			a.Value = sentValue(c, e)
		}
	}
	return a
}

// sentValue is the value of e's parameter as the client sent it: the JSON
// value of the body's member (a number stays a number, an object an object),
// else e.Value as a string. Longer than maxValueLen bytes, a string is cut
// on a character boundary, and another value becomes the string of its
// first bytes.
func sentValue(c echo.Context, e *core.Error) json.RawMessage {
	var raw json.RawMessage
	if e.Param != echo.HeaderContentType {
		if obj, err := wire.JSONObject(c); err == nil {
			raw = obj[e.Param]
		}
	}
	if raw == nil {
		raw, _ = json.Marshal(e.Value)
	}
	if len(raw) <= maxValueLen {
		return raw
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	out, _ := json.Marshal(clip(s, maxValueLen))
	return out
}

// WriteError writes {"errorId", "code", "text", "parameter_name",
// "parameter_value"} with a fresh UUID as errorId, noted for the access log
// and the journal.
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	id := uuid.NewString()
	wire.RequestOf(c).ErrorID = id
	body := ErrorBody{ErrorID: id, Code: a.Code, Text: a.Text, ParameterValue: a.Value}
	if a.Param != "" {
		name := a.Param
		body.ParameterName = &name
	}
	wire.NoStore(c)
	return wire.JSON(c, a.Status, body)
}

// isSecret reports whether a parameter's value must never be echoed.
func isSecret(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "_", ""))
	for _, s := range []string{"secret", "password", "token", "assertion"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
