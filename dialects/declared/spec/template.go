package spec

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a compiled body: an instruction list that writes JSON (keys
// in the declared order, placeholders as typed values) and, for a flat
// body, the same fields form-urlencoded. Rendering neither reflects nor
// parses.
type Template struct {
	ops  []op
	form []formField // nil unless the body is a flat mapping
	flat bool
	text []segment // a "text" body: one string
	uses uint64    // placeholder ids used (bit per phID)
	vars []string  // {vars.X} names used
	// The body as written and where it is used, for its JSON Schema
	// (schema.go).
	src   *yaml.Node
	scope scope
}

type opcode uint8

const (
	opLit      opcode = iota // append lit
	opValue                  // append ref as typed JSON
	opString                 // append segs as one JSON string
	opOpen                   // '{' of an object with optional members
	opClose                  // its '}', dropping the leading comma
	opOptional               // lit (`,"key":`) and ref, unless ref has no value
)

type op struct {
	code opcode
	lit  []byte
	ref  *ref
	segs []segment
}

// formField is one key=value of a flat body.
type formField struct {
	key  []byte // escaped, with '='
	lit  []byte // escaped constant; nil with ref/segs
	ref  *ref
	segs []segment
	null bool // constant null: never written
}

// UsesUser reports whether the template renders a user field, so the caller
// loads the user only when needed.
func (t *Template) UsesUser() bool {
	if t == nil {
		return false
	}
	const userBits = 1<<phUsername | 1<<phEmail | 1<<phFirstName | 1<<phLastName | 1<<phUserName
	return t.uses&userBits != 0
}

func (t *Template) usesPlaceholder(id phID) bool { return t != nil && t.uses&(1<<id) != 0 }

// compiler turns a body node into a Template, reporting problems at their paths.
type compiler struct {
	r     *reader
	scope scope
	where string // "a token response", for messages
	t     *Template
	depth int
}

// Limits against aliases that refer to themselves or multiply.
const (
	maxDepth  = 64
	maxValues = 100000 // values compiled in one spec
)

func (r *reader) compile(n *yaml.Node, path string, s scope, where string) *Template {
	c := &compiler{r: r, scope: s, where: where, t: &Template{src: n, scope: s}}
	c.value(n, path)
	c.t.flat = c.flatFields(n, path, false)
	return c.t
}

// compileText compiles a string body rendered as-is (content_type text).
func (r *reader) compileText(n *yaml.Node, path string, s scope, where string) *Template {
	str, ok := r.str(n, path)
	if !ok {
		return &Template{}
	}
	c := &compiler{r: r, scope: s, where: where, t: &Template{src: n, scope: s}}
	c.t.text = c.segments(n, path, str)
	return c.t
}

func (c *compiler) lit(s string) {
	ops := c.t.ops
	if len(ops) > 0 && ops[len(ops)-1].code == opLit {
		ops[len(ops)-1].lit = append(ops[len(ops)-1].lit, s...)
		return
	}
	c.t.ops = append(ops, op{code: opLit, lit: []byte(s)})
}

func (c *compiler) segments(n *yaml.Node, path, s string) []segment {
	segs, problems := parseSegments(s, c.scope, c.where)
	for _, p := range problems {
		c.r.errorf(n, path, "%s", p)
	}
	for _, sg := range segs {
		if sg.ref != nil {
			c.note(sg.ref)
		}
	}
	return segs
}

func (c *compiler) note(r *ref) {
	c.t.uses |= 1 << r.def.id
	if r.varName != "" && !contains(c.t.vars, r.varName) {
		c.t.vars = append(c.t.vars, r.varName)
	}
}

// single returns the placeholder when s is exactly one "{...}".
func single(segs []segment) *ref {
	if len(segs) == 1 && segs[0].ref != nil {
		return segs[0].ref
	}
	return nil
}

func (c *compiler) value(n *yaml.Node, path string) {
	n = resolve(n)
	if n == nil {
		c.lit("null")
		return
	}
	if c.r.values++; c.r.values > maxValues {
		if c.r.values == maxValues+1 {
			c.r.errorf(n, path, "the spec expands to more than %d values (through aliases?)", maxValues)
		}
		return
	}
	if c.depth >= maxDepth {
		c.r.errorf(n, path, "nested more than %d levels deep (does an alias refer to itself?)", maxDepth)
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	switch n.Kind {
	case yaml.MappingNode:
		if hint := unquotedPlaceholder(n); hint != "" {
			c.r.errorf(n, path, "a placeholder must be quoted: write %q", hint)
			return
		}
		c.object(n, path)
	case yaml.SequenceNode:
		c.lit("[")
		for i, e := range n.Content {
			if i > 0 {
				c.lit(",")
			}
			c.value(e, index(path, i))
		}
		c.lit("]")
	case yaml.ScalarNode:
		c.scalar(n, path)
	default:
		c.r.errorf(n, path, "unsupported YAML value")
	}
}

// placeholder returns the ref of a scalar that is exactly one placeholder.
func (c *compiler) placeholder(n *yaml.Node, path string) *ref {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return nil
	}
	segs, problems := parseSegments(n.Value, c.scope, c.where)
	if len(problems) > 0 {
		return nil
	}
	return single(segs)
}

// expandMerge applies YAML merge keys ("<<: *anchor") to a body mapping:
// the merged keys take the place of "<<", in their order, and a key the
// mapping also sets keeps that place with the mapping's value.
func (c *compiler) expandMerge(n *yaml.Node, path string) *yaml.Node {
	return c.merge(n, path, 0)
}

func (c *compiler) merge(n *yaml.Node, path string, depth int) *yaml.Node {
	has := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		has = has || n.Content[i].Value == "<<"
	}
	if !has {
		return n
	}
	own := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value != "<<" {
			own[k.Value] = n.Content[i+1]
		}
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	placed := map[string]bool{}
	add := func(k, v *yaml.Node) {
		if placed[k.Value] {
			return
		}
		placed[k.Value] = true
		if ov, ok := own[k.Value]; ok {
			v = ov
		}
		out.Content = append(out.Content, k, v)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Value != "<<" {
			add(k, n.Content[i+1])
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			src = resolve(src)
			if src.Kind != yaml.MappingNode {
				c.r.errorf(k, joinKey(path, "<<"), "a merge key takes a mapping (an alias such as *envelope)")
				continue
			}
			if depth >= maxDepth || c.r.values >= maxValues {
				c.r.errorf(k, joinKey(path, "<<"), "merges nest too deep or expand too far (does an alias refer to itself?)")
				return out
			}
			c.r.values += len(src.Content) / 2
			src = c.merge(src, path, depth+1)
			for j := 0; j+1 < len(src.Content); j += 2 {
				add(src.Content[j], src.Content[j+1])
			}
		}
	}
	return out
}

func (c *compiler) object(n *yaml.Node, path string) {
	n = c.expandMerge(n, path)
	dynamic := false
	for i := 1; i < len(n.Content); i += 2 {
		if r := c.placeholder(n.Content[i], ""); r != nil && r.optional {
			dynamic = true
		}
	}
	seen := map[string]bool{}
	if dynamic {
		c.t.ops = append(c.t.ops, op{code: opOpen})
	} else {
		c.lit("{")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := joinKey(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			c.r.errorf(k, path, "keys must be strings")
			continue
		}
		if seen[k.Value] {
			c.r.errorf(k, p, "key appears twice")
			continue
		}
		seen[k.Value] = true
		key := appendJSONString(nil, k.Value)
		key = append(key, ':')
		if r := c.placeholder(v, p); r != nil && r.optional {
			c.note(r)
			c.t.ops = append(c.t.ops, op{code: opOptional, lit: append([]byte{','}, key...), ref: r})
			continue
		}
		if dynamic || i > 0 {
			c.lit(",")
		}
		c.lit(string(key))
		c.value(v, p)
	}
	if dynamic {
		c.t.ops = append(c.t.ops, op{code: opClose})
	} else {
		c.lit("}")
	}
}

// scalarJSON is the JSON text of a null, boolean or number scalar ("" when
// it is none, or out of range).
func scalarJSON(n *yaml.Node) string {
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		return strconv.FormatBool(b)
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return ""
		}
		return strconv.FormatInt(i, 10)
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return ""
		}
		b, _ := json.Marshal(f)
		return string(b)
	}
	return n.Value
}

func (c *compiler) scalar(n *yaml.Node, path string) {
	switch n.Tag {
	case "!!null", "!!bool", "!!int", "!!float":
		s := scalarJSON(n)
		if s == "" {
			c.r.errorf(n, path, "%s is not a JSON number", n.Value)
			return
		}
		c.lit(s)
	case "!!str", "!!timestamp", "!!binary":
		segs := c.segments(n, path, n.Value)
		switch {
		case len(segs) == 0:
			c.lit(`""`)
		case single(segs) != nil:
			if single(segs).optional {
				c.r.errorf(n, path, "\"{%s?}\" can only leave out a key of an object", single(segs).name)
			}
			c.t.ops = append(c.t.ops, op{code: opValue, ref: single(segs)})
		case len(segs) == 1:
			c.lit(string(appendJSONString(nil, segs[0].lit)))
		default:
			c.checkInterpolated(n, path, segs)
			c.t.ops = append(c.t.ops, op{code: opString, segs: segs})
		}
	default:
		c.r.errorf(n, path, "unsupported YAML tag %s", n.Tag)
	}
}

// checkInterpolated refuses values that have no text form inside a string.
func (c *compiler) checkInterpolated(n *yaml.Node, path string, segs []segment) {
	for _, s := range segs {
		if s.ref == nil {
			continue
		}
		switch {
		case s.ref.optional:
			c.r.errorf(n, path, "\"{%s?}\" can only stand alone as a value, not inside a string", s.ref.name)
		case s.ref.fmt == fArray:
			c.r.errorf(n, path, "\"{%s:array}\" cannot be part of a string", s.ref.name)
		case s.ref.def.typ == tRaw:
			c.r.errorf(n, path, "\"{%s}\" cannot be part of a string", s.ref.name)
		}
	}
}

// flatFields compiles the form-urlencoded form of a flat mapping. It reports
// problems only when report is set (the body must be form-encodable).
func (c *compiler) flatFields(n *yaml.Node, path string, report bool) bool {
	n = resolve(n)
	if n != nil && n.Kind == yaml.MappingNode {
		n = c.expandMerge(n, path)
	}
	if n == nil || n.Kind != yaml.MappingNode || unquotedPlaceholder(n) != "" {
		if report {
			c.r.errorf(n, path, "a form-encoded body must be a mapping of keys to plain values")
		}
		return false
	}
	var fields []formField
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		p := joinKey(path, k.Value)
		key := appendQueryEscape(nil, k.Value)
		key = append(key, '=')
		f := formField{key: key}
		switch {
		case v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null"):
			f.null = true
		case v.Kind != yaml.ScalarNode:
			if report {
				c.r.errorf(v, p, "a form-encoded body must be flat: nested objects and lists cannot be form-encoded")
			}
			ok = false
			continue
		case v.Tag == "!!str" || v.Tag == "!!timestamp" || v.Tag == "!!binary":
			segs, problems := parseSegments(v.Value, c.scope, c.where)
			if len(problems) > 0 {
				ok = false // reported by the JSON pass
				continue
			}
			if r := single(segs); r != nil {
				if r.fmt == fArray || r.def.typ == tRaw {
					if report {
						c.r.errorf(v, p, "\"{%s}\" renders a list, which cannot be form-encoded", r.name)
					}
					ok = false
					continue
				}
				f.ref = r
			} else {
				f.segs = segs
			}
		default:
			// Numbers and booleans as their JSON text, so both forms agree.
			f.lit = appendQueryEscape(nil, scalarJSON(v))
		}
		fields = append(fields, f)
	}
	if ok {
		c.t.form = fields
	}
	return ok
}

// requireFlat reports why the body cannot be form-encoded.
func (r *reader) requireFlat(t *Template, n *yaml.Node, path string, s scope, where string) {
	if t.flat {
		return
	}
	c := &compiler{r: r, scope: s, where: where, t: &Template{}}
	c.flatFields(n, path, true)
}

// unquotedPlaceholder recognises {name} written without quotes, which YAML
// reads as a one-key mapping, and returns the quoted form to suggest.
func unquotedPlaceholder(n *yaml.Node) string {
	if n.Style&yaml.FlowStyle == 0 || len(n.Content) != 2 || !isNull(n.Content[1]) {
		return ""
	}
	k := n.Content[0].Value
	name, _, _ := strings.Cut(strings.TrimSuffix(k, "?"), ":")
	if _, ok := catalogue[name]; ok || strings.HasPrefix(name, "vars.") || patternClass(name) {
		return "{" + k + "}"
	}
	return ""
}

// AppendJSON renders the body as JSON onto dst.
func (t *Template) AppendJSON(dst []byte, v *Values) []byte {
	var stack [8]int // positions after '{' of open dynamic objects
	var deep []int   // beyond 8 levels
	depth := 0
	for i := range t.ops {
		o := &t.ops[i]
		switch o.code {
		case opLit:
			dst = append(dst, o.lit...)
		case opValue:
			dst = appendRefJSON(dst, o.ref, v)
		case opString:
			dst = append(dst, '"')
			for j := range o.segs {
				s := &o.segs[j]
				if s.ref == nil {
					dst = appendJSONStringBody(dst, s.lit)
					continue
				}
				mark := len(dst)
				dst, _ = appendRefText(dst, s.ref, v)
				if needsEscape(dst[mark:]) {
					text := string(dst[mark:])
					dst = appendJSONStringBody(dst[:mark], text)
				}
			}
			dst = append(dst, '"')
		case opOpen:
			dst = append(dst, '{')
			if depth < len(stack) {
				stack[depth] = len(dst)
			} else {
				deep = append(deep, len(dst))
			}
			depth++
		case opClose:
			depth--
			var pos int
			if depth < len(stack) {
				pos = stack[depth]
			} else {
				pos, deep = deep[len(deep)-1], deep[:len(deep)-1]
			}
			if pos < len(dst) && dst[pos] == ',' {
				dst = append(dst[:pos], dst[pos+1:]...)
			}
			dst = append(dst, '}')
		case opOptional:
			if present(o.ref, v) {
				dst = append(dst, o.lit...)
				dst = appendRefJSON(dst, o.ref, v)
			}
		}
	}
	return dst
}

// needsEscape reports bytes that a JSON string cannot hold as they are.
func needsEscape(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			return true
		}
	}
	return false
}

// AppendForm renders a flat body form-urlencoded onto dst; fields without
// a value are left out.
func (t *Template) AppendForm(dst []byte, v *Values) []byte {
	first := true
	for i := range t.form {
		f := &t.form[i]
		if f.null || (f.ref != nil && !present(f.ref, v)) {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		dst = append(dst, f.key...)
		switch {
		case f.lit != nil:
			dst = append(dst, f.lit...)
		case f.ref != nil:
			dst = appendEscapedText(dst, v, f.ref, nil)
		default:
			dst = appendEscapedText(dst, v, nil, f.segs)
		}
	}
	return dst
}

// appendEscapedText renders a placeholder or an interpolated string as
// text, then escapes it in place.
func appendEscapedText(dst []byte, v *Values, r *ref, segs []segment) []byte {
	mark := len(dst)
	if r != nil {
		dst, _ = appendRefText(dst, r, v)
	} else {
		dst = appendSegmentsText(dst, segs, v)
	}
	text := string(dst[mark:])
	return appendQueryEscape(dst[:mark], text)
}

// AppendText renders a text body.
func (t *Template) AppendText(dst []byte, v *Values) []byte {
	return appendSegmentsText(dst, t.text, v)
}
