package oauth2

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
)

// Discovery: the RFC 8414 server metadata and the OpenID Connect Discovery
// 1.0 document are one document (RFC 8414 §2 takes OpenID's members), which
// lists only what the instance really does; and the JWK Set its id_tokens
// and JWT access tokens verify with.

func (d *Dialect) mountOIDC(r dialects.Router) {
	r.Add(http.MethodGet, "/.well-known/openid-configuration", d.metadata)
	r.Add(http.MethodGet, "/oauth2/jwks", d.jwks)
	r.Add(http.MethodGet, "/oauth2/userinfo", d.userinfo)
	r.Add(http.MethodPost, "/oauth2/userinfo", d.userinfo)
}

// serverMetadata is the discovery document of the instance at issuer iss.
func (d *Dialect) serverMetadata(iss string) map[string]any {
	grants := append([]core.GrantType{core.GrantAuthorizationCode, core.GrantClientCredentials, core.GrantRefreshToken},
		d.profile.ExtraGrants...)
	authMethods := []string{core.AuthMethodSecretBasic, core.AuthMethodSecretPost, core.AuthMethodSecretJWT,
		core.AuthMethodPrivateKeyJWT}
	return map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/authorize",
		"token_endpoint":                        iss + "/oauth2/token",
		"userinfo_endpoint":                     iss + "/oauth2/userinfo",
		"jwks_uri":                              iss + "/oauth2/jwks",
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
		"code_challenge_methods_supported":              []string{"S256", "plain"},
		"claims_supported":                              core.SupportedClaims,
		"claims_parameter_supported":                    true,
		"request_parameter_supported":                   false,
		"request_uri_parameter_supported":               false,
		"prompt_values_supported":                       []string{"none", "login", "consent", "select_account"},
	}
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
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=60")
	c.Response().Header().Set(echo.HeaderContentType, "application/jwk-set+json")
	return c.JSON(http.StatusOK, map[string]any{"keys": keys})
}
