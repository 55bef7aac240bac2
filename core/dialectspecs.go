package core

import (
	"context"
	"errors"
	"time"
)

// DialectSpec is a dialect instance added at run time (the admin API's
// POST /_admin/dialects): its name, type, where it is mounted and the text
// of its spec. The engine stores it so every replica on the same database
// serves it and it survives a restart; what the text means is the
// dialect's business, never the engine's.
type DialectSpec struct {
	Name      string // the instance name, unique among every instance
	Type      string // the dialect type, e.g. "declared"
	Prefix    string // path prefix, "" for none
	Listen    string // listen address, "" for the main one
	Spec      string // the spec text as sent
	CreatedAt time.Time
}

// DialectStore keeps the dialect instances added at run time. Every Store
// is one. A store shared by replicas (a core.ControlStore) bumps its
// control version with each change, so the others notice.
type DialectStore interface {
	// InsertDialectSpec stores a new spec; a name in use is ErrConflict.
	InsertDialectSpec(ctx context.Context, s *DialectSpec) error
	// ListDialectSpecs returns every stored spec, oldest CreatedAt first.
	ListDialectSpecs(ctx context.Context) ([]*DialectSpec, error)
	// DeleteDialectSpec deletes the spec of name; none is ErrNotFound.
	DeleteDialectSpec(ctx context.Context, name string) error
}

// ListDialectSpecs returns the dialect instances added at run time, oldest first.
func (e *Engine) ListDialectSpecs(ctx context.Context) ([]*DialectSpec, error) {
	list, err := e.store.ListDialectSpecs(ctx)
	return list, storeErrorOrNil(err)
}

// CreateDialectSpec stores a dialect instance added at run time, created
// now by the engine clock. A name already stored is a conflict on "name".
// Whether the spec is valid and its routes free is the caller's check.
func (e *Engine) CreateDialectSpec(ctx context.Context, s *DialectSpec) (*DialectSpec, error) {
	switch {
	case s.Name == "":
		return nil, required("name")
	case s.Type == "":
		return nil, required("type")
	case s.Spec == "":
		return nil, required("spec")
	}
	ns := *s
	ns.CreatedAt = e.clock.Now()
	if err := e.store.InsertDialectSpec(ctx, &ns); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, conflict("name", "a dialect named "+s.Name+" was already added")
		}
		return nil, storeError(err)
	}
	return &ns, nil
}

// DeleteDialectSpec deletes a dialect instance added at run time.
func (e *Engine) DeleteDialectSpec(ctx context.Context, name string) error {
	_, err := found(0, e.store.DeleteDialectSpec(ctx, name), "dialect", "name", name)
	return err
}
