package spec

import (
	"net/http"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// request describes what a route accepts: its parameters, security schemes
// and body, as strict as the gateway is. tokengate's validator checks the
// request of every answer below 400, HTTP 200 errors included, so the
// document may forbid only what the gateway refuses with an error status,
// and only up to the first check it does not: a request failing that check
// is answered below 400 whatever else is wrong with it. The checks are
// walked in the order the gateway makes them (decoding, duplicates, the
// grant, each input as declared).
type request struct {
	d    *describer
	rt   *Route
	open bool // every check so far is answered with an error status

	params       []*yaml.Node
	anyMedia     bool // a body of another media type is read too
	bodyRequired bool
	objectOnly   bool       // a JSON body must be one object
	root         *yaml.Node // the body's object schema: required, properties
	allOf        []*yaml.Node
	basic        level
	bearer       level
	when         map[core.GrantType][]string // body fields required only for a grant
}

// level is how a security scheme is used.
type level uint8

const (
	unused level = iota
	optional
	needed
)

// strict reports whether the document may forbid what e refuses.
func (q *request) strict(e *core.Error) bool {
	if q.open && !q.d.refused(q.rt, e) {
		q.open = false
	}
	return q.open
}

func invalid(reason core.Reason, param string) *core.Error {
	return &core.Error{Kind: core.KindInvalidRequest, Reason: reason, Param: param}
}

func (q *request) build() {
	rt := q.rt
	q.root = mapping("properties", mapping())
	q.when = map[core.GrantType][]string{}
	if rt.Body != BodyNone {
		q.strict(invalid(core.ReasonTooLarge, ""))
		q.strict(invalid(core.ReasonTimeout, ""))
		if rt.AnyContentType || !q.strict(&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed,
			Param: "Content-Type", Value: "text/plain"}) {
			q.anyMedia = true
		}
		parses := q.strict(invalid(core.ReasonMalformed, ""))
		if rt.Body == BodyJSON {
			q.objectOnly, q.bodyRequired = parses, parses // an empty body is no JSON object
		}
	}
	if rt.readsQuery() || rt.Body == BodyForm {
		q.strict(invalid(core.ReasonMalformed, ""))
		q.strict(invalid(core.ReasonSeparator, ""))
	}
	if q.reads(SourceBasicID | SourceBasicSecret) {
		q.strict(&core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonMalformed})
		q.strict(core.DuplicateParam("Authorization"))
	}
	if !rt.AllowDuplicates && (rt.Body == BodyForm || rt.readsQuery()) {
		for _, in := range rt.Inputs {
			for _, s := range in.Sources {
				if s.Kind&(SourceForm|SourceQuery) != 0 {
					q.strict(core.DuplicateParam(s.Name))
				}
			}
		}
		q.strict(core.DuplicateParam("other")) // a parameter the route does not read
	}
	if in := rt.input(InputGrantType); in != nil && rt.Grant != nil {
		q.input(in)
	}
	for _, in := range rt.Inputs {
		if in.Name != InputGrantType {
			q.input(in)
		}
	}
	q.conditions()
}

func (q *request) reads(kinds SourceKind) bool {
	for _, in := range q.rt.Inputs {
		for _, s := range in.Sources {
			if s.Kind&kinds != 0 {
				return true
			}
		}
	}
	return false
}

// input describes one input's sources, with the checks its reading makes
// (Route.read): sent twice, not a string, empty, missing; for the grant,
// not one of its values.
func (q *request) input(in *Input) {
	rt := q.rt
	src0 := in.Sources[0]
	dup := len(in.Sources) > 1 && q.strict(invalid(core.ReasonDuplicate, src0.Name))
	str := false
	for _, s := range in.Sources {
		if s.Kind == SourceJSON {
			str = q.strict(core.InvalidParam(s.Name, "", ""))
			break
		}
	}
	nonEmpty := rt.EmptyInvalid && q.strict(core.InvalidParam(src0.Name, "", ""))
	grants := rt.Grant.Grants()
	readsGrant := in.Name == InputGrantType && rt.Grant != nil && rt.Grant.Fixed == ""
	all := in.Required || (readsGrant && rt.Grant.Default == "")
	var some []core.GrantType
	for _, g := range grants {
		if contains(in.RequiredFor, g) {
			some = append(some, g)
		}
	}
	all = all || (len(some) > 0 && len(some) == len(grants))
	missing := false
	if all || len(some) > 0 {
		e := core.MissingParam(src0.Name)
		if src0.Kind == SourceBearer {
			e = &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMissing, Param: "Authorization"}
		}
		missing = q.strict(e)
	}
	var enum []*yaml.Node
	if readsGrant && q.strict(&core.Error{Kind: core.KindUnsupportedGrantType, Param: src0.Name, Value: "other"}) {
		for _, w := range sortedKeys(rt.Grant.Values) {
			enum = append(enum, scalarNode(w))
		}
	}
	required := all && missing
	leaf := func(s Source) *yaml.Node {
		m := mapping()
		nullOK := s.Kind == SourceJSON && !required // null counts as absent
		switch {
		case s.Kind != SourceJSON || str:
			set(m, "type", "string")
			if nullOK {
				set(m, "type", []string{"string", "null"})
			}
		}
		if enum != nil {
			e := slices.Clone(enum)
			if !nonEmpty && !required {
				e = append(e, scalarNode(""))
			}
			if nullOK {
				e = append(e, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
			}
			set(m, "enum", e)
		}
		if nonEmpty || required {
			set(m, "minLength", 1)
		}
		if in.Name == InputClientSecret {
			set(m, "format", "password")
		}
		set(m, "description", inputMeaning(rt, in))
		return m
	}
	body := q.bodyNames(in)
	lvl := optional
	if len(in.Sources) == 1 && required {
		lvl = needed
	}
	for _, s := range in.Sources {
		switch s.Kind {
		case SourceForm:
			set(get(q.root, "properties"), s.Name, leaf(s))
		case SourceJSON:
			q.placeJSON(s.Path, leaf(s), len(in.Sources) == 1 && required)
		case SourceQuery, SourceHeader:
			q.param(s, leaf(s), len(in.Sources) == 1 && required)
		case SourceBasicID, SourceBasicSecret:
			q.basic = max(q.basic, lvl)
		case SourceBearer:
			q.bearer = max(q.bearer, lvl)
		}
	}
	if len(in.Sources) == 1 && required && src0.Kind&(SourceForm|SourceJSON) != 0 {
		if src0.Kind == SourceForm {
			require(q.root, src0.Name)
		}
		q.bodyRequired = true
	}
	switch {
	case len(body) > 1 && required:
		var alts []*yaml.Node
		for _, name := range body {
			alts = append(alts, mapping("required", []string{name}))
		}
		kw := "anyOf"
		if dup {
			kw = "oneOf" // exactly one of them
		}
		q.allOf = append(q.allOf, mapping(kw, alts))
		q.bodyRequired = true
	case len(body) > 1 && dup:
		q.allOf = append(q.allOf, mapping("not", mapping("required", body[:2])))
	}
	if !all && missing && len(body) == 1 {
		for _, g := range some {
			q.when[g] = append(q.when[g], body[0])
		}
	}
}

// bodyNames returns the top-level body fields an input is read from when
// all its sources are such fields, else nil.
func (q *request) bodyNames(in *Input) []string {
	var names []string
	for _, s := range in.Sources {
		if (s.Kind != SourceForm && s.Kind != SourceJSON) || len(s.Path) > 1 {
			return nil
		}
		names = append(names, s.Name)
	}
	return names
}

// conditions requires the fields that only some grants need, when the
// grant is read from one top-level body field.
func (q *request) conditions() {
	rt := q.rt
	gin := rt.input(InputGrantType)
	if len(q.when) == 0 || gin == nil || rt.Grant == nil || rt.Grant.Fixed != "" {
		return
	}
	field := q.bodyNames(gin)
	if len(field) != 1 {
		return
	}
	for _, g := range rt.Grant.Grants() {
		names := q.when[g]
		if len(names) == 0 {
			continue
		}
		var values []*yaml.Node
		for _, w := range sortedKeys(rt.Grant.Values) {
			if rt.Grant.Values[w] == g {
				values = append(values, scalarNode(w))
			}
		}
		cond := mapping("properties", mapping(field[0], mapping("enum", values)))
		if g == rt.Grant.Default {
			values = append(values, scalarNode(""), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
			set(get(get(cond, "properties"), field[0]), "enum", values) // absent, empty or null: the default
		} else {
			cond = mapping("required", field, "properties", get(cond, "properties"))
		}
		props := mapping()
		for _, n := range names {
			set(props, n, mapping("minLength", 1))
		}
		q.allOf = append(q.allOf, mapping("if", cond, "then", mapping("required", names, "properties", props)))
	}
}

// placeJSON puts a JSON input's schema at its dotted path; a required one
// makes its parents required objects.
func (q *request) placeJSON(path []string, leaf *yaml.Node, required bool) {
	obj := q.root
	for _, seg := range path[:len(path)-1] {
		props := get(obj, "properties")
		child := get(props, seg)
		if child == nil {
			child = mapping("properties", mapping())
			set(props, seg, child)
		} else if get(child, "properties") == nil { // another input reads the parent itself
			set(child, "properties", mapping())
		}
		if required {
			require(obj, seg)
			if get(child, "type") == nil {
				child.Content = append(mapping("type", "object").Content, child.Content...)
			}
		}
		obj = child
	}
	last := path[len(path)-1]
	set(get(obj, "properties"), last, leaf)
	if required {
		require(obj, last)
	}
}

// require adds name to an object schema's required list.
func require(obj *yaml.Node, name string) {
	r := get(obj, "required")
	if r == nil {
		r = toNode([]string{})
		i := len(obj.Content)
		if i >= 2 && obj.Content[i-2].Value == "properties" {
			i -= 2 // keep properties last
		}
		obj.Content = slices.Insert(obj.Content, i, scalarNode("required"), r)
	}
	for _, c := range r.Content {
		if c.Value == name {
			return
		}
	}
	r.Content = append(r.Content, scalarNode(name))
}

// param describes a query or header input. OpenAPI ignores header
// parameters named Accept, Content-Type and Authorization.
func (q *request) param(s Source, leaf *yaml.Node, required bool) {
	in := "query"
	if s.Kind == SourceHeader {
		in = "header"
		switch http.CanonicalHeaderKey(s.Name) {
		case "Accept", "Content-Type", "Authorization":
			return
		}
	}
	for _, p := range q.params {
		if get(p, "name").Value == s.Name && get(p, "in").Value == in {
			return
		}
	}
	desc := get(leaf, "description")
	del(leaf, "description")
	p := mapping("name", s.Name, "in", in)
	if required {
		set(p, "required", true)
	}
	set(p, "description", desc)
	set(p, "schema", leaf)
	q.params = append(q.params, p)
}

// security lists the schemes a request may (or must) authenticate with.
func (q *request) security() *yaml.Node {
	var need, may []string
	for _, s := range []struct {
		name string
		lvl  level
	}{{"basicAuth", q.basic}, {"bearerAuth", q.bearer}} {
		switch s.lvl {
		case needed:
			need = append(need, s.name)
		case optional:
			may = append(may, s.name)
		}
		if s.lvl != unused {
			q.d.schemes[s.name] = true
		}
	}
	var reqs []*yaml.Node
	if len(need) > 0 {
		r := mapping()
		for _, n := range need {
			set(r, n, []string{})
		}
		reqs = append(reqs, r)
	} else if len(may) > 0 {
		for _, n := range may {
			reqs = append(reqs, mapping(n, []string{}))
		}
		reqs = append(reqs, mapping()) // or none
	}
	if reqs == nil {
		return nil
	}
	return toNode(reqs)
}

// body is the request body's description.
func (q *request) body() *yaml.Node {
	rt := q.rt
	if rt.Body == BodyNone {
		return nil
	}
	f := FormatJSON
	if rt.Body == BodyForm {
		f = FormatForm
	}
	schema := q.root
	if f == FormatForm || q.objectOnly {
		schema.Content = append(mapping("type", "object").Content, schema.Content...)
	}
	if len(q.allOf) > 0 {
		set(schema, "allOf", q.allOf)
	}
	content := mapping(mediaType(f), mapping("schema", schema, "example", q.example()))
	if q.anyMedia {
		set(content, "*/*", mapping()) // read as the route's body whatever its media type
	}
	return mapping("required", q.bodyRequired, "content", content)
}

// example is a request body for the route's first grant (its default one,
// if it has one): the inputs that grant reads, each from its first body
// source.
func (q *request) example() *yaml.Node {
	rt := q.rt
	var g core.GrantType
	if rt.Grant != nil {
		g = rt.Grant.Default
		if g == "" {
			g = rt.Grant.Grants()[0]
		}
	}
	r := newSampleRand(q.d.s.Name + " request " + rt.Method + " " + rt.Path)
	ex := mapping()
	for _, in := range rt.Inputs {
		value, ok := q.sampleInput(in, g, r)
		if !ok {
			continue
		}
		for _, s := range in.Sources {
			switch s.Kind {
			case SourceForm:
				set(ex, s.Name, value)
			case SourceJSON:
				obj := ex
				for _, seg := range s.Path[:len(s.Path)-1] {
					child := get(obj, seg)
					if child == nil {
						child = mapping()
						set(obj, seg, child)
					}
					obj = child
				}
				set(obj, s.Path[len(s.Path)-1], value)
			default:
				continue
			}
			break
		}
	}
	return ex
}

// sampleInput is an input's example value for grant g; false when the
// grant does not read it.
func (q *request) sampleInput(in *Input, g core.GrantType, r *sampleRand) (string, bool) {
	rt, tokens := q.rt, q.d.s.Tokens
	needed := in.Required || contains(in.RequiredFor, g)
	switch in.Name {
	case InputClientID:
		return sampleClient, true
	case InputClientSecret:
		return "demo-secret", true
	case InputGrantType:
		if rt.Grant == nil || rt.Grant.Fixed != "" {
			return string(g), true
		}
		for _, w := range sortedKeys(rt.Grant.Values) {
			if rt.Grant.Values[w] == g {
				return w, true
			}
		}
	case InputCode:
		return "SplxlOBeZQQYbYS6WxSbIA", g == core.GrantAuthorizationCode || needed // RFC 6749's example code
	case InputRedirectURI:
		return "http://localhost:8081/callback", g == core.GrantAuthorizationCode || needed
	case InputCodeVerifier:
		return "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", needed // RFC 7636's example verifier
	case InputRefreshToken:
		return r.token(tokens.Refresh, &Values{}), g == core.GrantRefreshToken || needed
	case InputUserID:
		return sampleUser.ID, g == core.GrantClientCredentials || needed
	case InputScope:
		if len(tokens.Scope) > 0 {
			return strings.Join(tokens.Scope, " "), needed
		}
		return "read", needed
	case InputToken:
		return r.token(tokens.Access, &Values{IssuedAt: sampleTime, ExpiresAt: sampleTime.Add(tokens.Access.Lifetime)}), true
	}
	return "", false
}
