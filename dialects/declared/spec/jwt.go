package spec

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/tokengate/tokengate/core"
)

// JWTFormat is a signed token format: the JOSE header and the claims are
// templates (keys in the declared order), signed with RS256.
type JWTFormat struct {
	Algorithm string // RS256
	Header    *Template
	Claims    *Template
}

// SigningKey is the key a JWT format signs with; KID is rendered by {kid}.
type SigningKey struct {
	KID string
	Key *rsa.PrivateKey
}

// Minter returns a core.Minter signing with key.
func (f *JWTFormat) Minter(key SigningKey) core.Minter { return jwtMinter{f: f, key: key} }

type jwtMinter struct {
	f   *JWTFormat
	key SigningKey
}

var b64 = base64.RawURLEncoding

func (m jwtMinter) Mint(_ context.Context, c core.Claims) (string, error) {
	if m.key.Key == nil {
		return "", errors.New("declared JWT format: no signing key")
	}
	v := claimValues(c, m.key.KID)
	header := m.f.Header.AppendJSON(make([]byte, 0, 128), &v)
	claims := m.f.Claims.AppendJSON(make([]byte, 0, 512), &v)
	out := make([]byte, 0, b64.EncodedLen(len(header))+b64.EncodedLen(len(claims))+b64.EncodedLen(m.key.Key.Size())+2)
	out = b64.AppendEncode(out, header)
	out = append(out, '.')
	out = b64.AppendEncode(out, claims)
	digest := sha256.Sum256(out)
	sig, err := rsa.SignPKCS1v15(nil, m.key.Key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	out = b64.AppendEncode(out, sig)
	return string(out), nil
}
