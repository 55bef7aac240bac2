package wire

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// Status is the default HTTP status for an error; dialects override it where
// their vendor documents another.
func Status(e *core.Error) int {
	switch e.Reason {
	case core.ReasonTooLarge:
		return http.StatusRequestEntityTooLarge
	case core.ReasonTimeout:
		return http.StatusRequestTimeout
	case core.ReasonNotAllowed:
		return http.StatusMethodNotAllowed
	case core.ReasonHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	}
	switch e.Kind {
	case core.KindInvalidClient, core.KindInvalidToken, core.KindExpiredToken:
		return http.StatusUnauthorized
	case core.KindAccessDenied:
		return http.StatusForbidden
	case core.KindNotFound:
		return http.StatusNotFound
	case core.KindConflict:
		return http.StatusConflict
	case core.KindRateLimited:
		return http.StatusTooManyRequests
	case core.KindUnavailable:
		return http.StatusServiceUnavailable
	case core.KindServerError:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// NoStore marks a response that carries tokens as uncacheable (RFC 6749 §5.1).
func NoStore(c echo.Context) {
	h := c.Response().Header()
	h[echo.HeaderCacheControl] = noStore // shared, never changed: Set would allocate a slice per response
	h["Pragma"] = noCache
}

var (
	noStore         = []string{"no-store"}
	noCache         = []string{"no-cache"}
	jsonContentType = []string{echo.MIMEApplicationJSON}
)

// TokenJSON writes a 200 token response with the no-store headers.
func TokenJSON(c echo.Context, body any) error {
	NoStore(c)
	return JSON(c, http.StatusOK, body)
}

// JSON writes body as an application/json answer. Every dialect writes its
// JSON through it, so texts such as "Bearer <token>" arrive as written:
// HTML escaping (\u003ctoken\u003e) is off, as JSON needs none.
func JSON(c echo.Context, status int, body any) error {
	e := encoders.Get().(*encoder)
	defer e.release()
	if err := e.enc.Encode(body); err != nil {
		return err
	}
	if h := c.Response().Header(); h.Get(echo.HeaderContentType) == "" {
		h[echo.HeaderContentType] = jsonContentType
	}
	return c.JSONBlob(status, e.buf.Bytes())
}

// encoder is a reusable JSON encoder and its buffer: the response copies
// the bytes out before the encoder goes back to the pool.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// release returns e to the pool, unless a large answer (a listing) grew
// its buffer: the pool keeps only token-sized ones.
func (e *encoder) release() {
	if e.buf.Cap() <= 16<<10 {
		e.buf.Reset()
		encoders.Put(e)
	}
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// FromHTTPError converts an echo/framework error (404, 405, 413, ...) into
// the core error a dialect renders.
func FromHTTPError(err error) *core.Error {
	if he, ok := err.(*echo.HTTPError); ok {
		switch he.Code {
		case http.StatusNotFound:
			return &core.Error{Kind: core.KindNotFound, Description: "no such endpoint"}
		case http.StatusMethodNotAllowed:
			return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonNotAllowed, Description: "method not allowed"}
		case http.StatusRequestEntityTooLarge:
			return TooLarge()
		case http.StatusRequestTimeout:
			return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout, Description: "request timeout"}
		case http.StatusUnsupportedMediaType, http.StatusBadRequest:
			return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Description: "malformed request"}
		case http.StatusServiceUnavailable:
			return core.Unavailable(he)
		}
		return core.Internal(he)
	}
	return core.AsError(err)
}
