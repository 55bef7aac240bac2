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
	k, err := newKey(priv, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	r := &keyring{static: true, eng: core.New(core.Options{})}
	r.set.Store(&keySet{active: k, keys: []*key{k}})
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
	k := m.keys.set.Load().active
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"ver": 1, "jti": jti(c.ID), "iss": m.issuer,
			"aud": m.audience, "iat": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix(), "cid": c.ClientID, "uid": c.UserID,
			"scp": c.Scopes, "auth_time": c.AuthTime.Unix(), "sub": c.UserID, "clientId": c.ClientID})
		t.Header = map[string]any{"kid": k.kid, "alg": "RS256"}
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
	d := &Dialect{keys: m.keys, engine: m.keys.eng}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReloadReusesParsedKeys: a periodic reload re-reads the rows but does
// not re-parse known keys, and picks up a retirement.
func TestReloadReusesParsedKeys(t *testing.T) {
	now := time.Unix(1693512364, 0)
	sk, err := generateKey(Name, now)
	if err != nil {
		t.Fatal(err)
	}
	first, err := parseKeySet([]*core.SigningKey{sk}, nil)
	if err != nil || first.active == nil || first.active.kid != sk.ID {
		t.Fatalf("first load: %v %+v", err, first)
	}
	retired := *sk
	retired.RetiredAt, retired.VerifyUntil = now, now.Add(time.Hour)
	second, err := parseKeySet([]*core.SigningKey{&retired}, first)
	if err != nil {
		t.Fatal(err)
	}
	if second.active != nil || len(second.keys) != 1 || second.keys[0].priv != first.active.priv {
		t.Fatalf("second load: %+v", second)
	}
	if !second.keys[0].retired || first.active.retired {
		t.Fatal("retirement not picked up, or the first snapshot was mutated")
	}
	if !second.keys[0].publishedAt(now.Add(59*time.Minute)) || second.keys[0].publishedAt(now.Add(time.Hour)) {
		t.Fatal("VerifyUntil not honoured")
	}
}
