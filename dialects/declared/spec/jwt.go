package spec

import (
	"context"
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

// Minter returns a core.Minter signing with the active key of ring (the
// instance's key ring: generated, stored, rotated and published by the
// engine); {kid} renders that key's id.
func (f *JWTFormat) Minter(ring *core.KeyRing) core.Minter { return jwtMinter{f: f, ring: ring} }

type jwtMinter struct {
	f    *JWTFormat
	ring *core.KeyRing
}

func (m jwtMinter) Mint(ctx context.Context, c core.Claims) (string, error) {
	if m.ring == nil {
		return "", errors.New("declared JWT format: no key ring")
	}
	return m.ring.SignWith(ctx, func(kid, _ string) ([]byte, []byte) {
		v := claimValues(c, kid)
		return m.f.Header.AppendJSON(make([]byte, 0, 128), &v), m.f.Claims.AppendJSON(make([]byte, 0, 512), &v)
	})
}
