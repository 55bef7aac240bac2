package core

import (
	"slices"
	"time"
)

// Client authentication methods at the token endpoint (OpenID Connect Core
// §9, RFC 7591 §2).
const (
	AuthMethodNone          = "none"
	AuthMethodSecretBasic   = "client_secret_basic"
	AuthMethodSecretPost    = "client_secret_post"
	AuthMethodSecretJWT     = "client_secret_jwt"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
)

// AuthMethods lists the client authentication methods, in a stable order.
var AuthMethods = []string{AuthMethodSecretBasic, AuthMethodSecretPost, AuthMethodSecretJWT, AuthMethodPrivateKeyJWT,
	AuthMethodNone}

// Access-token formats a client may choose.
const (
	FormatOpaque = "opaque"
	FormatJWT    = "jwt" // RFC 9068
)

// ClientSettings are a client's OpenID Connect and extension-grant
// settings. They are kept as one JSON document so a later setting needs no
// schema migration; zero values are the defaults.
type ClientSettings struct {
	// TokenEndpointAuthMethod is how the client authenticates: empty
	// accepts client_secret_basic and client_secret_post alike; none is a
	// public client (no secret, PKCE S256 required).
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// JWKS is a JWK Set document of the client's public keys, for
	// private_key_jwt and the JWT bearer grant; JWKSURI is where to fetch
	// one instead (through the engine's JWKSFetcher).
	JWKS    string `json:"jwks,omitempty"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	// SecretJWTKey is the client secret itself, kept only for a client
	// using client_secret_jwt: HMAC assertions (RFC 7523 §2.2 with HS256)
	// are verified with the shared secret, which a hash cannot do. Every
	// other client's secret is kept hashed only.
	SecretJWTKey string `json:"secret_jwt_key,omitempty"`
	// IDTokenSignedResponseAlg is RS256 (default) or ES256.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// RequireNonce refuses an OpenID Connect authorization request without
	// a nonce.
	RequireNonce bool `json:"require_nonce,omitempty"`
	// AccessTokenFormat is opaque (default) or jwt (RFC 9068).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// IDTokenUserClaims puts the claims of the profile and email scopes in
	// the id_token too, not only in the userinfo answer.
	IDTokenUserClaims bool `json:"id_token_user_claims,omitempty"`
	// TrustedIssuers names the other dialect instances (issuers) whose
	// tokens the client may present to token exchange.
	TrustedIssuers []string `json:"trusted_issuers,omitempty"`
	// AssertionIssuers are the iss values the JWT bearer grant accepts
	// besides the client's own id.
	AssertionIssuers []string `json:"assertion_issuers,omitempty"`
}

// Public reports whether the client has no credentials (auth method none).
func (c *Client) Public() bool { return c.Settings.TokenEndpointAuthMethod == AuthMethodNone }

// HasSecret reports whether the client authenticates with a secret (and so
// must have one): every method but none and private_key_jwt.
func (c *Client) HasSecret() bool {
	m := c.Settings.TokenEndpointAuthMethod
	return m != AuthMethodNone && m != AuthMethodPrivateKeyJWT
}

// usesJWTAuth reports whether the client authenticates with an assertion.
func (c *Client) usesJWTAuth() bool {
	m := c.Settings.TokenEndpointAuthMethod
	return m == AuthMethodSecretJWT || m == AuthMethodPrivateKeyJWT
}

// trusts reports whether the client accepts tokens of dialect instance
// issuer for token exchange.
func (c *Client) trusts(issuer string) bool {
	return slices.Contains(c.Settings.TrustedIssuers, issuer)
}

// Device-authorization decisions (TokenDetails.Decision).
const (
	DevicePending  = ""
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
)

// TokenDetails is what only some tokens carry, kept as one JSON document
// so a later field needs no schema migration.
type TokenDetails struct {
	// Nonce is the OpenID Connect nonce of the authorization request.
	Nonce string `json:"nonce,omitempty"`
	// IDTokenClaims and UserInfoClaims name the claims the authorization
	// request's claims parameter asked for (OpenID Connect Core §5.5).
	IDTokenClaims  []string `json:"id_token_claims,omitempty"`
	UserInfoClaims []string `json:"userinfo_claims,omitempty"`
	// Audience and Resource are a token exchange's (RFC 8693 §2.1).
	Audience []string `json:"aud,omitempty"`
	Resource []string `json:"resource,omitempty"`
	// Subject is the subject of a token exchanged for a client's own token
	// (the subject client's id); empty when it is the user or the client.
	Subject string `json:"sub,omitempty"`
	// Actor is the subject of a token exchange's actor token (the act claim).
	Actor string `json:"act,omitempty"`
	// Format is FormatJWT for a JWT access token (its digest is stored as
	// an opaque token's is).
	Format string `json:"format,omitempty"`

	// DeviceCode, on a user code row, is the digest of its device code.
	DeviceCode string `json:"device_code,omitempty"`
	// Interval is the device code's minimum polling interval in seconds,
	// raised by every slow_down (RFC 8628 §3.5).
	Interval int `json:"interval,omitempty"`
	// LastPoll is when the device code was last polled.
	LastPoll time.Time `json:"last_poll,omitzero"`
	// Decision is the user's answer to a device authorization:
	// DevicePending, DeviceApproved or DeviceDenied.
	Decision string `json:"decision,omitempty"`

	// RevokedReason is why the token was revoked (Revocation.Cause); empty
	// for a live token and for one revoked before reasons were recorded.
	RevokedReason RevokeCause `json:"revoked_reason,omitempty"`
	// Replayed, on a token revoked by reuse detection, is the digest of the
	// consumed code or refresh token that came back.
	Replayed string `json:"replayed,omitempty"`
}

// IsZero reports whether d holds nothing (most tokens): stores write it as
// an empty document without encoding it.
func (d *TokenDetails) IsZero() bool {
	return d.Nonce == "" && len(d.IDTokenClaims) == 0 && len(d.UserInfoClaims) == 0 && len(d.Audience) == 0 &&
		len(d.Resource) == 0 && d.Subject == "" && d.Actor == "" && d.Format == "" && d.DeviceCode == "" &&
		d.Interval == 0 && d.LastPoll.IsZero() && d.Decision == "" && d.RevokedReason == "" && d.Replayed == ""
}
