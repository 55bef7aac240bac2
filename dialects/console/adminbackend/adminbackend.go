// Package adminbackend is the console's phase-one Backend: an adapter over
// what the gateway has today. State changes, fault rules and clock moves go
// through the admin API itself (served in process, without a socket), so
// they validate, invalidate caches and reach other replicas exactly as the
// API's do; reads come from the store, the journal and the clock. When the
// admin API's internals become engine operations, this file is replaced by
// a Backend over those.
package adminbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/console"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/fanout"
)

// Options wire the adapter.
type Options struct {
	Config *config.Config
	Engine *core.Engine
	Clock  *core.AdjustableClock
	Plane  *control.Plane
	// Routes lists each enabled dialect's routes (the gateway's, known
	// once it is built).
	Routes func() map[string][]dialects.Route
	// Addr is the bound address of a configured listen address, "" before
	// the gateway listens.
	Addr func(configured string) string
	// MaxWatchers bounds the live journal views (default 8); each buffers
	// WatchBuffer requests (default 256) before it drops.
	MaxWatchers, WatchBuffer int
}

// Backend implements console.Backend.
type Backend struct {
	o    Options
	api  *admin.Client
	feed *fanout.Hub[control.Entry]
}

var _ console.Backend = (*Backend)(nil)

// New builds the adapter.
func New(o Options) *Backend {
	if o.MaxWatchers <= 0 {
		o.MaxWatchers = 8
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = 256
	}
	e := echo.New()
	admin.New(o.Config, o.Engine, o.Clock, o.Plane).Mount(e)
	api := &admin.Client{BaseURL: "http://in-process", Token: o.Config.AdminToken, HTTP: &http.Client{Transport: inProcess{e}}}
	return &Backend{o: o, api: api, feed: fanout.New[control.Entry](o.MaxWatchers, o.WatchBuffer)}
}

// inProcess answers admin API calls by calling its handler directly.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// apiError turns an admin API refusal into the console's typed errors.
func apiError(err error) error {
	var ae *admin.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Status {
	case http.StatusNotFound:
		return console.ErrNotFound
	case http.StatusBadRequest, http.StatusConflict:
		problems := ae.Problem.Problems
		if len(problems) == 0 {
			problems = []string{ae.Problem.Message}
		}
		return &console.InputError{Field: ae.Problem.Field, Problems: problems, Conflict: ae.Status == http.StatusConflict}
	}
	return err
}

// ---- the request path ----

// Observe journals a finished request (in place of the plane's Observe)
// and, only while someone watches, also offers it to the live views. With
// no watcher it costs one atomic load more than the plane's.
func (b *Backend) Observe(c echo.Context, status int, latency time.Duration) {
	if !b.feed.Watched() {
		b.o.Plane.Observe(c, status, latency)
		return
	}
	// A one-entry plane builds the entry exactly as the real one would;
	// the same value then goes to the journal and to the watchers.
	scratch := &control.Plane{Journal: control.NewJournal(1), Clock: b.o.Plane.Clock, Replica: b.o.Plane.Replica}
	scratch.Observe(c, status, latency)
	entries := scratch.Journal.List(control.Filter{})
	if len(entries) == 0 {
		return
	}
	b.o.Plane.Journal.Add(entries[0])
	b.feed.Publish(entries[0])
}

// ---- overview ----

func (b *Backend) addr(configured string) string {
	if b.o.Addr != nil {
		if a := b.o.Addr(configured); a != "" {
			return a
		}
	}
	return configured
}

// Dialects lists the enabled dialects in the config's order.
func (b *Backend) Dialects() []console.Dialect {
	var routes map[string][]dialects.Route
	if b.o.Routes != nil {
		routes = b.o.Routes()
	}
	var out []console.Dialect
	for _, name := range b.o.Config.EnabledDialects() {
		dc := b.o.Config.Dialects[name]
		listen := dc.Listen
		if listen == "" {
			listen = b.o.Config.Listen
		}
		d := console.Dialect{Name: name, Listen: b.addr(listen), Prefix: dc.Prefix}
		for _, r := range routes[name] {
			d.Routes = append(d.Routes, console.Route{Method: r.Method, Path: r.Path})
		}
		out = append(out, d)
	}
	return out
}

// liveCountLimit bounds the tokens read to count live ones.
const liveCountLimit = 10000

func (b *Backend) Overview(ctx context.Context) (console.Overview, error) {
	cfg := b.o.Config
	adminListen := cfg.AdminListen
	if adminListen == "" {
		adminListen = cfg.Listen
	}
	o := console.Overview{AdminListen: b.addr(adminListen), Storage: cfg.Storage.Driver, Replica: b.o.Plane.Replica}
	if cfg.Storage.Driver != "postgres" {
		o.Database = cfg.Storage.DSN
	}
	s := b.o.Engine
	clients, err := s.ListClients(ctx)
	if err != nil {
		return o, err
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		return o, err
	}
	o.Clients, o.Users = len(clients), len(users)
	tokens, err := s.ListTokens(ctx, core.TokenFilter{Limit: liveCountLimit})
	if err != nil {
		return o, err
	}
	o.LiveTokensAtLeast = len(tokens) == liveCountLimit
	if o.Clock, err = b.Clock(ctx); err != nil {
		return o, err
	}
	for _, t := range tokens {
		if t.Active(o.Clock.Now) {
			o.LiveTokens++
		}
	}
	faults, err := b.Faults(ctx)
	if err != nil {
		return o, err
	}
	for _, f := range faults {
		if f.Count == 0 || f.Hits < int64(f.Count) {
			o.ActiveFaults++
		}
	}
	return o, nil
}

// ---- journal ----

// requestID names an entry by its content: entries identical in every
// field share an id, and then either one is the right one to show.
func requestID(e *control.Entry) string {
	raw, _ := json.Marshal(e)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:10])
}

func toRequest(e control.Entry) console.Request {
	return console.Request{ID: requestID(&e), Time: e.Time, Replica: e.Replica, Dialect: e.Dialect, Route: e.Route,
		Method: e.Method, ClientID: e.ClientID, GrantType: e.GrantType, Status: e.Status,
		Latency: time.Duration(e.LatencyMS * float64(time.Millisecond)), Error: e.Error, ErrorID: e.ErrorID,
		Fault: e.Fault, Headers: e.Headers, Params: e.Params}
}

func (b *Backend) Requests(_ context.Context, limit int) ([]console.Request, error) {
	entries := b.o.Plane.Journal.List(control.Filter{Limit: limit})
	out := make([]console.Request, 0, len(entries))
	for _, e := range entries {
		out = append(out, toRequest(e))
	}
	return out, nil
}

func (b *Backend) Request(ctx context.Context, id string) (console.Request, error) {
	for _, e := range b.o.Plane.Journal.List(control.Filter{}) {
		if requestID(&e) != id {
			continue
		}
		r := toRequest(e)
		fam, err := b.familyOf(ctx, &e)
		if err != nil {
			return r, err
		}
		r.Family = fam
		return r, nil
	}
	return console.Request{}, console.ErrNotFound
}

// slack covers the journal's latency being rounded down to microseconds
// and the store's times to microseconds (PostgreSQL).
const slack = 10 * time.Microsecond

// window is when a journaled request ran by the gateway clock: its entry
// is timed after the answer, its latency measured around the handler.
func window(e *control.Entry) (time.Time, time.Time) {
	lat := time.Duration(e.LatencyMS * float64(time.Millisecond))
	return e.Time.Add(-lat - slack), e.Time.Add(slack)
}

// familyOf guesses the family a request touched: the journal keeps no
// token, so it is the family of the client's token issued, consumed or
// revoked while the request ran, the closest to its end.
func (b *Backend) familyOf(ctx context.Context, e *control.Entry) (console.FamilyRef, error) {
	if e.ClientID == "" {
		return console.FamilyRef{}, nil
	}
	tokens, err := b.o.Engine.ListTokens(ctx, core.TokenFilter{ClientID: e.ClientID, Limit: 1000})
	if err != nil {
		return console.FamilyRef{}, err
	}
	from, to := window(e)
	var best console.FamilyRef
	bestGap := time.Duration(-1)
	for _, t := range tokens {
		for _, at := range []time.Time{t.IssuedAt, t.ConsumedAt, t.RevokedAt} {
			if at.IsZero() || at.Before(from) || at.After(to) || t.FamilyID == "" || t.Dialect != e.Dialect {
				continue
			}
			if gap := e.Time.Sub(at).Abs(); bestGap < 0 || gap < bestGap {
				best, bestGap = console.FamilyRef{ClientID: t.ClientID, ID: t.FamilyID}, gap
			}
		}
	}
	return best, nil
}

func (b *Backend) Watch() (console.Watch, error) {
	sub, err := b.feed.Subscribe()
	if errors.Is(err, fanout.ErrFull) {
		return nil, console.ErrBusy
	}
	if err != nil {
		return nil, err
	}
	w := &watch{sub: sub, out: make(chan console.Request), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// watch turns journal entries into console requests off the request path.
type watch struct {
	sub  *fanout.Sub[control.Entry]
	out  chan console.Request
	done chan struct{}
	once sync.Once
}

func (w *watch) run() {
	for {
		select {
		case e := <-w.sub.C():
			select {
			case w.out <- toRequest(e):
			case <-w.done:
				return
			}
		case <-w.done:
			return
		}
	}
}

func (w *watch) Requests() <-chan console.Request { return w.out }
func (w *watch) Dropped() int64                   { return w.sub.Dropped() }
func (w *watch) Close()                           { w.once.Do(func() { w.sub.Close(); close(w.done) }) }

// ---- tokens ----

// readLimit bounds the tokens read for one query when it names no limit.
const readLimit = 5000

func (b *Backend) Tokens(ctx context.Context, q console.TokenQuery) ([]console.Token, error) {
	limit := q.Limit
	if limit <= 0 || q.FamilyID != "" || q.LiveOnly {
		limit = readLimit // filtered below, so read more than asked for
	}
	list, err := b.o.Engine.ListTokens(ctx, core.TokenFilter{ClientID: q.ClientID, Limit: limit})
	if err != nil {
		return nil, err
	}
	now := b.o.Clock.Now()
	var out []console.Token
	for _, t := range list {
		if (q.FamilyID != "" && t.FamilyID != q.FamilyID) || (q.LiveOnly && !t.Active(now)) {
			continue
		}
		out = append(out, console.Token{ID: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID,
			Dialect: t.Dialect, Scopes: t.Scopes, FamilyID: t.FamilyID, Issued: t.IssuedAt, Expires: t.ExpiresAt,
			Consumed: t.ConsumedAt, Revoked: t.RevokedAt})
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	b.markReuse(out)
	return out, nil
}

// markReuse flags tokens revoked by reuse detection. The store does not say
// why a token was revoked; the journal does: the engine revokes a family
// for reuse while answering a failed refresh or code exchange of its
// client, so a revocation inside such a request's window was one.
func (b *Backend) markReuse(tokens []console.Token) {
	var failed []control.Entry
	for _, e := range b.o.Plane.Journal.List(control.Filter{}) {
		if e.Status >= 400 && (e.GrantType == string(core.GrantRefreshToken) || e.GrantType == string(core.GrantAuthorizationCode)) {
			failed = append(failed, e)
		}
	}
	for i := range tokens {
		t := &tokens[i]
		if t.Revoked.IsZero() {
			continue
		}
		for _, e := range failed {
			if from, to := window(&e); e.ClientID == t.ClientID && !t.Revoked.Before(from) && !t.Revoked.After(to) {
				t.RevokedByReuse = true
				break
			}
		}
	}
}

// ---- clients, users, authorizations ----

func (b *Backend) Clients(context.Context) ([]config.Client, error) {
	out, err := b.api.Clients()
	return out, apiError(err)
}

// save creates (POST to collection) or replaces (PUT to collection/id).
func (b *Backend) save(ctx context.Context, collection, id string, v any, create bool) error {
	if create {
		return apiError(b.api.Do(ctx, http.MethodPost, collection, v, nil))
	}
	return apiError(b.api.Do(ctx, http.MethodPut, collection+"/"+url.PathEscape(id), v, nil))
}

func (b *Backend) SaveClient(ctx context.Context, c config.Client, create bool) error {
	return b.save(ctx, "/clients", c.ClientID, c, create)
}

func (b *Backend) DeleteClient(_ context.Context, id string) error {
	return apiError(b.api.DeleteClient(id))
}

func (b *Backend) Users(context.Context) ([]config.User, error) {
	out, err := b.api.Users()
	return out, apiError(err)
}

func (b *Backend) SaveUser(ctx context.Context, u config.User, create bool) error {
	return b.save(ctx, "/users", u.UserID, u, create)
}

func (b *Backend) DeleteUser(_ context.Context, id string) error {
	return apiError(b.api.DeleteUser(id))
}

func (b *Backend) Authorizations(context.Context) ([]config.Authorization, error) {
	out, err := b.api.Authorizations()
	return out, apiError(err)
}

func (b *Backend) SaveAuthorization(ctx context.Context, a config.Authorization, create bool) error {
	return b.save(ctx, "/authorizations", strconv.FormatInt(a.AuthID, 10), a, create)
}

func (b *Backend) DeleteAuthorization(_ context.Context, id int64) error {
	return apiError(b.api.DeleteAuthorization(id))
}

// ---- faults ----

func (b *Backend) Faults(context.Context) ([]console.Fault, error) {
	rules, err := b.api.Faults()
	if err != nil {
		return nil, apiError(err)
	}
	out := make([]console.Fault, 0, len(rules))
	for _, r := range rules {
		out = append(out, toFault(r))
	}
	return out, nil
}

func toFault(r control.Rule) console.Fault {
	lat, _ := time.ParseDuration(r.Latency)
	return console.Fault{ID: r.ID, Dialect: r.Dialect, Route: r.Route, ClientID: r.ClientID, GrantType: r.GrantType,
		Status: r.Status, Code: r.Code, Text: r.Text, Latency: lat, Drop: r.Drop, Count: r.Count, Probability: r.Prob, Hits: r.Hits}
}

func (b *Backend) AddFault(_ context.Context, f console.Fault) (console.Fault, error) {
	r := control.Rule{Dialect: f.Dialect, Route: f.Route, ClientID: f.ClientID, GrantType: f.GrantType, Status: f.Status,
		Code: f.Code, Text: f.Text, Drop: f.Drop, Count: f.Count, Prob: f.Probability}
	if f.Latency != 0 {
		r.Latency = f.Latency.String()
	}
	out, err := b.api.AddFault(r)
	if err != nil {
		return console.Fault{}, apiError(err)
	}
	return toFault(out), nil
}

func (b *Backend) DeleteFault(_ context.Context, id string) error {
	return apiError(b.api.DeleteFault(id))
}

// ---- clock ----

func (b *Backend) Clock(ctx context.Context) (console.ClockState, error) {
	if err := b.o.Plane.Sync(ctx); err != nil { // another replica may have moved it
		return console.ClockState{}, err
	}
	off, frozen := b.o.Clock.Offset()
	return console.ClockState{Now: b.o.Clock.Now(), Offset: off, Frozen: frozen}, nil
}

func (b *Backend) MoveClock(ctx context.Context, m console.ClockMove) (console.ClockState, error) {
	var ch admin.ClockChange
	switch {
	case m.Advance != 0:
		ch.Advance = m.Advance.String()
	case !m.Set.IsZero():
		ch.Set = m.Set.Format(time.RFC3339Nano)
	case m.Freeze != nil:
		ch.Freeze = m.Freeze
	default:
		ch.Reset = true
	}
	if _, err := b.api.ChangeClock(ch); err != nil {
		return console.ClockState{}, apiError(err)
	}
	return b.Clock(ctx)
}
