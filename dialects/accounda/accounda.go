package accounda

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Name is the dialect's type (and default instance name).
const Name = "accounda"

func init() { dialects.Register(Name, func() dialects.Dialect { return &Dialect{} }) }

// Routes, exactly as the vendor documents them (with the trailing slash).
const (
	PathToken       = "/v1/token/"
	PathRefresh     = "/v1/token/refresh/" // inferred: Accounda's token document names the endpoint only
	PathValidate    = "/v1/user/validate/"
	PathInformation = "/v1/user/information/"
)

// DefaultRefreshWindow is how long after its issue an access token may be
// exchanged at the refresh endpoint when refresh_token_ttl is not set. The
// gateway keeps expired tokens at least as long as the longest configured
// refresh_token_ttl (core.Options.SweepRetention), so longer windows are
// honoured too (see docs/dialects/accounda.md).
const DefaultRefreshWindow = core.SweepRetention

// Options are the dialect-specific config keys.
type Options struct {
	// DisableRefresh leaves the inferred refresh endpoint unmounted, so only
	// the documented endpoints answer.
	DisableRefresh bool `yaml:"disable_refresh"`
}

// Dialect implements dialects.Dialect.
type Dialect struct {
	inst    dialects.Instance
	engine  *core.Engine
	profile *core.Profile
	opts    Options
	prefix  string
}

// Owns claims everything under /v1/token and /v1/user, so unknown paths and
// wrong methods there are answered in Accounda's {"error": ...} style.
func (d *Dialect) Owns(path string) bool {
	return dialects.HasPathPrefix(path, "/v1/token") || dialects.HasPathPrefix(path, "/v1/user")
}

// WireFacts: the client id is a form field or the Client-ID header (which
// is no secret), the Auth-Token header is secret, and no grant type is sent.
func (d *Dialect) WireFacts() wire.Facts {
	return wire.Facts{ClientIDParams: []string{"client_id"}, ClientIDHeader: headerClientID,
		SecretHeaders: []string{headerAuthToken}}
}

func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	return inst.Config.DecodeOptions(&d.opts)
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine, d.prefix = deps.Engine, deps.Prefix
	access := time.Duration(d.inst.Config.AccessTokenTTL)
	window := time.Duration(d.inst.Config.RefreshTokenTTL)
	if window <= 0 {
		window = DefaultRefreshWindow
	}
	effectiveAccess := access
	if effectiveAccess <= 0 {
		effectiveAccess = core.DefaultAccessTTL
	}
	// The composition root sizes the sweeper's retention from the config;
	// an engine built otherwise may still delete tokens too early.
	if deps.Engine != nil && deps.Logger != nil && !d.opts.DisableRefresh {
		if limit := effectiveAccess + deps.Engine.SweepRetention(); window > limit {
			deps.Logger.Warn("refresh_token_ttl exceeds access_token_ttl plus the sweeper's retention; "+
				"expired tokens are deleted before their refresh window ends",
				"refresh_token_ttl", window.String(), "limit", limit.String())
		}
	}
	d.profile = &core.Profile{
		Dialect:                d.inst.Name,
		Type:                   d.inst.Type,
		AccessTTL:              access,
		RefreshTTL:             window,
		RefreshWithAccessToken: true,
	}
	r.Add(http.MethodPost, PathToken, d.token)
	if !d.opts.DisableRefresh {
		r.Add(http.MethodPost, PathRefresh, d.refresh)
	}
	r.Add(http.MethodGet, PathValidate, d.user(epValidate))
	r.Add(http.MethodGet, PathInformation, d.user(epInformation))
	return nil
}

// tokenResponse is the documented 200 body: exactly these three keys.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// token is POST /v1/token/: client credentials in a form body.
func (d *Dialect) token(c echo.Context) error {
	f, err := formParams(c, core.GrantClientCredentials, "client_id", "client_secret")
	if err != nil {
		return err
	}
	wire.NoteClient(c, f["client_id"], string(core.GrantClientCredentials))
	res, err := d.engine.Token(c.Request().Context(), d.profile, core.TokenRequest{
		GrantType:    core.GrantClientCredentials,
		ClientID:     f["client_id"],
		ClientSecret: f["client_secret"],
	})
	if err != nil {
		return err
	}
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, TokenType: res.TokenType, ExpiresIn: res.ExpiresIn})
}

// refresh is POST /v1/token/refresh/ (inferred): the client exchanges an
// access token it was issued (expired or not, within the refresh window) for
// a new one. The old token dies; presenting it again revokes the chain.
func (d *Dialect) refresh(c echo.Context) error {
	f, err := formParams(c, core.GrantRefreshToken, "client_id", "client_secret", "access_token")
	if err != nil {
		return err
	}
	wire.NoteClient(c, f["client_id"], string(core.GrantRefreshToken))
	// The engine checks the client (missing, then invalid credentials), then
	// that it may refresh, then the token: an empty access_token comes back
	// as the missing refresh_token, rendered "Missing access token".
	res, err := d.engine.Token(c.Request().Context(), d.profile, core.TokenRequest{
		GrantType:    core.GrantRefreshToken,
		ClientID:     f["client_id"],
		ClientSecret: f["client_secret"],
		RefreshToken: f["access_token"],
	})
	if err != nil {
		return err
	}
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, TokenType: res.TokenType, ExpiresIn: res.ExpiresIn})
}

// formParams decodes a strict form body and reads names once each; any
// other parameter is ignored. The endpoint's grant is implied: a grant_type
// may be left out, or name it, but names no other grant.
func formParams(c echo.Context, grant core.GrantType, names ...string) (map[string]string, error) {
	form, err := wire.Form(c)
	if err != nil {
		return nil, err
	}
	f, err := wire.Singles(form, append(names, "grant_type")...)
	if err != nil {
		return nil, err
	}
	if g := f["grant_type"]; g != "" && core.GrantType(g) != grant {
		return nil, &core.Error{Kind: core.KindUnsupportedGrantType, Param: "grant_type", Value: g,
			Description: "this endpoint issues " + string(grant) + " tokens only"}
	}
	return f, nil
}
