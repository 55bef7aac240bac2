package core

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"
)

// Default lifetimes, used when neither the client nor the profile sets one.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 30 * 24 * time.Hour
	// MaxCodeTTL bounds authorization codes (RFC 6749 §4.1.2: at most 10 minutes).
	MaxCodeTTL = 10 * time.Minute
	// SweepRetention keeps expired rows this long so late replays of codes
	// and rotated refresh tokens are still recognised as reuse.
	SweepRetention = 24 * time.Hour
)

// Options wires an Engine. Store is required; Clock defaults to the system
// clock and Rand to crypto/rand.
type Options struct {
	Store Store
	Clock Clock
	Rand  io.Reader
	// CredentialCacheSize bounds the verified-credential cache (default 10000).
	CredentialCacheSize int
	// ClientCacheTTL is how long a client, user or authorization record read
	// on the hot path is reused (default 500ms; negative disables). Changes
	// made through this engine apply at once; other replicas' within the TTL.
	ClientCacheTTL time.Duration
	// FailureLimiter, when set, rate-limits failed client authentications
	// and logins per client id / username and per source address.
	FailureLimiter *FailureLimiter
	// SweepRetention keeps expired tokens this long before the sweeper
	// deletes them (default and minimum: the SweepRetention constant). A
	// profile that refreshes with expired access tokens needs at least its
	// refresh window here.
	SweepRetention time.Duration
	// CacheClock measures cache freshness (default: the wall clock, never
	// the adjustable engine clock).
	CacheClock Clock
	// CheckSecret compares a presented secret with its stored hash (default
	// CheckSecret: the KDF). The engine runs it at most once per client,
	// secret and stored hash, shared by concurrent first checks; tests
	// inject a counting one to see that.
	CheckSecret func(hash, secret string) bool
	// JWKSFetcher fetches the JWK Sets clients publish at a jwks_uri; nil:
	// such clients cannot authenticate.
	JWKSFetcher JWKSFetcher
	// Observer is told about issued, refreshed and revoked tokens, reuse
	// and rate limiting (metrics); nil: nothing is.
	Observer Observer
}

// Engine runs the grants. It is safe for concurrent use.
type Engine struct {
	store   Store
	clock   Clock
	rand    io.Reader
	creds   *credentialCache
	clients *recordCache[string, *Client]
	users   *recordCache[string, *User]
	// logins is users by username, for Login; any change to a user clears
	// it (InvalidateUser), since the change may be to the username.
	logins  *recordCache[string, *User]
	auths   *recordCache[int64, *Authorization]
	limiter *FailureLimiter
	// retention is how long expired tokens are kept before sweeping.
	retention time.Duration
	jwks      JWKSFetcher
	obs       Observer
}

// New builds an Engine.
func New(o Options) *Engine {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.ClientCacheTTL == 0 {
		o.ClientCacheTTL = 500 * time.Millisecond
	}
	if o.CheckSecret == nil {
		o.CheckSecret = CheckSecret
	}
	if o.Observer == nil {
		o.Observer = NopObserver
	}
	e := &Engine{clock: o.Clock, rand: o.Rand, creds: newCredentialCache(o.CredentialCacheSize, o.CheckSecret),
		limiter: o.FailureLimiter, retention: max(o.SweepRetention, SweepRetention), obs: o.Observer, jwks: o.JWKSFetcher}
	if o.Store != nil {
		e.store = guarded{o.Store}
		e.clients = newRecordCache(e.store.GetClient, o.ClientCacheTTL, o.CredentialCacheSize)
		e.users = newRecordCache(e.store.GetUser, o.ClientCacheTTL, o.CredentialCacheSize)
		e.logins = newRecordCache(e.store.GetUserByUsername, o.ClientCacheTTL, o.CredentialCacheSize)
		e.auths = newRecordCache(e.store.GetAuthorization, o.ClientCacheTTL, o.CredentialCacheSize)
		if o.CacheClock != nil {
			e.clients.wall, e.users.wall, e.logins.wall, e.auths.wall = o.CacheClock, o.CacheClock, o.CacheClock, o.CacheClock
		}
	}
	return e
}

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// Rand returns the engine's random source.
func (e *Engine) Rand() io.Reader { return e.rand }

// SweepRetention is how long expired tokens are kept before the sweeper
// deletes them.
func (e *Engine) SweepRetention() time.Duration { return e.retention }

// Now reads the engine's clock.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Profile is how one dialect instance issues tokens: lifetimes, formats and
// which grants also yield a refresh token. Tokens are scoped to the
// instance that issued them: presented through another instance, a token or
// code is unknown.
type Profile struct {
	Dialect    string // the instance name, recorded on every token it issues
	Type       string // the dialect type, for clients limited to a type
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	CodeTTL    time.Duration
	// RefreshGrants lists the grants whose response carries a refresh token.
	RefreshGrants []GrantType
	// RefreshWithAccessToken makes the refresh_token grant take an access
	// token (expired or not, within RefreshTTL of its issue) instead of a
	// refresh token; Accounda's inferred refresh endpoint works this way.
	RefreshWithAccessToken bool
	// KeepRefreshToken turns refresh-token rotation off: a refresh issues a
	// new access token and leaves the refresh token as it is (usable again
	// until it expires or is revoked), so there is no reuse to detect.
	KeepRefreshToken bool
	// OneActiveAccessToken refuses a client_credentials grant (conflict,
	// ReasonActiveToken) while the client holds an active access token of
	// this dialect; the check and the issue are atomic across replicas.
	OneActiveAccessToken bool
	AccessMinter         Minter // nil: opaque
	RefreshMinter        Minter // nil: opaque
	DefaultScopes        []string
	// FixedScopes grants DefaultScopes whatever scope a request asks for
	// (Hurdlr's constant "token"); requested scopes are ignored.
	FixedScopes bool
	// ExtraGrants are the grants beyond the core three (client_credentials,
	// authorization_code, refresh_token) the instance offers: password,
	// device code, token exchange, JWT bearer. Any other is
	// unsupported_grant_type.
	ExtraGrants []GrantType
	// Keys, one ring per signing algorithm, make the instance an OpenID
	// Connect issuer: id_tokens for the openid scope and JWT access tokens
	// (RFC 9068) for clients that choose them. Nil: neither.
	Keys map[string]*KeyRing
	// DeviceCodeTTL and DeviceInterval shape device authorizations
	// (defaults DefaultDeviceCodeTTL, DefaultDeviceInterval).
	DeviceCodeTTL  time.Duration
	DeviceInterval time.Duration
}

// TokenRequest is a token-endpoint request decoded from any dialect's wire.
type TokenRequest struct {
	GrantType    GrantType
	ClientID     string
	ClientSecret string
	// ClientAlt is another reading of the same presented credentials, tried
	// when ClientID and ClientSecret do not authenticate: HTTP Basic
	// credentials as sent, where their form-decoded reading (RFC 6749
	// §2.3.1) differs. nil: none.
	ClientAlt    *Credentials
	UserID       string // client_credentials on behalf of a user
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scopes       []string // requested; nil: the profile's default

	// ClientAuthMethod is how ClientSecret came (client_secret_basic or
	// client_secret_post); ClientAssertionType and ClientAssertion are a
	// JWT client authentication (RFC 7523 §2.2) instead of a secret.
	ClientAuthMethod    string
	ClientAssertionType string
	ClientAssertion     string
	// Issuer is the instance's issuer identifier (the iss of what it
	// signs) and TokenEndpoint its token endpoint's URL: the audiences a
	// client or grant assertion may name.
	Issuer        string
	TokenEndpoint string
	// The extension grants' parameters (grants.go).
	Username, Password string   // password
	DeviceCode         string   // device code (RFC 8628 §3.4)
	Assertion          string   // JWT bearer (RFC 7523 §2.1)
	SubjectToken       string   // token exchange (RFC 8693 §2.1)...
	SubjectTokenType   string   //
	ActorToken         string   //
	ActorTokenType     string   //
	RequestedTokenType string   //
	Audience, Resource []string // ...
}

// TokenResult is what a successful grant issued.
type TokenResult struct {
	AccessToken  string
	RefreshToken string // empty unless the profile issues one for the grant
	TokenType    string
	ExpiresIn    int64 // seconds
	IssuedAt     time.Time
	ExpiresAt    time.Time
	Scopes       []string
	ClientID     string
	UserID       string
	// IDToken is the OpenID Connect id_token, for a user's grant with the
	// openid scope on an issuer instance.
	IDToken string
	// IssuedTokenType is a token exchange's issued_token_type.
	IssuedTokenType string
	// ClientAlt reports that the client authenticated with the request's
	// ClientAlt reading, not ClientID and ClientSecret.
	ClientAlt bool
}

// Credentials are a client id and secret as presented.
type Credentials struct{ ID, Secret string }

// Token runs one grant.
func (e *Engine) Token(ctx context.Context, p *Profile, req TokenRequest) (*TokenResult, error) {
	switch req.GrantType {
	case GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken:
	case "":
		return nil, MissingParam("grant_type")
	default:
		if !contains(p.ExtraGrants, req.GrantType) {
			return nil, &Error{Kind: KindUnsupportedGrantType, Param: "grant_type", Value: string(req.GrantType),
				Description: "unsupported grant_type"}
		}
	}
	client, alt, err := e.authenticate(ctx, p, req.clientAuth())
	if err != nil {
		return nil, err
	}
	if !client.AllowsGrant(req.GrantType) {
		return nil, &Error{Kind: KindUnauthorizedClient, Param: "grant_type", Value: string(req.GrantType),
			Description: "the client may not use this grant type"}
	}
	var res *TokenResult
	switch req.GrantType {
	case GrantClientCredentials:
		res, err = e.clientCredentials(ctx, p, client, req)
	case GrantAuthorizationCode:
		res, err = e.authorizationCode(ctx, p, client, req)
	case GrantRefreshToken:
		res, err = e.refresh(ctx, p, client, req)
	default:
		res, err = e.extensionGrant(ctx, p, client, req)
	}
	if res != nil {
		res.ClientAlt = alt
	}
	return res, err
}

// InvalidateClient drops any cached copy of a client. The engine's own
// operations (state.go) invalidate what they change; this is for a record
// changed in the store directly (a test, a bulk tool).
func (e *Engine) InvalidateClient(id string) { e.clients.invalidate(id) }

// InvalidateUser drops any cached copy of a user: by id, and every user
// cached by username (the change may be to the username itself).
func (e *Engine) InvalidateUser(id string) {
	e.users.invalidate(id)
	e.logins.clear()
}

// InvalidateAuthorization drops any cached copy of an authorization.
func (e *Engine) InvalidateAuthorization(id int64) { e.auths.invalidate(id) }

// InvalidateAll drops every cached client, user and authorization.
func (e *Engine) InvalidateAll() {
	e.clients.clear()
	e.users.clear()
	e.logins.clear()
	e.auths.clear()
}

// Client returns a client record through the engine's short-lived cache.
func (e *Engine) Client(ctx context.Context, id string) (*Client, error) {
	return e.clients.get(ctx, id)
}

// User returns a user record through the engine's short-lived cache.
func (e *Engine) User(ctx context.Context, id string) (*User, error) { return e.users.get(ctx, id) }

// AuthenticateClient checks a client's id and secret and that it may be used
// through p's dialect instance at the current time.
func (e *Engine) AuthenticateClient(ctx context.Context, p *Profile, id, secret string) (*Client, error) {
	client, _, err := e.AuthenticateClientAny(ctx, p, Credentials{id, secret})
	return client, err
}

// AuthenticateClientAny is AuthenticateClient over several readings of one
// presented credential, preferred first (HTTP Basic's form-decoded and raw
// forms): the first reading that authenticates wins and its index is
// returned. Each reading is checked like a single one (the KDF, or the
// verified-credential cache, in constant time); a failure of all counts as
// one failure for the limiter, under the first reading's id.
func (e *Engine) AuthenticateClientAny(ctx context.Context, p *Profile, readings ...Credentials) (*Client, int, error) {
	if len(readings) == 0 || readings[0].ID == "" {
		return nil, 0, MissingParam("client_id")
	}
	if readings[0].Secret == "" {
		return nil, 0, MissingParam("client_secret")
	}
	src := sourceOf(ctx)
	wait, blocked := e.limiter.Blocked("client", readings[0].ID, src)
	for i, r := range readings {
		if r.ID == "" || r.Secret == "" {
			continue
		}
		client, err := e.clients.get(ctx, r.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, 0, storeError(err)
		}
		hash := ""
		if client != nil {
			hash = client.SecretHash
		}
		var ok bool
		if blocked {
			ok = e.creds.cached(client != nil, r.ID, hash, r.Secret)
		} else {
			ok = e.creds.verify(client != nil, r.ID, hash, r.Secret)
		}
		if ok {
			if err := e.CheckClientUsable(client, p); err != nil {
				return nil, 0, err
			}
			return client, i, nil
		}
	}
	if blocked {
		e.obs.RateLimited("client")
		return nil, 0, rateLimited(wait)
	}
	e.limiter.Fail("client", readings[0].ID, src)
	return nil, 0, &Error{Kind: KindInvalidClient, Reason: ReasonBadCredentials, Description: "client authentication failed"}
}

// CheckClientUsable reports why client cannot be used through p's dialect
// instance now, if it cannot.
func (e *Engine) CheckClientUsable(client *Client, p *Profile) error {
	switch {
	case client.Disabled:
		return &Error{Kind: KindInvalidClient, Reason: ReasonClientDisabled, Description: "the client is disabled"}
	case client.Expired(e.clock.Now()):
		return &Error{Kind: KindInvalidClient, Reason: ReasonClientExpired, Description: "the client registration has expired"}
	case !client.AllowsDialect(p.Dialect, p.Type):
		return &Error{Kind: KindUnauthorizedClient, Description: "the client may not use this API"}
	}
	return nil
}

func (e *Engine) clientCredentials(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	if req.UserID != "" {
		if _, err := e.users.get(ctx, req.UserID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonUnknownUser, Param: "user_id", Value: req.UserID,
					Description: "unknown user"}
			}
			return nil, storeError(err)
		}
	}
	scopes, err := grantedScopes(p, client, req.Scopes)
	if err != nil {
		return nil, err
	}
	return e.issueNew(ctx, p, GrantClientCredentials, grant{client: client, userID: req.UserID, scopes: scopes, issuer: req.Issuer})
}

func (e *Engine) authorizationCode(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	if req.Code == "" {
		return nil, MissingParam("code")
	}
	code, err := e.lookup(ctx, p, req.Code, TokenCode)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	invalid := func(r Reason, d string) error { return &Error{Kind: KindInvalidGrant, Reason: r, Description: d} }
	switch {
	case code.ClientID != client.ID:
		return nil, invalid(ReasonWrongClient, "the code was issued to another client")
	case !code.ConsumedAt.IsZero() || !code.RevokedAt.IsZero():
		return nil, e.replayed(ctx, code, now, ReasonCodeReplay)
	case !now.Before(code.ExpiresAt):
		return nil, invalid(ReasonNone, "the code has expired")
	case code.RedirectURI != "" && req.RedirectURI == "":
		return nil, MissingParam("redirect_uri")
	case req.RedirectURI != "" && req.RedirectURI != effectiveRedirect(code, client):
		return nil, invalid(ReasonRedirectURI, "redirect_uri does not match the authorization request")
	}
	if err := checkPKCE(code, req.CodeVerifier); err != nil {
		return nil, err
	}
	g := grant{client: client, userID: code.UserID, scopes: code.Scopes, family: code.FamilyID, authTime: code.AuthTime,
		issuer: req.Issuer, nonce: code.Details.Nonce, details: code.Details}
	g.details.Nonce = ""
	res, tokens, err := e.mint(ctx, p, GrantAuthorizationCode, g, now)
	if err != nil {
		return nil, err
	}
	if err := e.store.Exchange(ctx, code.Digest, now, tokens...); err != nil {
		if errors.Is(err, ErrConsumed) {
			return nil, e.replayed(ctx, code, now, ReasonCodeReplay)
		}
		return nil, storeError(err)
	}
	TraceFrom(ctx).family(code, FamilyConsumed)
	e.issued(ctx, p, tokens)
	return res, nil
}

func (e *Engine) refresh(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	if req.RefreshToken == "" {
		return nil, MissingParam("refresh_token")
	}
	kind, life := TokenRefresh, time.Duration(0)
	if p.RefreshWithAccessToken {
		kind, life = TokenAccess, refreshTTL(p, client)
	}
	old, err := e.lookup(ctx, p, req.RefreshToken, kind)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	expires := old.ExpiresAt
	if life > 0 {
		expires = old.IssuedAt.Add(life)
	}
	switch {
	case old.ClientID != client.ID:
		return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonWrongClient, Description: "the token was issued to another client"}
	case !old.RevokedAt.IsZero():
		return nil, &Error{Kind: KindInvalidGrant, Description: "the token has been revoked"}
	case !old.ConsumedAt.IsZero():
		return nil, e.replayed(ctx, old, now, ReasonRefreshReuse)
	case !now.Before(expires):
		return nil, &Error{Kind: KindInvalidGrant, Description: "the token has expired"}
	}
	scopes, err := narrowScopes(old.Scopes, req.Scopes, "scope not granted originally")
	if err != nil {
		return nil, err
	}
	// A refreshed id_token keeps the original authentication's auth_time
	// and carries no nonce (OpenID Connect Core §12.2).
	g := grant{client: client, userID: old.UserID, scopes: scopes, family: old.FamilyID, authTime: old.AuthTime,
		issuer: req.Issuer, details: old.Details}
	g.details.Format = ""
	res, tokens, err := e.mint(ctx, p, GrantRefreshToken, g, now)
	if err != nil {
		return nil, err
	}
	if p.KeepRefreshToken {
		if err := e.store.InsertTokens(ctx, tokens...); err != nil {
			return nil, storeError(err)
		}
		TraceFrom(ctx).stored(tokens...)
		res.RefreshToken = req.RefreshToken
		return res, nil
	}
	if err := e.store.Exchange(ctx, old.Digest, now, tokens...); err != nil {
		if errors.Is(err, ErrConsumed) {
			return nil, e.replayed(ctx, old, now, ReasonRefreshReuse)
		}
		return nil, storeError(err)
	}
	TraceFrom(ctx).family(old, FamilyConsumed)
	e.issued(ctx, p, tokens)
	e.obs.Refreshed(p.Dialect)
	return res, nil
}

// replayed revokes the family of a code or refresh token presented again and
// returns the invalid_grant to answer (RFC 9700 §2.2.2, §4.14).
func (e *Engine) replayed(ctx context.Context, t *Token, now time.Time, r Reason) error {
	n, err := e.store.RevokeFamily(ctx, t.FamilyID, Revocation{At: now, Cause: RevokeReuse, Replayed: t.Digest})
	if err != nil {
		return storeError(err)
	}
	TraceFrom(ctx).family(t, FamilyRevoked|FamilyReuse)
	e.obs.ReuseDetected(t.Dialect, r)
	e.obs.Revoked(t.Dialect, RevokeReuse, n)
	return &Error{Kind: KindInvalidGrant, Reason: r, Description: "the grant has already been used; its tokens are revoked"}
}

// effectiveRedirect is the redirect_uri a code was sent to: the one its
// authorize request named, or for a request that left it out, the client's
// only registered one.
func effectiveRedirect(code *Token, client *Client) string {
	if code.RedirectURI == "" && len(client.RedirectURIs) == 1 {
		return client.RedirectURIs[0]
	}
	return code.RedirectURI
}

// unknownToken is how each kind of token is named when it is not found.
var unknownToken = map[TokenKind]string{
	TokenAccess:  "unknown access token",
	TokenRefresh: "unknown refresh token",
	TokenCode:    "unknown authorization code",
}

// lookup finds a live-or-dead token of kind, issued through p's instance,
// by its plain value.
func (e *Engine) lookup(ctx context.Context, p *Profile, value string, kind TokenKind) (*Token, error) {
	t, err := e.getToken(ctx, value)
	if errors.Is(err, ErrNotFound) || (err == nil && (t.Kind != kind || !p.issued(t))) {
		return nil, &Error{Kind: KindInvalidGrant, Description: unknownToken[kind]}
	}
	if err != nil {
		return nil, storeError(err)
	}
	return t, nil
}

// issued tells the observer and the request's trace about tokens just
// stored.
func (e *Engine) issued(ctx context.Context, p *Profile, tokens []*Token) {
	TraceFrom(ctx).stored(tokens...)
	for _, t := range tokens {
		e.obs.Issued(p.Dialect, t.Kind)
	}
}

type grant struct {
	client   *Client
	userID   string
	scopes   []string
	family   string
	authTime time.Time
	// issuer is the instance's issuer identifier, for what it signs.
	issuer string
	// nonce goes into the id_token (authorization code only).
	nonce string
	// details are recorded on the access and refresh tokens.
	details TokenDetails
	// jwt asks for a JWT access token whatever the client's setting
	// (token exchange's requested_token_type).
	jwt bool
}

// mint creates the tokens one grant issues, ready to store.
func (e *Engine) mint(ctx context.Context, p *Profile, gt GrantType, g grant, now time.Time) (*TokenResult, []*Token, error) {
	accessTTL := p.AccessTTL
	if g.client.AccessTTL > 0 {
		accessTTL = g.client.AccessTTL
	}
	if accessTTL <= 0 {
		accessTTL = DefaultAccessTTL
	}
	res := &TokenResult{TokenType: "Bearer", ExpiresIn: int64(accessTTL / time.Second), IssuedAt: now,
		ExpiresAt: now.Add(accessTTL), Scopes: g.scopes, ClientID: g.client.ID, UserID: g.userID}
	access, err := e.mintOne(ctx, p.accessMinter(g), TokenAccess, p, g, now, res.ExpiresAt)
	if err != nil {
		return nil, nil, err
	}
	res.AccessToken = access.value
	if res.IDToken, err = e.idToken(ctx, p, g, access.value, now, accessTTL); err != nil {
		return nil, nil, err
	}
	tokens := []*Token{access.record}
	if contains(p.RefreshGrants, gt) && !p.RefreshWithAccessToken && !(gt == GrantRefreshToken && p.KeepRefreshToken) {
		refresh, err := e.mintOne(ctx, p.RefreshMinter, TokenRefresh, p, g, now, now.Add(refreshTTL(p, g.client)))
		if err != nil {
			return nil, nil, err
		}
		res.RefreshToken = refresh.value
		tokens = append(tokens, refresh.record)
	}
	return res, tokens, nil
}

type minted struct {
	value  string
	record *Token
}

func (e *Engine) mintOne(ctx context.Context, m Minter, kind TokenKind, p *Profile, g grant, now, exp time.Time) (minted, error) {
	if m == nil {
		m = OpaqueMinter{Rand: e.rand}
	}
	var jti string
	if _, opaque := m.(opaqueMinter); !opaque {
		var err error
		if jti, err = randomID(e.rand, 16); err != nil {
			return minted{}, Internal(err)
		}
	}
	v, err := m.Mint(ctx, Claims{ID: jti, Kind: kind, ClientID: g.client.ID, UserID: g.userID, Scopes: g.scopes,
		IssuedAt: now, ExpiresAt: exp, AuthTime: g.authTime, Issuer: g.issuer, Audience: g.details.Audience,
		Subject: g.details.Subject, Actor: g.details.Actor})
	if err != nil {
		return minted{}, Internal(err)
	}
	details := g.details
	if _, ok := m.(jwtAccessMinter); ok {
		details.Format = FormatJWT
	}
	return minted{value: v, record: &Token{Digest: TokenKey(v), Kind: kind, ClientID: g.client.ID, UserID: g.userID,
		Dialect: p.Dialect, Scopes: g.scopes, FamilyID: g.family, IssuedAt: now, ExpiresAt: exp, AuthTime: g.authTime,
		Details: details}}, nil
}

// issued reports whether t was issued through p's dialect instance; a nil
// profile (the control plane's view) sees every instance's tokens.
func (p *Profile) issued(t *Token) bool { return p == nil || t.Dialect == p.Dialect }

func refreshTTL(p *Profile, c *Client) time.Duration {
	switch {
	case c.RefreshTTL > 0:
		return c.RefreshTTL
	case p.RefreshTTL > 0:
		return p.RefreshTTL
	}
	return DefaultRefreshTTL
}

// narrowScopes is requested if it is a subset of granted (refusing the
// first scope that is not, with description), else granted when nothing
// is requested.
func narrowScopes(granted, requested []string, description string) ([]string, error) {
	if requested == nil {
		return granted, nil
	}
	for _, s := range requested {
		if !contains(granted, s) {
			return nil, &Error{Kind: KindInvalidScope, Param: "scope", Value: s, Description: description}
		}
	}
	return requested, nil
}

// grantedScopes decides the scopes of a new grant: the requested ones if the
// client may have them, else the profile's default.
func grantedScopes(p *Profile, c *Client, requested []string) ([]string, error) {
	if requested == nil || p.FixedScopes {
		return p.DefaultScopes, nil
	}
	if len(c.Scopes) > 0 {
		for _, s := range requested {
			if !contains(c.Scopes, s) {
				return nil, &Error{Kind: KindInvalidScope, Param: "scope", Value: s, Description: "scope not allowed for this client"}
			}
		}
	}
	return requested, nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// storeError turns a store failure into the error a dialect renders.
func storeError(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	switch {
	case errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		return Unavailable(err)
	case errors.Is(err, ErrInvalidValue):
		return &Error{Kind: KindInvalidRequest, Reason: ReasonMalformed, Description: "a value of the request cannot be stored", Cause: err}
	}
	return Internal(err)
}
