package wire

import (
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// BasicAuth extracts client credentials from an Authorization: Basic header,
// in their preferred reading (see Basic). ok is false when no Basic header
// was sent; a malformed one is invalid_client.
func BasicAuth(c echo.Context) (id, secret string, ok bool, err error) {
	auth, ok, err := Basic(c)
	return auth.ID, auth.Secret, ok, err
}

// Basic extracts client credentials from an Authorization: Basic header.
// RFC 6749 §2.3.1 form-encodes id and secret before Basic, but many clients
// (requests-oauthlib, Authlib, curl -u) send them raw (RFC 7617), so both
// readings are kept: ID and Secret the form-decoded one (or the raw one when
// it does not decode), Alt the raw one where it differs. The engine tries
// them in that order. ok is false when no Basic header was sent.
func Basic(c echo.Context) (auth ClientAuth, ok bool, err error) {
	r := RequestOf(c)
	if !r.basicRead { // the journal and the handler both ask: decode once
		r.basic, r.basicOK, r.basicErr = parseBasicHeader(c.Request().Header.Values(echo.HeaderAuthorization))
		r.basicRead = true
	}
	return r.basic, r.basicOK, r.basicErr
}

func parseBasicHeader(h []string) (auth ClientAuth, ok bool, err error) {
	if len(h) == 0 {
		return ClientAuth{}, false, nil
	}
	if len(h) > 1 {
		return ClientAuth{}, false, core.DuplicateParam("Authorization")
	}
	scheme, rest, found := strings.Cut(h[0], " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return ClientAuth{}, false, nil
	}
	preferred, raw, decoded, err := basicReadings(strings.TrimSpace(rest))
	if err != nil {
		return ClientAuth{}, false, err
	}
	auth = ClientAuth{ID: preferred.ID, Secret: preferred.Secret, Method: MethodBasic, rawOnly: !decoded}
	if raw != preferred {
		auth.Alt = &raw
	}
	return auth, true, nil
}

// ParseBasic decodes the credentials part of a Basic header in its
// preferred reading (see Basic).
func ParseBasic(b64 string) (id, secret string, err error) {
	preferred, _, _, err := basicReadings(b64)
	return preferred.ID, preferred.Secret, err
}

// basicReadings decodes base64 and splits at the first colon (RFC 7617: a
// colon in the id cannot be sent raw), then gives the preferred reading
// (form-decoded) and the raw one, equal when decoding changes nothing;
// decoded is false when the parts do not form-decode and both are the raw
// reading.
func basicReadings(b64 string) (preferred, raw core.Credentials, decoded bool, err error) {
	sent, derr := base64.StdEncoding.DecodeString(b64)
	if derr != nil {
		return preferred, raw, false, malformedBasic()
	}
	u, p, found := strings.Cut(string(sent), ":")
	if !found {
		return preferred, raw, false, malformedBasic()
	}
	raw = core.Credentials{ID: u, Secret: p}
	id, err1 := url.QueryUnescape(u)
	secret, err2 := url.QueryUnescape(p)
	if err1 != nil || err2 != nil {
		return raw, raw, false, nil
	}
	return core.Credentials{ID: id, Secret: secret}, raw, true, nil
}

func malformedBasic() *core.Error {
	return &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonMalformed, Description: "malformed Basic authorization header"}
}

// BearerToken returns the token of an Authorization: Bearer header, or "".
func BearerToken(c echo.Context) string {
	scheme, rest, found := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// Client authentication methods (RFC 8414 token_endpoint_auth_methods_supported names).
const (
	MethodBasic = "client_secret_basic"
	MethodPost  = "client_secret_post"
)

// ClientAuth is how a client authenticated.
type ClientAuth struct {
	ID, Secret string
	// Alt is the raw reading of Basic credentials where it differs from the
	// form-decoded ID and Secret; nil otherwise.
	Alt    *core.Credentials
	Method string // MethodBasic, MethodPost or ""
	// rawOnly: the Basic credentials did not form-decode; ID and Secret are raw.
	rawOnly bool
}

// Readings lists the credential readings, preferred first, for
// core.Engine.AuthenticateClientAny.
func (a ClientAuth) Readings() []core.Credentials {
	out := []core.Credentials{{ID: a.ID, Secret: a.Secret}}
	if a.Alt != nil {
		out = append(out, *a.Alt)
	}
	return out
}

// Authenticated notes the client that authenticated, by its id as stored
// (the raw reading's id may differ from the preferred one), and logs at
// debug level which reading of Basic credentials matched (never the
// credentials): raw means the client did not form-encode them as RFC 6749
// §2.3.1 asks.
func (a ClientAuth) Authenticated(c echo.Context, log *slog.Logger, clientID string, alt bool) {
	NoteClient(c, clientID, "")
	if a.Method != MethodBasic || log == nil || !log.Enabled(c.Request().Context(), slog.LevelDebug) {
		return // building the line's arguments costs allocations even when it is dropped
	}
	reading := "form-decoded"
	if alt || a.rawOnly {
		reading = "raw"
	}
	log.DebugContext(c.Request().Context(), "Basic credentials matched", "client_id", clientID, "reading", reading)
}

// ClientCredentials takes client credentials from Basic auth or the form
// (client_secret_post). Using both at once is invalid_request (RFC 6749 §2.3).
func ClientCredentials(c echo.Context, form url.Values) (ClientAuth, error) {
	auth, basic, err := Basic(c)
	if err != nil {
		return ClientAuth{}, err
	}
	f, err := Singles(form, "client_id", "client_secret")
	if err != nil {
		return ClientAuth{}, err
	}
	if basic {
		if f["client_secret"] != "" || (f["client_id"] != "" && !auth.HasID(f["client_id"])) {
			return ClientAuth{}, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate,
				Description: "use one client authentication method, not several"}
		}
		return auth, nil
	}
	return ClientAuth{ID: f["client_id"], Secret: f["client_secret"], Method: MethodPost}, nil
}

// HasID reports whether id is the client id in either reading.
func (a ClientAuth) HasID(id string) bool { return id == a.ID || (a.Alt != nil && id == a.Alt.ID) }
