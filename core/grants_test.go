package core_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

const issuer = "https://issuer.test"

// extFixture is the engine fixture with an issuer profile offering every
// extension grant, a device interval of 5s, and a client whose JWK Set holds
// ecKey's public half.
type extFixture struct {
	*fixture
	ecKey *ecdsa.PrivateKey
}

func newExtFixture(t testing.TB) *extFixture {
	t.Helper()
	f := &extFixture{fixture: newFixture(t), ecKey: mustECKey(t)}
	f.p.ExtraGrants = []core.GrantType{core.GrantPassword, core.GrantDeviceCode, core.GrantTokenExchange, core.GrantJWTBearer}
	f.p.Keys = map[string]*core.KeyRing{}
	for _, alg := range core.SigningAlgorithms {
		ring, err := f.eng.KeyRing(core.KeyRingOptions{Owner: "test", Algorithm: alg})
		must(t, err)
		f.p.Keys[alg] = ring
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []any{ecJWK(f.ecKey, "k1")}})
	must(t, f.store.PutClient(context.Background(), &core.Client{ID: "keyed", Grants: core.AllGrants,
		Settings: core.ClientSettings{TokenEndpointAuthMethod: core.AuthMethodPrivateKeyJWT, JWKS: string(jwks)}}))
	return f
}

func mustECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return k
}

func ecJWK(k *ecdsa.PrivateKey, kid string) map[string]string {
	b, _ := k.PublicKey.Bytes()
	enc := base64.RawURLEncoding
	return map[string]string{"kty": "EC", "crv": "P-256", "kid": kid, "x": enc.EncodeToString(b[1:33]), "y": enc.EncodeToString(b[33:])}
}

// signWith signs claims as a client would: alg's header, sign over the
// digest (hash h) of the signing input.
func signWith(t testing.TB, alg string, sign func(digest []byte) []byte, h crypto.Hash, claims any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": "k1"})
	payload, _ := json.Marshal(claims)
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	d := h.New()
	d.Write([]byte(input))
	return input + "." + enc.EncodeToString(sign(d.Sum(nil)))
}

func signES256(t testing.TB, k *ecdsa.PrivateKey, claims any) string {
	return signWith(t, "ES256", func(d []byte) []byte {
		r, s, err := ecdsa.Sign(rand.Reader, k, d)
		must(t, err)
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}, crypto.SHA256, claims)
}

func claimsAt(iss, sub, aud, jti string, now time.Time, life time.Duration) map[string]any {
	return map[string]any{"iss": iss, "sub": sub, "aud": aud, "jti": jti, "iat": now.Unix(), "exp": now.Add(life).Unix()}
}

// Each extension grant is refused to a client not allowed it, before
// anything else is looked at.
func TestExtensionGrantsRefusedWhenNotAllowed(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	for _, gt := range f.p.ExtraGrants {
		_, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: gt, ClientID: "ccOnly", ClientSecret: "s3cret"})
		if core.KindOf(err) != core.KindUnauthorizedClient {
			t.Errorf("%s for a client_credentials-only client: %v", gt, err)
		}
	}
	if _, err := f.eng.AuthorizeDevice(ctx, f.p, core.ClientAuth{ID: "ccOnly", Secret: "s3cret"}, nil); core.KindOf(err) != core.KindUnauthorizedClient {
		t.Errorf("device authorization for a client_credentials-only client: %v", err)
	}
	// An instance that does not offer a grant does not know it.
	f.p.ExtraGrants = nil
	if _, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantPassword, ClientID: "app", ClientSecret: "s3cret"}); core.KindOf(err) != core.KindUnsupportedGrantType {
		t.Errorf("password on an instance without it: %v", err)
	}
}

// The password grant's tokens expire by the engine clock.
func TestPasswordGrantExpiry(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	res, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantPassword, ClientID: "app", ClientSecret: "s3cret",
		Username: "alice", Password: "pw", Issuer: issuer})
	if err != nil || res.UserID != "u1" {
		t.Fatalf("password grant: %+v %v", res, err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); core.KindOf(err) != core.KindExpiredToken {
		t.Fatalf("after its lifetime: %v", err)
	}
}

// A device code expires by the engine clock; polling answers pending until
// the user decides.
func TestDeviceGrantExpiry(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	da, err := f.eng.AuthorizeDevice(ctx, f.p, core.ClientAuth{ID: "app", Secret: "s3cret"}, []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	poll := func() (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantDeviceCode, ClientID: "app", ClientSecret: "s3cret",
			DeviceCode: da.DeviceCode, Issuer: issuer})
	}
	if _, err := poll(); core.AsError(err).Reason != core.ReasonPending {
		t.Fatalf("first poll: %v", err)
	}
	f.clock.Advance(core.DefaultDeviceCodeTTL)
	if _, err := poll(); core.AsError(err).Reason != core.ReasonExpired {
		t.Fatalf("after the code's lifetime: %v", err)
	}
	if err := f.eng.DecideDevice(ctx, f.p, da.UserCode, &core.User{ID: "u1"}, f.clock.Now(), true); core.KindOf(err) != core.KindInvalidRequest {
		t.Fatalf("approving an expired code: %v", err)
	}

	da, _ = f.eng.AuthorizeDevice(ctx, f.p, core.ClientAuth{ID: "app", Secret: "s3cret"}, []string{"openid"})
	must(t, f.eng.DecideDevice(ctx, f.p, strings.ToLower(da.UserCode), &core.User{ID: "u1"}, f.clock.Now(), true))
	res, err := poll()
	if err != nil || res.IDToken == "" || res.UserID != "u1" {
		t.Fatalf("approved: %+v %v", res, err)
	}
	if _, err := poll(); core.KindOf(err) != core.KindInvalidGrant {
		t.Fatalf("a used device code: %v", err)
	}
}

// An exchanged token expires by the engine clock, and an expired subject
// token cannot be exchanged.
func TestTokenExchangeExpiry(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	sub, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret"})
	must(t, err)
	exchange := func() (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantTokenExchange, ClientID: "app", ClientSecret: "s3cret",
			SubjectToken: sub.AccessToken, SubjectTokenType: core.TokenTypeAccessToken, Audience: []string{"urn:x"}})
	}
	f.clock.Advance(30 * time.Minute)
	res, err := exchange()
	if err != nil || res.IssuedTokenType != core.TokenTypeAccessToken {
		t.Fatalf("exchange: %+v %v", res, err)
	}
	tok, err := f.eng.Validate(ctx, f.p, res.AccessToken)
	if err != nil || tok.Details.Audience[0] != "urn:x" || tok.Subject() != "app" {
		t.Fatalf("exchanged token %+v %v", tok, err)
	}
	f.clock.Advance(31 * time.Minute)
	if _, err := exchange(); core.KindOf(err) != core.KindInvalidRequest {
		t.Fatalf("an expired subject token: %v", err)
	}
	f.clock.Advance(30 * time.Minute)
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); core.KindOf(err) != core.KindExpiredToken {
		t.Fatalf("the exchanged token after its lifetime: %v", err)
	}
}

// A JWT bearer assertion is refused once expired by the engine clock; its
// tokens expire by it too.
func TestJWTBearerExpiry(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	grant := func(claims map[string]any) (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantJWTBearer, ClientID: "app", ClientSecret: "s3cret",
			Assertion: signES256(t, f.ecKey, claims), Issuer: issuer})
	}
	// The assertion is the keyed client's, so app cannot vouch for it.
	if _, err := grant(claimsAt("keyed", "u1", issuer, "j0", f.clock.Now(), time.Minute)); core.KindOf(err) != core.KindInvalidGrant {
		t.Fatalf("someone else's assertion: %v", err)
	}
	keyed := func(claims map[string]any) (*core.TokenResult, error) {
		ca := signES256(t, f.ecKey, claimsAt("keyed", "keyed", issuer, "c-"+claims["jti"].(string), f.clock.Now(), time.Minute))
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantJWTBearer, ClientAssertionType: core.ClientAssertionType,
			ClientAssertion: ca, Assertion: signES256(t, f.ecKey, claims), Issuer: issuer})
	}
	res, err := keyed(claimsAt("keyed", "alice", issuer, "j1", f.clock.Now(), time.Minute))
	if err != nil || res.UserID != "u1" {
		t.Fatalf("JWT bearer: %+v %v", res, err)
	}
	old := claimsAt("keyed", "u1", issuer, "j2", f.clock.Now(), time.Minute)
	f.clock.Advance(time.Minute)
	if _, err := keyed(old); core.KindOf(err) != core.KindInvalidGrant {
		t.Fatalf("an expired assertion: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); core.KindOf(err) != core.KindExpiredToken {
		t.Fatalf("the granted token after its lifetime: %v", err)
	}
}

// Client assertions are verified with every accepted algorithm, and the
// wrong kind of key or a replayed jti is refused.
func TestClientAssertionAlgorithms(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	enc := base64.RawURLEncoding
	jwks, _ := json.Marshal(map[string]any{"keys": []any{
		map[string]string{"kty": "RSA", "kid": "k1", "n": enc.EncodeToString(rsaKey.N.Bytes()), "e": "AQAB"},
		map[string]string{"kty": "oct", "k": "ignored"}}})
	must(t, f.store.PutClient(ctx, &core.Client{ID: "rsa", Grants: core.AllGrants,
		Settings: core.ClientSettings{TokenEndpointAuthMethod: core.AuthMethodPrivateKeyJWT, JWKS: string(jwks)}}))
	must(t, f.store.PutClient(ctx, &core.Client{ID: "hmac", Grants: core.AllGrants,
		Settings: core.ClientSettings{TokenEndpointAuthMethod: core.AuthMethodSecretJWT, SecretJWTKey: "0123456789abcdef0123456789abcdef"}}))
	signHS256 := func(secret string, claims any) string {
		header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
		payload, _ := json.Marshal(claims)
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(input))
		return input + "." + enc.EncodeToString(m.Sum(nil))
	}
	n := 0
	claims := func(id string) map[string]any {
		n++
		return claimsAt(id, id, issuer, "jti-"+string(rune('a'+n)), f.clock.Now(), time.Minute)
	}
	cases := []struct {
		name      string
		assertion func() string
		ok        bool
	}{
		{"RS256", func() string {
			return signWith(t, "RS256", func(d []byte) []byte {
				s, _ := rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, d)
				return s
			}, crypto.SHA256, claims("rsa"))
		}, true},
		{"PS384", func() string {
			return signWith(t, "PS384", func(d []byte) []byte {
				s, _ := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA384, d, nil)
				return s
			}, crypto.SHA384, claims("rsa"))
		}, true},
		{"ES256", func() string { return signES256(t, f.ecKey, claims("keyed")) }, true},
		{"HS256", func() string { return signHS256("0123456789abcdef0123456789abcdef", claims("hmac")) }, true},
		{"HS256 with a wrong secret", func() string { return signHS256("wrong", claims("hmac")) }, false},
		{"HS256 for a private_key_jwt client", func() string { return signHS256("", claims("rsa")) }, false},
		{"ES256 by another key", func() string { return signES256(t, mustECKey(t), claims("keyed")) }, false},
		{"alg none", func() string {
			p, _ := json.Marshal(claims("keyed"))
			return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(p) + "."
		}, false},
	}
	for _, tc := range cases {
		a := tc.assertion()
		_, _, err := f.eng.AuthenticateClientAuth(ctx, f.p, core.ClientAuth{AssertionType: core.ClientAssertionType, Assertion: a,
			Audiences: []string{issuer}})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.ok {
			_, _, err = f.eng.AuthenticateClientAuth(ctx, f.p, core.ClientAuth{AssertionType: core.ClientAssertionType, Assertion: a,
				Audiences: []string{issuer}})
			if ce := core.AsError(err); ce == nil || ce.Kind != core.KindInvalidClient || ce.Reason != core.ReasonReplay {
				t.Errorf("%s replayed: %v", tc.name, err)
			}
		}
	}
}

// ParseJWKS keeps the usable signing keys and refuses what would make a
// client's keys silently useless.
func TestParseJWKS(t *testing.T) {
	k := ecJWK(mustECKey(t), "k")
	good, _ := json.Marshal(map[string]any{"keys": []any{k, map[string]string{"kty": "RSA", "use": "enc", "n": "x", "e": "AQAB"}}})
	if keys, err := core.ParseJWKS(good); err != nil || len(keys) != 1 || keys[0].Kid != "k" {
		t.Fatalf("a set with one EC signing key: %v %v", keys, err)
	}
	priv := map[string]string{"d": "secret"}
	for name, v := range k {
		priv[name] = v
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, doc := range map[string]any{
		"not a set":   []int{1},
		"no keys":     map[string]any{"keys": []any{}},
		"private key": map[string]any{"keys": []any{priv}},
		"small RSA": map[string]any{"keys": []any{map[string]string{"kty": "RSA",
			"n": base64.RawURLEncoding.EncodeToString(small.N.Bytes()), "e": "AQAB"}}},
		"off the curve": map[string]any{"keys": []any{map[string]string{"kty": "EC", "crv": "P-256",
			"x": strings.Repeat("A", 43), "y": strings.Repeat("A", 43)}}},
	} {
		b, _ := json.Marshal(doc)
		if keys, err := core.ParseJWKS(b); err == nil {
			t.Errorf("%s accepted: %v", name, keys)
		}
	}
}

// A client registered for one secret method is refused the other where the
// dialect says how the secret came; a public client needs no secret and
// may present none.
func TestRegisteredAuthMethod(t *testing.T) {
	f := newExtFixture(t)
	ctx := context.Background()
	hash, _ := core.HashSecret("s3cret")
	must(t, f.store.PutClient(ctx, &core.Client{ID: "basic", SecretHash: hash, Grants: core.AllGrants,
		Settings: core.ClientSettings{TokenEndpointAuthMethod: core.AuthMethodSecretBasic}}))
	must(t, f.store.PutClient(ctx, &core.Client{ID: "spa", Grants: core.AllGrants,
		Settings: core.ClientSettings{TokenEndpointAuthMethod: core.AuthMethodNone}}))
	for _, tc := range []struct {
		auth core.ClientAuth
		ok   bool
	}{
		{core.ClientAuth{ID: "basic", Secret: "s3cret", Method: core.AuthMethodSecretBasic}, true},
		{core.ClientAuth{ID: "basic", Secret: "s3cret", Method: core.AuthMethodSecretPost}, false},
		{core.ClientAuth{ID: "basic", Secret: "s3cret"}, true},
		{core.ClientAuth{ID: "basic"}, false},
		{core.ClientAuth{ID: "spa"}, true},
		{core.ClientAuth{ID: "spa", Secret: "anything", Method: core.AuthMethodSecretPost}, false},
		{core.ClientAuth{ID: "app"}, false},
	} {
		_, _, err := f.eng.AuthenticateClientAuth(ctx, f.p, tc.auth)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok=%v", tc.auth, err, tc.ok)
		}
	}
}
