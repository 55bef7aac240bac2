package spec

import (
	"strings"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Values is what a template renders: the engine's result, the user and
// client it concerns, and (for errors) the answer being given. The caller
// fills the fields its operation has; a placeholder whose field is empty
// renders null (or, written "{name?}", leaves its key out).
type Values struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	ExpiresIn    int64 // seconds
	IssuedAt     time.Time
	ExpiresAt    time.Time
	Scopes       []string
	ClientID     string
	UserID       string     // used for {user.id} when User is nil
	User         *core.User // nil: the user's fields render null
	Active       bool       // introspection
	Now          time.Time  // {now}, {timestamp}: the engine's clock, set by the caller
	BaseURL      string     // scheme://host plus the instance prefix, for documents
	Keys         []byte     // JWKS: the JSON array of public keys
	// JWT minting.
	JTI string
	KID string
	// Error answers: the ids are generated on first use when empty, so the
	// caller can log the one the client saw.
	ErrorID       string
	TraceID       string
	CorrelationID string

	answer *Answer
}

// ResultValues fills Values from a token grant's result.
func ResultValues(res *core.TokenResult) Values {
	return Values{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken, TokenType: res.TokenType,
		ExpiresIn: res.ExpiresIn, IssuedAt: res.IssuedAt, ExpiresAt: res.ExpiresAt, Scopes: res.Scopes,
		ClientID: res.ClientID, UserID: res.UserID, Now: res.IssuedAt}
}

// TokenValues fills Values from a stored token (introspection, userinfo).
func TokenValues(t *core.Token, active bool, now time.Time) Values {
	v := Values{IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, Scopes: t.Scopes, ClientID: t.ClientID,
		UserID: t.UserID, Active: active, Now: now, TokenType: "Bearer"}
	if active && t.ExpiresAt.After(now) {
		v.ExpiresIn = int64(t.ExpiresAt.Sub(now) / time.Second)
	}
	return v
}

// claimValues fills Values for a JWT minter.
func claimValues(c core.Claims, kid string) Values {
	return Values{JTI: c.ID, KID: kid, ClientID: c.ClientID, UserID: c.UserID, Scopes: c.Scopes,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Now: c.IssuedAt,
		ExpiresIn: int64(c.ExpiresAt.Sub(c.IssuedAt) / time.Second)}
}

// valueType is how a placeholder renders in JSON.
type valueType uint8

const (
	tString valueType = iota
	tNumber
	tTime
	tScopes
	tBool
	tVar // an error rule's variable, pre-encoded
	tRaw // JSON given by the caller (JWKS keys)
)

// scope is where a placeholder may be used.
type scope uint16

const (
	inToken scope = 1 << iota
	inIntrospect
	inUserinfo
	inRevoke
	inStatic
	inJWKS
	inError
	inRuleText
	inClaims
	inJWTHeader
)

const (
	inAnyRoute = inToken | inIntrospect | inUserinfo | inRevoke | inStatic | inJWKS
	inTokenish = inToken | inIntrospect | inClaims
	inUserish  = inToken | inIntrospect | inUserinfo | inClaims
	inErrors   = inError | inRuleText
)

type phID uint8

const (
	phNone phID = iota
	phAccessToken
	phRefreshToken
	phTokenType
	phExpiresIn
	phExpiresAt
	phIssuedAt
	phScope
	phClientID
	phSubject
	phUserID
	phUsername
	phEmail
	phFirstName
	phLastName
	phUserName
	phActive
	phNow
	phBaseURL
	phKeys
	phJTI
	phKID
	phCode
	phText
	phDescription
	phParam
	phValue
	phStatus
	phErrorID
	phTraceID
	phCorrelationID
	phVar
)

type phDef struct {
	id  phID
	typ valueType
	in  scope
}

// catalogue lists every placeholder by name.
var catalogue = map[string]phDef{
	"access_token":    {phAccessToken, tString, inToken},
	"refresh_token":   {phRefreshToken, tString, inToken},
	"token_type":      {phTokenType, tString, inToken | inIntrospect},
	"expires_in":      {phExpiresIn, tNumber, inTokenish},
	"expires_at":      {phExpiresAt, tTime, inTokenish},
	"issued_at":       {phIssuedAt, tTime, inTokenish},
	"created_at":      {phIssuedAt, tTime, inTokenish},
	"scope":           {phScope, tScopes, inTokenish},
	"client_id":       {phClientID, tString, inTokenish | inUserinfo},
	"subject":         {phSubject, tString, inUserish},
	"user.id":         {phUserID, tString, inUserish},
	"user.username":   {phUsername, tString, inUserish &^ inClaims},
	"user.email":      {phEmail, tString, inUserish &^ inClaims},
	"user.first_name": {phFirstName, tString, inUserish &^ inClaims},
	"user.last_name":  {phLastName, tString, inUserish &^ inClaims},
	"user.name":       {phUserName, tString, inUserish &^ inClaims},
	"active":          {phActive, tBool, inIntrospect},
	"now":             {phNow, tTime, inAnyRoute | inError | inClaims},
	"timestamp":       {phNow, tTime, inAnyRoute | inError | inClaims},
	"base_url":        {phBaseURL, tString, inAnyRoute | inError},
	"keys":            {phKeys, tRaw, inJWKS},
	"jti":             {phJTI, tString, inClaims},
	"kid":             {phKID, tString, inJWTHeader},
	"code":            {phCode, tString, inErrors},
	"text":            {phText, tString, inError},
	"description":     {phDescription, tString, inError},
	"param":           {phParam, tString, inErrors},
	"value":           {phValue, tString, inError},
	"status":          {phStatus, tNumber, inErrors},
	"error_id":        {phErrorID, tString, inError},
	"trace_id":        {phTraceID, tString, inError},
	"correlation_id":  {phCorrelationID, tString, inError},
}

// placeholderNames lists the names usable in scope s, for messages.
func placeholderNames(s scope) []string {
	var out []string
	for name, d := range catalogue {
		if d.in&s != 0 {
			out = append(out, name)
		}
	}
	sortStrings(out)
	return out
}

// str returns a string-typed placeholder's value and whether it has one.
func (v *Values) str(id phID) (string, bool) {
	var s string
	switch id {
	case phAccessToken:
		s = v.AccessToken
	case phRefreshToken:
		s = v.RefreshToken
	case phTokenType:
		s = v.TokenType
	case phClientID:
		s = v.ClientID
	case phSubject:
		s = v.userID()
		if s == "" {
			s = v.ClientID
		}
	case phUserID:
		s = v.userID()
	case phUsername, phEmail, phFirstName, phLastName, phUserName:
		s = v.userField(id)
	case phBaseURL:
		s = v.BaseURL
	case phJTI:
		s = v.JTI
	case phKID:
		s = v.KID
	case phCode:
		s = v.answer.Code
	case phText:
		s = v.answer.Text
	case phDescription:
		s = v.answer.Description
		if s == "" {
			s = v.answer.Text
		}
	case phParam:
		s = v.answer.Param
	case phValue:
		return v.answer.Value, v.answer.HasValue
	case phErrorID:
		s = v.ErrorID
	case phTraceID:
		s = v.TraceID
	case phCorrelationID:
		s = v.CorrelationID
	}
	return s, s != ""
}

func (v *Values) userID() string {
	if v.User != nil {
		return v.User.ID
	}
	return v.UserID
}

func (v *Values) userField(id phID) string {
	u := v.User
	if u == nil {
		return ""
	}
	switch id {
	case phUsername:
		return u.Username
	case phEmail:
		return u.Email
	case phFirstName:
		return u.FirstName
	case phLastName:
		return u.LastName
	}
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

func (v *Values) number(id phID) int64 {
	if id == phStatus {
		return int64(v.answer.Status)
	}
	return v.ExpiresIn
}

func (v *Values) time(id phID) time.Time {
	switch id {
	case phExpiresAt:
		return v.ExpiresAt
	case phIssuedAt:
		return v.IssuedAt
	}
	return v.Now
}
