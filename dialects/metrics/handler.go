package metrics

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics are served, on the admin listener.
const Path = "/metrics"

// Access says who may read /metrics.
type Access struct {
	// Tokens are the bearer tokens accepted (the admin token, the metrics
	// token); empty ones are ignored.
	Tokens []string
	// Open serves without a token (a loopback admin listener, by default).
	Open bool
}

// Mount serves the metrics at GET /metrics on e.
func (m *Metrics) Mount(e *echo.Echo, a Access) {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	e.GET(Path, func(c echo.Context) error {
		if !a.Open && !a.allows(c.Request()) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="tokengate-metrics"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized",
				"message": "a valid admin or metrics bearer token is required"})
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

// allows checks the bearer token against every accepted one in constant time.
func (a Access) allows(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	ok := false
	for _, want := range a.Tokens {
		if want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1 {
			ok = true
		}
	}
	return ok
}
