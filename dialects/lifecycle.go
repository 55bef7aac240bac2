package dialects

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Provisioned is a configured instance, ready to mount.
type Provisioned struct {
	Instance
	Dialect Dialect
	Listen  string     // the address it is served on: its own listen, or the main one
	Prefix  string     // its path prefix, without a trailing slash
	Facts   wire.Facts // what it declared about its wire
	Routes  []Route    // filled in by Mount
	// outside are the paths it serves outside its prefix (AddOutside).
	outside []string
}

// Owns reports whether a request path (prefix included) belongs to the
// instance: a path it serves outside its prefix, or one below its prefix
// that its dialect claims.
func (p *Provisioned) Owns(path string) bool {
	if slices.Contains(p.outside, path) {
		return true
	}
	if p.Prefix != "" && !HasPathPrefix(path, p.Prefix) {
		return false
	}
	return p.Dialect.Owns(strings.TrimPrefix(path, p.Prefix))
}

// Provision runs the first stage for every enabled instance of c, in name
// order: a fresh dialect of the instance's type, configured. Every problem
// comes back at once in a *config.ValidationError, with full key paths
// ("dialects[hurdlr].require_bearr: unknown key").
func Provision(c *config.Config) ([]*Provisioned, error) {
	var out []*Provisioned
	var problems []string
	for _, name := range c.EnabledDialects() {
		dc := c.Dialects[name]
		inst := Instance{Name: name, Type: dc.InstanceType(name), Config: dc, BaseDir: c.BaseDir}
		d, err := Lookup(inst.Type)
		if err == nil {
			err = d.Configure(inst)
		}
		if err != nil {
			problems = append(problems, instanceProblems(name, err)...)
			continue
		}
		out = append(out, Provide(inst, d, cmp.Or(dc.Listen, c.Listen), dc.Prefix))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, &config.ValidationError{Problems: problems}
	}
	return out, nil
}

// Provide makes a configured dialect a Provisioned instance served on listen
// under prefix, with the wire facts it declares.
func Provide(inst Instance, d Dialect, listen, prefix string) *Provisioned {
	p := &Provisioned{Instance: inst, Dialect: d, Listen: listen, Prefix: strings.TrimSuffix(prefix, "/"),
		Facts: wire.StandardFacts}
	if wf, ok := d.(WireFacts); ok {
		p.Facts = wf.WireFacts()
	}
	return p
}

// instanceProblems puts an instance's problems under its key path: a
// dialect reports "key: message" lines below its options.
func instanceProblems(name string, err error) []string {
	path := "dialects[" + name + "]"
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		return []string{path + ": " + err.Error()}
	}
	out := make([]string, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		if key, _, ok := strings.Cut(p, ": "); ok && key != "" && !strings.ContainsAny(key, " \t") {
			out = append(out, path+"."+p)
		} else {
			out = append(out, path+": "+p)
		}
	}
	return out
}

// BindFunc registers one route of an instance: method and full path
// (prefix included).
type BindFunc func(p *Provisioned, method, path string, h echo.HandlerFunc)

// Claims records which instance claims each route: listen address, method
// and full path -> instance name.
type Claims map[string]string

// Claim records the routes p mounted.
func (cl Claims) Claim(p *Provisioned) {
	for _, r := range p.Routes {
		cl[p.Listen+" "+r.Method+" "+r.Path] = p.Name
	}
}

// Mount runs the second stage: each instance adds its routes, which bind
// registers. Two instances claiming one method and path on one listener are
// refused, and so are the gateway's own paths (/_admin, /healthz). Every
// problem comes back at once in a *config.ValidationError.
func Mount(ps []*Provisioned, deps func(*Provisioned) Deps, bind BindFunc) error {
	return MountClaimed(Claims{}, ps, deps, bind)
}

// MountClaimed is Mount next to routes instances mounted before claim (a
// dialect added at run time); it adds the new claims to claimed.
func MountClaimed(claimed Claims, ps []*Provisioned, deps func(*Provisioned) Deps, bind BindFunc) error {
	var problems, collisions []string
	for _, p := range ps {
		r := &router{p: p, claimed: claimed, bind: bind}
		if err := p.Dialect.Mount(r, deps(p)); err != nil {
			problems = append(problems, instanceProblems(p.Name, err)...)
		}
		collisions = append(collisions, r.problems...)
	}
	switch {
	case len(problems) > 0:
		return &config.ValidationError{Problems: append(problems, collisions...)}
	case len(collisions) > 0:
		return &CollisionError{config.ValidationError{Problems: collisions}}
	}
	return nil
}

// CollisionError is Mount's refusal of routes claimed by another instance
// or by the gateway, and nothing else wrong. It unwraps to the
// *config.ValidationError config check prints.
type CollisionError struct{ config.ValidationError }

func (e *CollisionError) Unwrap() error { return &e.ValidationError }

// router adds an instance's routes under its prefix.
type router struct {
	p        *Provisioned
	claimed  Claims
	bind     BindFunc
	problems []string
}

// ReservedPaths are the gateway's own: no dialect route may lie at or below them.
var ReservedPaths = []string{"/_admin", "/healthz"}

func (r *router) Add(method, path string, h echo.HandlerFunc) { r.add(method, r.p.Prefix+path, h) }

// AddOutside adds a route at path as is, outside the prefix.
func (r *router) AddOutside(method, path string, h echo.HandlerFunc) {
	if r.add(method, path, h) {
		r.p.outside = append(r.p.outside, path)
	}
}

// add claims and binds one route at its full path. A GET route answers HEAD
// too, as net/http users expect: the server sends its headers and drops
// the body.
func (r *router) add(method, full string, h echo.HandlerFunc) bool {
	for _, res := range ReservedPaths {
		if HasPathPrefix(full, res) {
			r.problems = append(r.problems, fmt.Sprintf("dialects[%s]: %s %s is reserved for the gateway (%s)", r.p.Name, method, full, res))
			return false
		}
	}
	key := r.p.Listen + " " + method + " " + full
	if other, dup := r.claimed[key]; dup {
		r.problems = append(r.problems, fmt.Sprintf("dialects[%s]: route collision: %s %s on %s is claimed by dialects %s and %s; "+
			"give one a prefix or its own listen address", r.p.Name, method, full, r.p.Listen, other, r.p.Name))
		return false
	}
	r.claimed[key] = r.p.Name
	r.p.Routes = append(r.p.Routes, Route{Method: method, Path: full})
	r.bind(r.p, method, full, h)
	if method == http.MethodGet {
		r.bind(r.p, http.MethodHead, full, h)
	}
	return true
}

// OutsideRouter is a Router that can also add a route outside the
// instance's prefix, which the instance still owns (its errors come in the
// instance's style): RFC 8414 §3 puts a prefixed issuer's metadata at
// /.well-known/oauth-authorization-server/<prefix>. The gateway's router is
// one.
type OutsideRouter interface {
	Router
	AddOutside(method, path string, h echo.HandlerFunc)
}

// AddOutside adds a route outside the instance's prefix where r can (see
// OutsideRouter); a Router that cannot (a test's recorder) skips it.
func AddOutside(r Router, method, path string, h echo.HandlerFunc) {
	if o, ok := r.(OutsideRouter); ok {
		o.AddOutside(method, path, h)
	}
}

// DryRun provisions c's enabled instances and mounts them on an engine
// over no store, routes only recorded: what config check runs, and what
// describes instances without serving them (tokengate openapi).
func DryRun(c *config.Config) ([]*Provisioned, error) {
	ps, err := Provision(c)
	if err != nil {
		return nil, err
	}
	dry := Deps{Engine: core.New(core.Options{}), Logger: slog.New(slog.DiscardHandler), Secrets: NewSecrets()}
	err = Mount(ps, func(p *Provisioned) Deps { d := dry; d.Prefix = p.Prefix; return d },
		func(*Provisioned, string, string, echo.HandlerFunc) {})
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// Catalog is the registry as config validation sees it: config check and
// serve ask it which types exist and provision every instance on a dry run.
func Catalog() config.Catalog { return catalog{} }

type catalog struct{}

func (catalog) Types() []string { return Types() }

func (catalog) DefaultTypes() []string { return DefaultTypes() }

// CheckDialects configures every enabled instance and mounts it on a dry
// run (an engine over no store, routes only recorded), so that config check
// finds everything serve would refuse for a config reason: options, files
// they name, route collisions.
func (catalog) CheckDialects(c *config.Config) []string {
	_, err := DryRun(c)
	var ve *config.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return ve.Problems
	}
	return []string{err.Error()}
}
