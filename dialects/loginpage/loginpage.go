// Package loginpage is the authorization-code login and consent page the
// oauth2 and Hurdlr dialects share: the engine's authorize checks, a
// single-use CSRF token bound to a cookie and to the authorize request it
// was issued for, the security headers, and the redirect back with code and
// state. Its answers to a person, a rate limit included, are HTML pages in
// its style. Dialects differ only in look (Brand) and paths.
package loginpage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Brand is a dialect's look.
type Brand struct {
	Product string // "Hurdlr", "tokengate"
	Heading string // "Accountant sign in"
	Accent  string // CSS colour
}

// Page serves GET (show) and POST (submit) of one authorize path.
type Page struct {
	Engine  *core.Engine
	Profile *core.Profile
	Secrets *dialects.Secrets
	Brand   Brand
	Action  string // the full path the form posts to
}

const (
	csrfCookie = "tg_csrf"
	csrfField  = "csrf_token"
)

// SecretParams are the page's form fields whose values the journal must
// not show (besides the standard password); dialects using the page declare
// them in their wire.Facts.
var SecretParams = []string{csrfField}

// authorizeParams are carried from the query into the form as hidden fields.
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "state", "scope",
	"code_challenge", "code_challenge_method"}

// Show answers GET: the login page, an error page, or a redirect with an
// error once the redirect_uri is known to be registered.
func (p *Page) Show(c echo.Context) error {
	q, err := wire.Query(c)
	if err != nil {
		return p.errorPage(c, err)
	}
	req, vals, client, err := p.authorizeClient(c, q)
	if err != nil {
		return p.errorPage(c, err)
	}
	if err := p.Engine.CheckAuthorizeParams(client, req); err != nil {
		return redirectError(c, req, err)
	}
	return p.loginForm(c, http.StatusOK, client, req, vals, "")
}

// Submit answers the form POST: CSRF check, login, then a redirect with a
// fresh code (or back to the form on a wrong password).
func (p *Page) Submit(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return p.errorPage(c, err)
	}
	req, vals, client, err := p.authorizeClient(c, form)
	if err != nil {
		return p.errorPage(c, err)
	}
	if ok, err := p.csrfOK(c, form, vals); err != nil {
		return err
	} else if !ok {
		return p.errorPage(c, &core.Error{Kind: core.KindAccessDenied, Param: csrfField,
			Description: "the form has expired, was sent already or was not sent from this page; start again"})
	}
	if err := p.Engine.CheckAuthorizeParams(client, req); err != nil {
		return redirectError(c, req, err)
	}
	f, err := wire.Singles(form, "username", "password", "decision")
	if err != nil {
		return p.errorPage(c, err)
	}
	if f["decision"] == "deny" {
		return redirectError(c, req, &core.Error{Kind: core.KindAccessDenied, Description: "the user denied access"})
	}
	user, err := p.Engine.Login(c.Request().Context(), f["username"], f["password"])
	if err != nil {
		switch ce := core.AsError(err); ce.Kind {
		case core.KindAccessDenied:
			return p.loginForm(c, http.StatusOK, client, req, vals, "Wrong username or password.")
		case core.KindRateLimited:
			// The page's own style, not the dialect's JSON: a person reads it.
			wire.NoteError(c, ce)
			secs := int64((ce.RetryAfter + time.Second - 1) / time.Second)
			c.Response().Header().Set(echo.HeaderRetryAfter, strconv.FormatInt(secs, 10))
			return p.loginForm(c, http.StatusTooManyRequests, client, req, vals,
				fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", secs))
		}
		return err
	}
	code, err := p.Engine.IssueCode(c.Request().Context(), p.Profile, client, user, req)
	if err != nil {
		return err
	}
	return redirect(c, req.RedirectURI, url.Values{"code": {code}}, req.State)
}

// authorizeClient decodes the authorize parameters and checks the client
// and its redirect_uri: the part whose failures go to an error page.
func (p *Page) authorizeClient(c echo.Context, v url.Values) (core.AuthorizeRequest, map[string]string, *core.Client, error) {
	req, vals, err := decodeAuthorize(v)
	if err != nil {
		return req, nil, nil, err
	}
	client, err := p.Engine.CheckAuthorizeClient(c.Request().Context(), p.Profile, &req)
	if err != nil {
		return req, nil, nil, err
	}
	wire.NoteClient(c, client.ID, "authorization_code")
	return req, vals, client, nil
}

func decodeAuthorize(v url.Values) (core.AuthorizeRequest, map[string]string, error) {
	vals, err := wire.Singles(v, authorizeParams...)
	if err != nil {
		return core.AuthorizeRequest{}, nil, err
	}
	req := core.AuthorizeRequest{ClientID: vals["client_id"], RedirectURI: vals["redirect_uri"],
		ResponseType: vals["response_type"], State: vals["state"], CodeChallenge: vals["code_challenge"],
		CodeChallengeMethod: vals["code_challenge_method"]}
	if s := strings.Fields(vals["scope"]); len(s) > 0 {
		req.Scopes = s
	}
	return req, vals, nil
}

// csrfOK checks the form's CSRF token: issued with the browser's cookie
// for this very authorize request, and not sent before (a token passes
// once: a replayed or second submission gets the error page).
func (p *Page) csrfOK(c echo.Context, form url.Values, vals map[string]string) (bool, error) {
	ck, err := c.Cookie(csrfCookie)
	if err != nil || ck.Value == "" {
		return false, nil
	}
	sent, err := wire.Single(form, csrfField)
	if err != nil || sent == "" {
		return false, nil
	}
	ok, err := p.Secrets.CheckCSRF(c.Request().Context(), sent, ck.Value, boundTo(vals))
	if err != nil {
		return false, core.AsError(err)
	}
	return ok, nil
}

// boundTo digests the authorize parameters a CSRF token is issued for.
func boundTo(vals map[string]string) string {
	h := sha256.New()
	for _, n := range authorizeParams {
		v := vals[n]
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(v))))
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil))
}

type hidden struct{ Name, Value string }

type view struct {
	Brand    Brand
	Action   string
	ClientID string
	Scopes   string
	Error    string
	CSRF     string
	Hidden   []hidden
	Status   int
	// RedirectOrigin is the verified redirect_uri's origin, allowed as a
	// form-action: Chrome and Safari apply form-action to the redirect a
	// form submission answers with, so 'self' alone blocks the way back.
	RedirectOrigin string
}

// loginForm shows the form; req's redirect_uri is the verified one (also
// when the request left it out), vals the parameters as sent.
func (p *Page) loginForm(c echo.Context, status int, client *core.Client, req core.AuthorizeRequest, vals map[string]string, msg string) error {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return core.Internal(err)
	}
	cookie := base64.RawURLEncoding.EncodeToString(nonce)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: cookie, Path: p.Action, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.IsTLS()})
	v := view{Brand: p.Brand, Action: p.Action, ClientID: client.ID, Scopes: strings.Join(req.Scopes, " "), Error: msg,
		CSRF: p.Secrets.CSRFToken(cookie, boundTo(vals)), RedirectOrigin: cspOrigin(req.RedirectURI)}
	for _, n := range authorizeParams {
		if vals[n] != "" {
			v.Hidden = append(v.Hidden, hidden{n, vals[n]})
		}
	}
	return render(c, status, "login", v)
}

// errorPage shows an error without redirecting anywhere: the redirect_uri
// may not be trusted yet.
func (p *Page) errorPage(c echo.Context, err error) error {
	ce := core.AsError(err)
	wire.NoteError(c, ce)
	msg := ce.Description
	if ce.Kind == core.KindServerError {
		msg = "Something went wrong. Please try again."
	}
	return render(c, wire.Status(ce), "error", view{Brand: p.Brand, Error: msg})
}

func render(c echo.Context, status int, name string, v view) error {
	h := c.Response().Header()
	h.Set("X-Frame-Options", "DENY")
	formAction := "'self'"
	if v.RedirectOrigin != "" {
		formAction += " " + v.RedirectOrigin
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	wire.NoStore(c)
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return pages.ExecuteTemplate(c.Response(), name, v)
}

// cspOrigin is the CSP source expression for a (registered) redirect URI:
// scheme://host[:port], or scheme: for a URI without a host (a native app's
// custom scheme). Anything that could break out of the header value gives "".
func cspOrigin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := u.Scheme + ":"
	if u.Host != "" {
		src += "//" + u.Host
	}
	for _, r := range src {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`;,'"\`, r) {
			return ""
		}
	}
	return src
}

// redirectError sends an authorize error back to the verified redirect_uri
// (RFC 6749 §4.1.2.1).
func redirectError(c echo.Context, req core.AuthorizeRequest, err error) error {
	ce := core.AsError(err)
	wire.NoteError(c, ce)
	kind := string(ce.Kind)
	switch ce.Kind {
	case core.KindInvalidClient:
		kind = string(core.KindUnauthorizedClient)
	case core.KindUnavailable:
		kind = "temporarily_unavailable"
	}
	return redirect(c, req.RedirectURI, url.Values{"error": {kind}, "error_description": {ce.Description}}, req.State)
}

func redirect(c echo.Context, to string, add url.Values, state string) error {
	u, err := url.Parse(to)
	if err != nil {
		return core.Internal(err)
	}
	q := u.Query()
	for k, v := range add {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	wire.NoStore(c)
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusSeeOther, u.String())
}

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Brand.Product}} – {{.Brand.Heading}}</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;color:{{.Brand.Accent}}}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:{{.Brand.Accent}};color:#fff}button.deny{background:#888}.error{color:#b00020}</style></head><body><main>{{end}}
{{define "login"}}{{template "head" .}}
<h1>{{.Brand.Heading}}</h1>
<p><strong>{{.ClientID}}</strong> asks for access to your {{.Brand.Product}} account{{if .Scopes}} ({{.Scopes}}){{end}}.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="allow">Sign in and allow</button>
<button type="submit" name="decision" value="deny" class="deny" formnovalidate>Deny</button>
</form></main></body></html>{{end}}
{{define "error"}}{{template "head" .}}
<h1>{{.Brand.Heading}}</h1><p class="error" role="alert">{{.Error}}</p></main></body></html>{{end}}
`))
