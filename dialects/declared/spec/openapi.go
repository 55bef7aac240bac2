package spec

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// DescribeOptions are what the document needs from outside the spec.
type DescribeOptions struct {
	// BaseURL is {base_url} in the examples: the scheme, host and prefix
	// the instance is reached at.
	BaseURL string
	// ForcedKind is the error kind whose rule shapes a fault's forced answer
	// of a status (wire.ForcedAnswer.Kind).
	ForcedKind func(status int) core.Kind
}

// ErrorSchema is where the document keeps the schema of every error body
// in one format, for operations the caller adds (the login page's).
type ErrorSchema struct {
	Format    Format
	MediaType string
	Ref       string
}

// ErrorSchemas lists the error bodies' schemas by format: Error for JSON
// (or the only format), ErrorForm for form-encoded errors besides JSON.
func (s *Spec) ErrorSchemas() []ErrorSchema {
	var out []ErrorSchema
	for _, f := range s.Errors.Formats {
		ref := "#/components/schemas/Error"
		if f == FormatForm && slices.Contains(s.Errors.Formats, FormatJSON) {
			ref += "Form"
		}
		out = append(out, ErrorSchema{Format: f, MediaType: mediaType(f), Ref: ref})
	}
	return out
}

// describer builds one document.
type describer struct {
	s          *Spec
	opts       DescribeOptions
	jsonBodies bool              // a route reads a JSON body: {value} may be any JSON value
	schemes    map[string]bool   // security schemes used
	ids        map[string]int    // operation ids handed out
	schemas    *yaml.Node        // components/schemas: the error bodies, named
	named      map[string]string // an error body's schema (encoded) → its name
}

// OpenAPI describes the spec as an OpenAPI 3.1 document, paths relative to
// the instance's prefix: every route with its inputs (parameters, request
// body, security schemes), its answer (content types by Accept, headers, a
// body schema derived from the template, examples rendered by it), and the
// error rules' answers by status, a default for the rest. Authorize routes
// are left out: their operations are the shared login page's, which the
// caller adds (their errors are the ErrorSchemas).
func (s *Spec) OpenAPI(o DescribeOptions) *yaml.Node {
	d := &describer{s: s, opts: o, schemes: map[string]bool{}, ids: map[string]int{}, schemas: mapping(),
		named: map[string]string{}}
	for _, rt := range s.Routes {
		d.jsonBodies = d.jsonBodies || rt.Body == BodyJSON
	}
	paths := mapping()
	for _, rt := range s.Routes {
		if rt.Operation == OpAuthorize {
			continue
		}
		item := get(paths, rt.Path)
		if item == nil {
			item = mapping()
			set(paths, rt.Path, item)
		}
		set(item, strings.ToLower(rt.Method), d.operation(rt))
	}
	comps := mapping()
	if len(d.schemes) > 0 {
		schemes := mapping()
		if d.schemes["basicAuth"] {
			set(schemes, "basicAuth", mapping("type", "http", "scheme", "basic",
				"description", "The client id and secret as the user name and password."))
		}
		if d.schemes["bearerAuth"] {
			set(schemes, "bearerAuth", mapping("type", "http", "scheme", "bearer",
				"description", "An access token the instance issued."))
		}
		set(comps, "securitySchemes", schemes)
	}
	for _, e := range s.ErrorSchemas() {
		set(d.schemas, strings.TrimPrefix(e.Ref, "#/components/schemas/"), d.anyError(e.Format))
	}
	set(comps, "schemas", d.schemas)
	info := mapping("title", s.Title+" (tokengate declared dialect)", "version", "1", "description",
		"Generated from the declared dialect spec `"+s.Name+"`: its routes, where each input is read, "+
			"the answers' shapes (derived from the response templates) and the error rules' answers. "+
			"Every answer carries an `X-Request-Id` header.")
	root := mapping("openapi", "3.1.0", "info", info, "paths", paths, "components", comps)
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

var summaries = map[Operation]string{
	OpToken:      "Token endpoint",
	OpIntrospect: "Token introspection",
	OpUserinfo:   "The user of a bearer token",
	OpRevoke:     "Token revocation",
	OpJWKS:       "The signing keys (JWKS, RFC 7517)",
	OpStatic:     "A fixed document",
}

func (d *describer) operation(rt *Route) *yaml.Node {
	id := string(rt.Operation)
	if d.ids[id]++; d.ids[id] > 1 {
		id += strconv.Itoa(d.ids[id])
	}
	summary := summaries[rt.Operation]
	if rt.Operation == OpToken {
		var gs []string
		for _, g := range rt.Grant.Grants() {
			gs = append(gs, string(g))
		}
		summary += " (" + strings.Join(gs, ", ") + ")"
	}
	q := &request{d: d, rt: rt, open: true}
	q.build()
	op := mapping("summary", summary, "operationId", id, "description", d.describeRoute(rt, q))
	if len(q.params) > 0 {
		set(op, "parameters", q.params)
	}
	if sec := q.security(); sec != nil {
		set(op, "security", sec)
	}
	if body := q.body(); body != nil {
		set(op, "requestBody", body)
	}
	set(op, "responses", d.responses(rt))
	return op
}

// describeRoute says where each input comes from.
func (d *describer) describeRoute(rt *Route, q *request) string {
	var b strings.Builder
	switch rt.Operation {
	case OpToken:
		b.WriteString("Runs the grant the request asks for on tokengate's engine and answers with its tokens.")
	case OpIntrospect:
		b.WriteString("Describes an active token of the instance")
		if rt.Inactive != nil {
			b.WriteString("; an unknown or expired one gets the inactive answer.")
		} else {
			b.WriteString("; an unknown or expired one is an invalid_token error.")
		}
	case OpUserinfo:
		b.WriteString("The user of an active access token of the instance.")
	case OpRevoke:
		b.WriteString("Revokes a token the calling client holds (a refresh token with its family); the answer is the same whatever the token was.")
	case OpJWKS:
		b.WriteString("The public keys the instance's JWTs are signed with, retired ones included while tokens they signed may live.")
	case OpStatic:
		b.WriteString("A fixed document.")
	}
	if len(rt.Inputs) > 0 {
		b.WriteString("\n\nInputs:\n")
		for _, in := range rt.Inputs {
			b.WriteString("\n- `" + in.Name + "`: " + inputMeaning(rt, in) + " From " + sourcesText(in.Sources) + ".")
			switch {
			case in.Required:
				b.WriteString(" Required.")
			case len(in.RequiredFor) > 0:
				b.WriteString(" Required for " + grantsText(in.RequiredFor) + ".")
			}
		}
	}
	if !q.open {
		b.WriteString("\n\nThis dialect answers some refused requests with a status below 400 (an error in a " +
			"success status), so the request schema holds only the checks the gateway makes before the first " +
			"such one: a request failing it is answered that way whatever else is wrong with it.")
	}
	return b.String()
}

func inputMeaning(rt *Route, in *Input) string {
	switch in.Name {
	case InputClientID:
		return "The client id."
	case InputClientSecret:
		return "The client secret."
	case InputGrantType:
		if rt.Grant == nil || rt.Grant.Fixed != "" {
			return "The grant type (not checked: the route runs " + string(rt.Grant.Fixed) + ")."
		}
		var vals []string
		for _, w := range sortedKeys(rt.Grant.Values) {
			v := "`" + w + "`"
			if g := rt.Grant.Values[w]; string(g) != w {
				v += " (" + string(g) + ")"
			}
			vals = append(vals, v)
		}
		s := "The grant: " + strings.Join(vals, ", ") + "."
		if rt.Grant.Default != "" {
			s += " Without one, " + string(rt.Grant.Default) + "."
		}
		return s
	case InputCode:
		return "The authorization code from the login page."
	case InputRedirectURI:
		return "The redirect URI the code was issued for, when the authorization request named one."
	case InputCodeVerifier:
		return "The PKCE code verifier (RFC 7636)."
	case InputRefreshToken:
		return "A refresh token the instance issued."
	case InputUserID:
		return "The user the token is for (client credentials)."
	case InputScope:
		return "The scopes asked for, space-separated."
	case InputToken:
		return "A token the instance issued."
	}
	return ""
}

func sourcesText(srcs []Source) string {
	var out []string
	for _, s := range srcs {
		switch s.Kind {
		case SourceForm:
			out = append(out, "the form field `"+s.Name+"`")
		case SourceJSON:
			out = append(out, "the JSON member `"+s.Name+"`")
		case SourceQuery:
			out = append(out, "the query parameter `"+s.Name+"`")
		case SourceHeader:
			out = append(out, "the `"+s.Name+"` header")
		case SourceBearer:
			out = append(out, "an `Authorization: Bearer` header")
		case SourceBasicID:
			out = append(out, "HTTP Basic (the user name)")
		case SourceBasicSecret:
			out = append(out, "HTTP Basic (the password)")
		}
	}
	return strings.Join(out, ", or ")
}

func grantsText(gs []core.GrantType) string {
	var out []string
	for _, g := range gs {
		out = append(out, string(g))
	}
	return strings.Join(out, " and ")
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// refused reports whether the spec answers e with an error status (400 or
// more) whatever the grant. Only then may the request schema forbid what
// causes it: tokengate's validator checks the requests of answers below
// 400, which include HTTP 200 errors.
func (d *describer) refused(rt *Route, e *core.Error) bool {
	for _, g := range append([]core.GrantType{""}, rt.Grant.Grants()...) {
		if d.s.Errors.Describe(e, g).Status < http.StatusBadRequest {
			return false
		}
	}
	return true
}

// mediaType is the content key of a format.
func mediaType(f Format) string {
	ct, _, _ := strings.Cut(f.ContentType(), ";")
	return ct
}

// variant is one answer a status may carry: the route's own or an error
// rule's.
type variant struct {
	a       answer
	body    *Template
	formats []Format
	headers []HeaderTemplate
	name    string // example name
	success bool
}

func (d *describer) responses(rt *Route) *yaml.Node {
	byStatus := map[int][]variant{}
	own := func(resp *Response, name string, inactive bool) {
		if resp != nil {
			byStatus[resp.Status] = append(byStatus[resp.Status], variant{a: answer{d: d, rt: rt, inactive: inactive},
				body: resp.Body, formats: resp.Formats, headers: resp.Headers, name: name, success: true})
		}
	}
	if rt.Operation == OpIntrospect {
		own(rt.Response, "active", false)
		own(rt.Inactive, "inactive", true)
	} else {
		own(rt.Response, "ok", false)
	}
	x := d.s.Errors
	rules := append(slices.Clip(x.Rules), x.Default)
	for _, rule := range rules {
		if !slices.ContainsFunc(byStatus[rule.Status], func(v variant) bool { return v.a.rule == rule }) {
			byStatus[rule.Status] = append(byStatus[rule.Status], d.errorVariant(rule, rule.Status))
		}
	}
	statuses := slices.Sorted(mapKeys(byStatus))
	for _, st := range statuses {
		// A fault forcing this status answers in its kind's rule's body.
		if fr := d.forcedRule(st); fr != nil && !slices.ContainsFunc(byStatus[st], func(v variant) bool { return v.a.rule == fr }) {
			byStatus[st] = append(byStatus[st], d.errorVariant(fr, st))
		}
	}
	out := mapping()
	for _, st := range statuses {
		set(out, strconv.Itoa(st), d.response(st, byStatus[st], true))
	}
	var all []variant
	for _, rule := range rules {
		v := d.errorVariant(rule, 0)
		all = append(all, v)
	}
	set(out, "default", d.response(0, all, false))
	return out
}

// forcedRule is the rule whose body a fault forcing status answers in.
func (d *describer) forcedRule(status int) *Rule {
	if status < http.StatusBadRequest || d.opts.ForcedKind == nil {
		return nil
	}
	a := d.s.Errors.Describe(&core.Error{Kind: d.opts.ForcedKind(status)}, "")
	return a.rule
}

func (d *describer) errorVariant(rule *Rule, status int) variant {
	forced := status == 0 || rule == d.forcedRule(status)
	body := rule.Body
	if body == nil {
		body = d.s.Errors.Body
	}
	headers := slices.Clone(d.s.Errors.Headers)
	for _, h := range rule.Headers {
		i := slices.IndexFunc(headers, func(e HeaderTemplate) bool { return e.Name == h.Name })
		if i >= 0 {
			headers[i] = h
		} else {
			headers = append(headers, h)
		}
	}
	return variant{a: answer{d: d, rule: rule, status: status, forced: forced}, body: body,
		formats: d.s.Errors.Formats, headers: headers, name: rule.Code}
}

func mapKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// response describes one status (0: default) carrying vs.
func (d *describer) response(status int, vs []variant, examples bool) *yaml.Node {
	r := mapping("description", d.responseText(status, vs))
	if h := d.headers(vs); len(h.Content) > 0 {
		set(r, "headers", h)
	}
	var formats []Format
	bodyless := false
	for _, v := range vs {
		if v.body == nil {
			bodyless = true
			continue
		}
		for _, f := range v.formats {
			if !slices.Contains(formats, f) {
				formats = append(formats, f)
			}
		}
	}
	content := mapping()
	for _, f := range formats {
		var ok, errs []*yaml.Node
		exs := mapping()
		for _, v := range vs {
			if v.body == nil || !slices.Contains(v.formats, f) {
				continue
			}
			s := v.a.schema(v.body, f)
			if v.success {
				ok = appendSchema(ok, s)
			} else {
				errs = appendSchema(errs, d.ref(s, v.a.rule.Code, f))
			}
			if examples {
				name := v.name
				for i := 2; get(exs, name) != nil; i++ {
					name = v.name + "_" + strconv.Itoa(i)
				}
				set(exs, name, mapping("value", v.a.example(v.body, f)))
			}
		}
		mt := mapping("schema", combine(ok, errs, f == FormatForm))
		if len(exs.Content) > 0 {
			set(mt, "examples", exs)
		}
		set(content, mediaType(f), mt)
	}
	if bodyless && len(content.Content) > 0 {
		set(content, "*/*", mapping()) // the answer without a body has no Content-Type
	}
	if len(content.Content) > 0 {
		set(r, "content", content)
	}
	return r
}

// appendSchema adds s unless an equal schema is there already.
func appendSchema(list []*yaml.Node, s *yaml.Node) []*yaml.Node {
	for _, e := range list {
		if encoded(e) == encoded(s) {
			return list
		}
	}
	return append(list, s)
}

// combine is the schema of a status's bodies: the route's answer or one of
// the errors (oneOf: an HTTP 200 error is not a success), each side one
// schema or anyOf several. A form body's schema is an object at the top,
// which form decoding needs.
func combine(ok, errs []*yaml.Node, form bool) *yaml.Node {
	side := func(list []*yaml.Node) *yaml.Node {
		if len(list) == 1 {
			return list[0]
		}
		return mapping("anyOf", list)
	}
	var s *yaml.Node
	switch {
	case len(ok) > 0 && len(errs) > 0:
		s = mapping("oneOf", []*yaml.Node{side(ok), side(errs)})
	case len(ok) > 0:
		s = side(ok)
	default:
		s = side(errs)
	}
	switch {
	case !form || get(s, "type") != nil:
	case get(s, "$ref") != nil:
		s = mapping("type", "object", "allOf", []*yaml.Node{s})
	default:
		s.Content = append(mapping("type", "object").Content, s.Content...)
	}
	return s
}

// headers describes the headers of vs: required when every one sends it.
func (d *describer) headers(vs []variant) *yaml.Node {
	var names []string
	values := map[string][]HeaderTemplate{}
	hasError := false
	for _, v := range vs {
		hasError = hasError || !v.success
		for _, h := range v.headers {
			if h.segs == nil && h.value == "" {
				continue // renders empty: not sent
			}
			if _, seen := values[h.Name]; !seen {
				names = append(names, h.Name)
			}
			values[h.Name] = append(values[h.Name], h)
		}
	}
	out := mapping()
	for _, name := range names {
		hs := values[name]
		required, constant := len(hs) == len(vs), true
		var consts []string
		for _, h := range hs {
			switch {
			case h.segs != nil:
				required, constant = false, false
			case !slices.Contains(consts, h.value):
				consts = append(consts, h.value)
			}
		}
		var schema *yaml.Node
		switch {
		case constant && len(consts) == 1:
			schema = headerSchema(hs[0])
		case constant:
			schema = mapping("type", "string", "enum", consts)
		default:
			schema = mapping("type", "string")
		}
		h := mapping("schema", schema)
		if required {
			h = mapping("required", true, "schema", schema)
		}
		set(out, name, h)
	}
	if hasError && values["Retry-After"] == nil {
		set(out, "Retry-After", mapping("description", "Seconds to wait, when the engine or a fault gives them.",
			"schema", mapping("type", "string", "pattern", "^[0-9]+$")))
	}
	return out
}

// answerText says what a route's own answer is.
var answerText = map[Operation]string{
	OpToken: "The tokens", OpIntrospect: "An active token", OpUserinfo: "The token's user",
	OpRevoke: "Revoked (or the token was not one the client holds)", OpJWKS: "The published keys", OpStatic: "The document",
}

func (d *describer) responseText(status int, vs []variant) string {
	var b strings.Builder
	var codes []string
	for _, v := range vs {
		if v.success {
			if v.a.inactive {
				b.WriteString("An unknown or expired token")
			} else {
				b.WriteString(answerText[v.a.rt.Operation])
			}
			if len(v.formats) > 1 {
				b.WriteString(fmt.Sprintf(" (%s by default, by Accept: %s)", mediaType(v.formats[0]), formatList(v.formats)))
			}
			b.WriteString(". ")
			continue
		}
		c := "`" + v.a.rule.Code + "`"
		switch {
		case status != 0 && v.a.rule.Status != status:
			c += " (a fault rule's forced answer)"
		default:
			c += " (" + v.a.rule.when() + ")"
		}
		codes = append(codes, c)
	}
	if len(codes) > 0 {
		if status == 0 {
			b.WriteString("Any other status (a fault rule's forced answer), in the envelope of one of the rules: ")
		} else {
			b.WriteString("Errors: ")
		}
		b.WriteString(strings.Join(codes, "; ") + ".")
	}
	if len(d.s.Errors.Formats) > 1 && len(codes) > 0 {
		b.WriteString(" Errors are " + mediaType(d.s.Errors.Formats[0]) + " by default, by Accept: " + formatList(d.s.Errors.Formats) + ".")
	}
	return strings.TrimSpace(b.String())
}

func formatList(fs []Format) string {
	var out []string
	for _, f := range fs {
		out = append(out, mediaType(f))
	}
	return strings.Join(out, " or ")
}

// when says in words which errors a rule matches.
func (rule *Rule) when() string {
	var parts []string
	if len(rule.Kinds) > 0 {
		parts = append(parts, "kind "+joinNames(rule.Kinds))
	}
	if len(rule.Reasons) > 0 {
		parts = append(parts, "reason "+joinNames(rule.Reasons))
	}
	if rule.Params != nil {
		var ps []string
		for _, p := range rule.Params {
			if p == "" {
				p = "no parameter"
			}
			ps = append(ps, p)
		}
		parts = append(parts, "about "+strings.Join(ps, " or "))
	}
	if len(rule.Grants) > 0 {
		parts = append(parts, "grant "+joinNames(rule.Grants))
	}
	if len(parts) == 0 {
		return "any other error"
	}
	return strings.Join(parts, ", ")
}

func joinNames[T ~string](list []T) string {
	var out []string
	for _, s := range list {
		out = append(out, string(s))
	}
	return strings.Join(out, " or ")
}

// anyError is the schema of every error body in format f.
func (d *describer) anyError(f Format) *yaml.Node {
	var list []*yaml.Node
	for _, rule := range append(slices.Clip(d.s.Errors.Rules), d.s.Errors.Default) {
		v := d.errorVariant(rule, 0)
		list = appendSchema(list, d.ref(v.a.schema(v.body, f), rule.Code, f))
	}
	return combine(nil, list, f == FormatForm)
}

// ref names an error body's schema in components/schemas (once for equal
// schemas) and returns a reference to it.
func (d *describer) ref(s *yaml.Node, code string, f Format) *yaml.Node {
	key := encoded(s)
	name, ok := d.named[key]
	if !ok {
		base := "Error_" + schemaName(code)
		if f == FormatForm {
			base += "_form"
		}
		name = base
		for i := 2; get(d.schemas, name) != nil; i++ {
			name = base + "_" + strconv.Itoa(i)
		}
		d.named[key] = name
		set(d.schemas, name, s)
	}
	return mapping("$ref", "#/components/schemas/"+name)
}

// schemaName keeps the characters a component name may have.
func schemaName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
