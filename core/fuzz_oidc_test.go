package core_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// FuzzClientAssertion presents arbitrary strings as client assertions:
// never a panic or a store error; only the one genuinely signed assertion
// authenticates, once.
func FuzzClientAssertion(f *testing.F) {
	fx := newExtFixture(f)
	ctx := context.Background()
	good := signES256(f, fx.ecKey, claimsAt("keyed", "keyed", issuer, "fuzz-jti", fx.clock.Now(), time.Minute))
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	used := false
	f.Fuzz(func(t *testing.T, s string) {
		c, _, err := fx.eng.AuthenticateClientAuth(ctx, fx.p, core.ClientAuth{AssertionType: core.ClientAssertionType,
			Assertion: s, Audiences: []string{issuer}})
		switch k := core.KindOf(err); {
		case err == nil && (s != good || used || c.ID != "keyed"):
			t.Fatalf("%q authenticated %v", s, c)
		case err == nil:
			used = true
		case k != core.KindInvalidClient && k != core.KindInvalidRequest:
			t.Fatalf("%q: %v", s, err)
		}
	})
}

// FuzzParseJWKS: never a panic; every key of an accepted set verifies
// nothing by itself and is of a type the engine can use.
func FuzzParseJWKS(f *testing.F) {
	k, _ := json.Marshal(map[string]any{"keys": []any{ecJWK(mustECKey(f), "k")}})
	f.Add(k)
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-521","x":"","y":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := core.ParseJWKS(data)
		if err == nil && len(keys) == 0 {
			t.Fatal("an accepted set without keys")
		}
	})
}

// FuzzClaimsRequest: never a panic; an accepted request names claims only.
func FuzzClaimsRequest(f *testing.F) {
	f.Add(`{"userinfo":{"email":{"essential":true}},"id_token":{"name":null}}`)
	f.Add(`{"id_token":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := core.ParseClaimsRequest(s)
		if err == nil && s == "" && (cr.IDToken != nil || cr.UserInfo != nil) {
			t.Fatal("claims from nothing")
		}
	})
}
