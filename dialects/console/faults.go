package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

type faultsPage struct {
	Rules    []Fault
	Dialects []Dialect
	Grants   []core.GrantType
	Clients  []string
	Form     url.Values
	Problems []string
	Field    string
}

func (c *Console) faultsPage(ec echo.Context, status int, form url.Values, err error) error {
	ctx := ec.Request().Context()
	rules, ferr := c.b.Faults(ctx)
	if ferr != nil {
		return ferr
	}
	p := faultsPage{Rules: rules, Dialects: c.b.Dialects(), Grants: core.AllGrants, Form: form}
	if p.Clients, ferr = c.clientIDs(ctx); ferr != nil {
		return ferr
	}
	p.Problems, p.Field = problemsOf(err)
	return c.render(ec, status, "faults", view{Title: "Faults", Nav: "faults", Data: p})
}

func (c *Console) faults(ec echo.Context) error {
	return c.faultsPage(ec, http.StatusOK, url.Values{"count": {"1"}, "status": {"503"}}, nil)
}

func (c *Console) addFault(ec echo.Context) error {
	form, _ := ec.FormParams()
	f, err := faultFromForm(form)
	if err == nil {
		f, err = c.b.AddFault(ec.Request().Context(), f)
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return c.faultsPage(ec, http.StatusBadRequest, form, err)
	}
	if err != nil {
		return err
	}
	return c.redirect(ec, u("/faults"), "Fault rule "+f.ID+" added.")
}

func (c *Console) deleteFault(ec echo.Context) error {
	if err := c.b.DeleteFault(ec.Request().Context(), param(ec, "id")); err != nil {
		return err
	}
	return c.redirect(ec, u("/faults"), "Fault rule "+param(ec, "id")+" removed.")
}

// faultFromForm reads the fault form; the route select carries
// "dialect route" so one choice names both.
func faultFromForm(form url.Values) (Fault, error) {
	f := Fault{Dialect: form.Get("dialect"), ClientID: strings.TrimSpace(form.Get("client_id")), GrantType: form.Get("grant_type"),
		Code: strings.TrimSpace(form.Get("code")), Text: strings.TrimSpace(form.Get("text")), Drop: form.Get("drop") != ""}
	if d, route, ok := strings.Cut(form.Get("route"), " "); ok {
		if f.Dialect != "" && f.Dialect != d {
			return f, &InputError{Field: "route", Problems: []string{"route: belongs to dialect " + d + ", not " + f.Dialect}}
		}
		f.Dialect, f.Route = d, route
	}
	var p formProblems
	p.parse(form, "status", "must be an HTTP status from 400 to 599", func(s string) (err error) {
		f.Status, err = strconv.Atoi(s)
		return err
	})
	p.parse(form, "latency", "must be a duration such as 250ms", func(s string) (err error) {
		f.Latency, err = time.ParseDuration(s)
		return err
	})
	p.parse(form, "count", "must be a whole number", func(s string) (err error) {
		f.Count, err = strconv.Atoi(s)
		return err
	})
	p.parse(form, "probability", "must be a number from 0 to 1", func(s string) (err error) {
		f.Probability, err = strconv.ParseFloat(s, 64)
		return err
	})
	if f.Drop {
		f.Status = 0 // the form's default status does not apply to a dropped connection
	}
	return f, p.err()
}

// faultEvents streams the rules' hit counts (as JSON, id to hits) every
// heartbeat while they change.
func (c *Console) faultEvents(ec echo.Context) error {
	return c.stream(ec, func(ctx context.Context, s *sse, _ <-chan time.Time) error {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := ""
		for {
			rules, err := c.b.Faults(ctx)
			if err != nil {
				return err
			}
			hits := make(map[string]int64, len(rules))
			for _, r := range rules {
				hits[r.ID] = r.Hits
			}
			b, _ := json.Marshal(hits)
			if string(b) != last {
				last = string(b)
				if err := s.send("hits", last); err != nil {
					return err
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
}
