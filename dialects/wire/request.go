package wire

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// Request is the one per-request value the gateway, the control plane and
// the dialect share: who serves the request, what the client presented,
// how it was answered, and the body, read and parsed once.
type Request struct {
	// Instance is the dialect instance serving (or owning) the request; ""
	// for paths no dialect owns. Type is its registered type.
	Instance, Type string
	// Facts is what the instance declared about its wire.
	Facts *Facts
	// MaxParams bounds the parameters a decoder accepts (limits.max_params).
	MaxParams int
	// RequestID identifies the request in the access log, the journal and
	// the X-Request-Id response header: the client's own when it sent a
	// sane one, else one the gateway made.
	RequestID string
	// Metrics, when metrics are on, counts the request once it is answered:
	// its route's (or its instance's unrouted) counters, resolved at mount.
	Metrics RouteMetrics

	ClientID string        // the client id the request presented
	Grant    string        // its grant type
	Err      *core.Error   // the domain error answered, if any
	Forced   *ForcedAnswer // the forced answer given, if any
	ErrorID  string        // a dialect's per-event error id
	FaultID  string        // the fault rule that fired
	// Synced is set once the control plane loaded the replicas' shared
	// state for this request.
	Synced bool
	// Trace is what the engine did with tokens answering the request (the
	// gateway hands it to the engine in the request's context).
	Trace core.Trace

	body       []byte
	bodyErr    error
	bodyRead   bool
	form       url.Values
	formErr    error
	formParsed bool
	obj        map[string]json.RawMessage
	objErr     error
	objParsed  bool
	params     url.Values
	basic      ClientAuth
	basicOK    bool
	basicErr   error
	basicRead  bool
}

// RouteMetrics counts the finished requests of one route of one instance
// (dialects/metrics implements it). grant is what the request presented.
type RouteMetrics interface {
	Observe(status int, grant string, latency time.Duration)
}

// key is the one echo context key the wire layer uses.
const key = "wire.request"

// RequestOf returns c's per-request value, creating it on first use (the
// gateway's first middleware does, with Begin, so every later step shares
// it).
func RequestOf(c echo.Context) *Request {
	if rc, ok := c.(*requestContext); ok {
		return &rc.req
	}
	if r, ok := c.Get(key).(*Request); ok {
		return r
	}
	r := &Request{}
	c.Set(key, r)
	return r
}

// Begin creates c's per-request value and returns the context to hand on:
// c with the value beside it, where RequestOf finds it without echo's
// locked store (a dozen lookups a request, and a map per request).
// Everything after the caller gets that context, the error handler too
// (requestContext.Error).
func Begin(c echo.Context) (echo.Context, *Request) {
	if rc, ok := c.(*requestContext); ok {
		return rc, &rc.req
	}
	rc := &requestContext{Context: c}
	return rc, &rc.req
}

// requestContext is an echo context carrying its request's value.
type requestContext struct {
	echo.Context
	req Request
}

// Error hands err to echo's error handler with rc itself: echo's own
// context would hand over the context rc wraps, which does not carry the
// request's value.
func (rc *requestContext) Error(err error) { rc.Echo().HTTPErrorHandler(err, rc) }

// NoteClient records the client id (and grant) a request presented.
func NoteClient(c echo.Context, clientID string, grant string) {
	r := RequestOf(c)
	if clientID != "" {
		r.ClientID = clientID
	}
	if grant != "" {
		r.Grant = grant
	}
}

// NoteError records the domain error a request was answered with (for the
// pages that render errors without the gateway's error path).
func NoteError(c echo.Context, e *core.Error) { RequestOf(c).Err = e }

// maxParams is the parameter bound for the request.
func (r *Request) maxParams() int {
	if r.MaxParams > 0 {
		return r.MaxParams
	}
	return DefaultMaxParams
}
