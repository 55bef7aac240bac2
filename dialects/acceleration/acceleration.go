package acceleration

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Name is the dialect's type (and default instance name).
const Name = "acceleration"

// Defaults for the dialect's options and lifetime.
const (
	// DefaultAccessTTL is the vendor's documented expires_in (7200).
	DefaultAccessTTL   = 2 * time.Hour
	DefaultIssuer      = "https://tokengate.local/oauth2/default"
	DefaultAudience    = "api://tenant"
	DefaultReloadEvery = 10 * time.Second
)

// DefaultScopes is the scp claim of the vendor's sample token.
var DefaultScopes = []string{"openid"}

// Paths the dialect serves, relative to its prefix.
const (
	PathBase     = "/api/v1/auth/oauth2"
	PathToken    = PathBase + "/token"
	PathKeys     = PathBase + "/keys"
	PathUserinfo = PathBase + "/userinfo"
	PathJWKS     = "/.well-known/jwks.json"
)

func init() { dialects.Register(Name, func() dialects.Dialect { return &Dialect{} }) }

// Options are the dialect-specific config keys.
type Options struct {
	// Issuer is the iss claim.
	Issuer string `yaml:"issuer"`
	// Audience is the aud claim.
	Audience string `yaml:"audience"`
	// Scopes is the scp claim.
	Scopes []string `yaml:"scopes"`
	// PrivateKeyFile names a PEM RSA private key (PKCS#8 or PKCS#1, at least
	// 2048 bits) to sign with instead of the keys kept in the store.
	PrivateKeyFile string `yaml:"private_key_file"`
	// KeyReloadInterval is how often (by the engine clock) a running
	// gateway re-reads the keys from the store, to pick up a rotation.
	KeyReloadInterval config.Duration `yaml:"key_reload_interval"`
}

// Dialect implements dialects.Dialect.
type Dialect struct {
	inst    dialects.Instance
	log     *slog.Logger
	engine  *core.Engine
	profile *core.Profile
	opts    Options
	static  *rsa.PrivateKey // from private_key_file, read at Configure
	keys    *core.KeyRing
}

// Owns claims the vendor's auth prefix and the JWKS path.
func (d *Dialect) Owns(path string) bool {
	return dialects.HasPathPrefix(path, PathBase) || path == PathJWKS
}

// Configure decodes the options and reads private_key_file.
func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	var p config.Problems
	p.Merge(inst.Config.DecodeOptions(&d.opts))
	if d.opts.Issuer == "" {
		d.opts.Issuer = DefaultIssuer
	}
	if d.opts.Audience == "" {
		d.opts.Audience = DefaultAudience
	}
	if d.opts.Scopes == nil {
		d.opts.Scopes = DefaultScopes
	}
	if d.opts.PrivateKeyFile != "" {
		priv, err := readPrivateKeyFile(d.opts.PrivateKeyFile)
		if err != nil {
			p.Add("private_key_file", "%v", err)
		}
		d.static = priv
	}
	return p.Err()
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	reload := time.Duration(d.opts.KeyReloadInterval)
	if reload <= 0 {
		reload = DefaultReloadEvery
	}
	d.engine, d.log = deps.Engine, deps.Logger
	keys, err := d.newKeyRing(core.KeyRingOptions{Reload: reload, Logger: deps.Logger})
	if err != nil {
		return err
	}
	d.keys = keys
	ttl := time.Duration(d.inst.Config.AccessTokenTTL)
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	d.profile = &core.Profile{
		Dialect:       d.inst.Name,
		Type:          d.inst.Type,
		AccessTTL:     ttl,
		AccessMinter:  &Minter{keys: d.keys, users: d.engine, issuer: d.opts.Issuer, audience: d.opts.Audience, wall: core.SystemClock{}},
		DefaultScopes: d.opts.Scopes,
	}
	r.Add(http.MethodPost, PathToken, d.token)
	r.Add(http.MethodGet, PathUserinfo, d.userinfo)
	r.Add(http.MethodGet, PathKeys, d.jwks)
	r.Add(http.MethodGet, PathJWKS, d.jwks)
	return nil
}

// Start reads the stored keys, so a broken store or key fails the start;
// the first key is generated when first needed (see docs).
func (d *Dialect) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.keys.Load(ctx); err != nil {
		return fmt.Errorf("loading the signing keys: %w", err)
	}
	return nil
}

// tokenParams are the parameters of the token endpoint (vendor document: Data Model).
var tokenParams = []string{"grant_type", "user_id", "client_id", "client_secret"}

// tokenResponse is the vendor's Success Response, exactly these keys.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// params merges the query and an optional form body. A parameter sent twice
// in one place, or in both with different values, is invalid. The vendor
// document's Data Model lists client_id and client_secret beside the query
// fields grant_type and user_id, so the secret is accepted in the query too
// (RFC 6749 §2.3.1 would refuse it; the access log never shows a query and
// the journal redacts the secret).
func params(c echo.Context) (map[string]string, error) {
	q, err := wire.Query(c)
	if err != nil {
		return nil, err
	}
	body, err := wire.ReadBody(c)
	if err != nil {
		return nil, err
	}
	f := url.Values{}
	if len(body) > 0 {
		if mt := wire.MediaType(c); mt != echo.MIMEApplicationForm {
			return nil, wire.WrongContentType(echo.MIMEApplicationForm, mt)
		}
		if f, err = wire.ParseParamsLimit(string(body), wire.MaxParams(c)); err != nil {
			return nil, err
		}
	}
	out := make(map[string]string, len(tokenParams))
	for _, name := range tokenParams {
		qv, err := wire.Single(q, name)
		if err != nil {
			return nil, err
		}
		fv, err := wire.Single(f, name)
		if err != nil {
			return nil, err
		}
		_, inQ := q[name]
		_, inF := f[name]
		if inQ && inF && qv != fv {
			return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate, Param: name,
				Description: "parameter sent in the query and the body with different values: " + name}
		}
		if fv != "" {
			qv = fv
		}
		out[name] = qv
	}
	return out, nil
}

func (d *Dialect) token(c echo.Context) error {
	p, err := params(c)
	if err != nil {
		return err
	}
	auth, basic, err := wire.Basic(c)
	if err != nil {
		return err
	}
	if basic {
		if p["client_secret"] != "" || (p["client_id"] != "" && !auth.HasID(p["client_id"])) {
			return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate,
				Description: "use one client authentication method, not several"}
		}
	} else {
		auth = wire.ClientAuth{ID: p["client_id"], Secret: p["client_secret"], Method: wire.MethodPost}
	}
	wire.NoteClient(c, auth.ID, p["grant_type"])
	gt := core.GrantType(p["grant_type"])
	switch gt {
	case "":
		return core.MissingParam("grant_type")
	case core.GrantClientCredentials:
	default:
		return &core.Error{Kind: core.KindUnsupportedGrantType, Param: "grant_type", Value: p["grant_type"],
			Description: "unsupported grant_type: must be client_credentials"}
	}
	ctx := c.Request().Context()
	if p["user_id"] == "" {
		// Bad credentials take precedence over the missing user.
		if _, _, err := d.engine.AuthenticateClientAny(ctx, d.profile, auth.Readings()...); err != nil {
			return err
		}
		return core.MissingParam("user_id")
	}
	res, err := d.engine.Token(ctx, d.profile, core.TokenRequest{GrantType: gt, ClientID: auth.ID, ClientSecret: auth.Secret,
		ClientAlt: auth.Alt, UserID: p["user_id"]})
	if err != nil {
		return err
	}
	auth.Authenticated(c, d.log, res.ClientID, res.ClientAlt)
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, TokenType: "bearer", ExpiresIn: res.ExpiresIn})
}

// envelope is the vendor's response wrapper (vendor document: Fail Response).
type envelope struct {
	Code         int     `json:"code"`
	ErrorMessage *string `json:"errorMessage"`
	Error        any     `json:"error"`
	Data         any     `json:"data"`
}

// userInfo is the data of a userinfo answer (inferred).
type userInfo struct {
	UserID    string   `json:"user_id"`
	Username  string   `json:"username"`
	Email     string   `json:"email"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	ClientID  string   `json:"client_id"`
	Scp       []string `json:"scp"`
	Iat       int64    `json:"iat"`
	Exp       int64    `json:"exp"`
}

func (d *Dialect) userinfo(c echo.Context) error {
	token, err := bearer(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := d.verify(ctx, token); err != nil {
		return err
	}
	t, err := d.engine.Validate(ctx, d.profile, token)
	if err != nil {
		return err
	}
	if t.UserID == "" {
		return errBadToken
	}
	wire.NoteClient(c, t.ClientID, "")
	u, err := d.engine.User(ctx, t.UserID)
	if errors.Is(err, core.ErrNotFound) {
		return &core.Error{Kind: core.KindInvalidToken, Description: "the token's user no longer exists"}
	}
	if err != nil {
		return core.AsError(err)
	}
	scp := t.Scopes
	if scp == nil {
		scp = []string{}
	}
	wire.NoStore(c)
	return wire.JSON(c, http.StatusOK, envelope{Code: http.StatusOK, Data: userInfo{UserID: u.ID, Username: u.Username,
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ClientID: t.ClientID, Scp: scp,
		Iat: t.IssuedAt.Unix(), Exp: t.ExpiresAt.Unix()}})
}

// bearer reads the one Authorization: Bearer header.
func bearer(c echo.Context) (string, error) {
	h := c.Request().Header.Values(echo.HeaderAuthorization)
	if len(h) > 1 {
		return "", &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonDuplicate, Description: "invalid access token"}
	}
	if tok := wire.BearerToken(c); tok != "" {
		return tok, nil
	}
	return "", &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMissing, Description: "missing access token"}
}

type jwkSet struct {
	Keys []core.JWK `json:"keys"`
}

// jwks publishes the active key and every retired key whose tokens may
// still be live, by the engine clock.
func (d *Dialect) jwks(c echo.Context) error {
	keys, err := d.keys.JWKS(c.Request().Context())
	if err != nil {
		return core.AsError(err)
	}
	return wire.JSON(c, http.StatusOK, jwkSet{Keys: keys})
}

// failure is one row of the error table: status and errorMessage.
type failure struct {
	status  int
	message string
	// own: the error's own (client-safe) description is the message when
	// it has one; message is the fallback.
	own bool
}

const authFailed = "authentication failed"

// kindTable maps error kinds to the envelope's code and message.
var kindTable = map[core.Kind]failure{
	core.KindInvalidRequest:       {http.StatusBadRequest, "invalid request", true},
	core.KindInvalidClient:        {http.StatusBadRequest, authFailed, false},
	core.KindInvalidGrant:         {http.StatusBadRequest, "invalid grant", false},
	core.KindUnauthorizedClient:   {http.StatusBadRequest, "the client may not use this grant type or API", false},
	core.KindUnsupportedGrantType: {http.StatusBadRequest, "unsupported grant_type: must be client_credentials", false},
	core.KindInvalidScope:         {http.StatusBadRequest, "invalid scope", false},
	core.KindInvalidToken:         {http.StatusUnauthorized, "invalid access token", false},
	core.KindExpiredToken:         {http.StatusUnauthorized, "access token expired", false},
	core.KindAccessDenied:         {http.StatusForbidden, "access denied", false},
	core.KindNotFound:             {http.StatusNotFound, "not found", false},
	core.KindConflict:             {http.StatusConflict, "conflict", false},
	core.KindRateLimited:          {http.StatusTooManyRequests, "too many requests", true},
	core.KindUnavailable:          {http.StatusServiceUnavailable, "service temporarily unavailable", false},
	core.KindServerError:          {http.StatusInternalServerError, "internal server error", false},
}

// reasonTable refines kindTable where a reason decides the answer, for any
// kind.
var reasonTable = map[core.Reason]failure{
	core.ReasonTooLarge:        {http.StatusRequestEntityTooLarge, "request body too large", false},
	core.ReasonTimeout:         {http.StatusRequestTimeout, "request timeout", false},
	core.ReasonHeadersTooLarge: {http.StatusRequestHeaderFieldsTooLarge, "request header fields too large", false},
	core.ReasonNotAllowed:      {http.StatusMethodNotAllowed, "method not allowed", false},
	core.ReasonUnknownUser:     {http.StatusBadRequest, "unknown user_id", false},
}

// caseKey names one kind + reason (+ parameter) combination.
type caseKey struct {
	kind   core.Kind
	reason core.Reason
	param  string
}

// caseTable refines kindTable for particular combinations. A missing client
// credential is the vendor's one documented error: "authentication failed".
var caseTable = map[caseKey]failure{
	{core.KindInvalidRequest, core.ReasonMissing, "client_id"}:     {http.StatusBadRequest, authFailed, false},
	{core.KindInvalidRequest, core.ReasonMissing, "client_secret"}: {http.StatusBadRequest, authFailed, false},
	{core.KindInvalidToken, core.ReasonMissing, ""}:                {http.StatusUnauthorized, "missing access token", false},
}

// classify picks the status and message for e.
func classify(e *core.Error) failure {
	f, ok := caseTable[caseKey{e.Kind, e.Reason, e.Param}]
	if !ok {
		f, ok = reasonTable[e.Reason]
	}
	if !ok {
		f, ok = kindTable[e.Kind]
	}
	if !ok {
		f = kindTable[core.KindServerError]
	}
	if f.own && e.Description != "" {
		f.message = e.Description
	}
	return f
}

// Describe maps a domain error to the envelope's code and message.
func (d *Dialect) Describe(_ echo.Context, e *core.Error) wire.Answer {
	f := classify(e)
	return wire.Answer{Status: f.status, Text: f.message}
}

// WriteError writes {"code": <status>, "errorMessage": ..., "error": null,
// "data": null}; "error" carries the answer's code, where it has one (a
// fault rule's). 401s also carry WWW-Authenticate: Bearer (RFC 6750).
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	if a.Status == http.StatusUnauthorized {
		v := `Bearer realm="` + Name + `"`
		if a.Err == nil || a.Err.Reason != core.ReasonMissing {
			v += `, error="invalid_token"`
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, v)
	}
	wire.NoStore(c)
	body := envelope{Code: a.Status, ErrorMessage: &a.Text}
	if a.Code != "" {
		body.Error = a.Code
	}
	return wire.JSON(c, a.Status, body)
}
