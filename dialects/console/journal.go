package console

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// shownRequests is how many rows the journal page shows (and keeps while live).
const shownRequests = 200

// journalFilter selects journal rows; empty fields match anything.
// Family (the requests that touched one token family) comes from the
// family page's link, not from the form.
type journalFilter struct {
	Dialect, Client, Grant, Status, Text, Family string
}

func filterFrom(q url.Values) journalFilter {
	return journalFilter{Dialect: q.Get("dialect"), Client: strings.TrimSpace(q.Get("client")), Grant: q.Get("grant"),
		Status: strings.TrimSpace(q.Get("status")), Text: strings.TrimSpace(q.Get("text")), Family: q.Get("family")}
}

// Query is the filter as a query string with its "?" ("" for none), for
// the live view's URL.
func (f journalFilter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"dialect": f.Dialect, "client": f.Client, "grant": f.Grant, "status": f.Status,
		"text": f.Text, "family": f.Family} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return withQuery("", q)
}

func (f journalFilter) match(r *Request) bool {
	return (f.Dialect == "" || r.Dialect == f.Dialect) && (f.Client == "" || r.ClientID == f.Client) &&
		(f.Grant == "" || r.GrantType == f.Grant) && (f.Family == "" || r.Family.ID == f.Family) && statusMatches(f.Status, r.Status) &&
		(f.Text == "" || textMatches(strings.ToLower(f.Text), r))
}

// statusMatches reads a status filter: "" any, "503" exact, "4xx" a class,
// "error" anything from 400 on.
func statusMatches(f string, status int) bool {
	switch f = strings.ToLower(f); {
	case f == "":
		return true
	case f == "error":
		return status >= 400
	case len(f) == 3 && strings.HasSuffix(f, "xx"):
		return strconv.Itoa(status/100) == f[:1]
	}
	n, err := strconv.Atoi(f)
	return err == nil && n == status
}

// textMatches looks for needle (lower case) in what a row shows and in the
// redacted parameters and headers.
func textMatches(needle string, r *Request) bool {
	for _, s := range []string{r.Route, r.Method, r.ClientID, r.GrantType, r.Error, r.ErrorID, r.Fault, r.Dialect, r.Replica} {
		if strings.Contains(strings.ToLower(s), needle) {
			return true
		}
	}
	for k, vs := range r.Params {
		if strings.Contains(strings.ToLower(k+"="+strings.Join(vs, ",")), needle) {
			return true
		}
	}
	for k, v := range r.Headers {
		if strings.Contains(strings.ToLower(k+": "+v), needle) {
			return true
		}
	}
	return false
}

type journalPage struct {
	Filter   journalFilter
	Rows     []Request
	More     bool
	Dialects []Dialect
	Grants   []core.GrantType
}

func (c *Console) journal(ec echo.Context) error {
	f := filterFrom(ec.QueryParams())
	all, err := c.b.Requests(ec.Request().Context(), 0)
	if err != nil {
		return err
	}
	p := journalPage{Filter: f, Dialects: c.b.Dialects(), Grants: core.AllGrants}
	for _, r := range all {
		if f.match(&r) {
			if len(p.Rows) == shownRequests {
				p.More = true
				break
			}
			p.Rows = append(p.Rows, r)
		}
	}
	return c.render(ec, http.StatusOK, "journal", view{Title: "Journal", Nav: "journal", Data: p})
}

func (c *Console) journalEntry(ec echo.Context) error {
	r, err := c.b.Request(ec.Request().Context(), param(ec, "id"))
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "request", view{Title: r.Method + " " + r.Route, Nav: "journal", Data: r})
}

// A live view takes at most liveRows requests per liveWindow off its watch:
// more than a person can read, and a bound on what watching costs the
// gateway under load. The rest is dropped by the watch (never by the
// request path waiting) and reported.
const (
	liveWindow = 100 * time.Millisecond
	liveRows   = 25
)

// journalEvents streams new rows matching the page's filter as
// server-rendered table rows, written once per window.
func (c *Console) journalEvents(ec echo.Context) error {
	f := filterFrom(ec.QueryParams())
	w, err := c.b.Watch()
	if errors.Is(err, ErrBusy) {
		return c.errorPage(ec, http.StatusServiceUnavailable, "Too many live views are open; close one and reload.")
	}
	if err != nil {
		return err
	}
	defer w.Close()
	return c.stream(ec, func(ctx context.Context, s *sse, heartbeat <-chan time.Time) error {
		window := time.NewTicker(liveWindow)
		defer window.Stop()
		budget, dropped := liveRows, int64(0)
		for {
			var in <-chan Request
			if budget > 0 {
				in = w.Requests()
			}
			select {
			case <-ctx.Done():
				return nil
			case r := <-in:
				budget--
				if !f.match(&r) {
					continue
				}
				var buf bytes.Buffer
				if err := c.pages["journal"].ExecuteTemplate(&buf, "journal-row", r); err != nil {
					return err
				}
				s.queue("entry", buf.String())
			case <-window.C:
				budget = liveRows
				if d := w.Dropped(); d != dropped {
					dropped = d
					s.queue("dropped", strconv.FormatInt(d, 10))
				}
				if err := s.flush(); err != nil {
					return err
				}
			case <-heartbeat:
				if err := s.comment(); err != nil {
					return err
				}
			}
		}
	})
}
