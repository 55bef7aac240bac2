package loginpage

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// OpenID Connect's authentication request on the login page (OpenID Connect
// Core §3.1.2.1): a login session spares the password; prompt=login (also
// consent and select_account, which this page answers with its one form)
// or an exceeded max_age ask for it again; prompt=none answers
// login_required instead of showing the form; login_hint pre-fills the
// username. nonce and claims travel with the form to the code.

// oidcCarried are the parameters an OpenID Connect form carries.
var oidcCarried = append(slices.Clone(authorizeParams), "nonce", "claims")

// oidcParams are the request parameters read only when the page is shown.
var oidcParams = []string{"prompt", "max_age", "login_hint", "response_mode", "request", "request_uri",
	"id_token_hint", "display", "ui_locales", "acr_values"}

var prompts = []string{"none", "login", "consent", "select_account"}

func (p *Page) showOIDC(c echo.Context, q url.Values, client *core.Client, req core.AuthorizeRequest, vals map[string]string) error {
	o, err := wire.Singles(q, oidcParams...)
	if err != nil {
		return redirectError(c, req, err)
	}
	for _, n := range []string{"request", "request_uri"} {
		if o[n] != "" {
			return redirectError(c, req, core.InvalidParam(n, "", n+" is not supported: send the parameters themselves"))
		}
	}
	if rm := o["response_mode"]; rm != "" && rm != "query" {
		return redirectError(c, req, core.InvalidParam("response_mode", rm, "only response_mode=query is supported"))
	}
	asked := strings.Fields(o["prompt"])
	for _, pr := range asked {
		if !slices.Contains(prompts, pr) {
			return redirectError(c, req, core.InvalidParam("prompt", o["prompt"], "unknown prompt value "+strconv.Quote(pr)))
		}
	}
	none := slices.Contains(asked, "none")
	if none && len(asked) > 1 {
		return redirectError(c, req, core.InvalidParam("prompt", o["prompt"], "prompt=none cannot be combined with other values"))
	}
	maxAge := time.Duration(-1)
	if s := o["max_age"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 0 {
			return redirectError(c, req, core.InvalidParam("max_age", s, "max_age must be a number of seconds"))
		}
		maxAge = time.Duration(n) * time.Second
	}
	user, at := p.currentSession(c)
	// login, consent and select_account all ask for the form again.
	reauth := slices.ContainsFunc(asked, func(s string) bool { return s != "none" })
	fresh := user != nil && !reauth && (maxAge < 0 || p.Engine.Now().Sub(at) < maxAge)
	if fresh {
		req.AuthTime = at
		code, err := p.Engine.IssueCode(c.Request().Context(), p.Profile, client, user, req)
		if err != nil {
			return err
		}
		return redirect(c, req.RedirectURI, url.Values{"code": {code}}, req.State)
	}
	if none {
		return redirectError(c, req, &core.Error{Kind: core.KindAccessDenied, Reason: core.ReasonLoginRequired,
			Description: "the user must log in: there is no usable login session"})
	}
	vals["login_hint"] = o["login_hint"]
	return p.loginForm(c, http.StatusOK, client, req, vals, "")
}
