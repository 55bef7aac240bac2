package spec

import (
	"net/http"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Format is a body encoding.
type Format uint8

const (
	FormatJSON Format = iota
	FormatForm
	FormatText
)

var formatNames = []string{"json", "form", "text"}

// ContentType is the media type a format is sent with.
func (f Format) ContentType() string {
	switch f {
	case FormatForm:
		return "application/x-www-form-urlencoded"
	case FormatText:
		return "text/plain; charset=utf-8"
	}
	return "application/json"
}

func (f Format) String() string { return formatNames[f] }

// Response is a compiled answer: status, headers and a body template.
type Response struct {
	Status int
	// Formats lists the encodings; with more than one the request's Accept
	// header chooses, and the first is the default.
	Formats []Format
	Headers []HeaderTemplate
	Body    *Template // nil: no body
}

// HeaderTemplate is one response header; its value may hold placeholders.
type HeaderTemplate struct {
	Name  string
	value string    // constant
	segs  []segment // with placeholders
}

// Output is a rendered answer. Reuse one across requests: Body and Header
// are truncated and appended to.
type Output struct {
	Status      int
	ContentType string // "" when there is no body
	Header      []Header
	Body        []byte
}

// Header is one rendered header.
type Header struct{ Name, Value string }

func (o *Output) reset() {
	o.Status, o.ContentType, o.Header, o.Body = 0, "", o.Header[:0], o.Body[:0]
}

// Set adds a header or replaces one of the same name.
func (o *Output) Set(name, value string) {
	for i := range o.Header {
		if strings.EqualFold(o.Header[i].Name, name) {
			o.Header[i].Value = value
			return
		}
	}
	o.Header = append(o.Header, Header{Name: name, Value: value})
}

func (r *reader) response(n *yaml.Node, path string, s scope, where string) *Response {
	resp := &Response{Status: http.StatusOK, Formats: []Format{FormatJSON}}
	f := r.mapping(n, path)
	if f == nil {
		return resp
	}
	if v, p := f.take("status"); v != nil {
		resp.Status = r.status(v, p)
	}
	if v, p := f.take("content_type"); v != nil {
		resp.Formats = r.formats(v, p)
	}
	if v, p := f.take("headers"); v != nil {
		resp.Headers = r.headers(v, p, s, where)
	}
	if v, p := f.take("body"); v != nil {
		resp.Body = r.body(v, p, resp.Formats, s, where)
	}
	f.done()
	return resp
}

func (r *reader) status(n *yaml.Node, path string) int {
	st, ok := r.integer(n, path)
	if ok && (st < 200 || st > 599) {
		r.errorf(n, path, "%d is not an HTTP status from 200 to 599", st)
	}
	return st
}

// formats reads "json", "form", "text" or a list of them (chosen by Accept).
func (r *reader) formats(n *yaml.Node, path string) []Format {
	names, nodes := r.strList(n, path)
	var out []Format
	for i := range names {
		p := path
		if n.Kind == yaml.SequenceNode {
			p = index(path, i)
		}
		if f, ok := r.oneOf(nodes[i], p, formatNames...); ok {
			ft := Format(indexOf(formatNames, f))
			if contains(out, ft) {
				r.errorf(nodes[i], p, "%s is listed twice", f)
			}
			out = append(out, ft)
		}
	}
	if len(out) > 1 && contains(out, FormatText) {
		r.errorf(n, path, "a text body cannot be negotiated with json or form")
	}
	if len(out) == 0 {
		return []Format{FormatJSON}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (r *reader) body(n *yaml.Node, path string, formats []Format, s scope, where string) *Template {
	if formats[0] == FormatText {
		return r.compileText(n, path, s, where)
	}
	t := r.compile(n, path, s, where)
	if contains(formats, FormatForm) {
		r.requireFlat(t, n, path, s, where)
	}
	return t
}

// headers reads a mapping of header names to (templated) values.
func (r *reader) headers(n *yaml.Node, path string, s scope, where string) []HeaderTemplate {
	if r.mapping(n, path) == nil {
		return nil
	}
	var out []HeaderTemplate
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		p := joinKey(path, k.Value)
		name := http.CanonicalHeaderKey(k.Value)
		if name == "Content-Type" || name == "Content-Length" {
			r.errorf(k, p, "is set by tokengate (use content_type for the body's format)")
			continue
		}
		if !validHeaderName(name) {
			r.errorf(k, p, "%q is not a valid header name", k.Value)
			continue
		}
		val, ok := r.str(v, p)
		if !ok {
			continue
		}
		segs, problems := parseSegments(val, s, where)
		for _, msg := range problems {
			r.errorf(v, p, "%s", msg)
		}
		h := HeaderTemplate{Name: name}
		switch {
		case len(segs) == 1 && segs[0].ref == nil:
			h.value = segs[0].lit
		case len(segs) > 0:
			h.segs = segs
		}
		out = append(out, h)
	}
	return out
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// appendHeaders renders headers onto out; a header whose value renders
// empty is left out.
func appendHeaders(out *Output, hs []HeaderTemplate, v *Values) {
	for i := range hs {
		h := &hs[i]
		val := h.value
		if h.segs != nil {
			val = string(appendSegmentsText(nil, h.segs, v))
		}
		if val != "" {
			out.Set(h.Name, val)
		}
	}
}

// Render writes the response for v into out, choosing the body format by
// the request's Accept header when there is a choice.
func (resp *Response) Render(out *Output, accept string, v *Values) {
	out.reset()
	out.Status = resp.Status
	appendHeaders(out, resp.Headers, v)
	renderBody(out, resp.Body, Negotiate(resp.Formats, accept), v)
}

func renderBody(out *Output, t *Template, f Format, v *Values) {
	if t == nil {
		return
	}
	out.ContentType = f.ContentType()
	switch f {
	case FormatForm:
		out.Body = t.AppendForm(out.Body, v)
	case FormatText:
		out.Body = t.AppendText(out.Body, v)
	default:
		out.Body = t.AppendJSON(out.Body, v)
	}
}

// Negotiate picks the format the Accept header prefers among formats (by
// quality, then order); formats[0] when it names none of them.
func Negotiate(formats []Format, accept string) Format {
	if len(formats) == 1 || accept == "" {
		return formats[0]
	}
	best, bestQ := formats[0], -1.0
	for rest := accept; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		mt, params, _ := strings.Cut(item, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		q := 1.0
		for params != "" {
			var prm string
			prm, params, _ = strings.Cut(params, ";")
			if k, val, ok := strings.Cut(strings.TrimSpace(prm), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(val, 64); err == nil {
					q = f
				}
			}
		}
		f, ok := formatOf(mt, formats)
		if strings.HasSuffix(mt, "/*") {
			q -= 1e-6 // a named type wins over a wildcard of the same quality
		}
		if ok && q > 0 && q > bestQ {
			best, bestQ = f, q
		}
	}
	return best
}

func formatOf(mediaType string, formats []Format) (Format, bool) {
	for _, f := range formats {
		ct, _, _ := strings.Cut(f.ContentType(), ";")
		if mediaType == ct {
			return f, true
		}
	}
	if mediaType == "*/*" || mediaType == "application/*" {
		return formats[0], true
	}
	return 0, false
}
