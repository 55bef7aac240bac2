package wire

import (
	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// Context keys the gateway reads after a request for its log line and journal.
const (
	KeyDialect  = "tg.dialect"
	KeyClientID = "tg.client_id"
	KeyGrant    = "tg.grant_type"
	KeyError    = "tg.error"    // *core.Error rendered
	KeyErrorID  = "tg.error_id" // a dialect's per-event error id
	KeyParams   = "tg.params"   // decoded parameters, for the journal (redacted there)
)

// NoteClient records the client id (and grant) a request presented.
func NoteClient(c echo.Context, clientID string, grant string) {
	if clientID != "" {
		c.Set(KeyClientID, clientID)
	}
	if grant != "" {
		c.Set(KeyGrant, grant)
	}
}

// NoteError records the error a dialect rendered.
func NoteError(c echo.Context, e *core.Error) { c.Set(KeyError, e) }

// NoteParams records decoded parameters for the journal.
func NoteParams(c echo.Context, p map[string][]string) { c.Set(KeyParams, p) }

// ClientID returns the client id noted for the request.
func ClientID(c echo.Context) string { s, _ := c.Get(KeyClientID).(string); return s }

// Grant returns the grant type noted for the request.
func Grant(c echo.Context) string { s, _ := c.Get(KeyGrant).(string); return s }

// Err returns the error noted for the request, if any.
func Err(c echo.Context) *core.Error { e, _ := c.Get(KeyError).(*core.Error); return e }

// ErrorID returns the dialect's error id noted for the request.
func ErrorID(c echo.Context) string { s, _ := c.Get(KeyErrorID).(string); return s }
