package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Plane is the control plane's request-path state for one gateway.
type Plane struct {
	Journal *Journal
	Faults  *Faults
	Clock   *core.AdjustableClock
	Replica string

	// shared, when set, holds the clock and fault rules for every replica
	// on the same database; version is the last state this replica loaded.
	shared  core.ControlStore
	syncMu  sync.Mutex
	version atomic.Int64
}

// NewPlane builds a plane with a journal of journalSize entries. With a
// non-nil shared store the clock and fault rules are shared with every
// other replica using it.
func NewPlane(clock *core.AdjustableClock, journalSize int, replica string, shared core.ControlStore) *Plane {
	p := &Plane{Journal: NewJournal(journalSize), Faults: &Faults{shared: shared}, Clock: clock, Replica: replica, shared: shared}
	p.version.Store(-1)
	return p
}

const (
	keyClock  = "clock"
	keyFaults = "faults"
)

// Sync loads the shared clock and fault rules if another replica changed
// them since this one last looked: one version read per request.
func (p *Plane) Sync(ctx context.Context) error {
	if p.shared == nil {
		return nil
	}
	v, err := p.shared.ControlVersion(ctx)
	if err != nil || v == p.version.Load() {
		return err
	}
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	if v == p.version.Load() {
		return nil
	}
	var cs core.ClockState
	switch raw, err := p.shared.GetControl(ctx, keyClock); {
	case err == nil:
		if json.Unmarshal(raw, &cs) == nil {
			p.Clock.SetState(cs)
		}
	case errors.Is(err, core.ErrNotFound):
		p.Clock.SetState(core.ClockState{})
	default:
		return err
	}
	var rules []Rule
	switch raw, err := p.shared.GetControl(ctx, keyFaults); {
	case err == nil:
		_ = json.Unmarshal(raw, &rules)
	case !errors.Is(err, core.ErrNotFound):
		return err
	}
	p.Faults.replace(rules)
	p.version.Store(v)
	return nil
}

// PublishClock shares this replica's clock setting with the others.
func (p *Plane) PublishClock(ctx context.Context) error {
	if p.shared == nil {
		return nil
	}
	raw, err := json.Marshal(p.Clock.State())
	if err != nil {
		return err
	}
	return p.shared.PutControl(ctx, keyClock, raw)
}

// PublishFaults shares this replica's fault rules with the others; with
// resetHits their hit counters start again from zero.
func (p *Plane) PublishFaults(ctx context.Context, resetHits bool) error {
	if p.shared == nil {
		return nil
	}
	if resetHits {
		if err := p.shared.ResetCounters(ctx, hitPrefix); err != nil {
			return err
		}
	}
	rules, err := p.Faults.List(ctx)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	return p.shared.PutControl(ctx, keyFaults, raw)
}

const keyFault = "tg.fault"

// Middleware runs on every dialect route: it peeks at the request for the
// journal and the fault matcher, then applies a firing fault. A status fault
// returns a core.Error with that status, which the gateway renders in the
// dialect's own style.
func (p *Plane) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if err := p.Sync(ctx); err != nil {
			return core.Unavailable(err)
		}
		peek := PeekRequest(c)
		dialect, _ := c.Get(wire.KeyDialect).(string)
		a := p.Faults.Match(ctx, dialect, c.Path(), c.Request().URL.Path, peek.ClientID, peek.Grant)
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
