package core_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

var (
	opaqueFormat = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	hexDotFormat = regexp.MustCompile(`^[0-9a-f]{64}\.[0-9a-f]{32}$`)
	keyFormat    = regexp.MustCompile(`^[-0-9A-Z_a-z]{43}$`)
)

// The engine's opaque formats stay as documented, and tokens minted one
// after another have keys that sort one after another (so the store's key
// index grows at its end).
func TestMintedTokensKeyInIssueOrder(t *testing.T) {
	ctx := context.Background()
	minters := map[string]struct {
		m      core.Minter
		format *regexp.Regexp
	}{
		"opaque":  {core.OpaqueMinter{Rand: rand.Reader}, opaqueFormat},
		"hex-dot": {core.HexDotMinter{Rand: rand.Reader}, hexDotFormat},
	}
	for name, tc := range minters {
		t.Run(name, func(t *testing.T) {
			var keys []string
			seen := map[string]bool{}
			for i := range 200 {
				// Several tokens per instant: the digest part orders those.
				at := t0.Add(time.Duration(i/4) * time.Microsecond)
				v, err := tc.m.Mint(ctx, core.Claims{IssuedAt: at})
				must(t, err)
				if !tc.format.MatchString(v) {
					t.Fatalf("token %q is not in the format", v)
				}
				key := core.TokenKey(v)
				if !keyFormat.MatchString(key) || key == core.Digest(v) {
					t.Fatalf("key %q of %q is not a time-ordered key", key, v)
				}
				if key != core.TokenKey(v) {
					t.Fatal("TokenKey is not a function of the token")
				}
				if seen[key] {
					t.Fatalf("two tokens share the key %s", key)
				}
				seen[key] = true
				keys = append(keys, key)
			}
			for i := 4; i < len(keys); i += 4 {
				if keys[i] <= slices.Max(keys[i-4:i]) {
					t.Fatalf("token %d, issued later, keys before an earlier one: %s", i, keys[i])
				}
			}
		})
	}
}

// The identifier is the only part that is not random: two tokens minted at
// the same instant share it and nothing else, and without an issue time it
// is random too.
func TestMintedTokensKeepTheirRandomness(t *testing.T) {
	ctx := context.Background()
	m := core.HexDotMinter{Rand: rand.Reader}
	a, _ := m.Mint(ctx, core.Claims{IssuedAt: t0})
	b, _ := m.Mint(ctx, core.Claims{IssuedAt: t0})
	if a[:16] != b[:16] {
		t.Fatalf("same instant, different identifiers: %s %s", a[:16], b[:16])
	}
	for i := 16; i+8 <= len(a); i += 8 {
		if a[i:i+8] == b[i:i+8] {
			t.Fatalf("%s and %s share random characters at %d", a, b, i)
		}
	}
	c, _ := m.Mint(ctx, core.Claims{})
	d, _ := m.Mint(ctx, core.Claims{})
	if c[:16] == d[:16] || c[:16] == strings.Repeat("0", 16) {
		t.Fatalf("without an issue time the identifiers are not random: %s %s", c[:16], d[:16])
	}
}

// Anything not in an engine format (JWTs, declared patterns, garbage) keys
// on its plain digest.
func TestOtherTokensKeyOnTheirDigest(t *testing.T) {
	for _, v := range []string{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
		"short",
		strings.Repeat("A", 42),       // one short of the opaque length
		strings.Repeat("A", 42) + "=", // padding is not base64url
		strings.Repeat("a", 64) + "." + strings.Repeat("F", 32), // upper-case hex
		strings.Repeat("a", 64) + ":" + strings.Repeat("f", 32),
		"",
	} {
		if got := core.TokenKey(v); got != core.Digest(v) {
			t.Errorf("TokenKey(%q) = %s, want its digest", v, got)
		}
	}
}

// A database from before time-ordered keys holds tokens under their plain
// digest: the engine still finds them on every path that takes a value.
func TestTokensStoredUnderTheirDigestAreFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.cc(t, "app")
	for _, v := range []string{res.AccessToken, res.RefreshToken} {
		f.store.mu.Lock()
		tk := f.store.tokens[core.TokenKey(v)]
		delete(f.store.tokens, tk.Digest)
		tk.Digest = core.Digest(v)
		f.store.tokens[tk.Digest] = tk
		f.store.mu.Unlock()
	}
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if _, active, err := f.eng.Introspect(ctx, f.p, res.RefreshToken); err != nil || !active {
		t.Fatalf("introspect: %v %v", active, err)
	}
	next, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
		ClientSecret: "s3cret", RefreshToken: res.RefreshToken})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := f.store.GetToken(ctx, core.TokenKey(next.RefreshToken)); err != nil {
		t.Fatalf("the rotated token is not stored under its time-ordered key: %v", err)
	}
	must(t, f.eng.RevokeTokenByValue(ctx, res.AccessToken))
	if tk, _ := f.store.GetToken(ctx, core.Digest(res.AccessToken)); tk.RevokedAt.IsZero() {
		t.Fatal("revoking by value missed the token stored under its digest")
	}
}

// Keys and family ids sort as their issue times do across the whole range,
// not only between neighbours: every character of the encoding counts.
func TestKeysAndFamiliesSortByIssueTime(t *testing.T) {
	ctx := context.Background()
	m := core.OpaqueMinter{Rand: rand.Reader}
	var seed [16]byte
	must(t, func() error { _, err := rand.Read(seed[:]); return err }())
	r := mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	for range 2000 {
		a, b := time.Unix(0, r.Int64()), time.Unix(0, r.Int64())
		if a.After(b) {
			a, b = b, a
		}
		if a.Equal(b) {
			continue
		}
		va, _ := m.Mint(ctx, core.Claims{IssuedAt: a})
		vb, _ := m.Mint(ctx, core.Claims{IssuedAt: b})
		if core.TokenKey(va) >= core.TokenKey(vb) {
			t.Fatalf("key of a token issued at %v sorts after one issued at %v", a, b)
		}
		fa, _ := core.NewFamilyID(rand.Reader, a)
		fb, _ := core.NewFamilyID(rand.Reader, b)
		if fa >= fb {
			t.Fatalf("family %s (%v) sorts after %s (%v)", fa, a, fb, b)
		}
	}
}
