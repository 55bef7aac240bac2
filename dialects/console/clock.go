package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// previewLimit bounds the live tokens a clock preview reads.
const previewLimit = 1000

type clockPage struct {
	State   ClockState
	Form    url.Values
	Preview *clockPreview
	Problem string
}

// clockPreview is what a move would do before it is applied.
type clockPreview struct {
	Move     string
	Target   time.Time
	Expiring []tokenView
	Capped   bool
}

// moveFromForm reads a clock move: move=advance|set|reset|freeze|unfreeze.
func moveFromForm(form url.Values) (ClockMove, string) {
	var m ClockMove
	switch form.Get("move") {
	case "advance":
		d, err := parseDuration(form.Get("advance"))
		if err != nil {
			return m, "Advance by a duration such as 2h, 90m, -30m or 30d."
		}
		m.Advance = d
	case "set":
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(form.Get("set")))
		if err != nil {
			return m, "Set the clock to an RFC 3339 time such as 2030-01-01T00:00:00Z."
		}
		m.Set = t
	case "reset":
		m.Reset = true
	case "freeze", "unfreeze":
		on := form.Get("move") == "freeze"
		m.Freeze = &on
	default:
		return m, "Choose a move."
	}
	return m, ""
}

// parseDuration reads a Go duration, or whole days such as 30d.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

// target is where move m would take a clock in state s.
func target(s ClockState, m ClockMove) time.Time {
	switch {
	case m.Advance != 0:
		return s.Now.Add(m.Advance)
	case !m.Set.IsZero():
		return m.Set
	case m.Reset:
		return s.Now.Add(-s.Offset)
	}
	return s.Now
}

func (c *Console) clock(ec echo.Context) error {
	ctx := ec.Request().Context()
	s, err := c.b.Clock(ctx)
	if err != nil {
		return err
	}
	q := ec.QueryParams()
	p := clockPage{State: s, Form: q}
	if q.Get("move") != "" {
		m, problem := moveFromForm(q)
		if problem != "" {
			p.Problem = problem
			return c.render(ec, http.StatusBadRequest, "clock", view{Title: "Clock", Nav: "clock", Data: p})
		}
		to := target(s, m)
		live, err := c.b.Tokens(ctx, TokenQuery{LiveOnly: true, Limit: previewLimit})
		if err != nil {
			return err
		}
		p.Preview = &clockPreview{Move: q.Get("move"), Target: to, Capped: len(live) == previewLimit}
		for _, t := range live {
			if !to.Before(t.Expires) {
				p.Preview.Expiring = append(p.Preview.Expiring, tokenView{Token: t, State: stateExpired})
			}
		}
	}
	return c.render(ec, http.StatusOK, "clock", view{Title: "Clock", Nav: "clock", Data: p})
}

func (c *Console) moveClock(ec echo.Context) error {
	form, _ := ec.FormParams()
	m, problem := moveFromForm(form)
	if problem != "" {
		return c.redirect(ec, u("/clock"), problem)
	}
	s, err := c.b.MoveClock(ec.Request().Context(), m)
	if err != nil {
		return err
	}
	return c.redirect(ec, u("/clock"), "The gateway clock now reads "+fmtTime(s.Now)+" ("+fmtOffset(s.Offset)+").")
}
