package declared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/declared/spec"
	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Type is the dialect type: `type: declared` in the config.
const Type = "declared"

// A declared instance needs its spec, so a config without a dialects key
// (every type enabled under its own name) leaves it out.
func init() { dialects.RegisterOptIn(Type, func() dialects.Dialect { return &Dialect{} }) }

// Options are the instance's own config keys.
type Options struct {
	// Spec names the spec file, relative to the config file's directory.
	Spec string `yaml:"spec"`
}

// Dialect serves one spec. It implements dialects.Dialect, WireFacts,
// Describer (a document generated from the spec) and Starter (a spec with
// JWT tokens loads its key ring at start).
type Dialect struct {
	inst    dialects.Instance
	file    string // the spec file as configured; "" for one added at run time
	spec    *spec.Spec
	engine  *core.Engine
	profile *core.Profile
	ring    *core.KeyRing // nil unless a token format is a JWT
	prefix  string
	doc     *yaml.Node // the OpenAPI document, generated at Mount
	docErr  error
	docOnce sync.Once
	docText []byte
}

// FromSpec returns an instance called name serving s, already configured:
// a dialect added at run time (package dynamic).
func FromSpec(name string, s *spec.Spec) *Dialect {
	return &Dialect{inst: dialects.Instance{Name: name, Type: Type}, spec: s}
}

// Spec is the spec the instance serves.
func (d *Dialect) Spec() *spec.Spec { return d.spec }

// Configure reads and parses the spec file; every problem of the spec is
// reported under the spec key, prefixed with the file as configured
// ("spec: vendors/slack.yaml: routes[0].path: ... (line 7)").
func (d *Dialect) Configure(inst dialects.Instance) error {
	d.inst = inst
	var opts Options
	var p config.Problems
	p.Merge(inst.Config.DecodeOptions(&opts))
	d.file = opts.Spec
	if opts.Spec == "" {
		p.Add("spec", "is required: the spec file, relative to the config file")
		return p.Err()
	}
	data, err := os.ReadFile(inst.Path(opts.Spec))
	if err != nil {
		p.Add("spec", "%s: %v", opts.Spec, errors.Unwrap(err))
		return p.Err()
	}
	d.spec, err = spec.Parse(data)
	var ve *spec.ValidationError
	switch {
	case errors.As(err, &ve):
		for _, line := range ve.Lines() {
			p.Add("spec", "%s: %s", opts.Spec, line)
		}
	case err != nil:
		p.Add("spec", "%s: %v", opts.Spec, err)
	}
	return p.Err()
}

// Owns claims the spec's base_path.
func (d *Dialect) Owns(path string) bool { return d.spec != nil && d.spec.Owns(path) }

// WireFacts: where the spec's inputs say the client id and grant travel,
// and every secret they name (the login page's CSRF token too).
func (d *Dialect) WireFacts() wire.Facts {
	s := d.spec
	f := wire.Facts{SecretParams: s.SecretParams(), SecretHeaders: s.SecretHeaders(),
		ClientIDParams: s.ClientIDParams(), ClientIDBasic: s.ClientIDBasic(), GrantParams: s.GrantParams()}
	if hs := s.ClientIDHeaders(); len(hs) > 0 {
		f.ClientIDHeader = hs[0]
	}
	for _, rt := range s.Routes {
		if rt.Operation == spec.OpAuthorize {
			f.SecretParams = append(f.SecretParams, loginpage.SecretParams...)
			break
		}
	}
	return f
}

// Mount binds every route to its engine operation. The instance's
// access_token_ttl and refresh_token_ttl override the spec's lifetimes.
func (d *Dialect) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine, d.prefix = deps.Engine, deps.Prefix
	if d.spec.NeedsSigningKey() {
		ring, err := deps.Engine.KeyRing(core.KeyRingOptions{Owner: d.inst.Name, Logger: deps.Logger})
		if err != nil {
			return err
		}
		d.ring = ring
	}
	p, err := d.spec.Profile(d.inst.Name, deps.Engine.Rand(), d.ring)
	if err != nil {
		return err
	}
	p.Type = d.inst.Type
	if ttl := time.Duration(d.inst.Config.AccessTokenTTL); ttl > 0 {
		p.AccessTTL = ttl
	}
	if ttl := time.Duration(d.inst.Config.RefreshTokenTTL); ttl > 0 {
		p.RefreshTTL = ttl
	}
	d.profile = p
	for _, rt := range d.spec.Routes {
		h := &handler{d: d, rt: rt, readsQuery: reads(rt, spec.SourceQuery),
			readsBasic:    reads(rt, spec.SourceBasicID|spec.SourceBasicSecret),
			authenticates: rt.Operation == spec.OpRevoke || hasInput(rt, spec.InputClientSecret),
			usesUser:      rt.Response != nil && rt.Response.Body != nil && rt.Response.Body.UsesUser()}
		if rt.Operation == spec.OpAuthorize {
			page := &loginpage.Page{Engine: deps.Engine, Profile: p, Secrets: deps.Secrets, Action: deps.Prefix + rt.Path,
				Brand: loginpage.Brand{Product: d.spec.Title, Heading: or(rt.Page.Heading, "Sign in"),
					Accent: or(rt.Page.Accent, "#444444")}}
			r.Add(http.MethodGet, rt.Path, page.Show)
			r.Add(http.MethodPost, rt.Path, page.Submit)
			continue
		}
		serve, ok := map[spec.Operation]echo.HandlerFunc{spec.OpToken: h.token, spec.OpIntrospect: h.introspect,
			spec.OpUserinfo: h.userinfo, spec.OpRevoke: h.revoke, spec.OpJWKS: h.jwks, spec.OpStatic: h.static}[rt.Operation]
		if !ok {
			return fmt.Errorf("operation %q has no handler", rt.Operation)
		}
		r.Add(rt.Method, rt.Path, serve)
	}
	d.doc, d.docErr = d.describe()
	return nil
}

// Start loads the signing keys of a spec with JWT tokens, so a broken store
// fails the start rather than the first request.
func (d *Dialect) Start(ctx context.Context) error {
	if d.ring == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.ring.Load(ctx); err != nil {
		return fmt.Errorf("loading the signing keys: %w", err)
	}
	return nil
}

// DefaultAccessTokenTTL is the spec's access-token lifetime: how long a
// rotated-out signing key stays published (`tokengate keys rotate`).
func (d *Dialect) DefaultAccessTokenTTL() time.Duration {
	if d.spec == nil {
		return core.DefaultAccessTTL
	}
	return d.spec.Tokens.Access.Lifetime
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// reads reports whether a route reads a source of the kinds given.
func reads(rt *spec.Route, kinds spec.SourceKind) bool {
	for _, in := range rt.Inputs {
		for _, s := range in.Sources {
			if s.Kind&kinds != 0 {
				return true
			}
		}
	}
	return false
}

func hasInput(rt *spec.Route, name string) bool {
	for _, in := range rt.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// values starts the values of an answer: the engine's now and the base URL.
func (d *Dialect) values(c echo.Context) spec.Values {
	return spec.Values{Now: d.engine.Now(), BaseURL: d.baseURL(c)}
}

// baseURL is the scheme, host and prefix the request reached the instance at.
func (d *Dialect) baseURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + d.prefix
}

// grantKey is where a request's engine grant is kept for the error rules.
const grantKey = "declared.grant"

// Describe maps a domain error with the spec's rules.
func (d *Dialect) Describe(c echo.Context, e *core.Error) wire.Answer {
	a := d.spec.Errors.Describe(e, grantOf(c))
	return wire.Answer{Status: a.Status, Code: a.Code, Text: a.Text, Param: a.Param}
}

func grantOf(c echo.Context) core.GrantType {
	g, _ := c.Get(grantKey).(core.GrantType)
	return g
}

// WriteError renders an answer in the spec's envelope: a domain error by
// its rule, a forced answer with its status, code and text. The error id
// the body shows is noted for the access log and the journal.
func (d *Dialect) WriteError(c echo.Context, a wire.Answer) error {
	r := wire.RequestOf(c)
	var sa spec.Answer
	if a.Err == nil && r.Forced != nil {
		sa = d.spec.Errors.Forced(r.Forced.Kind(), a.Status, a.Code, a.Text, 0)
	} else {
		sa = d.spec.Errors.Describe(a.Err, grantOf(c)) // Retry-After is already set by the shared tail
		sa.RetryAfter = 0
		if sa.HasValue && !strings.EqualFold(sa.Param, echo.HeaderContentType) {
			if obj, err := wire.JSONObject(c); err == nil { // the value as sent, for a JSON body
				sa.SetSent(obj[sa.Param])
			}
		}
	}
	v := d.values(c)
	out := getOutput()
	defer putOutput(out)
	d.spec.Errors.Render(out, c.Request().Header.Get(echo.HeaderAccept), &sa, &v)
	r.ErrorID = v.ErrorID
	return write(c, out)
}

// write sends a rendered answer.
func write(c echo.Context, out *spec.Output) error {
	h := c.Response().Header()
	for _, hd := range out.Header {
		h.Set(hd.Name, hd.Value)
	}
	if out.ContentType == "" {
		c.Response().WriteHeader(out.Status)
		return nil
	}
	h.Set(echo.HeaderContentType, out.ContentType)
	c.Response().WriteHeader(out.Status)
	_, err := c.Response().Write(out.Body)
	return err
}

// keysJSON is the JSON array of the published keys, for {keys}.
func keysJSON(keys []core.JWK) ([]byte, error) {
	if keys == nil {
		keys = []core.JWK{}
	}
	return json.Marshal(keys)
}

// wireParam renames an engine error's parameter (an engine input such as
// user_id) to the route's wire name (userId).
func wireParam(rt *spec.Route, err error) error {
	e, ok := errors.AsType[*core.Error](err)
	if !ok || e.Param == "" || !hasInput(rt, e.Param) {
		return err
	}
	name := rt.WireName(e.Param)
	if name == e.Param || strings.EqualFold(name, "Authorization") {
		return err
	}
	ne := *e
	ne.Param = name
	return &ne
}
