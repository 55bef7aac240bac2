// Package dynamic keeps the dialect instances added at run time (POST
// /_admin/dialects) mounted: it validates a declared spec, mounts it on the
// gateway next to the config's instances, stores it through the engine so
// it survives a restart, and brings every replica on the same database in
// step (Reconcile, run when the shared control version moves). It
// implements admin.Dialects.
//
// It imports no gorm or storage package.
package dynamic

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/declared"
	"github.com/tokengate/tokengate/dialects/declared/spec"
	"github.com/tokengate/tokengate/dialects/gateway"
)

// Manager mounts, stores and removes the dialects added at run time.
type Manager struct {
	engine  *core.Engine
	gateway *gateway.Gateway
	log     *slog.Logger

	mu      sync.Mutex                   // serialises Add, Remove and Reconcile
	mounted map[string]*core.DialectSpec // what this replica mounted, by name
}

var _ admin.Dialects = (*Manager)(nil)

// New returns a manager adding dialects to g and storing them through e.
func New(e *core.Engine, g *gateway.Gateway, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{engine: e, gateway: g, log: log, mounted: map[string]*core.DialectSpec{}}
}

// Add validates, mounts and stores a declared dialect. The spec's problems
// come back as a *config.ValidationError ("spec: routes[0].path: ... (line
// 7)"); routes another instance claims as a *dialects.CollisionError; a
// name in use (here or stored by another replica) as a conflict.
func (m *Manager) Add(ctx context.Context, req admin.DialectRequest) (admin.Dialect, error) {
	if req.Type != "" && req.Type != declared.Type {
		return admin.Dialect{}, &core.Error{Kind: core.KindInvalidRequest, Param: "type", Value: req.Type,
			Description: "only declared dialects are added at run time"}
	}
	s, err := spec.Parse([]byte(req.Spec))
	if err != nil {
		return admin.Dialect{}, specProblems(err)
	}
	name := cmp.Or(req.Name, s.Name)
	if !config.IsInstanceName(name) {
		return admin.Dialect{}, &core.Error{Kind: core.KindInvalidRequest, Param: "name", Value: name,
			Description: fmt.Sprintf("%q is not a dialect name (letters, digits, '.', '_' and '-')", name)}
	}
	if req.Prefix != "" && (req.Prefix[0] != '/' || req.Prefix == "/") {
		return admin.Dialect{}, &core.Error{Kind: core.KindInvalidRequest, Param: "prefix", Value: req.Prefix,
			Description: "must start with / (e.g. /acme), or be empty"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ds := &core.DialectSpec{Name: name, Type: declared.Type, Prefix: req.Prefix, Listen: req.Listen, Spec: req.Spec}
	if err := m.mount(ctx, ds, s); err != nil {
		return admin.Dialect{}, err
	}
	stored, err := m.engine.CreateDialectSpec(ctx, ds)
	if err != nil {
		_ = m.gateway.RemoveInstance(name)
		return admin.Dialect{}, err
	}
	m.mounted[name] = stored
	return m.info(m.gateway.Instance(name)), nil
}

// mount mounts ds, its spec already parsed as s, on the gateway.
func (m *Manager) mount(ctx context.Context, ds *core.DialectSpec, s *spec.Spec) error {
	p := dialects.Provide(dialects.Instance{Name: ds.Name, Type: ds.Type}, declared.FromSpec(ds.Name, s), ds.Listen, ds.Prefix)
	return m.gateway.AddInstance(ctx, p)
}

// specProblems turns a spec's validation error into the config kind the
// admin API answers 400 with, each line under the spec key.
func specProblems(err error) error {
	ve, ok := errors.AsType[*spec.ValidationError](err)
	if !ok {
		return err
	}
	var p config.Problems
	for _, line := range ve.Lines() {
		p.Add("spec", "%s", line)
	}
	return p.Err()
}

// Remove unmounts and forgets a dialect added at run time. A config
// instance is a conflict, an unknown name not_found.
func (m *Manager) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mounted[name] == nil {
		if m.gateway.Instance(name) != nil {
			return m.gateway.RemoveInstance(name) // a config instance: the gateway says why not
		}
		// Stored by a replica but not mountable here, or unknown.
		return m.engine.DeleteDialectSpec(ctx, name)
	}
	if err := m.engine.DeleteDialectSpec(ctx, name); err != nil && core.KindOf(err) != core.KindNotFound {
		return err
	}
	delete(m.mounted, name)
	return m.gateway.RemoveInstance(name)
}

// List shows every mounted instance: the config's, then those added at run
// time.
func (m *Manager) List(context.Context) []admin.Dialect {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []admin.Dialect
	for _, p := range m.gateway.Instances() {
		out = append(out, m.info(p))
	}
	return out
}

func (m *Manager) info(p *dialects.Provisioned) admin.Dialect {
	d := admin.Dialect{Name: p.Name, Type: p.Type, Prefix: p.Prefix, Listen: p.Listen, Source: admin.SourceConfig,
		Routes: make([]string, 0, len(p.Routes))}
	for _, r := range p.Routes {
		d.Routes = append(d.Routes, r.String())
	}
	if ds := m.mounted[p.Name]; ds != nil {
		created := ds.CreatedAt
		d.Source, d.CreatedAt, d.Spec = admin.SourceAdmin, &created, ds.Spec
	}
	return d
}

// Reconcile mounts what is stored and not mounted here, and unmounts what
// is mounted here and no longer stored (or stored anew under the same
// name): at start, after the config's instances, and whenever another
// replica changed the shared state. A stored spec this replica cannot
// mount (its routes collide with this replica's config, say) is logged and
// skipped; only a store failure is an error.
func (m *Manager) Reconcile(ctx context.Context) error {
	stored, err := m.engine.ListDialectSpecs(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]*core.DialectSpec{}
	for _, ds := range stored {
		want[ds.Name] = ds
	}
	for _, name := range slices.Sorted(maps.Keys(m.mounted)) {
		if ds := want[name]; ds == nil || !ds.CreatedAt.Equal(m.mounted[name].CreatedAt) {
			if err := m.gateway.RemoveInstance(name); err != nil {
				m.log.Warn("unmounting a dialect removed by another replica failed", "dialect", name, "error", err.Error())
			}
			delete(m.mounted, name)
		}
	}
	for _, ds := range stored {
		if m.mounted[ds.Name] != nil {
			continue
		}
		s, err := spec.Parse([]byte(ds.Spec))
		if err == nil {
			err = m.mount(ctx, ds, s)
		}
		if err != nil {
			m.log.Error("a dialect added at run time cannot be mounted here; remove it with DELETE /_admin/dialects/"+ds.Name,
				"dialect", ds.Name, "error", err.Error())
			continue
		}
		m.mounted[ds.Name] = ds
		m.log.Info("dialect mounted", "dialect", ds.Name, "added", ds.CreatedAt.Format(time.RFC3339))
	}
	return nil
}
