// Package oauth2 is the standard RFC 6749 dialect: token endpoint with all
// three grants, authorization endpoint with a login page, introspection (RFC
// 7662), revocation (RFC 7009) and server metadata (RFC 8414); and, on top,
// OpenID Connect (oidc.go: id_tokens, UserInfo, discovery, JWKS, login
// sessions), the device authorization grant (device.go), token exchange,
// the JWT bearer and password grants, JWT access tokens and JWT client
// authentication. Each instance is its own issuer with its own keys.
package oauth2

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
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
	// DeviceInterval is the device authorization grant's polling interval
	// (default 5s) and DeviceCodeTTL its codes' lifetime (default 10m).
	DeviceInterval config.Duration `yaml:"device_interval"`
	DeviceCodeTTL  config.Duration `yaml:"device_code_ttl"`
	// SessionTTL is how long a login session spares the password (default 8h).
	SessionTTL config.Duration `yaml:"session_ttl"`
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
	keys    map[string]*core.KeyRing // by algorithm: the instance's signing keys
	issuers issuers                  // the issuer by local address (discovery.go)
}

func (d *Dialect) Owns(path string) bool {
	return dialects.HasPathPrefix(path, "/oauth2") || path == "/.well-known/oauth-authorization-server" ||
		path == "/.well-known/openid-configuration"
}

// WireFacts: RFC 6749's, plus the login page's CSRF token.
func (d *Dialect) WireFacts() wire.Facts {
	f := wire.StandardFacts
	f.SecretParams = loginpage.SecretParams
	return f
}

func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	var p config.Problems
	p.Merge(inst.Config.DecodeOptions(&d.opts))
	for key, v := range map[string]config.Duration{"device_interval": d.opts.DeviceInterval,
		"device_code_ttl": d.opts.DeviceCodeTTL, "session_ttl": d.opts.SessionTTL} {
		if v < 0 {
			p.Add(key, "must not be negative")
		}
	}
	if d.opts.DeviceInterval > 0 && d.opts.DeviceInterval%config.Duration(time.Second) != 0 {
		p.Add("device_interval", "must be whole seconds (RFC 8628 interval)")
	}
	return p.Err()
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine, d.prefix, d.log = deps.Engine, deps.Prefix, deps.Logger
	d.profile = &core.Profile{
		Dialect:    d.inst.Name,
		Type:       d.inst.Type,
		AccessTTL:  time.Duration(d.inst.Config.AccessTokenTTL),
		RefreshTTL: time.Duration(d.inst.Config.RefreshTokenTTL),
		RefreshGrants: []core.GrantType{core.GrantAuthorizationCode, core.GrantRefreshToken, core.GrantPassword,
			core.GrantDeviceCode},
		ExtraGrants:    extraGrants,
		DeviceInterval: time.Duration(d.opts.DeviceInterval),
		DeviceCodeTTL:  time.Duration(d.opts.DeviceCodeTTL),
	}
	if err := d.mountKeys(deps); err != nil {
		return err
	}
	d.page = &loginpage.Page{Engine: d.engine, Profile: d.profile, Secrets: deps.Secrets, Action: d.prefix + "/oauth2/authorize",
		Brand:    loginpage.Brand{Product: "tokengate", Heading: "Sign in", Accent: "#3558d4"},
		Sessions: &loginpage.Sessions{Path: d.prefix + "/oauth2", TTL: time.Duration(d.opts.SessionTTL)}, DeviceAction: d.prefix + devicePath}
	r.Add(http.MethodPost, "/oauth2/token", d.token)
	r.Add(http.MethodGet, "/oauth2/authorize", d.page.Show)
	r.Add(http.MethodPost, "/oauth2/authorize", d.page.Submit)
	r.Add(http.MethodPost, "/oauth2/introspect", d.introspect)
	r.Add(http.MethodPost, "/oauth2/revoke", d.revoke)
	d.mountDiscovery(r)
	d.mountOIDC(r)
	d.mountDevice(r)
	return nil
}

// extraGrants are the grants beyond the core three every instance offers;
// each client opts in.
var extraGrants = []core.GrantType{core.GrantPassword, core.GrantDeviceCode, core.GrantTokenExchange, core.GrantJWTBearer}

type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type,omitempty"` // token exchange (RFC 8693 §2.2.1)
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
	IDToken         string `json:"id_token,omitempty"` // OpenID Connect Core §3.1.3.3
}

// multiParams may be sent more than once (RFC 8693 §2.1).
var multiParams = []string{"audience", "resource"}

func (d *Dialect) token(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return err
	}
	for name, vals := range form {
		if len(vals) > 1 && !slices.Contains(multiParams, name) {
			return core.DuplicateParam(name)
		}
	}
	auth, err := wire.ClientCredentials(c, form)
	if err != nil {
		return err
	}
	wire.NoteClient(c, auth.ID, form.Get("grant_type"))
	iss := d.issuer(c)
	req := core.TokenRequest{
		GrantType:           core.GrantType(form.Get("grant_type")),
		ClientID:            auth.ID,
		ClientSecret:        auth.Secret,
		ClientAlt:           auth.Alt,
		ClientAuthMethod:    auth.Method,
		ClientAssertionType: form.Get("client_assertion_type"),
		ClientAssertion:     form.Get("client_assertion"),
		Issuer:              iss,
		TokenEndpoint:       iss + "/oauth2/token",
		Code:                form.Get("code"),
		RedirectURI:         form.Get("redirect_uri"),
		CodeVerifier:        form.Get("code_verifier"),
		RefreshToken:        form.Get("refresh_token"),
		Username:            form.Get("username"),
		Password:            form.Get("password"),
		DeviceCode:          form.Get("device_code"),
		Assertion:           form.Get("assertion"),
		SubjectToken:        form.Get("subject_token"),
		SubjectTokenType:    form.Get("subject_token_type"),
		ActorToken:          form.Get("actor_token"),
		ActorTokenType:      form.Get("actor_token_type"),
		RequestedTokenType:  form.Get("requested_token_type"),
		Audience:            form["audience"],
		Resource:            form["resource"],
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
		ExpiresIn: res.ExpiresIn, RefreshToken: res.RefreshToken, Scope: strings.Join(res.Scopes, " "),
		IDToken: res.IDToken, IssuedTokenType: res.IssuedTokenType})
}

// clientAuth reads a client's authentication from Basic, the form's
// client_id and client_secret, or a client assertion: as the wire gave it
// (for noting the client) and for the engine.
func (d *Dialect) clientAuth(c echo.Context, form url.Values) (wire.ClientAuth, core.ClientAuth, error) {
	auth, err := wire.ClientCredentials(c, form)
	if err != nil {
		return auth, core.ClientAuth{}, err
	}
	f, err := wire.Singles(form, "client_assertion_type", "client_assertion")
	if err != nil {
		return auth, core.ClientAuth{}, err
	}
	iss := d.issuer(c)
	return auth, core.ClientAuth{ID: auth.ID, Secret: auth.Secret, Alt: auth.Alt, Method: auth.Method,
		AssertionType: f["client_assertion_type"], Assertion: f["client_assertion"],
		Audiences: []string{iss, iss + "/oauth2/token", iss + strings.TrimPrefix(c.Request().URL.Path, d.prefix)}}, nil
}

// authenticate reads and checks the calling client for introspect and revoke.
func (d *Dialect) authenticate(c echo.Context) (*core.Client, string, error) {
	form, err := wire.Form(c)
	if err != nil {
		return nil, "", err
	}
	auth, ca, err := d.clientAuth(c, form)
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
	client, alt, err := d.engine.AuthenticateClientAuth(c.Request().Context(), d.profile, ca)
	if err != nil {
		return nil, "", unauthenticated(err)
	}
	auth.Authenticated(c, d.log, client.ID, alt)
	if token == "" {
		return nil, "", core.MissingParam("token")
	}
	return client, token, nil
}

type introspection struct {
	Active    bool          `json:"active"`
	ClientID  string        `json:"client_id,omitempty"`
	Sub       string        `json:"sub,omitempty"`
	Scope     string        `json:"scope,omitempty"`
	TokenType string        `json:"token_type,omitempty"`
	Exp       int64         `json:"exp,omitempty"`
	Iat       int64         `json:"iat,omitempty"`
	Iss       string        `json:"iss,omitempty"`
	Aud       core.Audience `json:"aud,omitempty"`
	Act       *actor        `json:"act,omitempty"`
}

// actor is RFC 8693 §4.1's act claim.
type actor struct {
	Sub string `json:"sub"`
}

func (d *Dialect) introspect(c echo.Context) error {
	client, token, err := d.authenticate(c)
	if err != nil {
		return err
	}
	if client.Public() { // RFC 7662 §2.1: the caller must be authorized
		return &core.Error{Kind: core.KindInvalidClient, Description: "a public client may not introspect tokens"}
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
	in := introspection{Active: true, ClientID: t.ClientID, Sub: t.Subject(), Scope: strings.Join(t.Scopes, " "),
		TokenType: typ, Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix(), Iss: d.issuer(c), Aud: t.Details.Audience}
	if t.Details.Actor != "" {
		in.Act = &actor{Sub: t.Details.Actor}
	}
	return wire.JSON(c, http.StatusOK, in)
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
//
// The extension grants' codes (RFC 8628 §3.5, RFC 8693 §2.2.2) come from the
// reason; UserInfo answers in RFC 6750's style (userinfo.go).
func (d *Dialect) Describe(c echo.Context, e *core.Error) wire.Answer {
	if isUserInfo(c) {
		return describeBearer(e)
	}
	a := wire.Answer{Status: wire.Status(e), Code: string(e.Kind), Text: e.Description}
	if code, ok := reasonCodes[errorCode{e.Kind, e.Reason}]; ok {
		a.Status, a.Code = http.StatusBadRequest, code
		return a
	}
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

// errorCode is a domain error's RFC 6749 code where its reason decides it.
type errorCode struct {
	kind   core.Kind
	reason core.Reason
}

// reasonCodes are the extension grants' codes, each answered with 400:
// the device grant's (RFC 8628 §3.5) and token exchange's (RFC 8693 §2.2.2).
var reasonCodes = map[errorCode]string{
	{core.KindInvalidGrant, core.ReasonPending}:         "authorization_pending",
	{core.KindInvalidGrant, core.ReasonSlowDown}:        "slow_down",
	{core.KindInvalidGrant, core.ReasonExpired}:         "expired_token",
	{core.KindAccessDenied, core.ReasonDenied}:          "access_denied",
	{core.KindInvalidRequest, core.ReasonInvalidTarget}: "invalid_target",
}
