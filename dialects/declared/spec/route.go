package spec

import (
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// Operation is the engine operation a route is bound to.
type Operation string

const (
	OpToken      Operation = "token"      // grants, dispatched by grant type
	OpAuthorize  Operation = "authorize"  // the login page (GET shows it, POST submits it)
	OpIntrospect Operation = "introspect" // token → client, user, scope
	OpUserinfo   Operation = "userinfo"   // bearer token → user
	OpRevoke     Operation = "revoke"
	OpJWKS       Operation = "jwks"
	OpStatic     Operation = "static" // a fixed document
)

var operations = []string{string(OpToken), string(OpAuthorize), string(OpIntrospect), string(OpUserinfo),
	string(OpRevoke), string(OpJWKS), string(OpStatic)}

// Engine inputs a route can read.
const (
	InputClientID     = "client_id"
	InputClientSecret = "client_secret"
	InputGrantType    = "grant_type"
	InputCode         = "code"
	InputRedirectURI  = "redirect_uri"
	InputCodeVerifier = "code_verifier"
	InputRefreshToken = "refresh_token"
	InputUserID       = "user_id"
	InputScope        = "scope"
	InputToken        = "token"
)

// inputsFor lists the inputs each operation reads.
var inputsFor = map[Operation][]string{
	OpToken: {InputClientID, InputClientSecret, InputGrantType, InputCode, InputRedirectURI, InputCodeVerifier,
		InputRefreshToken, InputUserID, InputScope},
	OpIntrospect: {InputToken, InputClientID, InputClientSecret},
	OpUserinfo:   {InputToken},
	OpRevoke:     {InputToken, InputClientID, InputClientSecret},
}

// secretInputs hold credentials, codes or tokens.
var secretInputs = map[string]bool{InputClientSecret: true, InputCode: true, InputCodeVerifier: true,
	InputRefreshToken: true, InputToken: true}

// Body is how a route's request body is decoded.
type Body string

const (
	BodyNone Body = "none"
	BodyForm Body = "form" // application/x-www-form-urlencoded
	BodyJSON Body = "json" // one JSON object
)

// Route is one method + path bound to an operation.
type Route struct {
	Method    string
	Path      string
	Operation Operation
	Body      Body
	// AnyContentType decodes the body as Body whatever its Content-Type
	// (default: the declared media type is required).
	AnyContentType bool
	// AllowDuplicates takes the first of repeated parameters (default: a
	// repeated parameter is invalid_request, RFC 6749 §3.1).
	AllowDuplicates bool
	// EmptyInvalid makes an empty value invalid_request (default: an empty
	// value counts as absent).
	EmptyInvalid bool
	Grant        *Grant
	Inputs       []*Input
	Response     *Response
	Inactive     *Response // introspect: the answer for an unknown or expired token
	Page         Page      // authorize
}

// Page is the login page's look on an authorize route.
type Page struct {
	Heading string
	Accent  string // CSS colour
}

// Grant is how a token route chooses the engine grant: fixed, or read from
// the grant_type input and mapped.
type Grant struct {
	Fixed   core.GrantType
	Values  map[string]core.GrantType // wire value → engine grant
	Default core.GrantType            // when the grant_type input is absent
}

// Input is where one engine input comes from.
type Input struct {
	Name        string // engine input, e.g. client_id
	Sources     []Source
	Required    bool
	RequiredFor []core.GrantType // required only for these grants
	node        *yaml.Node
}

// SourceKind is where a value is read.
type SourceKind uint8

const (
	SourceForm SourceKind = 1 << iota
	SourceJSON
	SourceQuery
	SourceHeader
	SourceBearer
	SourceBasicID
	SourceBasicSecret
)

// Source is one place an input may be sent.
type Source struct {
	Kind SourceKind
	Name string   // parameter, JSON path or header name as written
	Path []string // JSON: the dotted path split
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (r *reader) routes(n *yaml.Node, path string, s *Spec) []*Route {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		r.errorf(n, path, "must be a list of routes")
		return nil
	}
	var out []*Route
	seen := map[string]string{}
	for i, c := range n.Content {
		p := index(path, i)
		rt := r.route(resolve(c), p, s)
		if rt == nil {
			continue
		}
		keys := []string{rt.Method + " " + rt.Path}
		if rt.Operation == OpAuthorize { // the login form posts back to its page
			keys = append(keys, http.MethodPost+" "+rt.Path)
		}
		for _, key := range keys {
			if first, dup := seen[key]; dup {
				r.errorf(c, p, "%s is already declared by %s", key, first)
			}
			seen[key] = p
		}
		out = append(out, rt)
	}
	return out
}

func (r *reader) route(n *yaml.Node, path string, s *Spec) *Route {
	f := r.mapping(n, path)
	if f == nil {
		return nil
	}
	rt := &Route{Body: BodyNone}
	if v, p := f.required("operation"); v != nil {
		if op, ok := r.oneOf(v, p, operations...); ok {
			rt.Operation = Operation(op)
		}
	}
	if rt.Operation == "" {
		// Everything else depends on the operation: report only unknown keys.
		for _, k := range []string{"method", "path", "inputs", "request", "grant", "response", "inactive", "page"} {
			f.take(k)
		}
		f.done()
		return nil
	}
	if v, p := f.take("method"); v != nil {
		if m, ok := r.oneOf(v, p, methods...); ok {
			rt.Method = m
		}
	} else if rt.Operation == OpAuthorize || rt.Operation == OpUserinfo || rt.Operation == OpJWKS || rt.Operation == OpStatic {
		rt.Method = http.MethodGet
	} else {
		r.errorf(n, joinKey(path, "method"), "is required")
	}
	if rt.Operation == OpAuthorize && rt.Method != "" && rt.Method != http.MethodGet {
		r.errorf(n, joinKey(path, "method"), "an authorize route is GET (its form posts back to the same path)")
	}
	if v, p := f.required("path"); v != nil {
		if ps, ok := r.str(v, p); ok {
			if !strings.HasPrefix(ps, "/") || strings.ContainsAny(ps, "?#* ") || strings.Contains(ps, "/:") {
				r.errorf(v, p, "%q must be an absolute path without query, wildcards or parameters", ps)
			}
			rt.Path = ps
		}
	}
	allowed := inputsFor[rt.Operation]
	if v, p := f.take("inputs"); v != nil {
		if len(allowed) == 0 && rt.Operation != "" {
			r.errorf(v, p, "a %s route reads no inputs", rt.Operation)
		} else {
			rt.Inputs = r.inputs(v, p, allowed)
		}
	}
	rv, rp := f.take("request")
	r.request(rv, rp, rt)
	if v, p := f.take("grant"); v != nil {
		if rt.Operation != OpToken {
			r.errorf(v, p, "only a token route chooses a grant")
		} else {
			rt.Grant = r.grantSpec(v, p)
		}
	} else if rt.Operation == OpToken {
		r.errorf(n, joinKey(path, "grant"), "is required on a token route (a grant such as authorization_code, or values: to read it from grant_type)")
	}
	where := "a " + string(rt.Operation) + " response"
	sc := operationScope[rt.Operation]
	if v, p := f.take("response"); v != nil {
		if rt.Operation == OpAuthorize {
			r.errorf(v, p, "the authorize route answers with the login page; it has no response")
		} else {
			rt.Response = r.response(v, p, sc, where)
		}
	} else if rt.Operation != OpAuthorize && rt.Operation != OpJWKS && rt.Operation != "" {
		r.errorf(n, joinKey(path, "response"), "is required")
	}
	if rt.Operation == OpJWKS && rt.Response == nil {
		rt.Response = defaultJWKSResponse(r)
	}
	if rt.Operation == OpStatic && rt.Response != nil && rt.Response.Body == nil {
		r.errorf(n, joinKey(joinKey(path, "response"), "body"), "a static route needs a body")
	}
	if v, p := f.take("inactive"); v != nil {
		if rt.Operation != OpIntrospect {
			r.errorf(v, p, "only an introspect route has an inactive answer")
		} else {
			rt.Inactive = r.response(v, p, inIntrospect, "an inactive introspection response")
		}
	}
	if v, p := f.take("page"); v != nil {
		if rt.Operation != OpAuthorize {
			r.errorf(v, p, "only an authorize route has a page")
		} else {
			pf := r.mapping(v, p)
			if hv, hp := pf.take("heading"); hv != nil {
				rt.Page.Heading, _ = r.str(hv, hp)
			}
			if av, ap := pf.take("accent"); av != nil {
				rt.Page.Accent, _ = r.str(av, ap)
			}
			pf.done()
		}
	}
	f.done()
	r.checkRoute(n, path, rt, s)
	return rt
}

// operationScope is the placeholder scope of each operation's responses.
var operationScope = map[Operation]scope{
	OpToken: inToken, OpIntrospect: inIntrospect, OpUserinfo: inUserinfo, OpRevoke: inRevoke,
	OpJWKS: inJWKS, OpStatic: inStatic,
}

func defaultJWKSResponse(r *reader) *Response {
	var def yaml.Node
	_ = yaml.Unmarshal([]byte(`{keys: "{keys}"}`), &def)
	return &Response{Status: http.StatusOK, Formats: []Format{FormatJSON},
		Body: r.compile(def.Content[0], "", inJWKS, "a jwks response")}
}

func (r *reader) request(n *yaml.Node, path string, rt *Route) {
	// The body kind follows from the first body source unless declared;
	// checkRoute reports sources of the other kind.
	for _, in := range rt.Inputs {
		for _, s := range in.Sources {
			switch {
			case rt.Body != BodyNone:
			case s.Kind == SourceForm:
				rt.Body = BodyForm
			case s.Kind == SourceJSON:
				rt.Body = BodyJSON
			}
		}
	}
	if n == nil {
		return
	}
	f := r.mapping(n, path)
	if v, vp := f.take("body"); v != nil {
		if b, ok := r.oneOf(v, vp, string(BodyForm), string(BodyJSON), string(BodyNone)); ok {
			rt.Body = Body(b)
		}
	}
	if v, vp := f.take("content_type"); v != nil {
		if c, ok := r.oneOf(v, vp, "required", "any"); ok {
			rt.AnyContentType = c == "any"
		}
	}
	if v, vp := f.take("duplicates"); v != nil {
		if d, ok := r.oneOf(v, vp, "refuse", "first"); ok {
			rt.AllowDuplicates = d == "first"
		}
	}
	if v, vp := f.take("empty"); v != nil {
		if e, ok := r.oneOf(v, vp, "absent", "invalid"); ok {
			rt.EmptyInvalid = e == "invalid"
		}
	}
	f.done()
}

func (r *reader) grantSpec(n *yaml.Node, path string) *Grant {
	if n.Kind == yaml.ScalarNode {
		if g, ok := r.grant(n, path); ok {
			return &Grant{Fixed: g}
		}
		return nil
	}
	f := r.mapping(n, path)
	if f == nil {
		return nil
	}
	gs := &Grant{Values: map[string]core.GrantType{}}
	if v, vp := f.required("values"); v != nil {
		switch v.Kind {
		case yaml.SequenceNode: // the wire values are the engine's names
			for i, c := range v.Content {
				if g, ok := r.grant(c, index(vp, i)); ok {
					gs.Values[string(g)] = g
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(v.Content); i += 2 {
				if g, ok := r.grant(v.Content[i+1], joinKey(vp, v.Content[i].Value)); ok {
					gs.Values[v.Content[i].Value] = g
				}
			}
		default:
			r.errorf(v, vp, "must list the grants, or map wire values to grants")
		}
	}
	if v, vp := f.take("default"); v != nil {
		gs.Default, _ = r.grant(v, vp)
	}
	f.done()
	return gs
}

// Grants lists every grant a token route can run, in the engine's order.
func (g *Grant) Grants() []core.GrantType {
	if g == nil {
		return nil
	}
	if g.Fixed != "" {
		return []core.GrantType{g.Fixed}
	}
	var out []core.GrantType
	for _, name := range grantNames {
		gt := core.GrantType(name)
		for _, v := range g.Values {
			if v == gt && !contains(out, gt) {
				out = append(out, gt)
			}
		}
	}
	if g.Default != "" && !contains(out, g.Default) {
		out = append(out, g.Default)
	}
	return out
}

func (r *reader) inputs(n *yaml.Node, path string, allowed []string) []*Input {
	f := r.mapping(n, path)
	if f == nil {
		return nil
	}
	var out []*Input
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := n.Content[i].Value
		v, ip := f.take(name)
		if !contains(allowed, name) {
			msg := fmt.Sprintf("unknown input %q (this route reads %s)", name, strings.Join(allowed, ", "))
			if g := suggest(name, allowed); g != "" {
				msg = fmt.Sprintf("unknown input %q (did you mean %q?)", name, g)
			}
			r.errorf(n.Content[i], ip, "%s", msg)
			continue
		}
		if in := r.input(v, ip, name); in != nil {
			out = append(out, in)
		}
	}
	return out
}

// input reads "form.x", a list of sources, or {from, required}.
func (r *reader) input(n *yaml.Node, path, name string) *Input {
	in := &Input{Name: name, node: n}
	from, fromPath := n, path
	if n != nil && n.Kind == yaml.MappingNode {
		f := r.mapping(n, path)
		from, fromPath = f.required("from")
		if v, vp := f.take("required"); v != nil {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				in.Required, _ = r.boolean(v, vp)
			} else {
				in.RequiredFor = r.grantList(v, vp)
			}
		}
		f.done()
	}
	names, nodes := r.strList(from, fromPath)
	for i, s := range names {
		sp := fromPath
		if from.Kind == yaml.SequenceNode {
			sp = index(fromPath, i)
		}
		if src, msg := parseSource(s, name); msg != "" {
			r.errorf(nodes[i], sp, "%s", msg)
		} else {
			in.Sources = append(in.Sources, src)
		}
	}
	if len(names) == 0 && from != nil {
		r.errorf(from, fromPath, "names no source")
	}
	if len(in.Sources) == 0 {
		return nil
	}
	return in
}

// parseSource reads "form.client_id", "json.client.id", "query.code",
// "header.X-Client-Id", "bearer", "basic.id" or "basic.secret".
func parseSource(s, input string) (Source, string) {
	kind, name, _ := strings.Cut(s, ".")
	switch kind {
	case "bearer":
		if name == "" {
			return Source{Kind: SourceBearer, Name: "Authorization"}, ""
		}
	case "basic":
		switch {
		case name == "id" && input == InputClientID:
			return Source{Kind: SourceBasicID, Name: InputClientID}, ""
		case name == "secret" && input == InputClientSecret:
			return Source{Kind: SourceBasicSecret, Name: InputClientSecret}, ""
		case name == "id" || name == "secret":
			return Source{}, fmt.Sprintf("%q: HTTP Basic carries only client_id (basic.id) and client_secret (basic.secret)", s)
		}
	case "form", "query", "header", "json":
		if name == "" {
			break
		}
		src := Source{Name: name}
		switch kind {
		case "form":
			src.Kind = SourceForm
		case "query":
			src.Kind = SourceQuery
		case "header":
			src.Kind, src.Name = SourceHeader, http.CanonicalHeaderKey(name)
		default:
			src.Kind, src.Path = SourceJSON, strings.Split(name, ".")
			if contains(src.Path, "") {
				return Source{}, fmt.Sprintf("%q: empty segment in the JSON path", s)
			}
		}
		return src, ""
	}
	return Source{}, fmt.Sprintf("unknown source %q (use form.NAME, json.PATH, query.NAME, header.NAME, bearer, basic.id or basic.secret)", s)
}

// checkRoute checks what a route needs as a whole.
func (r *reader) checkRoute(n *yaml.Node, path string, rt *Route, s *Spec) {
	at := n
	if v := valueOf(n, "inputs"); v != nil {
		at = v
	}
	need := func(names ...string) {
		for _, name := range names {
			if rt.input(name) == nil {
				r.errorf(at, joinKey(path, "inputs"), "a %s route needs the %s input", rt.Operation, name)
			}
		}
	}
	switch rt.Operation {
	case OpToken:
		need(InputClientID, InputClientSecret)
		if rt.Grant == nil {
			return
		}
		if rt.Grant.Fixed == "" {
			need(InputGrantType)
		}
		for _, g := range rt.Grant.Grants() {
			switch g {
			case core.GrantAuthorizationCode:
				need(InputCode, InputRedirectURI)
			case core.GrantRefreshToken:
				need(InputRefreshToken)
			}
		}
	case OpIntrospect, OpUserinfo:
		need(InputToken)
	case OpRevoke:
		need(InputToken, InputClientID, InputClientSecret)
	case OpJWKS:
		if !s.NeedsSigningKey() {
			r.errorf(n, path, "a jwks route publishes signing keys, but no token format is a JWT")
		}
	}
	for _, in := range rt.Inputs {
		for _, g := range in.RequiredFor {
			if !contains(rt.Grant.Grants(), g) {
				r.errorf(in.node, joinKey(joinKey(path, "inputs"), in.Name), "required for %s, which this route does not run", g)
			}
		}
		for _, src := range in.Sources {
			if (src.Kind == SourceForm && rt.Body != BodyForm) || (src.Kind == SourceJSON && rt.Body != BodyJSON) {
				kind := "form"
				if src.Kind == SourceJSON {
					kind = "json"
				}
				r.errorf(in.node, joinKey(joinKey(path, "inputs"), in.Name), "reads %s.%s, but the route's body is %s", kind, src.Name, rt.Body)
			}
		}
	}
}

// input returns the named input, or nil.
func (rt *Route) input(name string) *Input {
	for _, in := range rt.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// WireName is the name the route's wire uses for an engine input (its
// first source), so an engine error naming "user_id" can name "userId".
func (rt *Route) WireName(input string) string {
	if in := rt.input(input); in != nil && len(in.Sources) > 0 {
		return in.Sources[0].Name
	}
	return input
}
