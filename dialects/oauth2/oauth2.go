// Package oauth2 is the standard RFC 6749 dialect: token endpoint with all
// three grants, authorization endpoint with a login page, introspection (RFC
// 7662), revocation (RFC 7009) and server metadata (RFC 8414).
package oauth2

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Name is the dialect's type (and default instance name).
const Name = "oauth2"

func init() { dialects.Register(Name, func() dialects.Dialect { return &Dialect{} }) }

// Options are the dialect-specific config keys.
type Options struct {
	// Issuer is the public URL clients reach the instance at, its prefix
	// included (https://auth.example.com/std): the metadata's issuer and the
	// base of its endpoints. Empty: the scheme and local address the request
	// arrived on, then the prefix; never the Host header.
	Issuer string `yaml:"issuer"`
}

// Dialect implements dialects.Dialect.
type Dialect struct {
	inst    dialects.Instance
	log     *slog.Logger
	engine  *core.Engine
	profile *core.Profile
	opts    Options
	prefix  string
	page    *loginpage.Page
}

func (d *Dialect) Owns(path string) bool {
	return dialects.HasPathPrefix(path, "/oauth2") || path == "/.well-known/oauth-authorization-server"
}

// WireFacts: RFC 6749's, plus the login page's CSRF token.
func (d *Dialect) WireFacts() wire.Facts {
	f := wire.StandardFacts
	f.SecretParams = loginpage.SecretParams
	return f
}

func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	return inst.Config.DecodeOptions(&d.opts)
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine, d.prefix, d.log = deps.Engine, deps.Prefix, deps.Logger
	d.profile = &core.Profile{
		Dialect:       d.inst.Name,
		Type:          d.inst.Type,
		AccessTTL:     time.Duration(d.inst.Config.AccessTokenTTL),
		RefreshTTL:    time.Duration(d.inst.Config.RefreshTokenTTL),
		RefreshGrants: []core.GrantType{core.GrantAuthorizationCode, core.GrantRefreshToken},
	}
	d.page = &loginpage.Page{Engine: d.engine, Profile: d.profile, Secrets: deps.Secrets, Action: d.prefix + "/oauth2/authorize",
		Brand: loginpage.Brand{Product: "tokengate", Heading: "Sign in", Accent: "#3558d4"}}
	r.Add(http.MethodPost, "/oauth2/token", d.token)
	r.Add(http.MethodGet, "/oauth2/authorize", d.page.Show)
	r.Add(http.MethodPost, "/oauth2/authorize", d.page.Submit)
	r.Add(http.MethodPost, "/oauth2/introspect", d.introspect)
	r.Add(http.MethodPost, "/oauth2/revoke", d.revoke)
	d.mountDiscovery(r)
	return nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

func (d *Dialect) token(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return err
	}
	for name, vals := range form {
		if len(vals) > 1 {
			return core.DuplicateParam(name)
		}
	}
	auth, err := wire.ClientCredentials(c, form)
	if err != nil {
		return err
	}
	wire.NoteClient(c, auth.ID, form.Get("grant_type"))
	req := core.TokenRequest{
		GrantType:    core.GrantType(form.Get("grant_type")),
		ClientID:     auth.ID,
		ClientSecret: auth.Secret,
		ClientAlt:    auth.Alt,
		Code:         form.Get("code"),
		RedirectURI:  form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"),
		RefreshToken: form.Get("refresh_token"),
	}
	if s := strings.Fields(form.Get("scope")); len(s) > 0 {
		req.Scopes = s
	}
	res, err := d.engine.Token(c.Request().Context(), d.profile, req)
	if err != nil {
		return unauthenticated(err)
	}
	auth.Authenticated(c, d.log, res.ClientID, res.ClientAlt)
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, TokenType: res.TokenType,
		ExpiresIn: res.ExpiresIn, RefreshToken: res.RefreshToken, Scope: strings.Join(res.Scopes, " ")})
}

// authenticate reads and checks the calling client for introspect and revoke.
func (d *Dialect) authenticate(c echo.Context) (*core.Client, string, error) {
	form, err := wire.Form(c)
	if err != nil {
		return nil, "", err
	}
	auth, err := wire.ClientCredentials(c, form)
	if err != nil {
		return nil, "", err
	}
	wire.NoteClient(c, auth.ID, "")
	token, err := wire.Single(form, "token")
	if err != nil {
		return nil, "", err
	}
	if _, err := wire.Single(form, "token_type_hint"); err != nil {
		return nil, "", err
	}
	client, reading, err := d.engine.AuthenticateClientAny(c.Request().Context(), d.profile, auth.Readings()...)
	if err != nil {
		return nil, "", unauthenticated(err)
	}
	auth.Authenticated(c, d.log, client.ID, reading > 0)
	if token == "" {
		return nil, "", core.MissingParam("token")
	}
	return client, token, nil
}

type introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Scope     string `json:"scope,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
}

func (d *Dialect) introspect(c echo.Context) error {
	_, token, err := d.authenticate(c)
	if err != nil {
		return err
	}
	t, active, err := d.engine.Introspect(c.Request().Context(), d.profile, token)
	if err != nil {
		return err
	}
	wire.NoStore(c)
	if !active {
		return wire.JSON(c, http.StatusOK, introspection{Active: false})
	}
	typ := "Bearer"
	if t.Kind == core.TokenRefresh {
		typ = "refresh_token"
	}
	sub := t.UserID
	if sub == "" {
		sub = t.ClientID
	}
	return wire.JSON(c, http.StatusOK, introspection{Active: true, ClientID: t.ClientID, Sub: sub,
		Scope: strings.Join(t.Scopes, " "), TokenType: typ, Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix()})
}

func (d *Dialect) revoke(c echo.Context) error {
	client, token, err := d.authenticate(c)
	if err != nil {
		return err
	}
	if err := d.engine.Revoke(c.Request().Context(), d.profile, client, token); err != nil {
		return err
	}
	wire.NoStore(c)
	return c.NoContent(http.StatusOK)
}

// unauthenticated makes a missing client id or secret the invalid_client
// it is (RFC 6749 §5.2), rather than the engine's invalid_request.
func unauthenticated(err error) error {
	if e, ok := errors.AsType[*core.Error](err); ok && e.Kind == core.KindInvalidRequest && e.Reason == core.ReasonMissing &&
		(e.Param == "client_id" || e.Param == "client_secret") {
		return &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonMissing, Param: e.Param,
			Description: "client authentication required: send HTTP Basic credentials, or client_id and client_secret in the body"}
	}
	return err
}

// Describe maps a domain error to RFC 6749 §5.2's codes. The Basic
// challenge of an invalid_client, with error="invalid_client", answers only
// a client that used Basic (RFC 6749 §5.2): client libraries read a
// challenge as an authentication-scheme problem rather than the body's error.
func (d *Dialect) Describe(c echo.Context, e *core.Error) wire.Answer {
	a := wire.Answer{Status: wire.Status(e), Code: string(e.Kind), Text: e.Description}
	switch e.Kind {
	case core.KindInvalidClient:
		if usedBasic(c) {
			a.Header = http.Header{echo.HeaderWWWAuthenticate: {`Basic realm="tokengate", error="invalid_client"`}}
		}
	case core.KindExpiredToken:
		a.Code = string(core.KindInvalidToken)
	case core.KindUnavailable:
		a.Code = "temporarily_unavailable"
	case core.KindNotFound:
		a.Code = "not_found"
	case core.KindRateLimited:
		a.Code = "slow_down"
	}
	if e.Reason == core.ReasonNotAllowed {
		a.Code = "method_not_allowed"
	}
	return a
}

// usedBasic reports whether the request carried Authorization: Basic.
func usedBasic(c echo.Context) bool {
	scheme, _, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	return strings.EqualFold(scheme, "Basic")
}

// WriteError writes RFC 6749 §5.2's {"error", "error_description"}.
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	body := map[string]string{"error": a.Code}
	if a.Text != "" {
		body["error_description"] = a.Text
	}
	wire.NoStore(c)
	return wire.JSON(c, a.Status, body)
}
