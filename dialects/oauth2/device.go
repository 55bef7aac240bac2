package oauth2

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// The device authorization grant's endpoints (RFC 8628): the device
// authorization endpoint (§3.1, §3.2) and the verification page the user
// opens (§3.3, the login page's); the device polls the token endpoint.

const devicePath = "/oauth2/device"

func (d *Dialect) mountDevice(r dialects.Router) {
	r.Add(http.MethodPost, "/oauth2/device_authorization", d.deviceAuthorization)
	r.Add(http.MethodGet, devicePath, d.page.ShowDevice)
	r.Add(http.MethodPost, devicePath, d.page.SubmitDevice)
}

type deviceResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int    `json:"interval"`
}

func (d *Dialect) deviceAuthorization(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return err
	}
	for name, vals := range form {
		if len(vals) > 1 {
			return core.DuplicateParam(name)
		}
	}
	auth, ca, err := d.clientAuth(c, form)
	if err != nil {
		return err
	}
	wire.NoteClient(c, auth.ID, string(core.GrantDeviceCode))
	var scopes []string
	if s := strings.Fields(form.Get("scope")); len(s) > 0 {
		scopes = s
	}
	da, err := d.engine.AuthorizeDevice(c.Request().Context(), d.profile, ca, scopes)
	if err != nil {
		return unauthenticated(err)
	}
	verify := d.issuer(c) + devicePath
	return wire.TokenJSON(c, deviceResponse{DeviceCode: da.DeviceCode, UserCode: da.UserCode, VerificationURI: verify,
		VerificationURIComplete: verify + "?" + url.Values{"user_code": {da.UserCode}}.Encode(),
		ExpiresIn:               da.ExpiresIn, Interval: da.Interval})
}
