package core

import (
	"slices"
	"time"
)

// GrantType names an OAuth2 grant the engine implements.
type GrantType string

const (
	GrantClientCredentials GrantType = "client_credentials"
	GrantRefreshToken      GrantType = "refresh_token"
	GrantAuthorizationCode GrantType = "authorization_code"
	// The grants beyond RFC 6749's core three (grants.go); a dialect
	// offers them through Profile.ExtraGrants.
	GrantPassword      GrantType = "password"
	GrantDeviceCode    GrantType = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTokenExchange GrantType = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantJWTBearer     GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// AllGrants lists every grant the engine implements, in a stable order.
var AllGrants = []GrantType{GrantClientCredentials, GrantRefreshToken, GrantAuthorizationCode,
	GrantPassword, GrantDeviceCode, GrantTokenExchange, GrantJWTBearer}

// Client is a registered OAuth2 client. SecretHash is a KDF hash (see
// HashSecret); the plain secret is never stored.
type Client struct {
	ID           string
	SecretHash   string
	Grants       []GrantType
	Dialects     []string // dialect instances or types; empty: every dialect
	RedirectURIs []string
	Scopes       []string // allowed scopes; empty: any requested scope
	// AccessTTL and RefreshTTL override the dialect profile's lifetimes when non-zero.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// AllowPlainPKCE permits code_challenge_method=plain; S256 is always allowed.
	AllowPlainPKCE bool
	Disabled       bool
	ExpiresAt      time.Time // zero: never expires
	UpdatedAt      time.Time
	// Settings are the OpenID Connect and extension-grant settings
	// (clientsettings.go), stored as one JSON document.
	Settings ClientSettings
}

// AllowsGrant reports whether the client may use grant g.
func (c *Client) AllowsGrant(g GrantType) bool { return slices.Contains(c.Grants, g) }

// AllowsDialect reports whether the client may be used through the dialect
// instance named instance, of type typ: its list names either (a type
// allows every instance of it).
func (c *Client) AllowsDialect(instance, typ string) bool {
	return len(c.Dialects) == 0 || slices.Contains(c.Dialects, instance) || slices.Contains(c.Dialects, typ)
}

// HasRedirectURI reports whether uri is registered, by exact string match
// (RFC 9700 §4.1.3: never a prefix or pattern).
func (c *Client) HasRedirectURI(uri string) bool { return slices.Contains(c.RedirectURIs, uri) }

// Expired reports whether the client's registration has lapsed at now.
func (c *Client) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// Provider names a linked-account provider.
type Provider string

const (
	ProviderGoogle    Provider = "google"
	ProviderMicrosoft Provider = "microsoft"
	ProviderDiscord   Provider = "discord"
	ProviderGitHub    Provider = "github"
)

// Providers lists the linked-account providers in a stable order.
var Providers = []Provider{ProviderGoogle, ProviderMicrosoft, ProviderDiscord, ProviderGitHub}

// LinkedAccount is a user's account at another provider. Which fields a
// provider uses differs (GitHub has Name, Discord has Locale); dialects pick
// the ones their wire format shows.
type LinkedAccount struct {
	ID        string `json:"id"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Locale    string `json:"locale,omitempty"`
}

// User is an end user (an accountant, a player of roles). PasswordHash is a
// KDF hash; empty means the user cannot log in on a login page.
type User struct {
	ID           string
	Username     string
	FirstName    string
	LastName     string
	Email        string
	PasswordHash string
	Linked       map[Provider]LinkedAccount
	UpdatedAt    time.Time
}

// Authorization is a user's grant to a client, addressed by an integer
// auth_id and proven by an auth token (stored as a digest).
type Authorization struct {
	ID          int64
	TokenDigest string
	UserID      string
	ClientID    string
	CreatedAt   time.Time
}

// TokenKind tells access tokens, refresh tokens and authorization codes apart.
type TokenKind string

const (
	TokenAccess  TokenKind = "access"
	TokenRefresh TokenKind = "refresh"
	TokenCode    TokenKind = "code"
	// Rows that are not bearer tokens (grants.go): a device authorization's
	// device code and user code, and a used client or grant assertion's jti.
	TokenDeviceCode TokenKind = "device_code"
	TokenUserCode   TokenKind = "user_code"
	TokenAssertion  TokenKind = "assertion_jti"
)

// Token is the stored record of an access token, refresh token or
// authorization code. The token string itself is never kept: Digest is its
// store key, TokenKey(value), made of a SHA-256 digest of the string (after
// a time-ordered identifier for the engine's own opaque formats).
type Token struct {
	Digest    string
	Kind      TokenKind
	ClientID  string
	UserID    string // empty for a client acting for itself
	Dialect   string
	Scopes    []string
	FamilyID  string // tokens of one grant chain; reuse detection revokes a family
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time // when the user (or client) authenticated
	// ConsumedAt is set when a code is redeemed or a refresh token rotated.
	ConsumedAt time.Time
	RevokedAt  time.Time
	// Authorization-code binding.
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	// Details holds what only some tokens carry (nonce, audience, device
	// state...), stored as one JSON document.
	Details TokenDetails
}

// Active reports whether the token can be used at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && t.ConsumedAt.IsZero() && now.Before(t.ExpiresAt)
}

// SigningKey is a persisted private key a dialect instance signs tokens with.
type SigningKey struct {
	ID        string // the JWT kid
	Dialect   string // the owner: the dialect instance's name
	Algorithm string // JWS alg; empty is read as RS256
	PEM       []byte // PKCS#8 private key
	CreatedAt time.Time
	// RetiredAt is set when a newer key took over signing; the key stays
	// published until VerifyUntil so its tokens keep verifying.
	RetiredAt   time.Time
	VerifyUntil time.Time
}
