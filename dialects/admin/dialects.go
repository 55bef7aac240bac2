package admin

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

// Dialect is a mounted dialect instance as /_admin/dialects shows it.
type Dialect struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Prefix string `json:"prefix"`
	Listen string `json:"listen"`
	// Source is "config" for an instance of the config file, "admin" for
	// one added at run time (only those can be removed).
	Source    string     `json:"source"`
	Routes    []string   `json:"routes"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	// Spec is the spec text of a dialect added at run time (GET of one).
	Spec string `json:"spec,omitempty"`
}

// Sources of a Dialect.
const (
	SourceConfig = "config"
	SourceAdmin  = "admin"
)

// DialectRequest is the body of POST /_admin/dialects: a declared dialect's
// spec text, the instance name (default: the spec's name), its prefix and
// listener (default: the main one).
type DialectRequest struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"` // "declared", the default
	Prefix string `json:"prefix,omitempty"`
	Listen string `json:"listen,omitempty"`
	Spec   string `json:"spec"`
}

// Dialects is what the admin API needs to list, add and remove dialect
// instances at run time (dialects/dynamic implements it). Add and Remove
// fail with a *config.ValidationError for an invalid spec (400), a
// *dialects.CollisionError for routes already claimed (409), or a
// *core.Error (not_found, conflict, invalid_request naming the field).
type Dialects interface {
	List(ctx context.Context) []Dialect
	Add(ctx context.Context, req DialectRequest) (Dialect, error)
	Remove(ctx context.Context, name string) error
}

// WithDialects makes the API list, add and remove dialects through d.
func (a *API) WithDialects(d Dialects) *API {
	a.dialects = d
	return a
}

func (a *API) listDialects(c echo.Context) error {
	list := []Dialect{}
	if a.dialects != nil {
		list = append(list, a.dialects.List(c.Request().Context())...)
	}
	for i := range list {
		list[i].Spec = "" // GET /_admin/dialects/NAME shows it
	}
	return c.JSON(http.StatusOK, list)
}

func (a *API) getDialect(c echo.Context) error {
	if a.dialects != nil {
		for _, d := range a.dialects.List(c.Request().Context()) {
			if d.Name == c.Param("name") {
				return c.JSON(http.StatusOK, d)
			}
		}
	}
	return notFound(c, "dialect", c.Param("name"))
}

func (a *API) addDialect(c echo.Context) error {
	if a.dialects == nil {
		return c.JSON(http.StatusNotImplemented, Problem{Error: "not_implemented", Message: "this gateway adds no dialects at run time"})
	}
	var in DialectRequest
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	if in.Spec == "" {
		return invalid(c, "spec", "is required: the spec's YAML text")
	}
	d, err := a.dialects.Add(c.Request().Context(), in)
	if err != nil {
		return a.dialectFailed(c, err, in.Name)
	}
	return c.JSON(http.StatusCreated, d)
}

func (a *API) removeDialect(c echo.Context) error {
	if a.dialects == nil {
		return notFound(c, "dialect", c.Param("name"))
	}
	if err := a.dialects.Remove(c.Request().Context(), c.Param("name")); err != nil {
		return a.dialectFailed(c, err, c.Param("name"))
	}
	return c.NoContent(http.StatusNoContent)
}

// dialectFailed answers a refused Add or Remove: route collisions 409 with
// every collision listed, an invalid spec 400 with every problem.
func (a *API) dialectFailed(c echo.Context, err error, name string) error {
	if ce, ok := errors.AsType[*dialects.CollisionError](err); ok {
		return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: "prefix",
			Message: "the dialect's routes collide with mounted ones", Problems: ce.Problems})
	}
	if _, ok := errors.AsType[*config.ValidationError](err); ok {
		return a.validationFailed(c, err)
	}
	return failed(c, err, "dialect", name)
}

// knownDialect reports whether name is an enabled instance: one of the
// config file or one added at run time.
func (a *API) knownDialect(ctx context.Context, name string) bool {
	if d, ok := a.cfg.Dialects[name]; ok && d.IsEnabled() {
		return true
	}
	if a.dialects != nil {
		for _, d := range a.dialects.List(ctx) {
			if d.Name == name {
				return true
			}
		}
	}
	return false
}

// withRuntimeDialects is the config as client validation needs it: the
// instances added at run time count as configured.
func (a *API) withRuntimeDialects(ctx context.Context) *config.Config {
	if a.dialects == nil {
		return a.cfg
	}
	cfg := *a.cfg
	cfg.Dialects = maps.Clone(a.cfg.Dialects)
	for _, d := range a.dialects.List(ctx) {
		if _, ok := cfg.Dialects[d.Name]; !ok {
			cfg.Dialects[d.Name] = config.DialectConfig{Type: d.Type}
		}
	}
	return &cfg
}
