package core_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

func newRing(t *testing.T, eng *core.Engine, owner string) *core.KeyRing {
	t.Helper()
	r, err := eng.KeyRing(core.KeyRingOptions{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	kid, _, ok := strings.Cut(strings.TrimPrefix(string(b), `{"kid":"`), `","alg":"RS256"}`)
	if !ok || !strings.HasPrefix(string(b), `{"kid":"`) {
		t.Fatalf("JOSE header %s, want exactly {\"kid\":…,\"alg\":\"RS256\"}", b)
	}
	return kid
}

func jwksKids(t *testing.T, r *core.KeyRing) []string {
	t.Helper()
	keys, err := r.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func sign(t *testing.T, r *core.KeyRing, payload string) string {
	t.Helper()
	tok, err := r.Sign(context.Background(), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantVerify(t *testing.T, r *core.KeyRing, token string, want bool) {
	t.Helper()
	ok, err := r.Verify(context.Background(), token)
	if err != nil || ok != want {
		t.Fatalf("Verify = %v, %v; want %v", ok, err, want)
	}
}

// The first key is generated when first needed, stored for its owner only,
// and signs tokens the ring (and a replica's ring) verifies.
func TestKeyRingGeneratesSignsVerifies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := newRing(t, f.eng, "jwt-a")
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.store.countWrites("PutSigningKey"); n != 0 {
		t.Fatalf("Load generated %d keys", n)
	}
	tok := sign(t, r, `{"sub":"x"}`)
	stored, _ := f.store.ListSigningKeys(ctx, "jwt-a")
	if len(stored) != 1 || stored[0].ID != kidOf(t, tok) || stored[0].Algorithm != core.AlgRS256 || len(stored[0].ID) != 43 {
		t.Fatalf("stored keys %+v for token kid %s", stored, kidOf(t, tok))
	}
	if other, _ := f.store.ListSigningKeys(ctx, "jwt-b"); len(other) != 0 {
		t.Fatal("another owner got a key")
	}
	wantVerify(t, r, tok, true)
	wantVerify(t, newRing(t, f.eng, "jwt-a"), tok, true)
	if kids := jwksKids(t, r); !slices.Equal(kids, []string{kidOf(t, tok)}) {
		t.Fatalf("JWKS kids %v", kids)
	}
	sign(t, r, "{}")
	if n := f.store.countWrites("PutSigningKey"); n != 1 {
		t.Fatalf("%d keys stored for two tokens", n)
	}

	head, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"y"}`))
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"` + kidOf(t, tok) + `","alg":"none"}`))
	for name, bad := range map[string]string{
		"payload changed":  head + "." + forged + "." + sig,
		"alg none":         none + "." + payload + ".",
		"no signature":     head + "." + payload,
		"four parts":       tok + ".x",
		"unknown kid":      sign(t, newRing(t, f.eng, "jwt-b"), `{"sub":"x"}`),
		"too long":         head + "." + strings.Repeat("A", core.MaxJWSLen) + "." + sig,
		"not base64 sig":   head + "." + payload + ".!!",
		"empty payload":    head + ".." + sig,
		"garbage":          "x",
		"signature copied": head + "." + payload + "." + sig[:len(sig)-2] + "AA",
	} {
		t.Run(name, func(t *testing.T) { wantVerify(t, r, bad, false) })
	}
}

// A rotation keeps the old key published until its tokens expire; rings
// pick the new key up at their next reload, or at once on meeting its kid.
func TestRotateSigningKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := newRing(t, f.eng, "jwt")
	replica := newRing(t, f.eng, "jwt")
	old := sign(t, r, "{}")
	wantVerify(t, replica, old, true)

	newKid, err := f.eng.RotateSigningKey(ctx, "jwt", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newKid == kidOf(t, old) {
		t.Fatal("no new key")
	}
	if kidOf(t, sign(t, r, "{}")) != kidOf(t, old) {
		t.Fatal("the ring switched keys before its reload interval")
	}
	f.clock.Advance(core.DefaultKeyReload)
	fresh := sign(t, r, "{}")
	if kidOf(t, fresh) != newKid {
		t.Fatalf("signs with %s after the reload interval, want %s", kidOf(t, fresh), newKid)
	}
	wantVerify(t, replica, fresh, true) // an unknown kid reloads at once
	if kids := jwksKids(t, r); !slices.Equal(kids, []string{newKid, kidOf(t, old)}) {
		t.Fatalf("JWKS kids %v, want [new old]", kids)
	}
	wantVerify(t, r, old, true)

	f.clock.Advance(time.Hour - core.DefaultKeyReload - time.Second)
	wantVerify(t, r, old, true)
	f.clock.Advance(time.Second)
	wantVerify(t, r, old, false)
	if kids := jwksKids(t, r); !slices.Equal(kids, []string{newKid}) {
		t.Fatalf("JWKS kids %v after the old key's tokens expired", kids)
	}

	for _, tc := range []struct {
		owner    string
		lifetime time.Duration
		param    string
	}{{"", time.Hour, "owner"}, {"jwt", 0, "lifetime"}} {
		_, err := f.eng.RotateSigningKey(ctx, tc.owner, tc.lifetime)
		wantKind(t, err, core.KindInvalidRequest, "")
		if core.AsError(err).Param != tc.param {
			t.Errorf("%+v: param %q, want %q", tc, core.AsError(err).Param, tc.param)
		}
	}
	f.store.setDown(true)
	_, err = f.eng.RotateSigningKey(ctx, "jwt", time.Hour)
	wantKind(t, err, core.KindUnavailable, "")
}

// A static key is the ring's only key; nothing is stored.
func TestStaticKeyRing(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r, err := core.NewKeyRing(nil, core.NewFakeClock(t0), core.KeyRingOptions{Owner: "x", Static: priv})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, r, "{}")
	kid, _ := core.Thumbprint(&priv.PublicKey)
	if kidOf(t, tok) != kid {
		t.Fatal("not signed with the static key")
	}
	wantVerify(t, r, tok, true)
	if kids := jwksKids(t, r); !slices.Equal(kids, []string{kid}) {
		t.Fatalf("JWKS kids %v", kids)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := core.NewKeyRing(nil, nil, core.KeyRingOptions{Static: small}); err == nil {
		t.Error("a 1024-bit key accepted")
	}
	if _, err := core.NewKeyRing(nil, nil, core.KeyRingOptions{}); err == nil {
		t.Error("a ring without store or key accepted")
	}
	if _, err := core.NewKeyRing(nil, nil, core.KeyRingOptions{Static: priv, Algorithm: "HS256"}); err == nil {
		t.Error("HS256 accepted")
	}
}

// RFC 7638 §3.1's example key and its thumbprint.
func TestThumbprintKnownAnswer(t *testing.T) {
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	got, err := core.Thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint %q, %v", got, err)
	}
}

// SignWith signs the caller's own header and payload with the active key:
// the ring verifies the result, and a rotation switches the kid it is given.
func TestKeyRingSignWith(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := newRing(t, f.eng, "declared")
	build := func(kid, alg string) ([]byte, []byte) {
		return []byte(`{"typ":"JWT","alg":"` + alg + `","kid":"` + kid + `"}`), []byte(`{"sub":"x"}`)
	}
	tok, err := r.SignWith(ctx, build)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(tok, ".")
	payload, _, _ := strings.Cut(rest, ".")
	h, _ := base64.RawURLEncoding.DecodeString(head)
	p, _ := base64.RawURLEncoding.DecodeString(payload)
	stored, _ := f.store.ListSigningKeys(ctx, "declared")
	if len(stored) != 1 || string(h) != `{"typ":"JWT","alg":"RS256","kid":"`+stored[0].ID+`"}` || string(p) != `{"sub":"x"}` {
		t.Fatalf("header %s payload %s, keys %+v", h, p, stored)
	}
	wantVerify(t, r, tok, true)
	kid, err := f.eng.RotateSigningKey(ctx, "declared", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(core.DefaultKeyReload)
	tok, err = r.SignWith(ctx, build)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(tok, ".", 2)[0]); !strings.Contains(string(h), kid) {
		t.Fatalf("after rotation the header names %s, want %s", h, kid)
	}
	wantVerify(t, r, tok, true)
}
