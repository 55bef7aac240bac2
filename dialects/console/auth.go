package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// loginPage shows the sign-in form. Its CSRF token is bound to a
// pre-session cookie, so another site cannot sign a browser in to a session
// of its choosing.
func (c *Console) loginPage(ec echo.Context) error {
	if c.current(ec) != nil {
		return ec.Redirect(http.StatusSeeOther, Prefix+"/")
	}
	pre := ""
	if ck, err := ec.Cookie(preCookie); err == nil && len(ck.Value) >= 32 {
		pre = ck.Value
	} else {
		pre = randomToken()
		c.setCookie(ec, preCookie, pre, 600)
	}
	return c.render(ec, http.StatusOK, "login", view{Title: "Sign in", CSRF: c.sessions.loginCSRF(pre),
		Data: map[string]any{"Next": safeNext(ec.QueryParam("next")), "Disabled": c.token == ""}})
}

func (c *Console) login(ec echo.Context) error {
	ck, err := ec.Cookie(preCookie)
	if err != nil || ck.Value == "" || !equal(ec.FormValue(csrfField), c.sessions.loginCSRF(ck.Value)) {
		return c.refuse(ec, "The sign-in form has expired or was not sent from this page. Open the sign-in page again.")
	}
	if c.token == "" || !equal(ec.FormValue("token"), c.token) {
		c.log.Warn("console sign-in refused", "remote", ec.RealIP())
		return c.refuse(ec, "Wrong admin token.")
	}
	id, _ := c.sessions.create()
	c.setCookie(ec, sessionCookie, id, 0)
	c.setCookie(ec, preCookie, "", -1)
	return ec.Redirect(http.StatusSeeOther, safeNext(ec.FormValue("next")))
}

func (c *Console) logout(ec echo.Context) error {
	c.sessions.delete(ec.Get(keySessionID).(string))
	c.setCookie(ec, sessionCookie, "", -1)
	return ec.Redirect(http.StatusSeeOther, Prefix+"/login")
}

// safeNext keeps a post-sign-in destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return Prefix + "/"
	}
	return next
}

// current is the browser's live session, or nil.
func (c *Console) current(ec echo.Context) *session {
	ck, err := ec.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return c.sessions.get(ck.Value)
}

// requireSession sends browsers without a session to the sign-in page and
// refuses a POST whose CSRF token is not its session's.
func (c *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ck, err := ec.Cookie(sessionCookie)
		var s *session
		if err == nil {
			s = c.sessions.get(ck.Value)
		}
		if s == nil {
			if ec.Request().Method == http.MethodGet {
				return ec.Redirect(http.StatusSeeOther, Prefix+"/login?next="+url.QueryEscape(ec.Request().URL.RequestURI()))
			}
			return c.refuse(ec, "Sign in first.")
		}
		if r := ec.Request(); r.Method == http.MethodPost {
			if err := parseForm(r); err != nil {
				return c.formUnreadable(ec, err)
			}
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			if !equal(ec.FormValue(csrfField), s.csrf) {
				return c.refuse(ec, "The form's CSRF token is missing or wrong. Reload the page and try again.")
			}
		}
		ec.Set(keySession, s)
		ec.Set(keySessionID, ck.Value)
		return next(ec)
	}
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, scoped to
// the console's path, Secure over TLS. maxAge 0 is a browser-session
// cookie; negative deletes.
func (c *Console) setCookie(ec echo.Context, name, value string, maxAge int) {
	ec.SetCookie(&http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: ec.Request().TLS != nil})
}

// refuse answers 403 with a page saying why.
func (c *Console) refuse(ec echo.Context, why string) error {
	return c.errorPage(ec, http.StatusForbidden, why)
}
