package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"time"
)

// A token's store key (Token.Digest) is TokenKey(value), a pure function of
// the token string, used when the token is stored and whenever it is
// presented.
//
// The engine's own opaque formats (OpaqueMinter's 32 bytes of base64url and
// HexDotMinter's Hurdlr format) begin with a time-ordered identifier: the
// issue time in unix nanoseconds, 8 bytes big-endian, in the place of the
// first 8 random bytes. Their key is that identifier followed by the first
// 24 bytes (192 bits) of the token's SHA-256, written in sortableBase64 (43
// characters), so keys of tokens issued one after another sort one after
// another and the store's key index grows at its end instead of taking a
// random page per token. (Plain digests are 64 hex characters: the two
// kinds of key never meet.)
//
// The identifier is not secret (it is the issue time); the secret rest of
// the token has 192 (opaque) or 320 (Hurdlr) random bits and is only ever
// stored as part of a digest, so looking a key up in an index reveals
// nothing that helps forge one.
//
// Every other token (JWTs, declared patterns, user codes) keys on its plain
// Digest. A string that merely looks like an engine format gets a key the
// same way whether it is being stored or presented, so the two always meet.
// Tokens stored before keys were time-ordered are keyed by Digest: getToken
// tries that when the time-ordered key finds nothing.

const (
	opaqueTokenBytes = 32 // OpaqueMinter: 43 base64url characters
	tokenIDBytes     = 8  // the time-ordered identifier at the front
	keyDigestBytes   = 24 // bytes of SHA-256 after the identifier
)

// sortableBase64 is base64 with its alphabet in ASCII order, so encodings
// of byte strings of one length sort as the byte strings do: a third
// shorter than hex for the keys and family ids the store indexes.
var sortableBase64 = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").
	WithPadding(base64.NoPadding)

// TokenKey is the store key of a token value (see above).
func TokenKey(token string) string {
	var id [tokenIDBytes]byte
	if !tokenID(token, &id) {
		return Digest(token)
	}
	sum := sha256.Sum256([]byte(token))
	var raw [tokenIDBytes + keyDigestBytes]byte
	copy(raw[:], id[:])
	copy(raw[tokenIDBytes:], sum[:keyDigestBytes])
	return encodeString(sortableBase64, raw[:])
}

// tokenID reads the identifier at the front of a token in one of the
// engine's opaque formats.
func tokenID(token string, id *[tokenIDBytes]byte) bool {
	switch {
	case len(token) == base64.RawURLEncoding.EncodedLen(opaqueTokenBytes):
		// 12 characters carry 9 bytes; the first 8 are the identifier.
		var front [9]byte
		n, err := base64.RawURLEncoding.Decode(front[:], []byte(token[:12]))
		if err != nil || n != len(front) || !base64URL(token[12:]) {
			return false
		}
		copy(id[:], front[:])
		return true
	case isHexDot(token):
		_, err := hex.Decode(id[:], []byte(token[:2*tokenIDBytes]))
		return err == nil
	}
	return false
}

func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isHexDot reports whether s is <64 lowercase hex>.<32 lowercase hex>.
func isHexDot(s string) bool {
	if len(s) != 97 || s[64] != '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; i != 64 && !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// timeOrdered fills b (longer than tokenIDBytes) with the identifier of
// something made at, its unix nanoseconds big-endian (random bytes when at
// is zero), then random bytes: the opaque tokens' and family ids' layout.
func timeOrdered(b []byte, at time.Time, r io.Reader) error {
	rest := b[tokenIDBytes:]
	if at.IsZero() {
		rest = b
	} else {
		binary.BigEndian.PutUint64(b, uint64(at.UnixNano()))
	}
	_, err := io.ReadFull(r, rest)
	return err
}

// getToken finds the stored token whose value is value.
func (e *Engine) getToken(ctx context.Context, value string) (*Token, error) {
	key := TokenKey(value)
	t, err := e.store.GetToken(ctx, key)
	if errors.Is(err, ErrNotFound) {
		if legacy := Digest(value); legacy != key {
			return e.store.GetToken(ctx, legacy)
		}
	}
	return t, err
}
