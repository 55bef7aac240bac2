package adminbackend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/wire"
)

// BenchmarkObserve is the journal's cost per finished token request: a
// plane without the console's live feed, with it and no live view open
// (one atomic load more), and with one open (the entry is also offered to
// the view).
func BenchmarkObserve(b *testing.B) {
	clock := core.NewAdjustableClock(nil)
	bare := control.NewPlane(clock, 1000, "bench", nil)
	plane := control.NewPlane(clock, 1000, "bench", nil)
	cb := New(Options{Config: &config.Config{}, Clock: clock, Plane: plane})
	e := echo.New()
	body := "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"
	ctx := func() echo.Context {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := e.NewContext(req, httptest.NewRecorder())
		r := wire.RequestOf(c)
		r.Instance, r.Type = "oauth2", "oauth2"
		_, _ = wire.BodyParams(c) // parsed once, as the control plane's peek does
		return c
	}
	run := func(b *testing.B, observe func(echo.Context, int, time.Duration)) {
		b.RunParallel(func(pb *testing.PB) {
			c := ctx()
			for pb.Next() {
				observe(c, http.StatusOK, time.Millisecond)
			}
		})
	}
	b.Run("plane", func(b *testing.B) { run(b, bare.Observe) })
	b.Run("console-unwatched", func(b *testing.B) { run(b, plane.Observe) })
	b.Run("console-watched", func(b *testing.B) {
		w, err := cb.Watch()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		go func() {
			for range w.Requests() {
			}
		}()
		run(b, plane.Observe)
	})
}
