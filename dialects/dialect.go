// Package dialects holds everything on the wire: the Dialect contract, its
// registry and lifecycle, and (in sub-packages) one package per vendor API,
// the shared HTTP plumbing, the gateway that assembles echo and the control
// plane.
//
// Dialects depend on core (and config for their options); they must not
// import gorm or any storage package.
package dialects

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Dialect is one instance of a vendor's wire format on top of the engine.
// Its lifecycle has two stages: Configure (options only: runs in config
// check and before storage opens), then Mount (routes on a ready engine).
type Dialect interface {
	// Configure decodes and validates the instance's options, reading any
	// file they name. It reports every problem at once, each with its key
	// path below the options (config.DecodeOptions and config.Problems do
	// that). It must not touch the engine: it runs in config check.
	Configure(inst Instance) error
	// Mount registers the instance's routes and builds what it serves
	// with. It also runs on config check's dry run, with an engine over no
	// store, so it must not touch storage (see Starter).
	Mount(r Router, deps Deps) error
	// Owns reports whether an unrouted path (404/405) belongs to the
	// dialect, so that even those answers come in its error style.
	Owns(path string) bool
	// Describe maps a domain error to the answer the dialect gives for it
	// (its kind and reason table).
	Describe(c echo.Context, e *core.Error) wire.Answer
	// WriteError writes an answer in the dialect's envelope. Every error
	// answer goes through it, via RenderError.
	WriteError(c echo.Context, a wire.Answer) error
}

// Instance is one entry under dialects: in the config.
type Instance struct {
	// Name is the config key; tokens, the journal, faults and logs use it.
	Name string
	// Type is the registered dialect type.
	Type   string
	Config config.DialectConfig
	// BaseDir is where relative file names in the options are read from
	// (the config file's directory; "" for the working directory).
	BaseDir string
}

// Path resolves a file name given in the instance's options.
func (inst Instance) Path(name string) string {
	if name == "" || filepath.IsAbs(name) || inst.BaseDir == "" {
		return name
	}
	return filepath.Join(inst.BaseDir, name)
}

// WireFacts is implemented by a dialect whose wire differs from RFC 6749's
// (wire.StandardFacts): what the control plane must redact and where it
// finds the client id and grant type.
type WireFacts interface {
	WireFacts() wire.Facts
}

// Starter is implemented by a dialect that must touch storage before it
// serves (Acceleration loads its signing keys). The gateway calls Start
// after every instance is mounted; config check never does.
type Starter interface {
	Start(ctx context.Context) error
}

// Describer is implemented by a dialect that describes its wire as an
// OpenAPI 3.1 document (YAML or JSON): its routes, parameters, bodies,
// responses and error envelopes, with paths relative to the instance's
// prefix. dialects/openapi adds the prefix, keeps only the routes the
// instance mounted and serves it. It is called after Mount, so the
// document may reflect the instance's options.
type Describer interface {
	OpenAPI() ([]byte, error)
}

// Deps is what a dialect mounts with.
type Deps struct {
	Engine  *core.Engine
	Logger  *slog.Logger
	Prefix  string   // path prefix the instance is mounted under, "" for none
	Secrets *Secrets // process-wide keys (CSRF)
}

// Router is where a dialect adds its routes. It records them so the gateway
// can log them at start and refuse two instances claiming the same route.
type Router interface {
	Add(method, path string, h echo.HandlerFunc)
}

// Route is one method + path a dialect serves.
type Route struct{ Method, Path string }

func (r Route) String() string { return r.Method + " " + r.Path }

// Factory makes a fresh, unconfigured dialect value.
type Factory func() Dialect

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
	optIn      = map[string]bool{}
)

// Register makes a dialect type available, in the manner of database/sql
// drivers: each dialect package calls it from init. The registry is the
// only list of dialect types. A second registration of a type panics, as
// it is a programming error.
func Register(typ string, f Factory) { register(typ, f, false) }

// RegisterOptIn registers a type that works only with options (declared
// needs its spec): a config without a dialects key, which enables every
// type under its own name, leaves it out.
func RegisterOptIn(typ string, f Factory) { register(typ, f, true) }

func register(typ string, f Factory, opt bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic(fmt.Sprintf("dialects: %q registered twice", typ))
	}
	registry[typ] = f
	optIn[typ] = opt
}

// Lookup returns a new, unconfigured dialect of type typ.
func Lookup(typ string) (Dialect, error) {
	registryMu.RLock()
	f, ok := registry[typ]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown dialect type %q (known: %s)", typ, strings.Join(Types(), ", "))
	}
	return f(), nil
}

// Types lists the registered dialect types, sorted.
func Types() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	types := make([]string, 0, len(registry))
	for n := range registry {
		types = append(types, n)
	}
	sort.Strings(types)
	return types
}

// DefaultTypes lists the registered types enabled when a config names
// none, sorted: every type but the opt-in ones.
func DefaultTypes() []string {
	out := Types()
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.DeleteFunc(out, func(t string) bool { return optIn[t] })
}

// HasPathPrefix reports whether path is prefix itself or lies below it.
func HasPathPrefix(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
