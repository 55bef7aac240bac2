package wire

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// DefaultMaxParams bounds how many parameters a form, query or JSON object
// may carry when the gateway has not set limits.max_params on the request.
const DefaultMaxParams = 100

const tooManyParams = "too many parameters"

// MaxParams is the parameter bound for this request.
func MaxParams(c echo.Context) int { return RequestOf(c).maxParams() }

// ReadBody returns the request body, read once per request whoever asks
// first (the control plane or the dialect). An over-limit body (see the
// gateway's body limit) is invalid_request/too_large, a body that did not
// arrive within the server's read timeout invalid_request/timeout.
func ReadBody(c echo.Context) ([]byte, error) {
	r := RequestOf(c)
	if !r.bodyRead {
		body := c.Request().Body
		r.body, r.bodyErr = readBody(body, c.Request().ContentLength)
		r.bodyRead = true
		if r.bodyErr == nil && body != nil {
			// Read to its end: closing it tells net/http that nothing is
			// left to drain before the next request on the connection.
			_ = body.Close()
		}
	}
	return r.body, r.bodyErr
}

// readBody reads body whole. A declared length below presizeBelow sizes the
// buffer (a token request's form is a few dozen bytes; io.ReadAll starts at
// 512), so a client's claim cannot make it allocate more than a small body
// needs; the body limit is enforced by the reader either way.
func readBody(body io.Reader, declared int64) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := readDeclared(body, declared)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, TooLarge()
		}
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			// limits.read_timeout passed before the body arrived.
			return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout,
				Description: "request timeout", Cause: err}
		}
		return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed,
			Description: "the request body could not be read", Cause: err}
	}
	return b, nil
}

const presizeBelow = 4096

func readDeclared(body io.Reader, declared int64) ([]byte, error) {
	if declared < 0 || declared >= presizeBelow {
		return io.ReadAll(body)
	}
	b := make([]byte, 0, declared+1) // one more than declared: room to see the end
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil: // a truncated body's io.ErrUnexpectedEOF among them
			return nil, err
		case len(b) == cap(b): // longer than declared
			rest, err := io.ReadAll(body)
			return append(b, rest...), err
		}
	}
}

// TooLarge is the error for a body over the configured limit.
func TooLarge() *core.Error {
	return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTooLarge, Description: "request body too large"}
}

// MediaType returns the request's media type, lower-cased, without parameters.
func MediaType(c echo.Context) string {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct == "" || plainMediaType(ct) {
		return ct
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt
}

// plainMediaType reports whether ct is a media type as mime.ParseMediaType
// would return it (lower case, no parameters, no spaces), as clients
// usually send it: it needs no parsing.
func plainMediaType(ct string) bool {
	slash := strings.IndexByte(ct, '/')
	if slash <= 0 || slash == len(ct)-1 {
		return false
	}
	for i := 0; i < len(ct); i++ {
		switch b := ct[i]; {
		case i == slash, 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '.', b == '+':
		default:
			return false
		}
	}
	return true
}

// WrongContentType reports a body sent with the wrong media type.
func WrongContentType(want string, got string) *core.Error {
	return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Param: "Content-Type", Value: got,
		Description: "Content-Type must be " + want}
}

// Form decodes an application/x-www-form-urlencoded body strictly: the
// content type must match, the body must parse, and the parameter count is
// bounded. An empty body with no content type is an empty form.
func Form(c echo.Context) (url.Values, error) {
	body, err := ReadBody(c)
	if err != nil {
		return nil, err
	}
	mt := MediaType(c)
	if mt != echo.MIMEApplicationForm && !(mt == "" && len(body) == 0) {
		return nil, WrongContentType(echo.MIMEApplicationForm, mt)
	}
	return BodyParams(c)
}

// BodyParams parses the body as form parameters, once per request, with the
// request's parameter bound; the caller checks the content type.
func BodyParams(c echo.Context) (url.Values, error) {
	body, err := ReadBody(c)
	if err != nil {
		return nil, err
	}
	r := RequestOf(c)
	if !r.formParsed {
		r.form, r.formErr = ParseParamsLimit(string(body), r.maxParams())
		r.formParsed = true
	}
	return r.form, r.formErr
}

// ParseParams parses a query string or form body with the default bound.
func ParseParams(s string) (url.Values, error) { return ParseParamsLimit(s, DefaultMaxParams) }

// ParseParamsLimit parses a query string or form body of at most max parameters.
func ParseParamsLimit(s string, max int) (url.Values, error) {
	if n := strings.Count(s, "&") + 1; n > max {
		return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Description: tooManyParams}
	}
	if strings.Contains(s, ";") {
		// net/url refuses it since Go 1.17; say why rather than "malformed".
		return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonSeparator,
			Description: "';' does not separate parameters: use '&' between them, and send a ';' inside a value as %3B"}
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed,
			Description: "the parameters could not be parsed", Cause: err}
	}
	return v, nil
}

// Query parses the URL query with the same bound and strictness as Form.
func Query(c echo.Context) (url.Values, error) {
	return ParseParamsLimit(c.Request().URL.RawQuery, MaxParams(c))
}

// Single returns the one value of name, "" when absent, and
// invalid_request/duplicate when it was sent more than once (RFC 6749 §3.1).
func Single(v url.Values, name string) (string, error) {
	vals := v[name]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	}
	return "", core.DuplicateParam(name)
}

// Singles reads several parameters at once, failing on the first duplicate.
func Singles(v url.Values, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		s, err := Single(v, n)
		if err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, nil
}

// JSONObject decodes an application/json body that must be one JSON object,
// into a map of raw values, failing on duplicate keys and trailing data.
func JSONObject(c echo.Context) (map[string]json.RawMessage, error) {
	body, err := ReadBody(c)
	if err != nil {
		return nil, err
	}
	if mt := MediaType(c); mt != echo.MIMEApplicationJSON {
		return nil, WrongContentType(echo.MIMEApplicationJSON, mt)
	}
	r := RequestOf(c)
	if !r.objParsed {
		r.obj, r.objErr = parseJSONObject(body, r.maxParams())
		r.objParsed = true
	}
	return r.obj, r.objErr
}

// Params is what the control plane sees of a request's parameters, parsed
// once: the query plus a form body or a JSON object body's string members.
// A body that does not decode adds nothing. The result is shared: callers
// must not change it.
func Params(c echo.Context) url.Values {
	r := RequestOf(c)
	if r.params != nil {
		return r.params
	}
	req := c.Request()
	var body url.Values
	if req.Body != nil && req.ContentLength != 0 {
		switch MediaType(c) {
		case echo.MIMEApplicationForm:
			if form, err := BodyParams(c); err == nil {
				body = form
			}
		case echo.MIMEApplicationJSON:
			if obj, err := JSONObject(c); err == nil {
				body = make(url.Values, len(obj))
				for k, raw := range obj {
					if s, err := jsonText(raw); err == nil {
						body[k] = []string{s}
					}
				}
			}
		}
	}
	if req.URL.RawQuery == "" && body != nil {
		r.params = body // the usual request: no query to merge
		return body
	}
	p := url.Values{}
	if req.URL.RawQuery != "" {
		for k, v := range req.URL.Query() {
			p[k] = append(p[k], v...)
		}
	}
	for k, vals := range body {
		p[k] = append(p[k], vals...)
	}
	r.params = p
	return p
}

// ParseJSONObject is JSONObject on bytes, with the default bound.
func ParseJSONObject(body []byte) (map[string]json.RawMessage, error) {
	return parseJSONObject(body, DefaultMaxParams)
}

// parseJSONObject splits a JSON object body into its members, their values
// as sent (sharing body's memory: a request's body is never changed). A
// valid body (the usual one) is split by a scan that relies on
// its validity; an invalid one goes through encoding/json's streaming
// decoder, whose errors say what is wrong. The two agree on every valid
// body (FuzzJSONObjectScan).
func parseJSONObject(body []byte, maxKeys int) (map[string]json.RawMessage, error) {
	if json.Valid(body) {
		return scanJSONObject(body, maxKeys)
	}
	return decodeJSONObject(body, maxKeys)
}

func malformedJSON(d string, cause error) error {
	return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Description: d, Cause: cause}
}

// scanJSONObject is parseJSONObject for a body json.Valid accepts.
func scanJSONObject(body []byte, maxKeys int) (map[string]json.RawMessage, error) {
	s := validJSON{b: body}
	if s.skipSpace(); s.b[s.i] != '{' {
		return nil, malformedJSON("the body must be a JSON object", nil)
	}
	s.i++
	out := map[string]json.RawMessage{}
	for s.skipSpace(); s.b[s.i] != '}'; s.skipSpace() {
		if len(out) >= maxKeys {
			return nil, malformedJSON(tooManyParams, nil)
		}
		key, _ := jsonText(s.value()) // valid JSON: a string
		s.skipSpace()
		s.i++ // ':'
		s.skipSpace()
		raw := s.value()
		if _, dup := out[key]; dup {
			return nil, core.DuplicateParam(key)
		}
		out[key] = raw
		if s.skipSpace(); s.b[s.i] == ',' {
			s.i++
		}
	}
	return out, nil
}

// validJSON walks a valid JSON document.
type validJSON struct {
	b []byte
	i int
}

func (s *validJSON) skipSpace() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value returns the value that starts at the cursor and moves past it.
func (s *validJSON) value() []byte {
	start := s.i
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		for depth := 0; ; {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // a number, true, false or null
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\n\r", rune(s.b[s.i])) {
			s.i++
		}
	}
	return s.b[start:s.i]
}

// skipString moves past the string that starts at the cursor.
func (s *validJSON) skipString() {
	for s.i++; s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			s.i++
		}
	}
	s.i++
}

// jsonText decodes raw as a JSON string, as encoding/json does, past it for
// a plain one (plainJSONString).
func jsonText(raw []byte) (string, error) {
	if text, ok := plainJSONString(raw); ok {
		return text, nil
	}
	var text string
	err := json.Unmarshal(raw, &text)
	return text, err
}

// plainJSONString returns the text of raw when it is a JSON string of
// printable ASCII without escapes (a client id, a secret, a grant type),
// whose text is its bytes between the quotes; ok is false for anything
// else, which encoding/json must decode.
func plainJSONString(raw []byte) (text string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}

// decodeJSONObject is parseJSONObject on encoding/json's streaming decoder.
func decodeJSONObject(body []byte, maxKeys int) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformedJSON("the body is not valid JSON", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformedJSON("the body must be a JSON object", nil)
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		if len(out) >= maxKeys {
			return nil, malformedJSON(tooManyParams, nil)
		}
		kt, err := dec.Token()
		if err != nil {
			return nil, malformedJSON("the body is not valid JSON", err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformedJSON("the body is not valid JSON", err)
		}
		if _, dup := out[key]; dup {
			return nil, core.DuplicateParam(key)
		}
		out[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformedJSON("the body is not valid JSON", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformedJSON("unexpected data after the JSON object", nil)
	}
	return out, nil
}

// JSONString reads key from a decoded object as a string; absent or null is
// "". Any other JSON type is invalid_request naming the key.
func JSONString(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	s, err := jsonText(raw)
	if err != nil {
		return "", core.InvalidParam(key, truncate(string(raw), 64), key+" must be a string")
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
