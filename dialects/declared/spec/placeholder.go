package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// format refines how a placeholder renders: times as Unix seconds (the
// default), milliseconds, RFC 3339 or a Go layout; scopes space- or
// comma-joined (the default is space) or as an array.
type format uint8

const (
	fDefault format = iota
	fUnix
	fUnixMS
	fRFC3339
	fLayout
	fSpace
	fComma
	fArray
)

// ref is one placeholder use, resolved at parse time.
type ref struct {
	name     string
	def      phDef
	fmt      format
	layout   string // fLayout
	varName  string // tVar
	optional bool   // "{name?}": leave the key out when empty
}

// segment is a piece of an interpolated string: literal text or a placeholder.
type segment struct {
	lit string
	ref *ref
}

// parseRef resolves the inside of "{...}". It returns a message on failure.
func parseRef(inner string, s scope, where string) (*ref, string) {
	r := &ref{}
	if strings.HasSuffix(inner, "?") {
		r.optional = true
		inner = strings.TrimSuffix(inner, "?")
	}
	name, arg, hasArg := strings.Cut(inner, ":")
	r.name = name
	if v, ok := strings.CutPrefix(name, "vars."); ok {
		if s&inErrors == 0 {
			return nil, fmt.Sprintf("placeholder %q: vars exist only in error answers", "{"+inner+"}")
		}
		if v == "" || hasArg {
			return nil, fmt.Sprintf("placeholder %q: write {vars.NAME}", "{"+inner+"}")
		}
		r.def, r.varName = phDef{id: phVar, typ: tVar, in: inErrors}, v
		return r, ""
	}
	def, ok := catalogue[name]
	if !ok {
		msg := fmt.Sprintf("unknown placeholder %q", name)
		if g := suggest(name, placeholderNames(s)); g != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", g)
		}
		return nil, msg
	}
	if def.in&s == 0 {
		return nil, fmt.Sprintf("placeholder %q cannot be used in %s (available: %s)", name, where,
			strings.Join(placeholderNames(s), ", "))
	}
	r.def = def
	if !hasArg {
		return r, ""
	}
	switch def.typ {
	case tTime:
		switch {
		case arg == "unix":
			r.fmt = fUnix
		case arg == "unix_ms":
			r.fmt = fUnixMS
		case arg == "rfc3339":
			r.fmt = fRFC3339
		case strings.Contains(arg, "2006"):
			r.fmt, r.layout = fLayout, arg
		default:
			return nil, fmt.Sprintf("placeholder %q: unknown time format %q (use unix, unix_ms, rfc3339 or a Go layout such as 2006-01-02 15:04:05Z)", name, arg)
		}
	case tScopes:
		switch arg {
		case "space":
			r.fmt = fSpace
		case "comma":
			r.fmt = fComma
		case "array":
			r.fmt = fArray
		default:
			return nil, fmt.Sprintf("placeholder %q: unknown format %q (use space, comma or array)", name, arg)
		}
	default:
		return nil, fmt.Sprintf("placeholder %q takes no format (%q)", name, arg)
	}
	return r, ""
}

// parseSegments splits a string into literal text and placeholders; "{{"
// and "}}" are literal braces.
func parseSegments(str string, s scope, where string) ([]segment, []string) {
	var segs []segment
	var problems []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(str); {
		c := str[i]
		switch {
		case c == '{' && i+1 < len(str) && str[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(str) && str[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '{':
			end := strings.IndexByte(str[i:], '}')
			if end < 0 {
				problems = append(problems, fmt.Sprintf("unclosed placeholder in %q (write {{ for a literal brace)", str))
				return nil, problems
			}
			inner := str[i+1 : i+end]
			r, msg := parseRef(inner, s, where)
			if msg != "" {
				problems = append(problems, msg)
			} else {
				flush()
				segs = append(segs, segment{ref: r})
			}
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return segs, problems
}

// appendRefJSON writes a placeholder's value as typed JSON.
func appendRefJSON(dst []byte, r *ref, v *Values) []byte {
	switch r.def.typ {
	case tNumber:
		return strconv.AppendInt(dst, v.number(r.def.id), 10)
	case tBool:
		return strconv.AppendBool(dst, v.Active)
	case tTime:
		t := v.time(r.def.id)
		if t.IsZero() {
			return append(dst, "null"...)
		}
		switch r.fmt {
		case fDefault, fUnix:
			return strconv.AppendInt(dst, t.Unix(), 10)
		case fUnixMS:
			return strconv.AppendInt(dst, t.UnixMilli(), 10)
		}
		dst = append(dst, '"')
		dst = appendTime(dst, r, t)
		return append(dst, '"')
	case tScopes:
		if len(v.Scopes) == 0 {
			return append(dst, "null"...)
		}
		if r.fmt == fArray {
			dst = append(dst, '[')
			for i, s := range v.Scopes {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, s)
			}
			return append(dst, ']')
		}
		dst = append(dst, '"')
		dst = appendScopes(dst, r, v.Scopes, appendJSONStringBody)
		return append(dst, '"')
	case tVar:
		if ev, ok := v.answer.vars()[r.varName]; ok {
			return append(dst, ev.json...)
		}
		return append(dst, "null"...)
	case tRaw:
		if len(v.Keys) == 0 {
			return append(dst, "null"...)
		}
		return append(dst, v.Keys...)
	}
	if r.def.id == phValue && v.answer.sent != nil {
		return append(dst, v.answer.sent...)
	}
	s, ok := v.str(r.def.id)
	if !ok {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, s)
}

// appendRefText writes a placeholder's value as plain text (inside a
// string, a header or a form field); ok is false when it has none.
func appendRefText(dst []byte, r *ref, v *Values) ([]byte, bool) {
	switch r.def.typ {
	case tNumber:
		return strconv.AppendInt(dst, v.number(r.def.id), 10), true
	case tBool:
		return strconv.AppendBool(dst, v.Active), true
	case tTime:
		t := v.time(r.def.id)
		if t.IsZero() {
			return dst, false
		}
		switch r.fmt {
		case fDefault, fUnix:
			return strconv.AppendInt(dst, t.Unix(), 10), true
		case fUnixMS:
			return strconv.AppendInt(dst, t.UnixMilli(), 10), true
		}
		return appendTime(dst, r, t), true
	case tScopes:
		if len(v.Scopes) == 0 {
			return dst, false
		}
		return appendScopes(dst, r, v.Scopes, func(b []byte, s string) []byte { return append(b, s...) }), true
	case tVar:
		ev, ok := v.answer.vars()[r.varName]
		if !ok || ev.null {
			return dst, false
		}
		return append(dst, ev.text...), true
	case tRaw:
		return append(dst, v.Keys...), len(v.Keys) > 0
	}
	s, ok := v.str(r.def.id)
	return append(dst, s...), ok
}

// present reports whether a placeholder has a value ("{name?}" keeps its key).
func present(r *ref, v *Values) bool {
	switch r.def.typ {
	case tNumber, tBool:
		return true
	case tTime:
		return !v.time(r.def.id).IsZero()
	case tScopes:
		return len(v.Scopes) > 0
	case tVar:
		ev, ok := v.answer.vars()[r.varName]
		return ok && !ev.null
	case tRaw:
		return len(v.Keys) > 0
	}
	_, ok := v.str(r.def.id)
	return ok
}

func appendTime(dst []byte, r *ref, t time.Time) []byte {
	t = t.UTC()
	if r.fmt == fLayout {
		return t.AppendFormat(dst, r.layout)
	}
	return t.AppendFormat(dst, time.RFC3339)
}

func appendScopes(dst []byte, r *ref, scopes []string, add func([]byte, string) []byte) []byte {
	sep := " "
	if r.fmt == fComma {
		sep = ","
	}
	for i, s := range scopes {
		if i > 0 {
			dst = append(dst, sep...)
		}
		dst = add(dst, s)
	}
	return dst
}

// appendSegmentsText renders an interpolated string as text; absent
// placeholders contribute nothing.
func appendSegmentsText(dst []byte, segs []segment, v *Values) []byte {
	for i := range segs {
		if segs[i].ref == nil {
			dst = append(dst, segs[i].lit...)
			continue
		}
		dst, _ = appendRefText(dst, segs[i].ref, v)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string the way encoding/json does
// (HTML-safe, invalid UTF-8 replaced), so bodies match the Go dialects'.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, s)
	return append(dst, '"')
}

func appendJSONStringBody(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendQueryEscape writes s form-urlencoded, as url.QueryEscape does.
func appendQueryEscape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xF])
		}
	}
	return dst
}

func sortStrings(s []string) { sort.Strings(s) }
