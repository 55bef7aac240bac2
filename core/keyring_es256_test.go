package core_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// An ES256 ring signs JWS that verify with its published JWK (r and s of
// 32 bytes each, RFC 7518 §3.4), kid the RFC 7638 thumbprint of the EC key.
func TestES256Ring(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ring, err := f.eng.KeyRing(core.KeyRingOptions{Owner: "issuer", Algorithm: core.AlgES256})
	must(t, err)
	tok, err := ring.SignTyped(ctx, core.TypeIDToken, []byte(`{"sub":"x"}`))
	must(t, err)
	if ok, err := ring.Verify(ctx, tok); !ok || err != nil {
		t.Fatalf("the ring's own token does not verify: %v", err)
	}
	keys, err := ring.JWKS(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("JWKS %v %v", keys, err)
	}
	k := keys[0]
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.N != "" {
		t.Fatalf("JWK %+v", k)
	}
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`))
	if k.Kid != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("kid %s is not the RFC 7638 thumbprint", k.Kid)
	}
	// Verify with the published JWK alone, as a relying party does.
	enc := base64.RawURLEncoding
	x, _ := enc.DecodeString(k.X)
	y, _ := enc.DecodeString(k.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	must(t, err)
	parts := strings.Split(tok, ".")
	sig, _ := enc.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the signature does not verify with the published key")
	}
	header, _ := enc.DecodeString(parts[0])
	if string(header) != `{"kid":"`+k.Kid+`","alg":"ES256","typ":"JWT"}` {
		t.Fatalf("header %s", header)
	}
}

// An owner with keys of two algorithms gets a new key of each on rotation;
// the old ones stay published for the lifetime given.
func TestRotateSigningKeysPerAlgorithm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rings := map[string]*core.KeyRing{}
	for _, alg := range core.SigningAlgorithms {
		r, err := f.eng.KeyRing(core.KeyRingOptions{Owner: "issuer", Algorithm: alg})
		must(t, err)
		if _, err := r.JWKS(ctx); err != nil {
			t.Fatal(err)
		}
		rings[alg] = r
	}
	kids, err := f.eng.RotateSigningKeys(ctx, "issuer", time.Hour)
	if err != nil || len(kids) != 2 {
		t.Fatalf("rotate: %v %v", kids, err)
	}
	f.clock.Advance(core.DefaultKeyReload)
	for i, alg := range core.SigningAlgorithms {
		keys, err := rings[alg].JWKS(ctx)
		if err != nil || len(keys) != 2 || keys[0].Kid != kids[i] || keys[0].Alg != alg {
			t.Fatalf("%s after rotation: %+v %v", alg, keys, err)
		}
	}
	f.clock.Advance(time.Hour)
	for _, alg := range core.SigningAlgorithms {
		if keys, _ := rings[alg].JWKS(ctx); len(keys) != 1 {
			t.Fatalf("%s: retired keys outlive their lifetime: %+v", alg, keys)
		}
	}
}
