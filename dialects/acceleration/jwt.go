package acceleration

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Minter signs access tokens as RS256 JWTs shaped like the vendor's sample:
// header {"kid","alg"}, claims ver, jti "AT.<id>", iss, aud, iat, exp, cid,
// uid, scp, auth_time, sub (the user's email, else the user id) and
// clientId. It implements core.Minter.
type Minter struct {
	keys     *core.KeyRing
	users    userSource // nil: sub is the user id
	issuer   string
	audience string
	// wall is the real clock: iat and auth_time never lie in its future
	// (see notBefore). nil: the engine clock alone.
	wall core.Clock
}

// notBefore keeps a time claim (iat, auth_time) from lying in the real
// clock's future. The gateway clock may run ahead (/_admin/clock), and JWT
// verifiers judge by their own clock: PyJWT, and golang-jwt with
// WithIssuedAt, reject a token "used before issued". exp still follows the
// gateway clock, so a token's life on the gateway is unchanged.
func (m *Minter) notBefore(t time.Time) int64 {
	if m.wall != nil {
		if now := m.wall.Now(); t.After(now) {
			t = now
		}
	}
	return t.Unix()
}

var _ core.Minter = (*Minter)(nil)

// userSource finds a token's user (the engine's cached lookup).
type userSource interface {
	User(ctx context.Context, id string) (*core.User, error)
}

// accessClaims is the payload, in the vendor's member order.
type accessClaims struct {
	Ver      int      `json:"ver"`
	JTI      string   `json:"jti"`
	Iss      string   `json:"iss"`
	Aud      string   `json:"aud"`
	Iat      int64    `json:"iat"`
	Exp      int64    `json:"exp"`
	Cid      string   `json:"cid"`
	UID      string   `json:"uid,omitempty"`
	Scp      []string `json:"scp"`
	AuthTime int64    `json:"auth_time"`
	Sub      string   `json:"sub"`
	ClientID string   `json:"clientId"`
}

// Mint signs c with the active key.
func (m *Minter) Mint(ctx context.Context, c core.Claims) (string, error) {
	sub := c.UserID
	if c.UserID != "" && m.users != nil {
		u, err := m.users.User(ctx, c.UserID)
		switch {
		case err == nil && u.Email != "":
			sub = u.Email
		case err != nil && !errors.Is(err, core.ErrNotFound):
			return "", err
		}
	}
	if sub == "" {
		sub = c.ClientID
	}
	scp := c.Scopes
	if scp == nil {
		scp = []string{}
	}
	payload, err := json.Marshal(accessClaims{Ver: 1, JTI: jti(c.ID), Iss: m.issuer, Aud: m.audience,
		Iat: m.notBefore(c.IssuedAt), Exp: c.ExpiresAt.Unix(), Cid: c.ClientID, UID: c.UserID, Scp: scp,
		AuthTime: m.notBefore(c.AuthTime), Sub: sub, ClientID: c.ClientID})
	if err != nil {
		return "", err
	}
	return m.keys.Sign(ctx, payload)
}

// jti turns the engine's random token id into the vendor's "AT." + 43
// base64url characters.
func jti(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "AT." + base64.RawURLEncoding.EncodeToString(sum[:])
}

// errBadToken is what every structural or signature failure becomes: the
// client learns only that the token is not valid.
var errBadToken = &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMalformed, Description: "invalid access token"}

// verify checks token's structure and RS256 signature against the published
// keys. Whether it is known, live and unexpired is the engine's business.
func (d *Dialect) verify(ctx context.Context, token string) error {
	ok, err := d.keys.Verify(ctx, token)
	if err != nil {
		return core.AsError(err)
	}
	if !ok {
		return errBadToken
	}
	return nil
}
