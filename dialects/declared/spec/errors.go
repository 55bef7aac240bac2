package spec

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// Errors is the spec's error style: one envelope (format, headers, body)
// and the rules that map engine errors to status, code and text.
type Errors struct {
	Formats []Format
	Headers []HeaderTemplate
	Body    *Template
	Rules   []*Rule // first match wins
	Default *Rule   // for everything no rule matches
	secrets []string
}

// Rule maps the errors it matches to an answer. Empty match fields match
// anything; a Params entry "" matches errors about no parameter.
type Rule struct {
	Kinds   []core.Kind
	Reasons []core.Reason
	Params  []string // nil: any
	Grants  []core.GrantType
	Status  int
	Code    string
	Headers []HeaderTemplate // added to (or replacing) the envelope's
	Body    *Template        // nil: the envelope's body
	text    []segment
	vars    map[string]encodedVar // the envelope's vars, then the rule's own
	uses    uint64                // placeholders of its body and headers
}

type encodedVar struct {
	json []byte
	text string
	null bool
}

// Answer is a described error: what to send, before the envelope is
// rendered. The gateway may also build one for a forced answer (Forced).
type Answer struct {
	Status      int
	Code        string
	Text        string // the rule's text (or the forced text)
	Description string // the engine's client-safe description; {description} falls back to Text
	Param       string
	Value       string // the value sent for Param, when HasValue
	HasValue    bool
	RetryAfter  time.Duration
	rule        *Rule
	sent        json.RawMessage // Value as the JSON value sent (SetSent), for {value} in JSON
}

// SetSent gives the answer's value as the JSON value the request's body
// held (a number stays a number, an object an object), for {value} in a
// JSON body; it does nothing when the answer shows no value. Longer than
// 128 bytes, a string is cut on a character boundary and another value
// becomes the string of its first bytes.
func (a *Answer) SetSent(raw json.RawMessage) {
	if !a.HasValue || len(raw) == 0 {
		return
	}
	if len(raw) <= maxValueLen {
		a.sent = raw
		return
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	a.sent, _ = json.Marshal(clip(s, maxValueLen))
}

func (a *Answer) vars() map[string]encodedVar {
	if a == nil || a.rule == nil {
		return nil
	}
	return a.rule.vars
}

var kindNames = []string{string(core.KindInvalidRequest), string(core.KindInvalidClient), string(core.KindInvalidGrant),
	string(core.KindUnauthorizedClient), string(core.KindUnsupportedGrantType), string(core.KindInvalidScope),
	string(core.KindInvalidToken), string(core.KindExpiredToken), string(core.KindAccessDenied),
	string(core.KindNotFound), string(core.KindConflict), string(core.KindRateLimited), string(core.KindUnavailable),
	string(core.KindServerError)}

var reasonNames = []string{string(core.ReasonMissing), string(core.ReasonDuplicate), string(core.ReasonMalformed),
	string(core.ReasonClientExpired), string(core.ReasonClientDisabled), string(core.ReasonUnknownUser),
	string(core.ReasonCodeReplay), string(core.ReasonRefreshReuse), string(core.ReasonPKCE),
	string(core.ReasonRedirectURI), string(core.ReasonWrongClient), string(core.ReasonBadCredentials),
	string(core.ReasonTooLarge), string(core.ReasonTimeout), string(core.ReasonClosedHours),
	string(core.ReasonActiveToken), string(core.ReasonNotAllowed), string(core.ReasonSeparator),
	string(core.ReasonHeadersTooLarge)}

func (r *reader) errors(n *yaml.Node, path string) *Errors {
	x := &Errors{Formats: []Format{FormatJSON}}
	f := r.mapping(n, path)
	if f == nil {
		return x
	}
	if v, p := f.take("content_type"); v != nil {
		x.Formats = r.formats(v, p)
		if x.Formats[0] == FormatText {
			r.errorf(v, p, "errors are answered as json or form")
		}
	}
	if v, p := f.take("headers"); v != nil {
		x.Headers = r.headers(v, p, inError, "an error answer")
	}
	bv, bp := f.required("body")
	if bv != nil {
		x.Body = r.body(bv, bp, x.Formats, inError, "an error answer")
	}
	vars := map[string]encodedVar{}
	if v, p := f.take("vars"); v != nil {
		r.vars(v, p, vars)
	}
	if v, p := f.take("rules"); v != nil {
		if v.Kind != yaml.SequenceNode {
			r.errorf(v, p, "must be a list of rules")
		} else {
			for i, c := range v.Content {
				if rule := r.rule(resolve(c), index(p, i), x, vars, false); rule != nil {
					x.Rules = append(x.Rules, rule)
				}
			}
		}
	}
	if v, p := f.required("default"); v != nil {
		x.Default = r.rule(v, p, x, vars, true)
	}
	f.done()
	if x.Default == nil {
		x.Default = &Rule{Status: http.StatusInternalServerError, Code: "server_error"}
	}
	return x
}

// vars encodes constant values by name.
func (r *reader) vars(n *yaml.Node, path string, into map[string]encodedVar) {
	if r.mapping(n, path) == nil {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		p := joinKey(path, k.Value)
		t := r.compile(v, p, 0, "a variable")
		ev := encodedVar{json: t.AppendJSON(nil, &Values{}), null: isNull(v)}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			ev.text = v.Value
		} else {
			ev.text = string(ev.json)
		}
		into[k.Value] = ev
	}
}

func (r *reader) rule(n *yaml.Node, path string, x *Errors, defaults map[string]encodedVar, isDefault bool) *Rule {
	f := r.mapping(n, path)
	if f == nil {
		return nil
	}
	rule := &Rule{vars: map[string]encodedVar{}}
	for k, v := range defaults {
		rule.vars[k] = v
	}
	if v, p := f.take("when"); v != nil {
		if isDefault {
			r.errorf(v, p, "the default rule matches everything else; it has no when")
		} else {
			r.when(v, p, rule)
		}
	} else if !isDefault {
		r.errorf(n, joinKey(path, "when"), "is required (or make this the default rule)")
	}
	if v, p := f.required("status"); v != nil {
		rule.Status = r.status(v, p)
	}
	if v, p := f.required("code"); v != nil {
		rule.Code, _ = r.str(v, p)
	}
	if v, p := f.take("text"); v != nil {
		if s, ok := r.str(v, p); ok {
			segs, problems := parseSegments(s, inRuleText, "an error rule's text")
			for _, msg := range problems {
				r.errorf(v, p, "%s", msg)
			}
			rule.text = segs
		}
	}
	if v, p := f.take("vars"); v != nil {
		r.vars(v, p, rule.vars)
	}
	if v, p := f.take("headers"); v != nil {
		rule.Headers = r.headers(v, p, inError, "an error answer")
	}
	body := x.Body
	if v, p := f.take("body"); v != nil {
		rule.Body = r.body(v, p, x.Formats, inError, "an error answer")
		body = rule.Body
	}
	f.done()
	// Every variable the answer uses must have a value for this rule.
	used := map[string]bool{}
	if body != nil {
		rule.uses = body.uses
		for _, name := range body.vars {
			used[name] = true
		}
	}
	for _, hs := range [][]HeaderTemplate{x.Headers, rule.Headers} {
		for _, h := range hs {
			for _, s := range h.segs {
				if s.ref != nil {
					rule.uses |= 1 << s.ref.def.id
					if s.ref.varName != "" {
						used[s.ref.varName] = true
					}
				}
			}
		}
	}
	for _, s := range rule.text {
		if s.ref != nil && s.ref.varName != "" {
			used[s.ref.varName] = true
		}
	}
	for name := range used {
		if _, ok := rule.vars[name]; !ok {
			r.errorf(n, path, "the answer uses {vars.%s}, which neither this rule nor errors.vars sets", name)
		}
	}
	return rule
}

func (r *reader) when(n *yaml.Node, path string, rule *Rule) {
	f := r.mapping(n, path)
	if f == nil {
		return
	}
	if v, p := f.take("kind"); v != nil {
		rule.Kinds = listOf[core.Kind](r, v, p, kindNames)
	}
	if v, p := f.take("reason"); v != nil {
		rule.Reasons = listOf[core.Reason](r, v, p, reasonNames)
	}
	if v, p := f.take("param"); v != nil {
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		rule.Params = []string{}
		for _, c := range items {
			if c = resolve(c); c.Kind == yaml.ScalarNode && c.Tag != "!!null" {
				rule.Params = append(rule.Params, c.Value)
			} else {
				r.errorf(c, p, `must be a parameter name (or a list of them), or "" for errors about no parameter`)
			}
		}
	}
	if v, p := f.take("grant"); v != nil {
		rule.Grants = r.grantList(v, p)
	}
	f.done()
	if len(n.Content) == 0 {
		r.errorf(n, path, "matches everything; name a kind, reason, param or grant (or make this the default rule)")
	}
}

// listOf reads one name or a list of names from allowed.
func listOf[T ~string](r *reader, n *yaml.Node, path string, allowed []string) []T {
	var out []T
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for i, c := range items {
		p := path
		if n.Kind == yaml.SequenceNode {
			p = index(path, i)
		}
		if s, ok := r.oneOf(c, p, allowed...); ok {
			out = append(out, T(s))
		}
	}
	return out
}

func (rule *Rule) matches(e *core.Error, grant core.GrantType) bool {
	return (len(rule.Kinds) == 0 || contains(rule.Kinds, e.Kind)) &&
		(len(rule.Reasons) == 0 || contains(rule.Reasons, e.Reason)) &&
		(rule.Params == nil || contains(rule.Params, e.Param)) &&
		(len(rule.Grants) == 0 || contains(rule.Grants, grant))
}

// match returns the first rule matching e, or the default.
func (x *Errors) match(e *core.Error, grant core.GrantType) *Rule {
	for _, rule := range x.Rules {
		if rule.matches(e, grant) {
			return rule
		}
	}
	return x.Default
}

// maxValueLen bounds an echoed parameter value.
const maxValueLen = 128

// Describe maps an error (a *core.Error, anything else is an internal
// error) to its answer; grant is the grant the request asked for, if known.
// A parameter's value is shown only when it was sent and could not be used
// (a malformed value, an unsupported grant type) and is not a secret.
func (x *Errors) Describe(err error, grant core.GrantType) Answer {
	e := core.AsError(err)
	rule := x.match(e, grant)
	a := Answer{Status: rule.Status, Code: rule.Code, Description: e.Description, Param: e.Param,
		RetryAfter: e.RetryAfter, rule: rule}
	if (e.Reason == core.ReasonMalformed || e.Kind == core.KindUnsupportedGrantType) && e.Param != "" && !x.secret(e.Param) &&
		!(e.Value == "" && strings.EqualFold(e.Param, "Content-Type")) { // no header sent: no value
		a.Value, a.HasValue = clip(e.Value, maxValueLen), true
	}
	a.Text = rule.renderText(&a)
	return a
}

// Forced builds the answer to a fault rule's forced answer: its status, its
// code (else the code of the rule kind maps to) and its text (else
// "injected fault: <status text>").
func (x *Errors) Forced(kind core.Kind, status int, code, text string, retryAfter time.Duration) Answer {
	rule := x.match(&core.Error{Kind: kind}, "")
	if code == "" {
		code = rule.Code
	}
	if text == "" {
		text = "injected fault: " + http.StatusText(status)
	}
	return Answer{Status: status, Code: code, Text: text, Description: text, RetryAfter: retryAfter, rule: rule}
}

func (rule *Rule) renderText(a *Answer) string {
	switch {
	case len(rule.text) == 0:
		return ""
	case len(rule.text) == 1 && rule.text[0].ref == nil:
		return rule.text[0].lit
	}
	return string(appendSegmentsText(nil, rule.text, &Values{answer: a}))
}

// secret reports a parameter whose value must never be echoed: a declared
// secret, or any name that says it holds one.
func (x *Errors) secret(name string) bool {
	if contains(x.secrets, name) {
		return true
	}
	n := strings.ToLower(strings.ReplaceAll(name, "_", ""))
	for _, s := range []string{"secret", "password", "token", "assertion", "verifier"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Render writes an answer in the spec's envelope. Error, trace and
// correlation ids the answer shows are generated into v when empty, so the
// caller can log the ones the client saw.
func (x *Errors) Render(out *Output, accept string, a *Answer, v *Values) {
	rule := a.rule
	if rule == nil {
		rule = x.Default
		a.rule = rule
	}
	v.answer = a
	for _, id := range [...]struct {
		ph  phID
		dst *string
	}{{phErrorID, &v.ErrorID}, {phTraceID, &v.TraceID}, {phCorrelationID, &v.CorrelationID}} {
		if rule.uses&(1<<id.ph) != 0 && *id.dst == "" {
			*id.dst, _ = newUUID(rand.Reader)
		}
	}
	out.reset()
	out.Status = a.Status
	appendHeaders(out, x.Headers, v)
	appendHeaders(out, rule.Headers, v)
	if a.RetryAfter > 0 {
		out.Set("Retry-After", strconv.FormatInt(int64((a.RetryAfter+time.Second-1)/time.Second), 10))
	}
	body := rule.Body
	if body == nil {
		body = x.Body
	}
	renderBody(out, body, Negotiate(x.Formats, accept), v)
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
