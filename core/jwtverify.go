package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/big"
	"strings"
	"time"
)

// Verifying JWTs that clients sign (client assertions, RFC 7523 grant
// assertions) with the keys configured for them: a JWK Set of public keys
// or, for client_secret_jwt, the shared secret.

// PublicKey is one verification key of a client's JWK Set.
type PublicKey struct {
	Kid string
	Alg string // empty: any algorithm of the key's type
	Key crypto.PublicKey
}

// maxJWKSKeys bounds how many keys one JWK Set may hold.
const maxJWKSKeys = 100

// ParseJWKS reads a JWK Set (RFC 7517 §5) of RSA (at least 2048 bits) and
// EC (P-256, P-384, P-521) public keys. Keys of other types and keys for
// encryption ("use": "enc") are skipped; a set with no usable key, or a
// usable-looking key that does not parse, is an error.
func ParseJWKS(data []byte) ([]PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	if len(set.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("a JWK Set of %d keys: at most %d", len(set.Keys), maxJWKSKeys)
	}
	var out []PublicKey
	for i, raw := range set.Keys {
		var j struct {
			JWK
			D string `json:"d"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if j.Use == "enc" || (j.Kty != "RSA" && j.Kty != "EC") {
			continue
		}
		if j.D != "" {
			return nil, fmt.Errorf("keys[%d]: a private key; publish only public keys", i)
		}
		pub, err := jwkPublicKey(j.JWK)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		out = append(out, PublicKey{Kid: j.Kid, Alg: j.Alg, Key: pub})
	}
	if len(out) == 0 {
		return nil, errors.New("the JWK Set holds no RSA or EC signing key")
	}
	return out, nil
}

func jwkPublicKey(j JWK) (crypto.PublicKey, error) {
	b64 := func(s, name string) (*big.Int, error) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("%s is not base64url", name)
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch j.Kty {
	case "RSA":
		n, err := b64(j.N, "n")
		if err != nil {
			return nil, err
		}
		e, err := b64(j.E, "e")
		if err != nil {
			return nil, err
		}
		if n.BitLen() < RSAKeyBits {
			return nil, fmt.Errorf("RSA key of %d bits: at least %d are required", n.BitLen(), RSAKeyBits)
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > math.MaxInt32 {
			return nil, errors.New("e is out of range")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		curve, size := ecCurve(j.Crv)
		if curve == nil {
			return nil, fmt.Errorf("unsupported curve %q", j.Crv)
		}
		x, errX := base64.RawURLEncoding.DecodeString(j.X)
		y, errY := base64.RawURLEncoding.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, fmt.Errorf("x and y must be base64url of %d bytes", size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("the point is not on the curve")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("unsupported key type %q", j.Kty)
}

// ecCurve is the curve a JWK crv names and its coordinates' length.
func ecCurve(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

// jwsAlg is what verifying one JWS algorithm takes.
type jwsAlg struct {
	hash crypto.Hash
	kind string // "RSA", "PSS", "EC" or "HMAC"
	crv  string // EC: the curve the algorithm signs on
}

// assertionAlgs are the algorithms accepted on client-signed JWTs; "none"
// never is.
var assertionAlgs = map[string]jwsAlg{
	"RS256": {crypto.SHA256, "RSA", ""}, "RS384": {crypto.SHA384, "RSA", ""}, "RS512": {crypto.SHA512, "RSA", ""},
	"PS256": {crypto.SHA256, "PSS", ""}, "PS384": {crypto.SHA384, "PSS", ""}, "PS512": {crypto.SHA512, "PSS", ""},
	"ES256": {crypto.SHA256, "EC", "P-256"}, "ES384": {crypto.SHA384, "EC", "P-384"}, "ES512": {crypto.SHA512, "EC", "P-521"},
	"HS256": {crypto.SHA256, "HMAC", ""}, "HS384": {crypto.SHA384, "HMAC", ""}, "HS512": {crypto.SHA512, "HMAC", ""},
}

// parsedJWS is a compact JWS split and decoded, not yet verified.
type parsedJWS struct {
	alg, kid, typ string
	signingInput  string
	payload       []byte
	sig           []byte
}

// parseJWS splits and decodes a compact JWS of an accepted algorithm.
func parseJWS(token string) (*parsedJWS, error) {
	if len(token) > MaxJWSLen {
		return nil, errors.New("the JWT is too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("the JOSE header is not base64url")
	}
	var h struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Typ  string          `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, errors.New("the JOSE header is not JSON")
	}
	if _, ok := assertionAlgs[h.Alg]; !ok {
		return nil, fmt.Errorf("the algorithm %q is not accepted", h.Alg)
	}
	if h.Crit != nil {
		return nil, errors.New("no critical header extension is understood")
	}
	payload, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the payload is not base64url")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("the signature is not base64url")
	}
	return &parsedJWS{alg: h.Alg, kid: h.Kid, typ: h.Typ, signingInput: parts[0] + "." + parts[1],
		payload: payload, sig: sig}, nil
}

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	return sha256.New()
}

func (j *parsedJWS) digest(h crypto.Hash) []byte {
	w := newHash(h)
	w.Write([]byte(j.signingInput))
	return w.Sum(nil)
}

// verifyKeys reports whether one of keys (those with the JWS's kid, when it
// names one) verifies the signature.
func (j *parsedJWS) verifyKeys(keys []PublicKey) bool {
	a := assertionAlgs[j.alg]
	if a.kind == "HMAC" {
		return false
	}
	d := j.digest(a.hash)
	for _, k := range keys {
		if (j.kid != "" && k.Kid != "" && k.Kid != j.kid) || (k.Alg != "" && k.Alg != j.alg) {
			continue
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if a.kind == "RSA" && rsa.VerifyPKCS1v15(pub, a.hash, d, j.sig) == nil {
				return true
			}
			if a.kind == "PSS" && rsa.VerifyPSS(pub, a.hash, d, j.sig, nil) == nil {
				return true
			}
		case *ecdsa.PublicKey:
			if curve, size := ecCurve(a.crv); a.kind == "EC" && pub.Curve == curve && len(j.sig) == 2*size {
				r, s := new(big.Int).SetBytes(j.sig[:size]), new(big.Int).SetBytes(j.sig[size:])
				if ecdsa.Verify(pub, d, r, s) {
					return true
				}
			}
		}
	}
	return false
}

// verifySecret reports whether the JWS is an HMAC under secret.
func (j *parsedJWS) verifySecret(secret string) bool {
	a := assertionAlgs[j.alg]
	if a.kind != "HMAC" || secret == "" {
		return false
	}
	m := hmac.New(func() hash.Hash { return newHash(a.hash) }, []byte(secret))
	m.Write([]byte(j.signingInput))
	return hmac.Equal(m.Sum(nil), j.sig)
}

// Audience is a JWT aud claim: one string or an array of them.
type Audience []string

func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

// MarshalJSON writes one audience as a string, several as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// NumericDate is a JWT time (seconds since the epoch, maybe fractional).
type NumericDate struct{ time.Time }

func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || f < 0 || f > 1<<40 {
		return errors.New("a time claim must be a number of seconds")
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

// assertionClaims are the claims read from a client-signed JWT.
type assertionClaims struct {
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Aud Audience     `json:"aud"`
	Exp *NumericDate `json:"exp"`
	Nbf *NumericDate `json:"nbf"`
	Iat *NumericDate `json:"iat"`
	Jti string       `json:"jti"`
}

// clockSkew is how far a client's clock may be off the gateway's for nbf
// and iat.
const clockSkew = time.Minute

// maxAssertionLife bounds how far in the future an assertion may expire:
// it limits how long a used jti must be remembered.
const maxAssertionLife = 24 * time.Hour
