package acceleration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokengate/tokengate/core"
)

// benchMinter is a Minter over a static in-memory key (no store).
func benchMinter(b *testing.B) (*Minter, *rsa.PrivateKey) {
	b.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		b.Fatal(err)
	}
	r, err := core.NewKeyRing(nil, nil, core.KeyRingOptions{Static: priv})
	if err != nil {
		b.Fatal(err)
	}
	return &Minter{keys: r, issuer: DefaultIssuer, audience: DefaultAudience}, priv
}

func benchClaims() core.Claims {
	now := time.Unix(1693512364, 0)
	return core.Claims{ID: "5r2QTY97BdHaV_as-Odh22", Kind: core.TokenAccess, ClientID: "0oa9nk95m21vbwmFY1d7",
		UserID: "00u9pgx5ytLZPbdsf1d7", Scopes: []string{"openid"}, IssuedAt: now, ExpiresAt: now.Add(DefaultAccessTTL),
		AuthTime: now}
}

// BenchmarkSign measures one access token: claims to signed compact JWT with
// the hand-rolled RS256 signer the dialect uses.
func BenchmarkSign(b *testing.B) {
	m, _ := benchMinter(b)
	c := benchClaims()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignGolangJWT is the same token through github.com/golang-jwt/jwt/v5,
// for comparison.
func BenchmarkSignGolangJWT(b *testing.B) {
	m, priv := benchMinter(b)
	kid := Thumbprint(&priv.PublicKey)
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"ver": 1, "jti": jti(c.ID), "iss": m.issuer,
			"aud": m.audience, "iat": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix(), "cid": c.ClientID, "uid": c.UserID,
			"scp": c.Scopes, "auth_time": c.AuthTime.Unix(), "sub": c.UserID, "clientId": c.ClientID})
		t.Header = map[string]any{"kid": kid, "alg": "RS256"}
		if _, err := t.SignedString(priv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures the userinfo path's signature check.
func BenchmarkVerify(b *testing.B) {
	m, _ := benchMinter(b)
	tok, err := m.Mint(context.Background(), benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	d := &Dialect{keys: m.keys}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
