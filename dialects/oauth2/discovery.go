package oauth2

import (
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// wellKnown lists the discovery documents the instance publishes, by their
// well-known name (RFC 8615). The OpenID Connect document
// ("openid-configuration") belongs here too; it differs only in its builder.
var wellKnown = []struct {
	name  string
	build func(d *Dialect, issuer string) map[string]any
}{
	{"oauth-authorization-server", (*Dialect).authorizationServer},
}

// mountDiscovery publishes each document where a client finds it from the
// issuer URL. Without a prefix that is /.well-known/<name>. Under a prefix
// /std both forms are served: RFC 8414 §3 inserts the well-known part
// before the issuer's path (/.well-known/<name>/std, which openid-client,
// oauth4webapi and Authlib ask for), and the form that appends it
// (/std/.well-known/<name>) is kept for clients that do that.
func (d *Dialect) mountDiscovery(r dialects.Router) {
	for _, doc := range wellKnown {
		h := func(c echo.Context) error { return wire.JSON(c, http.StatusOK, doc.build(d, d.issuer(c))) }
		r.Add(http.MethodGet, "/.well-known/"+doc.name, h)
		if d.prefix != "" {
			dialects.AddOutside(r, http.MethodGet, "/.well-known/"+doc.name+d.prefix, h)
		}
	}
}

// issuer is the configured issuer, or the URL of the listener the request
// arrived on (its scheme and local address, which a client cannot forge as
// it can the Host header) followed by the prefix.
func (d *Dialect) issuer(c echo.Context) string {
	if d.opts.Issuer != "" {
		return d.opts.Issuer
	}
	scheme := "http"
	if c.IsTLS() {
		scheme = "https"
	}
	host := c.Request().Host
	if a, ok := c.Request().Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		host = a.String()
	}
	return scheme + "://" + host + d.prefix
}

// authorizationServer is the RFC 8414 metadata. Only S256 is advertised for
// PKCE: plain is a per-client exception (allow_plain_pkce), not something a
// default client should pick.
func (d *Dialect) authorizationServer(iss string) map[string]any {
	return map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"grant_types_supported":                 core.AllGrants,
		"response_types_supported":              []string{"code"},
		"token_endpoint_auth_methods_supported": []string{wire.MethodBasic, wire.MethodPost},
		"code_challenge_methods_supported":      []string{"S256"},
	}
}
