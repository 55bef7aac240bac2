package oauth2

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/wire"
)

// wellKnown lists the discovery documents the instance publishes, by their
// well-known name (RFC 8615): RFC 8414's and OpenID Connect Discovery's,
// one document (RFC 8414 §2 takes OpenID's members) listing only what the
// instance really does.
var wellKnown = []struct {
	name  string
	build func(d *Dialect, issuer string) map[string]any
}{
	{"oauth-authorization-server", (*Dialect).serverMetadata},
	{"openid-configuration", (*Dialect).serverMetadata},
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
	tls := c.IsTLS()
	local, _ := c.Request().Context().Value(http.LocalAddrContextKey).(net.Addr)
	a, ok := local.(*net.TCPAddr)
	switch {
	case local == nil:
		return issuerURL(tls, c.Request().Host, d.prefix)
	case !ok: // another kind of listener
		return issuerURL(tls, local.String(), d.prefix)
	}
	// Every request on a listener has the same one: remember it rather
	// than format the address for each token request.
	key := issuerKey{tls, a.AddrPort()}
	d.issuers.mu.RLock()
	iss, ok := d.issuers.byAddr[key]
	d.issuers.mu.RUnlock()
	if ok {
		return iss
	}
	iss = issuerURL(tls, a.String(), d.prefix)
	d.issuers.mu.Lock()
	defer d.issuers.mu.Unlock()
	if len(d.issuers.byAddr) < maxIssuers {
		if d.issuers.byAddr == nil {
			d.issuers.byAddr = map[issuerKey]string{}
		}
		d.issuers.byAddr[key] = iss
	}
	return iss
}

func issuerURL(tls bool, host, prefix string) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + host + prefix
}

// issuers remembers the issuer of each local address requests arrived on:
// a handful (the listeners' addresses; a wildcard listener's per local IP),
// bounded by maxIssuers all the same.
type issuers struct {
	mu     sync.RWMutex
	byAddr map[issuerKey]string
}

type issuerKey struct {
	tls  bool
	addr netip.AddrPort
}

const maxIssuers = 64

// serverMetadata is the discovery document of the instance at issuer iss.
// Only S256 is advertised for PKCE: plain is a per-client exception
// (allow_plain_pkce), not something a default client should pick.
func (d *Dialect) serverMetadata(iss string) map[string]any {
	grants := append([]core.GrantType{core.GrantAuthorizationCode, core.GrantClientCredentials, core.GrantRefreshToken},
		d.profile.ExtraGrants...)
	authMethods := []string{core.AuthMethodSecretBasic, core.AuthMethodSecretPost, core.AuthMethodSecretJWT,
		core.AuthMethodPrivateKeyJWT}
	return map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
		"userinfo_endpoint":                     iss + userinfoPath,
		"jwks_uri":                              iss + jwksPath,
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"device_authorization_endpoint":         iss + "/oauth2/device_authorization",
		"scopes_supported":                      []string{core.ScopeOpenID, core.ScopeProfile, core.ScopeEmail},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 grants,
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": core.SigningAlgorithms,
		"token_endpoint_auth_methods_supported": append(slices.Clone(authMethods), core.AuthMethodNone),
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
			"ES256", "ES384", "ES512", "HS256", "HS384", "HS512"},
		"introspection_endpoint_auth_methods_supported": authMethods,
		"revocation_endpoint_auth_methods_supported":    append(slices.Clone(authMethods), core.AuthMethodNone),
		"code_challenge_methods_supported":              []string{"S256"},
		"claims_supported":                              core.SupportedClaims,
		"claims_parameter_supported":                    true,
		"request_parameter_supported":                   false,
		"request_uri_parameter_supported":               false,
		"prompt_values_supported":                       []string{"none", "login", "consent", "select_account"},
	}
}
