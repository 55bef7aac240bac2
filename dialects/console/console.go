// Package console is the gateway's web console, served under /_admin/ui/ on
// the admin listener: server-rendered pages (html/template, embedded assets,
// one stylesheet and one small script, no CDN) over the journal, token
// families, clients, users, authorizations, faults and the clock.
//
// It reads and changes the gateway only through Backend, so it knows
// nothing of the engine's or the control plane's internals. Sign-in takes
// the admin token and sets a server-side session cookie; every
// state-changing POST carries a CSRF token bound to the session.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Prefix is where the console lives.
const Prefix = "/_admin/ui"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Console.
type Options struct {
	Backend Backend
	// AdminToken signs a browser in; empty refuses every sign-in.
	AdminToken string
	Logger     *slog.Logger
	// Now is the wall clock sessions age by (default time.Now); never the
	// gateway clock, which tests move by hours.
	Now func() time.Time
	// MaxSessions bounds the session table (default 32).
	MaxSessions int
	// MaxStreams bounds the live views open at once (default 16).
	MaxStreams int
	// Heartbeat is how often an idle live view is pinged (default 15s).
	Heartbeat time.Duration
}

// Console serves the pages.
type Console struct {
	b         Backend
	token     string
	log       *slog.Logger
	sessions  *sessions
	pages     map[string]pageTemplate
	streams   chan struct{}
	heartbeat time.Duration
	// done ends every live view when the gateway shuts down.
	done   context.Context
	cancel context.CancelFunc
}

const (
	sessionCookie = "tg_console"
	preCookie     = "tg_console_pre"
	csrfField     = "csrf"
	keySession    = "console.session"
	keySessionID  = "console.session_id"
)

// New builds a console.
func New(o Options) *Console {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 32
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 16
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Console{b: o.Backend, token: o.AdminToken, log: o.Logger,
		sessions: newSessions(o.MaxSessions, 12*time.Hour, 24*time.Hour, o.Now),
		pages:    parsePages(), streams: make(chan struct{}, o.MaxStreams), heartbeat: o.Heartbeat,
		done: ctx, cancel: cancel}
}

// Close ends every live view (server-sent event streams never go idle, so
// a graceful shutdown would otherwise wait for them).
func (c *Console) Close() { c.cancel() }

// Mount adds the console's routes to e.
func (c *Console) Mount(e *echo.Echo) {
	g := e.Group(Prefix, c.secure, c.renderErrors)
	g.GET("/static/*", c.static)
	g.GET("/login", c.loginPage)
	g.POST("/login", c.login)
	a := g.Group("", c.requireSession)
	a.GET("", func(ec echo.Context) error { return ec.Redirect(http.StatusSeeOther, Prefix+"/") })
	a.GET("/", c.overview)
	a.POST("/logout", c.logout)
	a.GET("/journal", c.journal)
	a.GET("/journal/events", c.journalEvents)
	a.GET("/journal/:id", c.journalEntry)
	a.GET("/families", c.families)
	a.GET("/families/:client/:family", c.family)
	c.mountState(a)
	a.GET("/faults", c.faults)
	a.POST("/faults", c.addFault)
	a.GET("/faults/events", c.faultEvents)
	a.POST("/faults/:id/delete", c.deleteFault)
	a.GET("/clock", c.clock)
	a.POST("/clock", c.moveClock)
	c.mountDialects(a)
	a.RouteNotFound("/*", func(echo.Context) error { return echo.ErrNotFound })
}

// maxFormBytes bounds what a console form may send, an uploaded spec file
// included.
const maxFormBytes = 256 << 10

// parseForm reads a POST's form, within maxFormBytes, before anything
// looks at its CSRF token: a multipart one (an uploaded file) stays in
// memory.
func parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
		return r.ParseMultipartForm(maxFormBytes)
	}
	return r.ParseForm()
}

// formUnreadable answers a form parseForm could not read.
func (c *Console) formUnreadable(ec echo.Context, err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return c.errorPage(ec, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d KiB; a spec file must be smaller.", maxFormBytes>>10))
	}
	return c.errorPage(ec, http.StatusBadRequest, "The form could not be read.")
}

// csp allows only the console's own script and stylesheet: no inline
// script or style anywhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers on every answer and refuses
// state-changing requests sent from another origin.
func (c *Console) secure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r := ec.Request(); r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) {
				return c.refuse(ec, "This form was sent from another site.")
			}
			r.Body = http.MaxBytesReader(ec.Response(), r.Body, maxFormBytes)
		}
		return next(ec)
	}
}

// sameOrigin refuses a request a browser says came from another site
// (Sec-Fetch-Site), or whose Origin names another host. Under the
// no-referrer policy browsers send "Origin: null" for the console's own
// forms, so null proves nothing either way. The CSRF token is the real
// check; this one is defence in depth.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// renderErrors turns errors into the console's own error page: no echo
// default body and no JSON on these paths.
func (c *Console) renderErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		err := next(ec)
		if err == nil || ec.Response().Committed {
			return nil
		}
		status, msg := http.StatusInternalServerError, "Something went wrong; the gateway log has the details."
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			status, msg = he.Code, http.StatusText(he.Code)
		case errors.Is(err, ErrNotFound):
			status, msg = http.StatusNotFound, "It is not there (any more)."
		default:
			c.log.Error("console request failed", "path", ec.Path(), "error", err.Error())
		}
		return c.errorPage(ec, status, msg)
	}
}

func (c *Console) static(ec echo.Context) error {
	if strings.HasSuffix(ec.Request().URL.Path, "/") {
		return echo.ErrNotFound // no directory listings
	}
	sub, _ := fs.Sub(staticFS, "static")
	ec.Response().Header().Set("Cache-Control", "no-cache")
	http.StripPrefix(Prefix+"/static/", http.FileServer(http.FS(sub))).ServeHTTP(ec.Response(), ec.Request())
	return nil
}
