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
	"github.com/tokengate/tokengate/dialects/fanout"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Plane is the control plane's request-path state for one gateway.
type Plane struct {
	Journal *Journal
	Faults  *Faults
	Clock   *core.AdjustableClock
	Replica string
	// Fired, when set, is told about every fault rule that fires: the
	// instance and the action (metrics).
	Fired func(dialect, action string)
	// Live, when set, is offered every journaled entry while someone
	// subscribes (the console's live journal): one atomic load per
	// request when no one does. Set it before serving.
	Live *fanout.Hub[Entry]

	// shared, when set, holds the clock and fault rules for every replica
	// on the same database; version is the last state this replica loaded.
	shared  core.ControlStore
	syncMu  sync.Mutex
	version atomic.Int64
	// watchers reload what else replicas share when the version moves (the
	// dialects added at run time).
	watchers []func(ctx context.Context) error
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

// OnSync adds a reload that Sync runs whenever the shared version moved
// (call it before serving).
func (p *Plane) OnSync(reload func(ctx context.Context) error) {
	p.watchers = append(p.watchers, reload)
}

// SyncRequest is Sync once per request, however many steps ask (the
// gateway before routing, then the route middleware).
func (p *Plane) SyncRequest(c echo.Context) error {
	r := wire.RequestOf(c)
	if r.Synced {
		return nil
	}
	r.Synced = true
	return p.Sync(c.Request().Context())
}

// Sync loads the shared clock and fault rules (and runs the OnSync
// reloads) if another replica changed them since this one last looked: one
// version read per request.
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
	for _, reload := range p.watchers {
		if err := reload(ctx); err != nil {
			return err
		}
	}
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

// Middleware runs on every dialect route: it notes the client id and grant
// the request presents (for the journal and the fault matcher), then applies
// a firing fault. A status fault answers a *wire.ForcedAnswer, which the
// gateway renders in the dialect's own envelope.
func (p *Plane) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if err := p.SyncRequest(c); err != nil {
			return core.Unavailable(err)
		}
		notePresented(c)
		r := wire.RequestOf(c)
		a := p.Faults.Match(ctx, r.Instance, c.Path(), c.Request().URL.Path, r.ClientID, r.Grant)
		if a == nil {
			return next(c)
		}
		r.FaultID = a.RuleID
		if p.Fired != nil {
			p.Fired(r.Instance, a.Kind())
		}
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
			return &wire.ForcedAnswer{Status: a.Status, Code: a.Code, Text: a.Text, RetryAfter: a.RetryAfter}
		}
		return next(c)
	}
}

// Observe journals one finished request (the gateway calls it after the
// response is written).
func (p *Plane) Observe(c echo.Context, status int, latency time.Duration) {
	if !p.Journal.Enabled() {
		return
	}
	notePresented(c)
	r := wire.RequestOf(c)
	facts := factsOf(c)
	e := Entry{Time: p.Clock.Now(), Replica: p.Replica, RequestID: r.RequestID, Dialect: r.Instance, Route: c.Path(), Method: c.Request().Method,
		ClientID: r.ClientID, GrantType: r.Grant, Status: status,
		LatencyMS: float64(latency.Microseconds()) / 1000, ErrorID: r.ErrorID, Fault: r.FaultID,
		Family: r.Trace.FamilyID, Reuse: r.Trace.Did.Has(core.FamilyReuse)}
	switch {
	case r.Forced != nil && r.Forced.Code != "":
		e.Error = r.Forced.Code
	case r.Forced != nil:
		e.Error = string(r.Forced.Kind())
	case r.Err != nil:
		e.Error = string(r.Err.Kind)
	}
	stored := p.Journal.add(e, sent{header: c.Request().Header, params: wire.Params(c), facts: facts})
	if p.Live != nil && p.Live.Watched() {
		p.Live.Publish(stored.entry())
	}
}
