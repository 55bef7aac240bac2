package core

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"time"
)

// Claims is what a minter may put into a token it mints.
type Claims struct {
	ID        string // unique token id (JWT jti)
	Kind      TokenKind
	ClientID  string
	UserID    string
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time
	// Issuer is the issuing instance's issuer identifier; Audience the
	// audiences a token exchange asked for; Subject the subject when it is
	// neither the user nor the client (a token exchanged for a client's
	// token); Actor a token exchange's actor (RFC 8693 §4.1).
	Issuer   string
	Audience []string
	Subject  string
	Actor    string
}

// Minter turns claims into a token string. Opaque minters ignore the claims;
// JWT minters sign them. Whatever the format, the store keeps only TokenKey(token).
type Minter interface {
	Mint(ctx context.Context, c Claims) (string, error)
}

// OpaqueMinter mints tokens of 32 bytes in base64url (43 characters): a
// time-ordered identifier from the claims' IssuedAt (random when it is
// zero), then 24 random bytes. See TokenKey for why.
type OpaqueMinter struct {
	Rand io.Reader
}

func (m OpaqueMinter) Mint(_ context.Context, c Claims) (string, error) {
	var b [opaqueTokenBytes]byte
	if err := timeOrdered(b[:], c.IssuedAt, m.Rand); err != nil {
		return "", err
	}
	return encodeString(base64.RawURLEncoding, b[:]), nil
}

// opaqueMinter is a minter of the engine's own opaque formats: it ignores
// Claims.ID, so the engine does not draw one for it.
type opaqueMinter interface{ ignoresClaimsID() }

func (OpaqueMinter) ignoresClaimsID() {}
func (HexDotMinter) ignoresClaimsID() {}

// HexDotMinter mints Hurdlr-style tokens: 64 lowercase hex characters, a dot,
// 32 lowercase hex characters; the first 16 hex characters are the
// time-ordered identifier (see TokenKey), the other 80 random (320 bits).
type HexDotMinter struct{ Rand io.Reader }

func (m HexDotMinter) Mint(_ context.Context, c Claims) (string, error) {
	var b [48]byte
	if err := timeOrdered(b[:], c.IssuedAt, m.Rand); err != nil {
		return "", err
	}
	var out [2*48 + 1]byte
	hex.Encode(out[:64], b[:32])
	out[64] = '.'
	hex.Encode(out[65:], b[32:])
	return string(out[:]), nil
}

// randomID returns a base64url identifier of n random bytes.
func randomID(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return encodeString(base64.RawURLEncoding, b), nil
}

// NewFamilyID names a new grant chain: the issue time (so ids sort, and the
// storage index on them grows at its end instead of at random pages) then
// 96 random bits, in sortableBase64 (27 characters).
func NewFamilyID(r io.Reader, now time.Time) (string, error) {
	var b [20]byte
	if err := timeOrdered(b[:], now, r); err != nil {
		return "", err
	}
	return encodeString(sortableBase64, b[:]), nil
}

// encodeString is enc.EncodeToString in one allocation instead of two, for
// the identifiers minted on every request.
func encodeString(enc *base64.Encoding, src []byte) string {
	var buf [96]byte
	n := enc.EncodedLen(len(src))
	if n > len(buf) {
		return enc.EncodeToString(src)
	}
	enc.Encode(buf[:n], src)
	return string(buf[:n])
}
