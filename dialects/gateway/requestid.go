package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// HeaderRequestID carries the request id both ways.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds an accepted incoming request id: long enough for a
// UUID, a W3C traceparent or a ULID with a prefix.
const maxRequestIDLen = 128

// saneRequestID reports whether a client's X-Request-Id may be reused as
// is: bounded, and only characters that are safe in a log line, a header
// and a URL (letters, digits and - _ . : / + =).
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=':
		default:
			return false
		}
	}
	return true
}

// idPrefix tells this process's ids from other replicas'; the counter
// tells its requests apart without drawing randomness per request.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:]) + "-"
}

// newRequestID makes an id unique across processes: a random per-process
// prefix and a counter.
func newRequestID() string {
	return idPrefix + strconv.FormatUint(idCounter.Add(1), 36)
}

// assignRequestID gives the request its id (the client's sane one, or a
// new one) and echoes it in the response header before anything is written.
func assignRequestID(c echo.Context) string {
	id := c.Request().Header.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = newRequestID()
	}
	c.Response().Header().Set(HeaderRequestID, id)
	return id
}
