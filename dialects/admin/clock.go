package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/control"
)

// ClockState is the answer of GET /_admin/clock.
type ClockState struct {
	Now    string `json:"now"`
	Offset string `json:"offset"`
	Frozen bool   `json:"frozen"`
}

func (a *API) clockState() ClockState {
	off, frozen := a.clock.Offset()
	return ClockState{Now: a.clock.Now().UTC().Format(time.RFC3339Nano), Offset: off.Round(time.Millisecond).String(), Frozen: frozen}
}

func (a *API) getClock(c echo.Context) error { return c.JSON(http.StatusOK, a.clockState()) }

// ClockChange is the body of POST /_admin/clock: exactly one of its fields.
type ClockChange struct {
	Advance string `json:"advance,omitempty"`
	Set     string `json:"set,omitempty"`
	Freeze  *bool  `json:"freeze,omitempty"`
	Reset   bool   `json:"reset,omitempty"`
}

func (a *API) setClock(c echo.Context) error {
	var in ClockChange
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	n := 0
	for _, set := range []bool{in.Advance != "", in.Set != "", in.Freeze != nil, in.Reset} {
		if set {
			n++
		}
	}
	if n != 1 {
		return invalid(c, "", "give exactly one of advance, set, freeze, reset")
	}
	switch {
	case in.Advance != "":
		d, err := time.ParseDuration(in.Advance)
		if err != nil {
			return invalid(c, "advance", "must be a Go duration such as 2h or -30m")
		}
		if err := a.clock.Advance(d); err != nil {
			return failed(c, err, "", "")
		}
	case in.Set != "":
		t, err := time.Parse(time.RFC3339Nano, in.Set)
		if err != nil {
			return invalid(c, "set", "must be an RFC 3339 time such as 2030-01-01T00:00:00Z")
		}
		if err := a.clock.Set(t); err != nil {
			return failed(c, err, "", "")
		}
	case in.Freeze != nil:
		a.clock.Freeze(*in.Freeze)
	default:
		a.clock.Reset()
	}
	if err := a.plane.PublishClock(c.Request().Context()); err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, a.clockState())
}

// ---- faults ----

func (a *API) listFaults(c echo.Context) error {
	rules, err := a.plane.Faults.List(c.Request().Context())
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, rules)
}

func (a *API) addFault(c echo.Context) error {
	var in control.Rule
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	if in.ID != "" || in.Hits != 0 {
		return invalid(c, "id", "is assigned by the server")
	}
	if err := a.validate.Struct(in); err != nil {
		return a.validationFailed(c, err)
	}
	if in.Dialect != "" && !a.knownDialect(c.Request().Context(), in.Dialect) {
		return invalid(c, "dialect", "names no enabled dialect")
	}
	r, err := a.plane.Faults.Add(in)
	var re *control.RuleError
	if errors.As(err, &re) {
		return invalid(c, re.Field, re.Message)
	}
	if err != nil {
		return storeFailed(c, err)
	}
	if err := a.plane.PublishFaults(c.Request().Context(), false); err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusCreated, r)
}

func (a *API) deleteFault(c echo.Context) error {
	if !a.plane.Faults.Delete(c.Param("id")) {
		return notFound(c, "fault", c.Param("id"))
	}
	if err := a.plane.PublishFaults(c.Request().Context(), false); err != nil {
		return storeFailed(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) clearFaults(c echo.Context) error {
	a.plane.Faults.Clear()
	if err := a.plane.PublishFaults(c.Request().Context(), true); err != nil {
		return storeFailed(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- journal ----

func (a *API) listRequests(c echo.Context) error {
	q := c.QueryParams()
	f := control.Filter{Dialect: q.Get("dialect"), ClientID: q.Get("client_id"), Family: q.Get("family")}
	if s := q.Get("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return invalid(c, "status", "must be an HTTP status code")
		}
		f.Status = n
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			d, derr := time.ParseDuration(s)
			if derr != nil {
				return invalid(c, "since", "must be an RFC 3339 time or a duration such as 5m")
			}
			t = a.clock.Now().Add(-d)
		}
		f.Since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return invalid(c, "limit", "must be a non-negative integer")
		}
		f.Limit = n
	}
	return c.JSON(http.StatusOK, a.plane.Journal.List(f))
}

func (a *API) clearRequests(c echo.Context) error {
	a.plane.Journal.Clear()
	return c.NoContent(http.StatusNoContent)
}
