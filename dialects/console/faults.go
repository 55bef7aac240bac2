package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	clients, ferr := c.b.Clients(ctx)
	if ferr != nil {
		return ferr
	}
	p := faultsPage{Rules: rules, Dialects: c.b.Dialects(), Grants: core.AllGrants, Form: form}
	for _, cl := range clients {
		p.Clients = append(p.Clients, cl.ClientID)
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
	if err := c.b.DeleteFault(ec.Request().Context(), ec.Param("id")); err != nil {
		return err
	}
	return c.redirect(ec, u("/faults"), "Fault rule "+ec.Param("id")+" removed.")
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
	var problems []string
	field := ""
	num := func(name string, parse func(string) error) {
		if s := strings.TrimSpace(form.Get(name)); s != "" {
			if err := parse(s); err != nil {
				problems = append(problems, name+": "+err.Error())
				if field == "" {
					field = name
				}
			}
		}
	}
	num("status", func(s string) (err error) {
		f.Status, err = strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("must be an HTTP status from 400 to 599")
		}
		return nil
	})
	num("latency", func(s string) (err error) {
		f.Latency, err = time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("must be a duration such as 250ms")
		}
		return nil
	})
	num("count", func(s string) (err error) {
		f.Count, err = strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("must be a whole number")
		}
		return nil
	})
	num("probability", func(s string) (err error) {
		f.Probability, err = strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("must be a number from 0 to 1")
		}
		return nil
	})
	if f.Drop {
		f.Status = 0 // the form's default status does not apply to a dropped connection
	}
	if problems != nil {
		return f, &InputError{Field: field, Problems: problems}
	}
	return f, nil
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
