package spec

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/core"
)

// MinEntropyBits is the least randomness a token format may have.
const MinEntropyBits = 128

// Character classes of token patterns.
const (
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars = "0123456789"
)

var classes = map[string]string{
	"hex":       "0123456789abcdef",
	"HEX":       "0123456789ABCDEF",
	"digits":    digitChars,
	"lower":     lowerChars,
	"upper":     upperChars,
	"alpha":     upperChars + lowerChars,
	"alnum":     digitChars + upperChars + lowerChars,
	"base62":    digitChars + upperChars + lowerChars,
	"base64url": upperChars + lowerChars + digitChars + "-_",
}

// classRegexp is each class as a regexp character class.
var classRegexp = map[string]string{
	"hex": "[0-9a-f]", "HEX": "[0-9A-F]", "digits": "[0-9]", "lower": "[a-z]", "upper": "[A-Z]",
	"alpha": "[A-Za-z]", "alnum": "[0-9A-Za-z]", "base62": "[0-9A-Za-z]", "base64url": "[A-Za-z0-9_-]",
}

const uuidBits = 122

// patternClass reports whether name is a class (or "uuid"), for the
// unquoted-placeholder hint.
func patternClass(name string) bool {
	c, _, _ := strings.Cut(name, ":")
	_, ok := classes[c]
	return ok || c == "uuid"
}

// Pattern is an opaque token format such as "{hex:64}.{hex:32}" or
// "xoxb-{digits:11}-{digits:13}-{alnum:24}": literal text and random runs
// of a character class, or "{uuid}".
type Pattern struct {
	src   string
	parts []part
	bits  float64
	size  int // length of a token
}

type part struct {
	lit   string
	chars string // "" for a literal; "uuid" runs are marked by uuid
	n     int
	uuid  bool
}

// ParsePattern parses a token pattern. It refuses patterns with fewer than
// MinEntropyBits of randomness, saying how many they have.
func ParsePattern(s string) (*Pattern, error) {
	p := &Pattern{src: s}
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			open = len(rest)
		}
		if lit := rest[:open]; lit != "" {
			if strings.ContainsRune(lit, '}') {
				return nil, fmt.Errorf("%q: unexpected } (a placeholder is {class:length})", s)
			}
			p.parts = append(p.parts, part{lit: lit})
			p.size += len(lit)
		}
		rest = rest[open:]
		if rest == "" {
			break
		}
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, fmt.Errorf("%q: unclosed {", s)
		}
		inner := rest[1:end]
		rest = rest[end+1:]
		if inner == "uuid" {
			p.parts = append(p.parts, part{uuid: true})
			p.bits += uuidBits
			p.size += 36
			continue
		}
		name, count, _ := strings.Cut(inner, ":")
		chars, ok := classes[name]
		if !ok {
			return nil, fmt.Errorf("%q: unknown character class %q (use hex, HEX, digits, lower, upper, alpha, alnum, base62, base64url or uuid)", s, name)
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("%q: {%s} needs a length from 1 to 1024, e.g. {%s:32}", s, inner, name)
		}
		p.parts = append(p.parts, part{chars: chars, n: n})
		p.bits += float64(n) * math.Log2(float64(len(chars)))
		p.size += n
	}
	if p.bits < MinEntropyBits {
		return nil, fmt.Errorf("%q has %d bits of randomness; at least %d are needed (e.g. {hex:32} has 128)",
			s, int(p.bits), MinEntropyBits)
	}
	return p, nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// Bits returns the randomness of one token, rounded down.
func (p *Pattern) Bits() int { return int(p.bits) }

// Regexp returns an anchored regular expression every token matches.
func (p *Pattern) Regexp() *regexp.Regexp {
	var b strings.Builder
	b.WriteByte('^')
	for _, pt := range p.parts {
		switch {
		case pt.uuid:
			b.WriteString("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
		case pt.chars == "":
			b.WriteString(regexp.QuoteMeta(pt.lit))
		default:
			b.WriteString(classRegexp[classOf(pt.chars)] + "{" + strconv.Itoa(pt.n) + "}")
		}
	}
	b.WriteByte('$')
	return regexp.MustCompile(b.String())
}

func classOf(chars string) string {
	for name, c := range classes {
		if c == chars {
			return name
		}
	}
	return ""
}

// Mint makes one token, reading randomness from r (the engine's Rand).
func (p *Pattern) Mint(r io.Reader) (string, error) {
	out := make([]byte, 0, p.size)
	var buf []byte
	for _, pt := range p.parts {
		switch {
		case pt.uuid:
			var u [16]byte
			if _, err := io.ReadFull(r, u[:]); err != nil {
				return "", err
			}
			out = appendUUID(out, u)
		case pt.chars == "":
			out = append(out, pt.lit...)
		default:
			var err error
			if out, buf, err = appendRandom(out, buf, r, pt.chars, pt.n); err != nil {
				return "", err
			}
		}
	}
	return string(out), nil
}

// appendRandom appends n characters drawn uniformly from chars: bytes that
// would bias the draw (the top 256 % len(chars) values) are rejected.
func appendRandom(out, buf []byte, r io.Reader, chars string, n int) ([]byte, []byte, error) {
	m := len(chars)
	limit := 256 - 256%m
	for n > 0 {
		want := n + n/4 + 4
		if cap(buf) < want {
			buf = make([]byte, want)
		}
		buf = buf[:want]
		if _, err := io.ReadFull(r, buf); err != nil {
			return out, buf, err
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, chars[int(b)%m])
			if n--; n == 0 {
				break
			}
		}
	}
	return out, buf, nil
}

// appendUUID formats 16 random bytes as a version 4 UUID.
func appendUUID(dst []byte, u [16]byte) []byte {
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return append(dst, s[:]...)
}

// newUUID returns a random version 4 UUID read from r.
func newUUID(r io.Reader) (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return "", err
	}
	return string(appendUUID(nil, u)), nil
}

// Minter returns the pattern as a core.Minter reading from r.
func (p *Pattern) Minter(r io.Reader) core.Minter { return patternMinter{p: p, rand: r} }

type patternMinter struct {
	p    *Pattern
	rand io.Reader
}

func (m patternMinter) Mint(_ context.Context, _ core.Claims) (string, error) {
	return m.p.Mint(m.rand)
}
