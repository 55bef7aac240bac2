package control

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// BenchmarkRequestPath is the control plane's cost on one token request
// with no fault rules: the peek on the way in and the journal entry on the
// way out.
func BenchmarkRequestPath(b *testing.B) {
	p := NewPlane(core.NewAdjustableClock(nil), 1000, "bench", nil)
	e := echo.New()
	h := p.Middleware(func(c echo.Context) error {
		if _, err := wire.Form(c); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	body := "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")
		c := e.NewContext(req, httptest.NewRecorder())
		wire.RequestOf(c).Instance = "oauth2"
		if err := h(c); err != nil {
			b.Fatal(err)
		}
		p.Observe(c, http.StatusOK, time.Millisecond)
	}
}
