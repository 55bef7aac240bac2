package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

type pageTemplate = *template.Template

// view is what every page template gets; Data is the page's own.
type view struct {
	Title  string
	Nav    string
	CSRF   string
	Signed bool
	Flash  string
	Data   any
}

type navItem struct{ Key, Label, Path string }

var nav = []navItem{
	{"overview", "Overview", "/"}, {"journal", "Journal", "/journal"}, {"families", "Token families", "/families"},
	{"clients", "Clients", "/clients"}, {"users", "Users", "/users"}, {"authorizations", "Authorizations", "/authorizations"},
	{"faults", "Faults", "/faults"}, {"clock", "Clock", "/clock"}, {"dialects", "Dialects", "/dialects"},
}

// u builds a console URL: the first part is a literal path, the others
// escaped path segments joined by slashes.
func u(first string, segments ...any) string {
	var b strings.Builder
	b.WriteString(Prefix + first)
	for i, s := range segments {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(fmt.Sprint(s)))
	}
	return b.String()
}

var funcs = template.FuncMap{
	"u":        u,
	"navItems": func() []navItem { return nav },
	"time":     fmtTime,
	"clock":    func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
	"dur":      fmtDuration,
	"offset":   fmtOffset,
	"join":     strings.Join,
	"lines":    func(s []string) string { return strings.Join(s, "\n") },
	"has":      func(list []string, v string) bool { return slices.Contains(list, v) },
	"short":    shortID,
	// grant is a grant type by its short name (device_code for the URN).
	"grant": func(g string) string { return core.GrantType(g).ShortName() },
	// revokeReason says in words why the engine revoked a token.
	"revokeReason": func(r string) string {
		switch core.RevokeCause(r) {
		case core.RevokeRequested:
			return "by its client"
		case core.RevokeAdmin:
			return "by the admin"
		case core.RevokeClientDeleted:
			return "client deleted"
		}
		return r
	},
	"family":  shortID,
	"deref":   func(t *time.Time) time.Time { return *t },
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"statusClass": func(status int) string {
		switch {
		case status == 0:
			return "status-drop"
		case status < 400:
			return "status-ok"
		case status < 500:
			return "status-warn"
		}
		return "status-err"
	},
	// uq is a console URL with a query of name, value pairs (empty values left out).
	"uq": func(path string, kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		return withQuery(u(path), q)
	},
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Second).String()
}

// fmtOffset says how far the gateway clock is from real time.
func fmtOffset(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d == 0:
		return "on real time"
	case d > 0:
		return d.String() + " ahead of real time"
	}
	return (-d).String() + " behind real time"
}

// shortID is the part of a family id or token key that tells them apart:
// both begin with their issue time (so they sort), which tokens of one
// grant share and neighbours share most of, and end in random or digest
// bits; a plain digest key is random throughout.
func shortID(id string) string {
	if len(id) > 10 {
		return "…" + id[len(id)-8:]
	}
	return id
}

// param is a path parameter unescaped: echo routes on the raw path when
// the request's path has escapes the default encoding would not make (an
// id with a slash), and then hands the parameter over still escaped.
func param(ec echo.Context, name string) string {
	v := ec.Param(name)
	if ec.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// parsePages parses the layout and partials once, then each page on top
// of its own copy.
func parsePages() map[string]pageTemplate {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]pageTemplate{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
	return pages
}

// render writes page name in the layout. A template error is caught
// before anything is sent.
func (c *Console) render(ec echo.Context, status int, name string, v view) error {
	if s, ok := ec.Get(keySession).(*session); ok {
		v.Signed, v.CSRF = true, s.csrf
		if v.Flash == "" {
			v.Flash = c.sessions.takeFlash(s)
		}
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	return ec.HTMLBlob(status, buf.Bytes())
}

func (c *Console) errorPage(ec echo.Context, status int, msg string) error {
	return c.render(ec, status, "error", view{Title: http.StatusText(status), Data: map[string]string{"Message": msg}})
}

// redirect answers a POST with a redirect to a page that shows flash.
func (c *Console) redirect(ec echo.Context, to, flash string) error {
	if s, ok := ec.Get(keySession).(*session); ok && flash != "" {
		c.sessions.setFlash(s, flash)
	}
	return ec.Redirect(http.StatusSeeOther, to)
}
