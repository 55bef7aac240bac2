package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// AuthorizeRequest is the query of an authorization endpoint (RFC 6749 §4.1.1, RFC 7636).
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	State               string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	// RedirectURIOmitted records that the request left redirect_uri out and
	// RedirectURI is the client's only registered one (set by
	// CheckAuthorizeClient): the code exchange then does not require it
	// (RFC 6749 §4.1.3).
	RedirectURIOmitted bool
	// OpenID Connect (oidc.go): the nonce to echo in the id_token, the
	// claims the claims parameter asks for, and when the user authenticated
	// (a login session's time; zero: now).
	Nonce    string
	Claims   ClaimsRequest
	AuthTime time.Time
}

// CheckAuthorizeClient validates the parts of an authorization request that
// must be right before anything may be redirected: the client and its exact
// redirect_uri. Its errors belong on an error page, never in a redirect.
//
// It completes req for the profile: a request without redirect_uri from a
// client with exactly one registered URI gets that URI (RFC 6749 §3.1.2.3),
// and a profile with fixed scopes drops the requested ones.
//
// The client comes through the engine's short-lived cache, as on the token
// endpoint: a login flow shows and then submits the page, and each read
// through gorm cost about a sixth of the flow's CPU.
func (e *Engine) CheckAuthorizeClient(ctx context.Context, p *Profile, req *AuthorizeRequest) (*Client, error) {
	if req.ClientID == "" {
		return nil, MissingParam("client_id")
	}
	client, err := e.clients.get(ctx, req.ClientID)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindInvalidClient, Param: "client_id", Value: req.ClientID, Description: "unknown client"}
	}
	if err != nil {
		return nil, storeError(err)
	}
	if req.RedirectURI == "" {
		if len(client.RedirectURIs) != 1 {
			return nil, MissingParam("redirect_uri")
		}
		req.RedirectURI, req.RedirectURIOmitted = client.RedirectURIs[0], true
	}
	if p.FixedScopes {
		req.Scopes = nil
	}
	if !client.HasRedirectURI(req.RedirectURI) {
		return nil, &Error{Kind: KindInvalidRequest, Reason: ReasonRedirectURI, Param: "redirect_uri",
			Description: "redirect_uri is not registered for this client"}
	}
	if err := e.CheckClientUsable(client, p); err != nil {
		return nil, err
	}
	return client, nil
}

// CheckAuthorizeParams validates the rest of an authorization request; its
// errors may be sent back to the (already verified) redirect_uri.
func (e *Engine) CheckAuthorizeParams(client *Client, req AuthorizeRequest) error {
	switch {
	case req.ResponseType == "":
		return MissingParam("response_type")
	case req.ResponseType != "code":
		return &Error{Kind: KindInvalidRequest, Param: "response_type", Value: req.ResponseType,
			Description: "only response_type=code is supported"}
	case !client.AllowsGrant(GrantAuthorizationCode):
		return &Error{Kind: KindUnauthorizedClient, Description: "the client may not use the authorization_code grant"}
	}
	if req.CodeChallenge != "" {
		switch req.CodeChallengeMethod {
		case "S256":
		case "plain", "":
			// RFC 7636 defaults to plain; we allow it only where the client opts in.
			if !client.AllowPlainPKCE {
				return &Error{Kind: KindInvalidRequest, Param: "code_challenge_method", Value: req.CodeChallengeMethod,
					Description: "code_challenge_method must be S256"}
			}
		default:
			return &Error{Kind: KindInvalidRequest, Param: "code_challenge_method", Value: req.CodeChallengeMethod,
				Description: "unsupported code_challenge_method"}
		}
		if len(req.CodeChallenge) < 43 || len(req.CodeChallenge) > 128 {
			return InvalidParam("code_challenge", req.CodeChallenge, "code_challenge must be 43 to 128 characters")
		}
	} else if req.CodeChallengeMethod != "" {
		return MissingParam("code_challenge")
	}
	if len(client.Scopes) > 0 {
		for _, s := range req.Scopes {
			if !contains(client.Scopes, s) {
				return &Error{Kind: KindInvalidScope, Param: "scope", Value: s, Description: "scope not allowed for this client"}
			}
		}
	}
	return checkOIDCAuthorize(client, req)
}

// Login checks a username and password. Unknown users cost the same KDF work
// and get the same error as wrong passwords.
//
// The user comes through the engine's short-lived cache: a read through gorm
// was about an eighth of a login flow's CPU.
func (e *Engine) Login(ctx context.Context, username, password string) (*User, error) {
	u, err := e.logins.get(ctx, username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, storeError(err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	// Passwords go through the verified-credential cache like client
	// secrets: a repeated login costs an HMAC, not bcrypt, and a password
	// verified before passes even while guesses at the user are limited.
	principal, src := "user\x00"+username, sourceOf(ctx)
	if wait, blocked := e.limiter.Blocked("user", username, src); blocked && !e.creds.cached(u != nil, principal, hash, password) {
		e.obs.RateLimited("user")
		return nil, rateLimited(wait)
	}
	if !e.creds.verify(u != nil, principal, hash, password) {
		e.limiter.Fail("user", username, src)
		return nil, &Error{Kind: KindAccessDenied, Reason: ReasonBadCredentials, Description: "wrong username or password"}
	}
	return u, nil
}

// IssueCode stores and returns a fresh authorization code for user, bound to
// the client, redirect_uri and PKCE challenge of req.
func (e *Engine) IssueCode(ctx context.Context, p *Profile, client *Client, user *User, req AuthorizeRequest) (string, error) {
	ttl := p.CodeTTL
	if ttl <= 0 || ttl > MaxCodeTTL {
		ttl = MaxCodeTTL
	}
	now := e.clock.Now()
	family, err := NewFamilyID(e.rand, now)
	if err != nil {
		return "", Internal(err)
	}
	code, err := OpaqueMinter{Rand: e.rand}.Mint(ctx, Claims{IssuedAt: now})
	if err != nil {
		return "", Internal(err)
	}
	method := req.CodeChallengeMethod
	if req.CodeChallenge != "" && method == "" {
		method = "plain"
	}
	scopes := req.Scopes
	if scopes == nil {
		scopes = p.DefaultScopes
	}
	if p.FixedScopes {
		scopes = p.DefaultScopes
	}
	// A code stores the redirect_uri its request carried: one that was
	// left out is not required at the exchange (RFC 6749 §4.1.3).
	redirect := req.RedirectURI
	if req.RedirectURIOmitted {
		redirect = ""
	}
	authTime := now
	if !req.AuthTime.IsZero() {
		authTime = req.AuthTime
	}
	t := &Token{Digest: TokenKey(code), Kind: TokenCode, ClientID: client.ID, UserID: user.ID, Dialect: p.Dialect,
		Scopes: scopes, FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(ttl), AuthTime: authTime,
		RedirectURI: redirect, CodeChallenge: req.CodeChallenge, CodeChallengeMethod: method,
		Details: TokenDetails{Nonce: req.Nonce, IDTokenClaims: req.Claims.IDToken, UserInfoClaims: req.Claims.UserInfo}}
	if err := e.store.InsertTokens(ctx, t); err != nil {
		return "", storeError(err)
	}
	TraceFrom(ctx).stored(t)
	e.obs.Issued(p.Dialect, TokenCode)
	return code, nil
}

// checkPKCE verifies a code_verifier against the code's challenge (RFC 7636
// §4.6). A code issued without a challenge refuses a verifier, and one issued
// with a challenge cannot be redeemed without it (no downgrade, RFC 9700 §2.1.1).
func checkPKCE(code *Token, verifier string) error {
	fail := func(d string) error { return &Error{Kind: KindInvalidGrant, Reason: ReasonPKCE, Description: d} }
	if code.CodeChallenge == "" {
		if verifier != "" {
			return fail("code_verifier sent for a code issued without code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return MissingParam("code_verifier")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return fail("code_verifier must be 43 to 128 characters")
	}
	want := verifier
	if code.CodeChallengeMethod == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if !EqualConstantTime(want, code.CodeChallenge) {
		return fail("code_verifier does not match code_challenge")
	}
	return nil
}

// Validate looks up an access token issued through p's instance (nil: any)
// for a resource call. Unknown, revoked and rotated-out tokens are
// invalid_token; expired ones expired_token.
func (e *Engine) Validate(ctx context.Context, p *Profile, accessToken string) (*Token, error) {
	if accessToken == "" {
		return nil, &Error{Kind: KindInvalidToken, Reason: ReasonMissing, Description: "missing access token"}
	}
	t, err := e.getToken(ctx, accessToken)
	if errors.Is(err, ErrNotFound) || (err == nil && (t.Kind != TokenAccess || !p.issued(t))) {
		return nil, &Error{Kind: KindInvalidToken, Description: "invalid access token"}
	}
	if err != nil {
		return nil, storeError(err)
	}
	if !t.RevokedAt.IsZero() || !t.ConsumedAt.IsZero() {
		return nil, &Error{Kind: KindInvalidToken, Description: "the access token has been revoked"}
	}
	if !e.clock.Now().Before(t.ExpiresAt) {
		return t, &Error{Kind: KindExpiredToken, Description: "the access token has expired"}
	}
	return t, nil
}

// Introspect returns the record of any token (access or refresh) issued
// through p's instance (nil: any) and whether it is active now (RFC 7662).
// Unknown tokens give (nil, false, nil).
func (e *Engine) Introspect(ctx context.Context, p *Profile, token string) (*Token, bool, error) {
	t, err := e.getToken(ctx, token)
	if errors.Is(err, ErrNotFound) || (err == nil && (!t.Kind.bearer() || !p.issued(t))) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeError(err)
	}
	return t, t.Active(e.clock.Now()), nil
}

// Revoke revokes a token presented by client through p's instance (RFC
// 7009). A refresh token takes its whole family (the access tokens of the
// same grant) with it. Unknown tokens and tokens of other clients or
// instances are ignored, so the answer does not reveal whether a token exists.
func (e *Engine) Revoke(ctx context.Context, p *Profile, client *Client, token string) error {
	t, err := e.getToken(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return storeError(err)
	}
	if t.ClientID != client.ID || !t.Kind.bearer() || !p.issued(t) {
		return nil
	}
	r := Revocation{At: e.clock.Now(), Cause: RevokeRequested}
	n := 0
	if t.Kind == TokenRefresh {
		n, err = e.store.RevokeFamily(ctx, t.FamilyID, r)
	} else if t.Active(r.At) {
		n, err = 1, e.store.RevokeToken(ctx, t.Digest, r)
	} else {
		err = e.store.RevokeToken(ctx, t.Digest, r)
	}
	if err == nil {
		TraceFrom(ctx).family(t, FamilyRevoked)
		e.obs.Revoked(t.Dialect, RevokeRequested, n)
	}
	return storeErrorOrNil(err)
}

// CheckAuthorization finds authorization id for client and, when authToken
// is non-empty or required, checks its token in constant time.
func (e *Engine) CheckAuthorization(ctx context.Context, id int64, clientID, authToken string, requireToken bool) (*Authorization, *User, error) {
	a, err := e.auths.get(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, nil, storeError(err)
	}
	bad := &Error{Kind: KindAccessDenied, Param: "auth_id", Description: "unknown authorization"}
	if a == nil || a.ClientID != clientID {
		return nil, nil, bad
	}
	if requireToken && !EqualConstantTime(a.TokenDigest, Digest(authToken)) {
		return nil, nil, bad
	}
	u, err := e.users.get(ctx, a.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, bad
	}
	if err != nil {
		return nil, nil, storeError(err)
	}
	return a, u, nil
}

// SweepExpired deletes tokens that expired more than the engine's sweep
// retention ago.
func (e *Engine) SweepExpired(ctx context.Context) (int, error) {
	return e.store.DeleteExpiredTokens(ctx, e.clock.Now().Add(-e.retention))
}

// RunSweeper sweeps every interval until ctx ends.
func (e *Engine) RunSweeper(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.SweepExpired(ctx); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

func storeErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return storeError(err)
}
