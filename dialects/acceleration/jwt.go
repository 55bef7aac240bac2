package acceleration

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tokengate/tokengate/core"
)

// Minter signs access tokens as RS256 JWTs shaped like the vendor's sample:
// header {"kid","alg"}, claims ver, jti "AT.<id>", iss, aud, iat, exp, cid,
// uid, scp, auth_time, sub (the user's email, else the user id) and
// clientId. It implements core.Minter.
type Minter struct {
	keys     *keyring
	users    userSource // nil: sub is the user id
	issuer   string
	audience string
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
	s, err := m.keys.signing(ctx)
	if err != nil {
		return "", err
	}
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
		Iat: c.IssuedAt.Unix(), Exp: c.ExpiresAt.Unix(), Cid: c.ClientID, UID: c.UserID, Scp: scp,
		AuthTime: c.AuthTime.Unix(), Sub: sub, ClientID: c.ClientID})
	if err != nil {
		return "", err
	}
	return sign(s.active, payload)
}

// jti turns the engine's random token id into the vendor's "AT." + 43
// base64url characters.
func jti(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "AT." + base64.RawURLEncoding.EncodeToString(sum[:])
}

// sign builds the compact JWS: precomputed header, payload, RS256 signature.
func sign(k *key, payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	sigLen := enc.EncodedLen(k.priv.Size())
	var b strings.Builder
	b.Grow(len(k.header) + enc.EncodedLen(len(payload)) + 1 + sigLen)
	b.WriteString(k.header)
	buf := make([]byte, enc.EncodedLen(len(payload)))
	enc.Encode(buf, payload)
	b.Write(buf)
	digest := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	b.WriteByte('.')
	buf = make([]byte, sigLen)
	enc.Encode(buf, sig)
	b.Write(buf)
	return b.String(), nil
}

// maxTokenLen bounds a presented bearer token before any decoding.
const maxTokenLen = 8 << 10

// joseHeader is the part of a JOSE header verification reads.
type joseHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// errBadToken is what every structural or signature failure becomes: the
// client learns only that the token is not valid.
var errBadToken = &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMalformed, Description: "invalid access token"}

// verify checks token's structure and RS256 signature against the published
// keys. Whether it is known, live and unexpired is the engine's business.
func (d *Dialect) verify(ctx context.Context, token string) error {
	if len(token) > maxTokenLen {
		return errBadToken
	}
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return errBadToken
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") || p == "" {
		return errBadToken
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(h)
	if err != nil {
		return errBadToken
	}
	var hdr joseHeader
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != Algorithm || hdr.Kid == "" || hdr.Crit != nil {
		return errBadToken
	}
	sb, err := enc.DecodeString(sig)
	if err != nil {
		return errBadToken
	}
	k, err := d.keys.verifying(ctx, hdr.Kid)
	if err != nil {
		return core.AsError(err)
	}
	if k == nil {
		return errBadToken
	}
	digest := sha256.Sum256([]byte(token[:len(h)+1+len(p)]))
	if rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], sb) != nil {
		return errBadToken
	}
	return nil
}
