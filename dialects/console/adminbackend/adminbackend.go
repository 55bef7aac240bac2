// Package adminbackend is the console's Backend: an adapter over the
// admin API, the engine and the control plane. State changes, fault rules,
// clock moves and dialects added at run time go through the admin API
// itself (served in process, without a socket), so they validate,
// invalidate caches and reach other replicas exactly as the API's do;
// reads come from the engine, the journal and the clock. What a request
// did with tokens (its family, reuse detection) and why a token was
// revoked are the engine's own records, never inferred here.
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
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
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
	// Plane is the control plane; New gives it a live feed (Plane.Live)
	// unless it has one, which the console's live views subscribe to.
	Plane *control.Plane
	// Dialects lists, adds and removes the mounted dialect instances (the
	// admin API's; nil: none are listed and none can be added).
	Dialects admin.Dialects
	// Addr is the bound address of a configured listen address, "" before
	// the gateway listens.
	Addr func(configured string) string
	// MaxWatchers bounds the live journal views (default 8); each buffers
	// WatchBuffer requests (default 256) before it drops.
	MaxWatchers, WatchBuffer int
}

// Backend implements console.Backend.
type Backend struct {
	o   Options
	api *admin.Client
}

var _ console.Backend = (*Backend)(nil)

// New builds the adapter. Set the plane's live feed up before the gateway
// serves: New does when the plane has none.
func New(o Options) *Backend {
	if o.MaxWatchers <= 0 {
		o.MaxWatchers = 8
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = 256
	}
	if o.Plane.Live == nil {
		o.Plane.Live = fanout.New[control.Entry](o.MaxWatchers, o.WatchBuffer)
	}
	e := echo.New()
	api := admin.New(o.Config, o.Engine, o.Clock, o.Plane)
	if o.Dialects != nil {
		api.WithDialects(o.Dialects)
	}
	api.Mount(e)
	client := &admin.Client{BaseURL: "http://in-process", Token: o.Config.AdminToken, HTTP: &http.Client{Transport: inProcess{e}}}
	return &Backend{o: o, api: client}
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

// ---- overview ----

func (b *Backend) addr(configured string) string {
	if b.o.Addr != nil {
		if a := b.o.Addr(configured); a != "" {
			return a
		}
	}
	return configured
}

// Dialects lists the mounted instances: the config's, then those added
// at run time.
func (b *Backend) Dialects() []console.Dialect {
	if b.o.Dialects == nil {
		return nil
	}
	list := b.o.Dialects.List(context.Background())
	out := make([]console.Dialect, 0, len(list))
	for _, d := range list {
		out = append(out, b.toDialect(d))
	}
	return out
}

func (b *Backend) toDialect(d admin.Dialect) console.Dialect {
	listen := d.Listen
	if listen == "" {
		listen = b.o.Config.Listen
	}
	out := console.Dialect{Name: d.Name, Type: d.Type, Listen: b.addr(listen), Prefix: d.Prefix,
		Runtime: d.Source == admin.SourceAdmin, Spec: d.Spec}
	if d.CreatedAt != nil {
		out.Added = *d.CreatedAt
	}
	for _, r := range d.Routes {
		method, path, _ := strings.Cut(r, " ")
		out.Routes = append(out.Routes, console.Route{Method: method, Path: path})
	}
	return out
}

func (b *Backend) Dialect(_ context.Context, name string) (console.Dialect, error) {
	d, err := b.api.GetDialect(name)
	if err != nil {
		return console.Dialect{}, apiError(err)
	}
	return b.toDialect(d), nil
}

func (b *Backend) AddDialect(_ context.Context, nd console.NewDialect) (console.Dialect, error) {
	d, err := b.api.AddDialect(admin.DialectRequest{Name: nd.Name, Prefix: nd.Prefix, Spec: nd.Spec})
	if err != nil {
		return console.Dialect{}, apiError(err)
	}
	return b.toDialect(d), nil
}

func (b *Backend) RemoveDialect(_ context.Context, name string) error {
	return apiError(b.api.RemoveDialect(name))
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
// field share an id, and then either one is the right one to show. (The
// gateway's request id is a client's choice when it sent a sane one, so
// it names no entry for sure.)
func requestID(e *control.Entry) string {
	raw, _ := json.Marshal(e)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:10])
}

func toRequest(e control.Entry) console.Request {
	return console.Request{ID: requestID(&e), RequestID: e.RequestID, Time: e.Time, Replica: e.Replica, Dialect: e.Dialect,
		Route: e.Route, Method: e.Method, ClientID: e.ClientID, GrantType: e.GrantType, Status: e.Status,
		Latency: time.Duration(e.LatencyMS * float64(time.Millisecond)), Error: e.Error, ErrorID: e.ErrorID,
		Fault: e.Fault, Headers: e.Headers, Params: e.Params, Family: console.FamilyRef{ID: e.Family}, Reuse: e.Reuse}
}

func (b *Backend) Requests(_ context.Context, limit int) ([]console.Request, error) {
	entries := b.o.Plane.Journal.List(control.Filter{Limit: limit})
	out := make([]console.Request, 0, len(entries))
	for _, e := range entries {
		out = append(out, toRequest(e))
	}
	return out, nil
}

// Request finds one journaled request; its family's client is read from
// the family's tokens (a request of the device verification page presents
// no client id).
func (b *Backend) Request(ctx context.Context, id string) (console.Request, error) {
	for _, e := range b.o.Plane.Journal.List(control.Filter{}) {
		if requestID(&e) != id {
			continue
		}
		r := toRequest(e)
		if r.Family.ID == "" {
			return r, nil
		}
		tokens, err := b.o.Engine.ListTokens(ctx, core.TokenFilter{FamilyID: r.Family.ID, Limit: 1})
		if err != nil {
			return r, err
		}
		if len(tokens) == 0 { // swept, or deleted by a reset
			r.Family = console.FamilyRef{}
			return r, nil
		}
		r.Family.ClientID = tokens[0].ClientID
		return r, nil
	}
	return console.Request{}, console.ErrNotFound
}

func (b *Backend) Watch() (console.Watch, error) {
	sub, err := b.o.Plane.Live.Subscribe()
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
	if limit <= 0 || q.LiveOnly {
		limit = readLimit // filtered below, so read more than asked for
	}
	list, err := b.o.Engine.ListTokens(ctx, core.TokenFilter{ClientID: q.ClientID, FamilyID: q.FamilyID, Limit: limit})
	if err != nil {
		return nil, err
	}
	now := b.o.Clock.Now()
	var out []console.Token
	for _, t := range list {
		if q.LiveOnly && !t.Active(now) {
			continue
		}
		out = append(out, console.Token{ID: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID,
			Dialect: t.Dialect, Scopes: t.Scopes, FamilyID: t.FamilyID, Issued: t.IssuedAt, Expires: t.ExpiresAt,
			Consumed: t.ConsumedAt, Revoked: t.RevokedAt, RevokeReason: string(t.Details.RevokedReason),
			RevokedByReuse: t.Details.RevokedReason == core.RevokeReuse, Replayed: t.Details.Replayed})
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
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
