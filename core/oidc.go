package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// OpenID Connect Core 1.0 on the engine: id_tokens, the standard claims of
// a user, UserInfo and RFC 9068 JWT access tokens. An instance is an issuer
// when its Profile has Keys.

// Scopes OpenID Connect gives a meaning to (OpenID Connect Core §5.4).
const (
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
)

// ProfileClaims and EmailClaims are the standard claims of the profile and
// email scopes the engine knows of a user (OpenID Connect Core §5.4).
var (
	ProfileClaims = []string{"name", "given_name", "family_name", "preferred_username", "updated_at"}
	EmailClaims   = []string{"email", "email_verified"}
)

// SupportedClaims lists every claim the issuer may put in an id_token or
// the UserInfo answer, for discovery's claims_supported.
var SupportedClaims = slices.Concat([]string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp"},
	ProfileClaims, EmailClaims)

// JWT types (the typ header) of what an issuer signs.
const (
	TypeIDToken     = "JWT"
	TypeAccessToken = "at+jwt" // RFC 9068 §2.1
)

// UserClaims returns the standard claims of u that scopes grant, plus those
// named (a claims request, OpenID Connect Core §5.5). Empty values are left
// out; sub is not included.
func UserClaims(u *User, scopes, named []string) map[string]any {
	out := map[string]any{}
	want := func(claim string, scopeClaims []string, scope string) bool {
		return slices.Contains(named, claim) || (slices.Contains(scopeClaims, claim) && slices.Contains(scopes, scope))
	}
	values := map[string]any{
		"given_name":         u.FirstName,
		"family_name":        u.LastName,
		"name":               strings.TrimSpace(u.FirstName + " " + u.LastName),
		"preferred_username": u.Username,
		"email":              u.Email,
	}
	for claim, v := range values {
		if v == "" {
			continue
		}
		if want(claim, ProfileClaims, ScopeProfile) || want(claim, EmailClaims, ScopeEmail) {
			out[claim] = v
		}
	}
	if !u.UpdatedAt.IsZero() && want("updated_at", ProfileClaims, ScopeProfile) {
		out["updated_at"] = u.UpdatedAt.Unix()
	}
	if u.Email != "" && want("email_verified", EmailClaims, ScopeEmail) {
		// The gateway's users are fixtures: their addresses count as verified.
		out["email_verified"] = true
	}
	return out
}

// idToken signs the id_token of a grant (OpenID Connect Core §2, §3.1.3.6):
// only for a user's grant with the openid scope, on an issuer instance.
func (e *Engine) idToken(ctx context.Context, p *Profile, g grant, accessToken string, now time.Time, ttl time.Duration) (string, error) {
	if p.Keys == nil || g.userID == "" || !slices.Contains(g.scopes, ScopeOpenID) {
		return "", nil
	}
	alg := g.client.Settings.IDTokenSignedResponseAlg
	if alg == "" {
		alg = AlgRS256
	}
	ring := p.Keys[alg]
	if ring == nil {
		return "", Internal(errors.New("no " + alg + " key ring for id_tokens"))
	}
	claims := map[string]any{}
	if g.client.Settings.IDTokenUserClaims || len(g.details.IDTokenClaims) > 0 {
		u, err := e.users.get(ctx, g.userID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", storeError(err)
		}
		if u != nil {
			scopes := g.scopes
			if !g.client.Settings.IDTokenUserClaims {
				scopes = nil
			}
			claims = UserClaims(u, scopes, g.details.IDTokenClaims)
		}
	}
	claims["iss"] = g.issuer
	claims["sub"] = g.userID
	claims["aud"] = g.client.ID
	claims["azp"] = g.client.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(ttl).Unix()
	if !g.authTime.IsZero() {
		claims["auth_time"] = g.authTime.Unix()
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	claims["at_hash"] = tokenHash(accessToken)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", Internal(err)
	}
	tok, err := ring.SignTyped(ctx, TypeIDToken, payload)
	if err != nil {
		return "", Internal(err)
	}
	return tok, nil
}

// tokenHash is at_hash: the left half of the SHA-256 of the token, base64url
// (OpenID Connect Core §3.1.3.6; RS256 and ES256 both hash with SHA-256).
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// UserInfo answers the UserInfo endpoint (OpenID Connect Core §5.3) for an
// access token issued through p's instance: sub and the claims its scopes
// and claims request grant. A token without the openid scope is
// access_denied/insufficient_scope, one without a user invalid_token.
func (e *Engine) UserInfo(ctx context.Context, p *Profile, accessToken string) (map[string]any, error) {
	t, err := e.Validate(ctx, p, accessToken)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.Scopes, ScopeOpenID) {
		return nil, &Error{Kind: KindAccessDenied, Reason: ReasonInsufficientScope,
			Description: "the access token was not issued for the openid scope"}
	}
	noUser := &Error{Kind: KindInvalidToken, Description: "the access token is not a user's"}
	if t.UserID == "" {
		return nil, noUser
	}
	u, err := e.users.get(ctx, t.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, noUser
	}
	if err != nil {
		return nil, storeError(err)
	}
	claims := UserClaims(u, t.Scopes, t.Details.UserInfoClaims)
	claims["sub"] = u.ID
	return claims, nil
}

// accessMinter is the minter of g's access token: a JWT (RFC 9068) when
// the client chose that format (or a token exchange asked for it) and the
// instance is an issuer, else the profile's.
func (p *Profile) accessMinter(g grant) Minter {
	if ring := p.Keys[AlgRS256]; ring != nil && (g.jwt || g.client.Settings.AccessTokenFormat == FormatJWT) {
		return jwtAccessMinter{ring: ring}
	}
	return p.AccessMinter
}

// jwtAccessMinter mints RFC 9068 JWT access tokens.
type jwtAccessMinter struct{ ring *KeyRing }

type accessClaims struct {
	Iss      string    `json:"iss"`
	Sub      string    `json:"sub"`
	Aud      Audience  `json:"aud"`
	Exp      int64     `json:"exp"`
	Iat      int64     `json:"iat"`
	Jti      string    `json:"jti"`
	ClientID string    `json:"client_id"`
	Scope    string    `json:"scope,omitempty"`
	AuthTime int64     `json:"auth_time,omitempty"`
	Act      *actClaim `json:"act,omitempty"`
}

type actClaim struct {
	Sub string `json:"sub"`
}

// Mint signs c as an at+jwt. Its aud is the audiences a token exchange
// asked for, else the client (RFC 9068 §3 leaves the default resource to
// the server).
func (m jwtAccessMinter) Mint(ctx context.Context, c Claims) (string, error) {
	ac := accessClaims{Iss: c.Issuer, Sub: subjectOf(c.UserID, c.Subject, c.ClientID), Aud: c.Audience,
		Exp: c.ExpiresAt.Unix(), Iat: c.IssuedAt.Unix(), Jti: c.ID, ClientID: c.ClientID, Scope: strings.Join(c.Scopes, " ")}
	if len(ac.Aud) == 0 {
		ac.Aud = Audience{c.ClientID}
	}
	if c.UserID != "" && !c.AuthTime.IsZero() {
		ac.AuthTime = c.AuthTime.Unix()
	}
	if c.Actor != "" {
		ac.Act = &actClaim{Sub: c.Actor}
	}
	payload, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return m.ring.SignTyped(ctx, TypeAccessToken, payload)
}

// subjectOf is a token's subject: its user, else the subject it was
// exchanged for, else its client.
func subjectOf(userID, subject, clientID string) string {
	switch {
	case userID != "":
		return userID
	case subject != "":
		return subject
	}
	return clientID
}

// Subject is the token's subject (introspection's sub, a JWT's sub): the
// user, else the client whose token it was exchanged for, else its client.
func (t *Token) Subject() string { return subjectOf(t.UserID, t.Details.Subject, t.ClientID) }

// SignTyped signs payload with the active key under a header that also
// names the JWT's type: {"kid","alg","typ"}.
func (r *KeyRing) SignTyped(ctx context.Context, typ string, payload []byte) (string, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return "", err
	}
	h, _ := json.Marshal(struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}{s.active.kid, r.alg, typ})
	return signCompact(s.active, base64.RawURLEncoding.EncodeToString(h)+".", payload)
}

// Algorithm is the ring's signing algorithm.
func (r *KeyRing) Algorithm() string { return r.alg }

// ClaimsRequest is the claims authorization parameter (OpenID Connect Core
// §5.5) reduced to what the engine honours: the names of the claims asked
// for in the id_token and in the UserInfo answer (essential or not, values
// ignored).
type ClaimsRequest struct {
	IDToken  []string
	UserInfo []string
}

// ParseClaimsRequest reads a claims parameter; "" is none.
func ParseClaimsRequest(s string) (ClaimsRequest, error) {
	var cr ClaimsRequest
	if s == "" {
		return cr, nil
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return cr, InvalidParam("claims", "", "claims must be a JSON object of userinfo and id_token members")
	}
	names := func(m map[string]json.RawMessage) []string {
		out := make([]string, 0, len(m))
		for n := range m {
			out = append(out, n)
		}
		slices.Sort(out)
		return out
	}
	cr.IDToken, cr.UserInfo = names(raw["id_token"]), names(raw["userinfo"])
	return cr, nil
}

// checkOIDCAuthorize checks what OpenID Connect and public clients add to
// an authorization request: a public client must use PKCE with S256 (RFC
// 9700 §2.1.1), and a client that registered require_nonce must send a
// nonce with the openid scope.
func checkOIDCAuthorize(client *Client, req AuthorizeRequest) error {
	if client.Public() && (req.CodeChallenge == "" || req.CodeChallengeMethod != "S256") {
		return &Error{Kind: KindInvalidRequest, Reason: ReasonPKCE, Param: "code_challenge",
			Description: "a public client must send a code_challenge with code_challenge_method S256"}
	}
	if client.Settings.RequireNonce && req.Nonce == "" && slices.Contains(req.Scopes, ScopeOpenID) {
		return MissingParam("nonce")
	}
	return nil
}

// bearer reports whether tokens of kind k are presented as bearer tokens
// (access and refresh tokens): only those introspect and revoke.
func (k TokenKind) bearer() bool { return k == TokenAccess || k == TokenRefresh }
