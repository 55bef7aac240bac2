package spec

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/core"
)

func TestPatternsMintTheirFormat(t *testing.T) {
	cases := []struct {
		pattern, regexp string
		bits            int
	}{
		{"{hex:64}.{hex:32}", `^[0-9a-f]{64}\.[0-9a-f]{32}$`, 384},
		{"xoxb-{digits:11}-{digits:13}-{alnum:24}", `^xoxb-[0-9]{11}-[0-9]{13}-[0-9A-Za-z]{24}$`, 222},
		{"gho_{base62:36}", `^gho_[0-9A-Za-z]{36}$`, 214},
		{"{base64url:43}", `^[A-Za-z0-9_-]{43}$`, 258},
		{"{uuid}.{HEX:8}", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[0-9A-F]{8}$`, 154},
		{"{lower:20}{upper:10}", `^[a-z]{20}[A-Z]{10}$`, 141},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := ParsePattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if p.Regexp().String() != tc.regexp {
				t.Errorf("regexp %s, want %s", p.Regexp(), tc.regexp)
			}
			if p.Bits() != tc.bits {
				t.Errorf("bits %d, want %d", p.Bits(), tc.bits)
			}
			m := p.Minter(rand.Reader)
			seen := map[string]bool{}
			for range 200 {
				tok, err := m.Mint(context.Background(), core.Claims{})
				if err != nil {
					t.Fatal(err)
				}
				if !p.Regexp().MatchString(tok) {
					t.Fatalf("%q does not match %s", tok, p.Regexp())
				}
				if seen[tok] {
					t.Fatalf("%q minted twice", tok)
				}
				seen[tok] = true
			}
		})
	}
}

// TestPatternUsesEveryCharacter: the draw covers the whole class (no
// modulo bias cutting characters off), reading from the given source.
func TestPatternUsesEveryCharacter(t *testing.T) {
	p, err := ParsePattern("{alnum:1000}")
	if err != nil {
		t.Fatal(err)
	}
	var tok string
	for range 4 {
		s, err := p.Mint(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tok += s
	}
	for _, c := range classes["alnum"] {
		n := strings.Count(tok, string(c))
		if n < 20 || n > 120 { // expected ~64.5 each
			t.Errorf("%q appears %d times in 4000 draws", c, n)
		}
	}
}

func TestPatternDeterministicSource(t *testing.T) {
	p, err := ParsePattern("{digits:40}")
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 250..255 would bias digits and are skipped.
	src := append(bytes.Repeat([]byte{255}, 10), bytes.Repeat([]byte{13}, 100)...)
	tok, err := p.Mint(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if tok != strings.Repeat("3", 40) {
		t.Errorf("got %q", tok)
	}
	if _, err := p.Mint(bytes.NewReader(nil)); err == nil {
		t.Error("a failing random source must fail the mint")
	}
}

func TestPatternRefusals(t *testing.T) {
	cases := []struct{ pattern, want string }{
		{"{hex:31}", `"{hex:31}" has 124 bits of randomness; at least 128 are needed (e.g. {hex:32} has 128)`},
		{"static-token", `"static-token" has 0 bits of randomness; at least 128 are needed (e.g. {hex:32} has 128)`},
		{"{digits:38}", `"{digits:38}" has 126 bits of randomness; at least 128 are needed (e.g. {hex:32} has 128)`},
		{"{hex:0}", `"{hex:0}": {hex:0} needs a length from 1 to 1024, e.g. {hex:32}`},
		{"{hex}", `"{hex}": {hex} needs a length from 1 to 1024, e.g. {hex:32}`},
		{"{hex:32", `"{hex:32": unclosed {`},
		{"a}{hex:32}", `"a}{hex:32}": unexpected } (a placeholder is {class:length})`},
		{"{words:32}", `"{words:32}": unknown character class "words" (use hex, HEX, digits, lower, upper, alpha, alnum, base62, base64url or uuid)`},
	}
	for _, tc := range cases {
		_, err := ParsePattern(tc.pattern)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.pattern, err, tc.want)
		}
	}
	if _, err := ParsePattern("{digits:39}"); err != nil {
		t.Errorf("39 digits have 129 bits: %v", err)
	}
}
