package wire

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// BasicAuth extracts client credentials from an Authorization: Basic header
// (RFC 6749 §2.3.1: each part form-urlencoded, then base64). ok is false when
// no Basic header was sent; a malformed one is invalid_client.
func BasicAuth(c echo.Context) (id, secret string, ok bool, err error) {
	h := c.Request().Header.Values(echo.HeaderAuthorization)
	if len(h) == 0 {
		return "", "", false, nil
	}
	if len(h) > 1 {
		return "", "", false, core.DuplicateParam("Authorization")
	}
	scheme, rest, found := strings.Cut(h[0], " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	id, secret, err = ParseBasic(strings.TrimSpace(rest))
	return id, secret, err == nil, err
}

// ParseBasic decodes the credentials part of a Basic header.
func ParseBasic(b64 string) (id, secret string, err error) {
	bad := &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonMalformed, Description: "malformed Basic authorization header"}
	raw, derr := base64.StdEncoding.DecodeString(b64)
	if derr != nil {
		return "", "", bad
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", bad
	}
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", bad
	}
	if secret, err = url.QueryUnescape(p); err != nil {
		return "", "", bad
	}
	return id, secret, nil
}

// BearerToken returns the token of an Authorization: Bearer header, or "".
func BearerToken(c echo.Context) string {
	scheme, rest, found := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// ClientAuth is how a client authenticated.
type ClientAuth struct {
	ID, Secret string
	Method     string // client_secret_basic, client_secret_post or ""
}

// ClientCredentials takes client credentials from Basic auth or the form
// (client_secret_post). Using both at once is invalid_request (RFC 6749 §2.3).
func ClientCredentials(c echo.Context, form url.Values) (ClientAuth, error) {
	id, secret, basic, err := BasicAuth(c)
	if err != nil {
		return ClientAuth{}, err
	}
	f, err := Singles(form, "client_id", "client_secret")
	if err != nil {
		return ClientAuth{}, err
	}
	if basic {
		if f["client_secret"] != "" || (f["client_id"] != "" && f["client_id"] != id) {
			return ClientAuth{}, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate,
				Description: "use one client authentication method, not several"}
		}
		return ClientAuth{ID: id, Secret: secret, Method: "client_secret_basic"}, nil
	}
	return ClientAuth{ID: f["client_id"], Secret: f["client_secret"], Method: "client_secret_post"}, nil
}
