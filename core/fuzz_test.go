package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// FuzzValidate presents arbitrary strings as access tokens to
// engine.Validate (and engine.Introspect): never a panic, never a store
// error; anything but the one live access token issued here is
// invalid_token — refresh tokens, revoked tokens, near misses and garbage
// alike — and introspection knows only the refresh token (active) and the
// revoked one (inactive).
func FuzzValidate(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	issue := func() *core.TokenResult {
		res, err := fx.eng.Token(ctx, fx.p, core.TokenRequest{GrantType: core.GrantClientCredentials,
			ClientID: "app", ClientSecret: "s3cret"})
		if err != nil {
			f.Fatal(err)
		}
		return res
	}
	live := issue()
	revoked := issue()
	if err := fx.store.RevokeToken(ctx, core.TokenKey(revoked.AccessToken), core.Revocation{At: t0, Cause: core.RevokeAdmin}); err != nil {
		f.Fatal(err)
	}
	f.Add(live.AccessToken)
	f.Add(live.AccessToken[:len(live.AccessToken)-1])
	f.Add(live.AccessToken + "=")
	f.Add(live.RefreshToken)
	f.Add(revoked.AccessToken)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := fx.eng.Validate(ctx, fx.p, s)
		if s == live.AccessToken {
			if err != nil || tok == nil || tok.ClientID != "app" {
				t.Fatalf("the live token: %+v %v", tok, err)
			}
			return
		}
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Kind != core.KindInvalidToken {
			t.Fatalf("Validate(%q) = %+v, %v; want invalid_token", s, tok, err)
		}
		if ce.Cause != nil {
			t.Fatalf("Validate(%q): a store error: %v", s, ce.Cause)
		}
		it, active, err := fx.eng.Introspect(ctx, fx.p, s)
		switch {
		case err != nil:
			t.Fatalf("Introspect(%q): %v", s, err)
		case s == live.RefreshToken:
			if !active || it.Kind != core.TokenRefresh {
				t.Fatalf("Introspect(refresh token) = %+v, %v", it, active)
			}
		case active || (it != nil && s != revoked.AccessToken):
			t.Fatalf("Introspect(%q) = %+v, %v", s, it, active)
		}
	})
}
