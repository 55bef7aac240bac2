package control

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Plane is the control plane's request-path state for one gateway.
type Plane struct {
	Journal *Journal
	Faults  *Faults
	Clock   core.Clock
	Replica string
}

// NewPlane builds a plane with a journal of journalSize entries.
func NewPlane(clock core.Clock, journalSize int, replica string) *Plane {
	return &Plane{Journal: NewJournal(journalSize), Faults: &Faults{}, Clock: clock, Replica: replica}
}

const keyFault = "tg.fault"

// Middleware runs on every dialect route: it peeks at the request for the
// journal and the fault matcher, then applies a firing fault. A status fault
// returns a core.Error with that status, which the gateway renders in the
// dialect's own style.
func (p *Plane) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		peek := PeekRequest(c)
		dialect, _ := c.Get(wire.KeyDialect).(string)
		a := p.Faults.Match(dialect, c.Path(), c.Request().URL.Path, peek.ClientID, peek.Grant)
		if a == nil {
			return next(c)
		}
		c.Set(keyFault, a.RuleID)
		wire.NoteClient(c, peek.ClientID, peek.Grant)
		if a.Latency > 0 {
			t := time.NewTimer(a.Latency)
			select {
			case <-t.C:
			case <-c.Request().Context().Done():
				t.Stop()
				return c.Request().Context().Err()
			}
		}
		switch {
		case a.Drop:
			p.Observe(c, 0, 0)
			panic(http.ErrAbortHandler) // net/http closes the connection without answering
		case a.Status != 0:
			return faultError(a)
		}
		return next(c)
	}
}

// faultError is the engine error a status fault answers with.
func faultError(a *Action) *core.Error {
	kind := core.KindServerError
	switch {
	case a.Status == http.StatusUnauthorized:
		kind = core.KindInvalidClient
	case a.Status == http.StatusForbidden:
		kind = core.KindAccessDenied
	case a.Status == http.StatusNotFound:
		kind = core.KindNotFound
	case a.Status == http.StatusConflict:
		kind = core.KindConflict
	case a.Status == http.StatusTooManyRequests:
		kind = core.KindRateLimited
	case a.Status == http.StatusServiceUnavailable || a.Status == http.StatusBadGateway || a.Status == http.StatusGatewayTimeout:
		kind = core.KindUnavailable
	case a.Status < 500:
		kind = core.KindInvalidRequest
	}
	text := a.Text
	if text == "" {
		text = "injected fault: " + http.StatusText(a.Status)
	}
	return &core.Error{Kind: kind, Status: a.Status, Code: a.Code, Description: text}
}

// Observe journals one finished request (the gateway calls it after the
// response is written).
func (p *Plane) Observe(c echo.Context, status int, latency time.Duration) {
	if !p.Journal.Enabled() {
		return
	}
	dialect, _ := c.Get(wire.KeyDialect).(string)
	peek := PeekRequest(c)
	e := Entry{Time: p.Clock.Now(), Replica: p.Replica, Dialect: dialect, Route: c.Path(), Method: c.Request().Method,
		ClientID: wire.ClientID(c), GrantType: wire.Grant(c), Status: status,
		LatencyMS: float64(latency.Microseconds()) / 1000, ErrorID: wire.ErrorID(c),
		Headers: RedactHeaders(c.Request().Header), Params: RedactParams(peek.Params)}
	if e.ClientID == "" {
		e.ClientID = peek.ClientID
	}
	if e.GrantType == "" {
		e.GrantType = peek.Grant
	}
	if err := wire.Err(c); err != nil {
		e.Error = string(err.Kind)
		if err.Code != "" {
			e.Error = err.Code
		}
	}
	if id, ok := c.Get(keyFault).(string); ok {
		e.Fault = id
	}
	p.Journal.Add(e)
}
