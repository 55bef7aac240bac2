package oauth2

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
)

// OpenID Connect's own endpoints: the JWK Set the instance's id_tokens and
// JWT access tokens verify with, and UserInfo (userinfo.go). Discovery is
// discovery.go's; the login session and prompt handling the login page's.

const jwksPath = "/oauth2/jwks"

func (d *Dialect) mountOIDC(r dialects.Router) {
	r.Add(http.MethodGet, jwksPath, d.jwks)
	r.Add(http.MethodGet, userinfoPath, d.userinfo)
	r.Add(http.MethodPost, userinfoPath, d.userinfo)
}

// jwks serves the published keys of every algorithm: the active ones and
// the retired ones whose tokens may still be live (RFC 7517 §5).
func (d *Dialect) jwks(c echo.Context) error {
	keys := []core.JWK{}
	for _, alg := range core.SigningAlgorithms {
		ks, err := d.keys[alg].JWKS(c.Request().Context())
		if err != nil {
			return core.Unavailable(err)
		}
		keys = append(keys, ks...)
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		return core.Internal(err)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=60")
	return c.Blob(http.StatusOK, "application/jwk-set+json", body)
}
