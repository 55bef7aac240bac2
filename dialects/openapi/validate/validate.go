// Package validate checks a running gateway's exchanges against its dialect
// instances' OpenAPI documents, so the descriptions cannot drift from the
// behaviour. Its echo middleware goes first on every dialect route: it lets
// the request through, renders the answer, then validates
//
//   - every answer: its status must be documented for the operation (or
//     covered by a default response), its headers and body must match;
//   - the request of every answer below 400: what the gateway accepted must
//     be what the document allows. A refused request is not checked: tests
//     send malformed requests on purpose, and only the refusal must then
//     match the document.
//
// Exchanges that fail are recorded, not refused: the caller (tokengatetest)
// fails its test with them at cleanup.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/openapi"
	"github.com/tokengate/tokengate/dialects/wire"
)

func init() {
	// The login pages answer HTML; their schema is a string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// Failure is one exchange (or one document) that did not validate.
type Failure struct {
	Instance string
	Method   string
	Path     string // the request's path
	Status   int
	Problem  string
}

func (f Failure) String() string {
	if f.Method == "" {
		return fmt.Sprintf("dialect %s: %s", f.Instance, f.Problem)
	}
	return fmt.Sprintf("dialect %s: %s %s -> %d: %s", f.Instance, f.Method, f.Path, f.Status, f.Problem)
}

// Validator validates exchanges against documents it loads once per
// instance. Its methods are safe for concurrent use.
type Validator struct {
	mu       sync.Mutex
	source   func(instance string) ([]byte, error)
	docs     map[string]*openapi3.T // nil value: the document failed to load
	failures []Failure
}

// New returns a validator reading documents through docs (see SetDocs).
func New(docs func(instance string) ([]byte, error)) *Validator {
	return &Validator{source: docs, docs: map[string]*openapi3.T{}}
}

// SetDocs sets what returns an instance's document (JSON or YAML, as the
// admin API serves it) and forgets the documents loaded so far.
func (v *Validator) SetDocs(docs func(instance string) ([]byte, error)) {
	v.mu.Lock()
	v.source, v.docs = docs, map[string]*openapi3.T{}
	v.mu.Unlock()
}

// Failures returns what failed so far.
func (v *Validator) Failures() []Failure {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Failure(nil), v.failures...)
}

func (v *Validator) fail(f Failure) {
	v.mu.Lock()
	v.failures = append(v.failures, f)
	v.mu.Unlock()
}

// Load returns instance's document, validated as OpenAPI 3.1, loading it
// on first use. A document that fails is recorded once and nil after.
func (v *Validator) Load(instance string) *openapi3.T {
	v.mu.Lock()
	doc, seen := v.docs[instance]
	v.mu.Unlock()
	if seen {
		return doc
	}
	v.mu.Lock()
	source := v.source
	v.mu.Unlock()
	doc, err := load(source, instance)
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, raced := v.docs[instance]; raced {
		return v.docs[instance]
	}
	v.docs[instance] = doc
	if err != nil {
		v.failures = append(v.failures, Failure{Instance: instance, Problem: err.Error()})
	}
	return doc
}

func load(source func(string) ([]byte, error), instance string) (*openapi3.T, error) {
	if source == nil {
		return nil, errors.New("no documents to validate against")
	}
	raw, err := source(instance)
	if errors.Is(err, openapi.ErrNotDescribed) {
		return nil, nil // nothing to hold it to (a test's own dialect type)
	}
	if err != nil {
		return nil, fmt.Errorf("no document: %w", err)
	}
	return Parse(raw)
}

// Parse loads a document and validates it as OpenAPI 3.1.
func Parse(raw []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("the document does not load: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("the document is OpenAPI %s, not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI 3.1: %w", err)
	}
	return doc, nil
}

// recorder keeps a copy of what the handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Middleware validates each exchange of a dialect route (see the package
// documentation).
func (v *Validator) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		rec := &recorder{ResponseWriter: res.Writer}
		res.Writer = rec
		err := next(c)
		if err != nil {
			c.Error(err) // render now, so the answer can be checked
		}
		res.Writer = rec.ResponseWriter
		v.check(c, rec.body.Bytes())
		return nil
	}
}

func (v *Validator) check(c echo.Context, body []byte) {
	r := wire.RequestOf(c)
	req := c.Request()
	status := c.Response().Status
	f := Failure{Instance: r.Instance, Method: req.Method, Path: req.URL.Path, Status: status}
	doc := v.Load(r.Instance)
	if doc == nil {
		return // its failure is recorded once
	}
	path := openapi.OpenAPIPath(c.Path())
	item := doc.Paths.Value(path)
	var op *openapi3.Operation
	if item != nil {
		op = item.GetOperation(req.Method)
	}
	if op == nil {
		f.Problem = fmt.Sprintf("route %s %s is not in the document", req.Method, path)
		v.fail(f)
		return
	}
	route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op}
	params := map[string]string{}
	for i, n := range c.ParamNames() {
		params[n] = c.ParamValues()[i]
	}
	reqBody, _ := wire.ReadBody(c) // the body the dialect read, or read now
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: authenticate}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if status < http.StatusBadRequest {
		if err := openapi3filter.ValidateRequest(c.Request().Context(), in); err != nil {
			f.Problem = "request: " + err.Error()
			v.fail(f)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status,
		Header: c.Response().Header(), Options: opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(c.Request().Context(), out); err != nil {
		f.Problem = "response: " + err.Error() + "\nbody: " + clip(string(body), 400)
		v.fail(f)
	}
}

// authenticate checks that a request carries what the security scheme it
// satisfies names: Basic or Bearer credentials, or an API key header. The
// values are the dialect's business.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	h := in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "http":
		scheme, _, _ := strings.Cut(h.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, s.Scheme) {
			return fmt.Errorf("no Authorization: %s header", s.Scheme)
		}
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
