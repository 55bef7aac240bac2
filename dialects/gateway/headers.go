package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// ServerHeaderBytes is the http.Server.MaxHeaderBytes for a configured
// limits.max_header_bytes: twice the limit, so that requests up to there
// reach limitHeaders and get the 431 in the owning dialect's style; only
// beyond it does net/http answer its own plain-text 431.
func ServerHeaderBytes(limit int) int { return 2 * limit }

// limitHeaders enforces limits.max_header_bytes, counted as net/http counts
// them (request line and header lines), so the answer is the dialect's 431.
func (g *Gateway) limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if limit := g.cfg.Limits.MaxHeaderBytes; limit > 0 && headerBytes(c.Request()) > limit {
			return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonHeadersTooLarge,
				Description: "request header fields too large"}
		}
		return next(c)
	}
}

// headerBytes is the size of r's request line and header fields as sent.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vals := range r.Header {
		for _, v := range vals {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}
