package core_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/tokengate/tokengate/core"
)

func BenchmarkCachedCredentialCheck(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	if _, err := f.eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.eng.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpaqueMinter(b *testing.B) {
	m := core.OpaqueMinter{Rand: rand.Reader}
	for b.Loop() {
		if _, err := m.Mint(context.Background(), core.Claims{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHexDotMinter(b *testing.B) {
	m := core.HexDotMinter{Rand: rand.Reader}
	for b.Loop() {
		if _, err := m.Mint(context.Background(), core.Claims{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientCredentialsGrant(b *testing.B) {
	f := newFixture(b)
	req := core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret"}
	for b.Loop() {
		if _, err := f.eng.Token(context.Background(), f.p, req); err != nil {
			b.Fatal(err)
		}
	}
}
