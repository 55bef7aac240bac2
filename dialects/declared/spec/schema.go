package spec

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// The JSON Schemas (OpenAPI 3.1, JSON Schema 2020-12) of the bodies a spec
// renders, derived from the templates as written: constants become const,
// placeholders typed schemas, keys keep their declared order. openapi.go
// puts them in the document.

// presence is whether a placeholder has a value in an answer.
type presence uint8

const (
	always presence = iota
	maybe           // renders null, or leaves its key out
	never
)

// answer is one kind of answer a schema describes: a route's response (rt;
// inactive for an introspection's inactive answer), or an error rule's
// (rule) at a status (0: any).
type answer struct {
	d        *describer
	rt       *Route
	inactive bool
	rule     *Rule
	status   int
	forced   bool // a fault's forced answer may come in this rule's body
	form     bool // the body described is form-encoded
}

// schema is the JSON Schema of t rendered in format f.
func (a answer) schema(t *Template, f Format) *yaml.Node {
	a.form = f == FormatForm
	if f == FormatText {
		for _, s := range t.text {
			if s.ref != nil {
				return mapping("type", "string")
			}
		}
		return constSchema(scalarNode(string(appendSegmentsText(nil, t.text, &Values{}))))
	}
	return a.value(t.src, t.scope)
}

func (a answer) value(n *yaml.Node, sc scope) *yaml.Node {
	n = resolve(n)
	switch {
	case isNull(n):
		return mapping("type", "null")
	case n.Kind == yaml.MappingNode:
		return a.object(n, sc)
	case n.Kind == yaml.SequenceNode:
		return a.array(n, sc)
	}
	if r := placeholderOf(n, sc); r != nil {
		base := a.placeholder(r)
		switch a.presence(r) {
		case never:
			return mapping("type", "null")
		case maybe:
			return nullable(base)
		}
		return base
	}
	if n.Tag != "!!str" && n.Tag != "!!timestamp" && n.Tag != "!!binary" {
		return constSchema(n)
	}
	segs, _ := parseSegments(n.Value, sc, "")
	for _, s := range segs {
		if s.ref != nil {
			return mapping("type", "string")
		}
	}
	return constSchema(scalarNode(string(appendSegmentsText(nil, segs, &Values{}))))
}

// placeholderOf returns the placeholder a scalar is exactly, or nil.
func placeholderOf(n *yaml.Node, sc scope) *ref {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return nil
	}
	segs, problems := parseSegments(n.Value, sc, "")
	if len(problems) > 0 {
		return nil
	}
	return single(segs)
}

// member is one key's schema; required is false for a key that may be left
// out, dropped true for one that never is written.
func (a answer) member(v *yaml.Node, sc scope) (s *yaml.Node, required, dropped bool) {
	v = resolve(v)
	r := placeholderOf(v, sc)
	switch {
	case a.form && isNull(v):
		return nil, false, true
	case r == nil || (!r.optional && !a.form):
		return a.value(v, sc), true, false
	}
	switch p := a.presence(r); {
	case p == never:
		return nil, false, true
	case p == maybe || r.optional:
		return a.placeholder(r), false, false
	}
	return a.placeholder(r), true, false
}

func (a answer) object(n *yaml.Node, sc scope) *yaml.Node {
	n = (&compiler{r: &reader{}}).expandMerge(n, "")
	props := mapping()
	var required []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		s, req, dropped := a.member(n.Content[i+1], sc)
		if dropped {
			continue
		}
		set(props, k, s)
		if req {
			required = append(required, k)
		}
	}
	o := mapping("type", "object")
	if len(required) > 0 {
		set(o, "required", required)
	}
	set(o, "additionalProperties", false)
	set(o, "properties", props)
	return o
}

func (a answer) array(n *yaml.Node, sc scope) *yaml.Node {
	items := make([]*yaml.Node, len(n.Content))
	same := true
	for i, c := range n.Content {
		items[i] = a.value(c, sc)
		same = same && encoded(items[i]) == encoded(items[0])
	}
	o := mapping("type", "array", "minItems", len(items), "maxItems", len(items))
	switch {
	case len(items) == 0:
	case same:
		set(o, "items", items[0])
	default:
		set(o, "prefixItems", items)
	}
	return o
}

// presence tells whether r has a value in this answer (see Values).
func (a answer) presence(r *ref) presence {
	s := a.d.s
	switch r.def.id {
	case phNow, phBaseURL, phKeys, phStatus, phErrorID, phTraceID, phCorrelationID:
		return always
	case phVar:
		if ev, ok := a.rule.vars[r.varName]; !ok || ev.null {
			return never
		}
		return always
	}
	if a.rule != nil {
		switch r.def.id {
		case phCode:
			if a.rule.Code == "" {
				return maybe
			}
		case phText, phDescription:
			if !a.rule.hasText() {
				return maybe
			}
		case phParam:
			if a.forced || len(a.rule.Params) == 0 || contains(a.rule.Params, "") {
				return maybe
			}
		case phValue:
			if !a.rule.mayShowValue() || (a.status != 0 && a.status != a.rule.Status) { // forced answers show none
				return never
			}
			return maybe
		}
		return always
	}
	if a.inactive {
		if r.def.typ == tNumber || r.def.typ == tBool {
			return always
		}
		return never
	}
	switch r.def.id {
	case phRefreshToken:
		return s.refreshPresence(a.rt)
	case phScope:
		if len(s.Tokens.Scope) == 0 {
			return maybe
		}
	case phUserID:
		return s.userPresence(a.rt)
	case phUsername, phEmail, phFirstName, phLastName, phUserName:
		return maybe
	}
	return always
}

// hasText reports a rule whose text never renders empty.
func (rule *Rule) hasText() bool {
	for _, s := range rule.text {
		if s.ref == nil && s.lit != "" {
			return true
		}
	}
	return false
}

// mayShowValue reports whether an error the rule matches may show the value
// sent (Describe: a malformed value or an unsupported grant type, about a
// parameter).
func (rule *Rule) mayShowValue() bool {
	if rule.Params != nil && !containsNonEmpty(rule.Params) {
		return false
	}
	malformed := len(rule.Reasons) == 0 || contains(rule.Reasons, core.ReasonMalformed)
	unsupported := len(rule.Reasons) == 0 && (len(rule.Kinds) == 0 || contains(rule.Kinds, core.KindUnsupportedGrantType))
	return malformed || unsupported
}

func containsNonEmpty(list []string) bool {
	for _, s := range list {
		if s != "" {
			return true
		}
	}
	return false
}

// refreshPresence: a token route's answer carries a refresh token for the
// grants of refresh_for, and a refresh without rotation the one sent.
func (s *Spec) refreshPresence(rt *Route) presence {
	var with, without int
	for _, g := range rt.Grant.Grants() {
		if contains(s.Tokens.RefreshFor, g) || (g == core.GrantRefreshToken && !s.Tokens.RotateRefresh) {
			with++
		} else {
			without++
		}
	}
	switch {
	case without == 0:
		return always
	case with == 0:
		return never
	}
	return maybe
}

// userPresence: client credentials without a required user make tokens
// without one, and so do refreshes of them.
func (s *Spec) userPresence(rt *Route) presence {
	userless := func(r *Route) bool {
		if r.Operation != OpToken || !contains(r.Grant.Grants(), core.GrantClientCredentials) {
			return false
		}
		in := r.input(InputUserID)
		return in == nil || !(in.Required || contains(in.RequiredFor, core.GrantClientCredentials))
	}
	anyUserless := false
	for _, r := range s.Routes {
		anyUserless = anyUserless || userless(r)
	}
	if rt.Operation == OpToken {
		if userless(rt) || (contains(rt.Grant.Grants(), core.GrantRefreshToken) && anyUserless) {
			return maybe
		}
		return always
	}
	if anyUserless {
		return maybe
	}
	return always
}

// readsScope reports a route that reads a requested scope, which may narrow
// a fixed one on a refresh.
func (s *Spec) readsScope() bool {
	for _, rt := range s.Routes {
		if rt.input(InputScope) != nil {
			return true
		}
	}
	return false
}

// placeholder is the schema of r's value when it has one.
func (a answer) placeholder(r *ref) *yaml.Node {
	s := a.d.s
	switch r.def.typ {
	case tNumber:
		if r.def.id == phStatus {
			if a.status != 0 {
				return mapping("type", "integer", "const", a.status)
			}
			return mapping("type", "integer", "minimum", 100, "maximum", 599)
		}
		return mapping("type", "integer", "minimum", 0)
	case tBool:
		return mapping("type", "boolean", "const", !a.inactive)
	case tTime:
		switch r.fmt {
		case fRFC3339:
			return mapping("type", "string", "format", "date-time")
		case fLayout:
			return mapping("type", "string", "description", "UTC, as "+r.layout)
		case fUnixMS:
			return mapping("type", "integer", "description", "Unix milliseconds")
		}
		return mapping("type", "integer", "description", "Unix seconds")
	case tScopes:
		fixed := s.Tokens.FixedScope && !s.readsScope()
		if r.fmt == fArray && !a.form {
			items := mapping("type", "string")
			if fixed {
				return mapping("type", "array", "items", items, "const", s.Tokens.Scope)
			}
			return mapping("type", "array", "items", items)
		}
		if fixed {
			sep := " "
			if r.fmt == fComma {
				sep = ","
			}
			return mapping("type", "string", "const", strings.Join(s.Tokens.Scope, sep))
		}
		return mapping("type", "string")
	case tVar:
		var n yaml.Node
		if err := yaml.Unmarshal(a.rule.vars[r.varName].json, &n); err != nil || len(n.Content) == 0 {
			return mapping()
		}
		if a.form && n.Content[0].Kind != yaml.ScalarNode {
			return mapping("type", "string") // its JSON text
		}
		return a.value(n.Content[0], 0)
	case tRaw:
		return jwksKeysSchema()
	}
	switch r.def.id {
	case phAccessToken:
		return tokenSchema(s.Tokens.Access)
	case phRefreshToken:
		return tokenSchema(s.Tokens.Refresh)
	case phTokenType:
		return mapping("type", "string", "const", "Bearer")
	case phBaseURL:
		return mapping("type", "string", "format", "uri")
	case phErrorID, phTraceID, phCorrelationID:
		return mapping("type", "string", "format", "uuid")
	case phValue:
		if a.d.jsonBodies && !a.form {
			return mapping("type", []string{"string", "number", "boolean", "object", "array", "null"},
				"description", "The value sent, as sent (a JSON value in a JSON body).")
		}
	}
	return mapping("type", "string")
}

// tokenSchema: a pattern's tokens match its regular expression, a JWT is
// three base64url parts, the engine's opaque tokens 43 base64url
// characters.
func tokenSchema(tf TokenFormat) *yaml.Node {
	switch {
	case tf.Pattern != nil:
		return mapping("type", "string", "pattern", tf.Pattern.Regexp().String())
	case tf.JWT != nil:
		return mapping("type", "string", "pattern", `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`,
			"description", "A JWT signed "+tf.JWT.Algorithm+" (the keys at the jwks route).")
	}
	return mapping("type", "string", "pattern", "^[A-Za-z0-9_-]{43}$")
}

func jwksKeysSchema() *yaml.Node {
	key := mapping("type", "object", "required", []string{"kty", "alg", "kid", "use", "n", "e"},
		"properties", mapping(
			"kty", mapping("type", "string", "const", "RSA"),
			"alg", mapping("type", "string", "const", "RS256"),
			"kid", mapping("type", "string"),
			"use", mapping("type", "string", "const", "sig"),
			"n", mapping("type", "string"),
			"e", mapping("type", "string")))
	return mapping("type", "array", "items", key, "description", "The published signing keys (RFC 7517).")
}

// headerSchema is the schema of a response header's value.
func headerSchema(h HeaderTemplate) *yaml.Node {
	if h.segs == nil {
		return constSchema(scalarNode(h.value))
	}
	return mapping("type", "string")
}

// constSchema is the schema of exactly the constant n.
func constSchema(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	switch {
	case isNull(n):
		return mapping("type", "null")
	case n.Tag == "!!bool":
		b, _ := strconv.ParseBool(scalarJSON(n))
		return mapping("type", "boolean", "const", b)
	case n.Tag == "!!int":
		return mapping("type", "integer", "const", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: scalarJSON(n)})
	case n.Tag == "!!float":
		return mapping("type", "number", "const", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: scalarJSON(n)})
	}
	return mapping("type", "string", "const", n.Value)
}

// nullable widens a schema (built for this use) to null as well.
func nullable(s *yaml.Node) *yaml.Node {
	t := get(s, "type")
	if t == nil {
		return s // any value already
	}
	if cv := get(s, "const"); cv != nil {
		del(s, "const")
		set(s, "enum", []*yaml.Node{cv, {Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}})
	}
	switch {
	case t.Kind == yaml.ScalarNode:
		set(s, "type", []string{t.Value, "null"})
	case !slices.ContainsFunc(t.Content, func(n *yaml.Node) bool { return n.Value == "null" }):
		t.Content = append(t.Content, scalarNode("null"))
	}
	return s
}

// The helpers below build and read YAML mappings.

// mapping builds a mapping from key, value pairs (see toNode).
func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		set(m, kv[i].(string), kv[i+1])
	}
	return m
}

func scalarNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// toNode converts a Go value of the kinds the generator uses.
func toNode(v any) *yaml.Node {
	switch v := v.(type) {
	case *yaml.Node:
		return v
	case string:
		return scalarNode(v)
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	case []string:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			s.Content = append(s.Content, scalarNode(e))
		}
		return s
	case []*yaml.Node:
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: v}
	}
	panic("spec: no YAML node for " + strconv.Quote(jsonText(v)))
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// set puts v under key, replacing a value already there.
func set(m *yaml.Node, key string, v any) {
	n := toNode(v)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = n
			return
		}
	}
	m.Content = append(m.Content, scalarNode(key), n)
}

func get(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// encoded is a key of a node's content, to compare schemas.
func encoded(n *yaml.Node) string {
	var b strings.Builder
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		b.WriteString(strconv.Itoa(int(n.Kind)) + n.Tag + strconv.Quote(n.Value) + "(")
		for _, c := range n.Content {
			walk(c)
		}
		b.WriteByte(')')
	}
	walk(n)
	return b.String()
}
