// Package dialects holds everything on the wire: the Dialect contract and
// its registry, and (in sub-packages) one package per vendor API, the shared
// HTTP plumbing, the gateway that assembles echo and the control plane.
//
// Dialects depend on core (and config for their options); they must not
// import gorm or any storage package.
package dialects

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
)

// Dialect is one vendor's wire format on top of the engine.
type Dialect interface {
	// Name is the key in config.dialects and in logs.
	Name() string
	// Mount registers the dialect's routes and prepares it to serve.
	Mount(r Router, deps Deps) error
	// Owns reports whether an unrouted path (404/405) belongs to the
	// dialect, so that even those answers come in its error style.
	Owns(path string) bool
	// RenderError writes err (a *core.Error or anything else, which is
	// rendered as an internal error) in the dialect's own style.
	RenderError(c echo.Context, err error) error
}

// Deps is what a dialect gets to work with.
type Deps struct {
	Engine  *core.Engine
	Logger  *slog.Logger
	Config  config.DialectConfig // its own settings, options included
	Prefix  string               // path prefix the dialect is mounted under, "" for none
	Secrets *Secrets             // process-wide keys (CSRF)
}

// Router is where a dialect adds its routes. It records them so the gateway
// can log them at start and refuse two dialects claiming the same route.
type Router interface {
	Add(method, path string, h echo.HandlerFunc)
}

// Route is one method + path a dialect serves.
type Route struct{ Method, Path string }

func (r Route) String() string { return r.Method + " " + r.Path }

// Factory makes a fresh, unmounted dialect value.
type Factory func() Dialect

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a dialect available by name, in the manner of database/sql
// drivers: each dialect package calls it from init. A second registration of
// a name panics, as it is a programming error.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("dialects: %q registered twice", name))
	}
	registry[name] = f
}

// Lookup returns a new instance of the named dialect.
func Lookup(name string) (Dialect, error) {
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown dialect %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// Names lists the registered dialects, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// HasPathPrefix reports whether path is prefix itself or lies below it.
func HasPathPrefix(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
