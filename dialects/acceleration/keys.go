package acceleration

import (
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Algorithm is the only JWS algorithm the dialect signs and accepts.
const Algorithm = core.AlgRS256

// KeyBits is the size of the RSA keys the dialect generates.
const KeyBits = core.RSAKeyBits

// The dialect's keys are a core.KeyRing owned by the dialect instance:
// generated on first use and kept in the store, or one static key from
// private_key_file.

// newKeyRing builds the instance's key ring: the static key read from
// private_key_file at Configure, or keys kept in the store under the
// instance's name. Nothing is read from the store here (Mount also runs on
// config check's dry run); Start loads them.
func (d *Dialect) newKeyRing(o core.KeyRingOptions) (*core.KeyRing, error) {
	o.Owner, o.Algorithm = d.inst.Name, Algorithm
	if d.static != nil {
		o.Static = d.static
	}
	ring, err := d.engine.KeyRing(o)
	if err != nil && d.static != nil {
		return nil, fmt.Errorf("private_key_file %s: %w", d.opts.PrivateKeyFile, err)
	}
	return ring, err
}

// ParsePrivateKeyPEM reads an RSA private key in PKCS#8 ("PRIVATE KEY") or
// PKCS#1 ("RSA PRIVATE KEY") PEM.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	k, err := core.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not an RSA key", k)
	}
	return rk, nil
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of pub, base64url: the
// kid (43 characters, like the vendor's).
func Thumbprint(pub *rsa.PublicKey) string {
	kid, _ := core.Thumbprint(pub) // cannot fail for an RSA key
	return kid
}

// DefaultAccessTokenTTL is the lifetime of the dialect's tokens when the
// config sets none; `tokengate keys rotate` asks for it to keep a rotated
// key published long enough.
func (d *Dialect) DefaultAccessTokenTTL() time.Duration { return DefaultAccessTTL }

// RotateKey adds a new signing key for the dialect and retires the old
// ones (see core.Engine.RotateSigningKey); lifetime <= 0 means the
// dialect's default token lifetime.
func RotateKey(ctx context.Context, eng *core.Engine, lifetime time.Duration) (newKID string, err error) {
	if lifetime <= 0 {
		lifetime = DefaultAccessTTL
	}
	return eng.RotateSigningKey(ctx, Name, lifetime)
}

// readPrivateKeyFile reads private_key_file at Configure, so a missing or
// broken key fails `config check`, not the start.
func readPrivateKeyFile(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	priv, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}
