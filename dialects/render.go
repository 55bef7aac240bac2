package dialects

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/wire"
)

// RenderError answers err in d's envelope: the one tail every error answer
// of a dialect goes through. A *wire.ForcedAnswer (a fault rule) is answered
// with exactly its status, and its code and text where given; anything else
// is a domain error that d describes. Retry-After is set from either, and
// the request's value records what was answered.
func RenderError(d Dialect, c echo.Context, err error) error {
	r := wire.RequestOf(c)
	var a wire.Answer
	var retry time.Duration
	if f, ok := errors.AsType[*wire.ForcedAnswer](err); ok {
		a = forced(d, c, f)
		r.Forced, retry = f, f.RetryAfter
	} else {
		e := wire.FromHTTPError(err)
		a = d.Describe(c, e)
		a.Err = e
		r.Err, retry = e, e.RetryAfter
	}
	h := c.Response().Header()
	if retry > 0 {
		h.Set(echo.HeaderRetryAfter, strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	}
	for k, vals := range a.Header {
		h[http.CanonicalHeaderKey(k)] = vals
	}
	return d.WriteError(c, a)
}

// forced builds the answer to a forced answer: its status, its code (or,
// when it gives none, the code d uses for the closest domain error kind)
// and its text (or a neutral one).
func forced(d Dialect, c echo.Context, f *wire.ForcedAnswer) wire.Answer {
	base := d.Describe(c, f.DomainError())
	a := wire.Answer{Status: f.Status, Code: f.Code, Text: f.Text, Header: base.Header}
	if a.Code == "" {
		a.Code = base.Code
	}
	if a.Text == "" {
		a.Text = "injected fault: " + http.StatusText(f.Status)
	}
	return a
}
