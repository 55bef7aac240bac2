package hurdlr

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Name is the dialect's type (and default instance name).
const Name = "hurdlr"

// Paths the dialect serves, below its mount prefix.
const (
	basePath      = "/rest/v5/accountant"
	tokenPath     = basePath + "/token"
	authorizePath = basePath + "/authorize"
)

// Lifetimes. The access lifetime is documented (expires_in 7776000, 90
// days); the refresh lifetime is inferred.
const (
	DefaultAccessTTL  = 7776000 * time.Second
	DefaultRefreshTTL = 180 * 24 * time.Hour
)

// realm names the dialect in WWW-Authenticate challenges.
const realm = "Hurdlr"

func init() { dialects.Register(Name, func() dialects.Dialect { return &Dialect{} }) }

// Options are the dialect-specific config keys.
type Options struct {
	// RequireBearer makes the token endpoint refuse requests without an
	// "Authorization: Bearer <anything non-empty>" header, as the vendor doc
	// marks that header required. The value is never checked: the first
	// token request has no token yet (the vendor's own curl sends a
	// placeholder).
	RequireBearer bool `yaml:"require_bearer"`
}

// Dialect implements dialects.Dialect.
type Dialect struct {
	inst    dialects.Instance
	engine  *core.Engine
	profile *core.Profile
	opts    Options
	page    *loginpage.Page
}

// Owns claims everything below /rest/v5/accountant, so unrouted paths and
// wrong methods there are answered in Hurdlr's error style.
func (d *Dialect) Owns(path string) bool { return dialects.HasPathPrefix(path, basePath) }

// WireFacts: the client id and grant are form fields (no Basic), and the
// login page's CSRF token is secret.
func (d *Dialect) WireFacts() wire.Facts {
	return wire.Facts{ClientIDParams: []string{"client_id"}, GrantParams: []string{"grant_type"},
		SecretParams: loginpage.SecretParams}
}

func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	return inst.Config.DecodeOptions(&d.opts)
}

func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine = deps.Engine
	access := time.Duration(d.inst.Config.AccessTokenTTL)
	if access <= 0 {
		access = DefaultAccessTTL
	}
	refresh := time.Duration(d.inst.Config.RefreshTokenTTL)
	if refresh <= 0 {
		refresh = DefaultRefreshTTL
	}
	minter := core.HexDotMinter{Rand: deps.Engine.Rand()}
	d.profile = &core.Profile{
		Dialect:       d.inst.Name,
		Type:          d.inst.Type,
		AccessTTL:     access,
		RefreshTTL:    refresh,
		RefreshGrants: []core.GrantType{core.GrantClientCredentials, core.GrantAuthorizationCode, core.GrantRefreshToken},
		AccessMinter:  minter,
		RefreshMinter: minter,
		DefaultScopes: []string{"token"},
		FixedScopes:   true, // the document's constant scope "token"; a requested scope is ignored
	}
	d.page = &loginpage.Page{Engine: d.engine, Profile: d.profile, Secrets: deps.Secrets,
		Action: deps.Prefix + authorizePath,
		Brand:  loginpage.Brand{Product: "Hurdlr", Heading: "Accountant sign in", Accent: "#00a86b"}}
	r.Add(http.MethodPost, tokenPath, d.token)
	r.Add(http.MethodGet, authorizePath, d.page.Show)
	r.Add(http.MethodPost, authorizePath, d.page.Submit)
	return nil
}

// tokenResponse is the documented success body, keys in the vendor's order.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	CreatedAt    int64  `json:"created_at"`
	Scope        string `json:"scope"`
}

// tokenParams are the form fields the token endpoint reads; anything else is
// ignored. An empty value means the field is absent: the vendor's curl sends
// every field, most of them empty.
var tokenParams = []string{"client_id", "client_secret", "grant_type", "refresh_token", "code", "userId",
	"redirect_uri", "code_verifier"}

func (d *Dialect) token(c echo.Context) error {
	if d.opts.RequireBearer {
		if err := requireBearer(c); err != nil {
			return err
		}
	}
	form, err := wire.Form(c)
	if err != nil {
		return err
	}
	if name := firstDuplicate(form); name != "" {
		return core.DuplicateParam(name)
	}
	f := make(map[string]string, len(tokenParams))
	for _, n := range tokenParams {
		f[n] = form.Get(n)
	}
	wire.NoteClient(c, f["client_id"], f["grant_type"])
	grant := core.GrantType(f["grant_type"])
	if grant == core.GrantClientCredentials && f["userId"] == "" {
		return core.MissingParam("userId")
	}
	req := core.TokenRequest{
		GrantType:    grant,
		ClientID:     f["client_id"],
		ClientSecret: f["client_secret"],
		Code:         f["code"],
		RedirectURI:  f["redirect_uri"],
		CodeVerifier: f["code_verifier"],
		RefreshToken: f["refresh_token"],
	}
	if grant == core.GrantClientCredentials {
		req.UserID = f["userId"]
	}
	res, err := d.engine.Token(c.Request().Context(), d.profile, req)
	if err != nil {
		return err
	}
	return wire.TokenJSON(c, tokenResponse{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken,
		ExpiresIn: res.ExpiresIn, CreatedAt: res.IssuedAt.Unix(), Scope: strings.Join(d.profile.DefaultScopes, " ")})
}

// firstDuplicate names the first parameter (in sorted order, so the answer
// is deterministic) sent more than once, or "".
func firstDuplicate(form map[string][]string) string {
	var dups []string
	for name, vals := range form {
		if len(vals) > 1 {
			dups = append(dups, name)
		}
	}
	if len(dups) == 0 {
		return ""
	}
	sort.Strings(dups)
	return dups[0]
}

// requireBearer checks that one Authorization header with a non-empty Bearer
// value was sent. The value itself is not checked (see Options.RequireBearer).
func requireBearer(c echo.Context) error {
	h := c.Request().Header.Values(echo.HeaderAuthorization)
	switch len(h) {
	case 0:
		return &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMissing, Param: echo.HeaderAuthorization,
			Description: "missing Authorization: Bearer header"}
	case 1:
	default:
		return core.DuplicateParam(echo.HeaderAuthorization)
	}
	scheme, rest, found := strings.Cut(strings.TrimSpace(h[0]), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
		return &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMalformed, Param: echo.HeaderAuthorization,
			Description: "the Authorization header must be Bearer <token>"}
	}
	return nil
}
