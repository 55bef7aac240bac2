package console

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/config"
)

// fakeBackend is an in-memory Backend for handler tests.
type fakeBackend struct {
	mu       sync.Mutex
	clients  []config.Client
	requests []Request
	tokens   []Token
	faults   []Fault
	clock    ClockState
	moves    []ClockMove
	watch    *fakeWatch
	busy     bool
	added    []Dialect
}

func newFake() *fakeBackend {
	return &fakeBackend{clients: []config.Client{{ClientID: "demo-client", Grants: []string{"client_credentials"}}},
		clock: ClockState{Now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}}
}

func (f *fakeBackend) Dialects() []Dialect {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Dialect{{Name: "hurdlr", Type: "hurdlr", Listen: "127.0.0.1:8080", Routes: []Route{{"POST", "/rest/v5/accountant/token"}}}},
		f.added...)
}

func (f *fakeBackend) Dialect(_ context.Context, name string) (Dialect, error) {
	for _, d := range f.Dialects() {
		if d.Name == name {
			return d, nil
		}
	}
	return Dialect{}, ErrNotFound
}

// AddDialect takes a spec whose text names the routes, one per line as
// "METHOD /path"; anything else is a problem at that line.
func (f *fakeBackend) AddDialect(_ context.Context, nd NewDialect) (Dialect, error) {
	d := Dialect{Name: cmp.Or(nd.Name, "declared"), Type: "declared", Prefix: nd.Prefix, Runtime: true, Spec: nd.Spec}
	var problems []string
	for i, line := range strings.Split(strings.TrimSpace(nd.Spec), "\n") {
		method, path, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			problems = append(problems, fmt.Sprintf("spec: routes[%d]: not a route (line %d)", i, i+1))
			continue
		}
		d.Routes = append(d.Routes, Route{method, nd.Prefix + path})
	}
	if problems != nil {
		return Dialect{}, &InputError{Field: "spec", Problems: problems}
	}
	if _, err := f.Dialect(context.Background(), d.Name); err == nil {
		return Dialect{}, &InputError{Field: "name", Problems: []string{"name: taken"}, Conflict: true}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, d)
	return d, nil
}

func (f *fakeBackend) RemoveDialect(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "hurdlr" {
		return &InputError{Field: "name", Problems: []string{"hurdlr comes from the config file"}, Conflict: true}
	}
	i := slices.IndexFunc(f.added, func(d Dialect) bool { return d.Name == name })
	if i < 0 {
		return ErrNotFound
	}
	f.added = slices.Delete(f.added, i, i+1)
	return nil
}

func (f *fakeBackend) Overview(context.Context) (Overview, error) {
	return Overview{Storage: "sqlite", Clients: len(f.clients), Clock: f.clock}, nil
}

func (f *fakeBackend) Requests(_ context.Context, limit int) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if limit > 0 && limit < len(f.requests) {
		return f.requests[:limit], nil
	}
	return slices.Clone(f.requests), nil
}

func (f *fakeBackend) Request(_ context.Context, id string) (Request, error) {
	for _, r := range f.requests {
		if r.ID == id {
			return r, nil
		}
	}
	return Request{}, ErrNotFound
}

func (f *fakeBackend) Watch() (Watch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return nil, ErrBusy
	}
	f.watch = &fakeWatch{ch: make(chan Request, 8), closed: make(chan struct{})}
	return f.watch, nil
}

func (f *fakeBackend) currentWatch() *fakeWatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watch
}

func (f *fakeBackend) Tokens(_ context.Context, q TokenQuery) ([]Token, error) {
	var out []Token
	for _, t := range f.tokens {
		if (q.ClientID == "" || t.ClientID == q.ClientID) && (q.FamilyID == "" || t.FamilyID == q.FamilyID) &&
			(!q.LiveOnly || tokenState(&t, f.clock.Now) == stateActive) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeBackend) Clients(context.Context) ([]config.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.clients), nil
}

func (f *fakeBackend) SaveClient(_ context.Context, c config.Client, create bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.clients, func(x config.Client) bool { return x.ClientID == c.ClientID })
	switch {
	case c.ClientID == "":
		return &InputError{Field: "client_id", Problems: []string{"client_id: is required"}}
	case create && i >= 0:
		return &InputError{Field: "client_id", Problems: []string{"client_id: exists"}, Conflict: true}
	case i >= 0:
		f.clients[i] = c
	default:
		f.clients = append(f.clients, c)
	}
	return nil
}

func (f *fakeBackend) DeleteClient(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.clients, func(x config.Client) bool { return x.ClientID == id })
	if i < 0 {
		return ErrNotFound
	}
	f.clients = slices.Delete(f.clients, i, i+1)
	return nil
}

func (f *fakeBackend) Users(context.Context) ([]config.User, error) { return nil, nil }
func (f *fakeBackend) SaveUser(context.Context, config.User, bool) error {
	return nil
}
func (f *fakeBackend) DeleteUser(context.Context, string) error { return nil }
func (f *fakeBackend) Authorizations(context.Context) ([]config.Authorization, error) {
	return nil, nil
}
func (f *fakeBackend) SaveAuthorization(context.Context, config.Authorization, bool) error {
	return nil
}
func (f *fakeBackend) DeleteAuthorization(context.Context, int64) error { return nil }

func (f *fakeBackend) Faults(context.Context) ([]Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.faults), nil
}

func (f *fakeBackend) AddFault(_ context.Context, r Fault) (Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.ID = "f1"
	f.faults = append(f.faults, r)
	return r, nil
}

func (f *fakeBackend) DeleteFault(context.Context, string) error { return nil }

func (f *fakeBackend) Clock(context.Context) (ClockState, error) { return f.clock, nil }

func (f *fakeBackend) MoveClock(_ context.Context, m ClockMove) (ClockState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moves = append(f.moves, m)
	f.clock.Now = target(f.clock, m)
	return f.clock, nil
}

type fakeWatch struct {
	ch      chan Request
	dropped atomic.Int64
	closed  chan struct{}
	once    sync.Once
}

func (w *fakeWatch) Requests() <-chan Request { return w.ch }
func (w *fakeWatch) Dropped() int64           { return w.dropped.Load() }
func (w *fakeWatch) Close()                   { w.once.Do(func() { close(w.closed) }) }
