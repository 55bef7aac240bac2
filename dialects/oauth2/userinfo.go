package oauth2

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// UserInfo (OpenID Connect Core §5.3) is a protected resource: the access
// token comes as a Bearer header or, on POST, an access_token form
// parameter (RFC 6750 §2.1, §2.2), and errors answer in RFC 6750 §3's
// style, with WWW-Authenticate.

const userinfoPath = "/oauth2/userinfo"

func (d *Dialect) userinfo(c echo.Context) error {
	token, err := bearerToken(c)
	if err != nil {
		return err
	}
	claims, err := d.engine.UserInfo(c.Request().Context(), d.profile, token)
	if err != nil {
		return err
	}
	wire.NoStore(c)
	return wire.JSON(c, http.StatusOK, claims)
}

// bearerToken reads the access token of a resource request: from one of
// the Authorization header and (POST) the form, not both.
func bearerToken(c echo.Context) (string, error) {
	header := wire.BearerToken(c)
	var form string
	if c.Request().Method == http.MethodPost && wire.MediaType(c) == echo.MIMEApplicationForm {
		f, err := wire.Form(c)
		if err != nil {
			return "", err
		}
		if form, err = wire.Single(f, "access_token"); err != nil {
			return "", err
		}
	}
	if header != "" && form != "" {
		return "", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate,
			Description: "send the access token one way, not several"}
	}
	if header == "" {
		header = form
	}
	return header, nil
}

func isUserInfo(c echo.Context) bool { return c != nil && strings.HasSuffix(c.Path(), userinfoPath) }

// describeBearer answers RFC 6750 §3: a request without a token gets the
// challenge without an error code (§3.1), an unusable token invalid_token
// (401), a token without the openid scope insufficient_scope (403), a
// malformed request invalid_request (400). The body is RFC 6749's error
// object, as elsewhere.
func describeBearer(e *core.Error) wire.Answer {
	a := wire.Answer{Status: wire.Status(e), Code: string(e.Kind), Text: e.Description}
	challenged := true
	switch {
	case e.Kind == core.KindInvalidToken && e.Reason == core.ReasonMissing:
		a.Code, challenged = "invalid_token", false
	case e.Kind == core.KindInvalidToken || e.Kind == core.KindExpiredToken:
		a.Status, a.Code = http.StatusUnauthorized, "invalid_token"
	case e.Reason == core.ReasonInsufficientScope:
		a.Status, a.Code = http.StatusForbidden, "insufficient_scope"
	case e.Kind == core.KindInvalidRequest:
		a.Status, a.Code = http.StatusBadRequest, "invalid_request"
	case e.Kind == core.KindUnavailable:
		a.Code = "temporarily_unavailable"
	}
	challenge := `Bearer realm="tokengate"`
	if challenged {
		challenge += `, error="` + a.Code + `"`
		if a.Text != "" {
			challenge += `, error_description=` + strconv.Quote(strings.ReplaceAll(a.Text, `"`, `'`))
		}
	}
	if a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden || a.Status == http.StatusBadRequest {
		a.Header = http.Header{echo.HeaderWWWAuthenticate: {challenge}}
	}
	return a
}
