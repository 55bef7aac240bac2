package acceleration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Algorithm is the only JWS algorithm the dialect signs and accepts.
const Algorithm = "RS256"

// KeyBits is the size of the RSA keys the dialect generates.
const KeyBits = 2048

// minKidMissReload bounds how often an unknown kid may trigger a reload of
// the keys from the store (wall clock: it guards the database, it decides no
// expiry).
const minKidMissReload = time.Second

// key is one parsed signing key. priv is nil for a key only published.
type key struct {
	kid         string
	priv        *rsa.PrivateKey
	pub         *rsa.PublicKey
	createdAt   time.Time
	retired     bool
	verifyUntil time.Time // zero with !retired: published indefinitely
	header      string    // base64url JOSE header, with the trailing dot
	pem         []byte    // as stored, to recognise the key on reload
	jwk         jwk
}

// publishedAt reports whether tokens signed by k still verify at now.
func (k *key) publishedAt(now time.Time) bool {
	return !k.retired || now.Before(k.verifyUntil)
}

// keySet is an immutable snapshot of the dialect's keys.
type keySet struct {
	active   *key   // signs new tokens
	keys     []*key // every key, active first, then newest first
	loadedAt time.Time
}

func (s *keySet) find(kid string, now time.Time) *key {
	for _, k := range s.keys {
		if k.kid == kid && k.publishedAt(now) {
			return k
		}
	}
	return nil
}

// keyring keeps the dialect's keys parsed in memory and refreshes them from
// the store at most once per interval (engine clock) or on an unknown kid.
type keyring struct {
	eng      *core.Engine
	log      *slog.Logger
	dialect  string
	interval time.Duration
	static   bool // loaded from private_key_file: never reloaded

	set      atomic.Pointer[keySet]
	mu       sync.Mutex // serialises loads and generation
	lastMiss atomic.Int64
}

// readPrivateKeyFile reads and parses the PEM key of private_key_file.
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

// newStaticKeyring serves one key (read from private_key_file).
func newStaticKeyring(eng *core.Engine, priv *rsa.PrivateKey) (*keyring, error) {
	k, err := newKey(priv, time.Time{})
	if err != nil {
		return nil, err
	}
	r := &keyring{eng: eng, log: slog.New(slog.DiscardHandler), static: true}
	r.set.Store(&keySet{active: k, keys: []*key{k}})
	return r, nil
}

// newStoreKeyring serves the keys persisted for the dialect instance,
// generating the first one when it is first needed.
func newStoreKeyring(eng *core.Engine, log *slog.Logger, interval time.Duration, instance string) *keyring {
	return &keyring{eng: eng, log: log, dialect: instance, interval: interval}
}

// signing returns the current snapshot with an active key, loading or
// generating keys as needed.
func (r *keyring) signing(ctx context.Context) (*keySet, error) {
	s := r.set.Load()
	if r.static {
		return s, nil
	}
	if s == nil || s.active == nil {
		return r.reload(ctx, true)
	}
	if r.due(s) && r.mu.TryLock() {
		// One caller refreshes; the others keep signing with the snapshot.
		defer r.mu.Unlock()
		ns, err := r.loadLocked(ctx, true)
		if err == nil {
			return ns, nil
		}
		// A failed refresh keeps the old keys and retries at the next interval.
		r.log.Warn("reloading the signing keys failed; keeping the loaded ones", "error", err.Error())
		cp := *s
		cp.loadedAt = r.eng.Now()
		r.set.Store(&cp)
	}
	return s, nil
}

// verifying returns the key with kid, reloading once on a miss.
func (r *keyring) verifying(ctx context.Context, kid string) (*key, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return nil, err
	}
	now := r.eng.Now()
	if k := s.find(kid, now); k != nil || r.static {
		return k, nil
	}
	last := r.lastMiss.Load()
	wall := time.Now().UnixNano()
	if wall-last < int64(minKidMissReload) || !r.lastMiss.CompareAndSwap(last, wall) {
		return nil, nil
	}
	s, err = r.reload(ctx, false)
	if err != nil {
		return nil, err
	}
	return s.find(kid, now), nil
}

func (r *keyring) due(s *keySet) bool {
	now := r.eng.Now()
	return now.Before(s.loadedAt) || now.Sub(s.loadedAt) >= r.interval
}

// reload reads the keys from the store (waiting for a concurrent load).
func (r *keyring) reload(ctx context.Context, generate bool) (*keySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.set.Load(); s != nil && s.active != nil && !r.due(s) && generate {
		return s, nil // another caller just loaded
	}
	return r.loadLocked(ctx, generate)
}

func (r *keyring) loadLocked(ctx context.Context, generate bool) (*keySet, error) {
	now := r.eng.Now()
	stored, err := r.eng.Store().ListSigningKeys(ctx, r.dialect)
	if err != nil {
		return nil, err
	}
	prev := r.set.Load()
	s, err := parseKeySet(stored, prev)
	if err != nil {
		return nil, err
	}
	if s.active == nil && generate {
		sk, err := generateKey(r.dialect, now)
		if err != nil {
			return nil, err
		}
		if err := r.eng.Store().PutSigningKey(ctx, sk); err != nil {
			return nil, err
		}
		if s, err = parseKeySet(append(stored, sk), prev); err != nil {
			return nil, err
		}
	}
	s.loadedAt = now
	r.set.Store(s)
	return s, nil
}

// parseKeySet parses stored keys; the active key is the newest unretired
// one. Keys already parsed in prev (same kid, same PEM) are reused, so a
// periodic reload costs one query, not one RSA key parse per key.
func parseKeySet(stored []*core.SigningKey, prev *keySet) (*keySet, error) {
	s := &keySet{}
	for _, sk := range stored {
		if sk.Algorithm != "" && sk.Algorithm != Algorithm {
			continue
		}
		var k *key
		if prev != nil {
			for _, pk := range prev.keys {
				if pk.kid == sk.ID && bytes.Equal(pk.pem, sk.PEM) {
					cp := *pk
					k = &cp
					break
				}
			}
		}
		if k == nil {
			priv, err := ParsePrivateKeyPEM(sk.PEM)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
			}
			if k, err = newKey(priv, sk.CreatedAt); err != nil {
				return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
			}
			k.kid, k.jwk.Kid, k.header, k.pem = sk.ID, sk.ID, encodeHeader(sk.ID), sk.PEM
		}
		k.createdAt = sk.CreatedAt
		k.retired, k.verifyUntil = !sk.RetiredAt.IsZero(), sk.VerifyUntil
		s.keys = append(s.keys, k)
	}
	sort.SliceStable(s.keys, func(i, j int) bool { return s.keys[i].createdAt.After(s.keys[j].createdAt) })
	for i, k := range s.keys {
		if !k.retired {
			s.active = k
			copy(s.keys[1:i+1], s.keys[:i])
			s.keys[0] = k
			break
		}
	}
	return s, nil
}

func newKey(priv *rsa.PrivateKey, created time.Time) (*key, error) {
	if priv.N.BitLen() < KeyBits {
		return nil, fmt.Errorf("RSA key of %d bits: at least %d are required", priv.N.BitLen(), KeyBits)
	}
	priv.Precompute()
	kid := Thumbprint(&priv.PublicKey)
	return &key{kid: kid, priv: priv, pub: &priv.PublicKey, createdAt: created, header: encodeHeader(kid),
		jwk: publicJWK(kid, &priv.PublicKey)}, nil
}

// encodeHeader is the JOSE header the vendor's tokens carry: kid, then alg.
func encodeHeader(kid string) string {
	h, _ := json.Marshal(struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}{kid, Algorithm})
	return base64.RawURLEncoding.EncodeToString(h) + "."
}

// generateKey makes a new RSA key for dialect, ready to store.
func generateKey(dialect string, now time.Time) (*core.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return &core.SigningKey{ID: Thumbprint(&priv.PublicKey), Dialect: dialect, Algorithm: Algorithm,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), CreatedAt: now}, nil
}

// ParsePrivateKeyPEM reads an RSA private key in PKCS#8 ("PRIVATE KEY") or
// PKCS#1 ("RSA PRIVATE KEY") PEM.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PRIVATE KEY or RSA PRIVATE KEY PEM block found")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("the key is a %T, not an RSA key", k)
			}
			return rk, nil
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		}
	}
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of pub, base64url: the
// kid (43 characters, like the vendor's).
func Thumbprint(pub *rsa.PublicKey) string {
	j := publicJWK("", pub)
	// Members in lexicographic order, no whitespace (RFC 7638 §3.2).
	sum := sha256.Sum256([]byte(`{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is one entry of the published key set (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func publicJWK(kid string, pub *rsa.PublicKey) jwk {
	return jwk{Kty: "RSA", Alg: Algorithm, Kid: kid, Use: "sig",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
}

// RotateKey adds a new signing key for the dialect and retires every key
// signing until now: each stays published (so its tokens verify) until
// now + lifetime, which should be the longest access-token lifetime in use
// (plus the dialect's key_reload_interval, during which running gateways may
// still sign with the old key). lifetime <= 0 means the dialect's default
// token lifetime. Times come from the engine clock. Running gateways pick the
// new key up within key_reload_interval, or at once on an unknown kid.
func RotateKey(ctx context.Context, eng *core.Engine, lifetime time.Duration) (newKID string, err error) {
	if lifetime <= 0 {
		lifetime = DefaultAccessTTL
	}
	old, err := eng.Store().ListSigningKeys(ctx, Name)
	if err != nil {
		return "", err
	}
	now := eng.Now()
	sk, err := generateKey(Name, now)
	if err != nil {
		return "", err
	}
	// Store the new key first so there is never a moment without an active one.
	if err := eng.Store().PutSigningKey(ctx, sk); err != nil {
		return "", err
	}
	for _, k := range old {
		if !k.RetiredAt.IsZero() || k.ID == sk.ID {
			continue
		}
		k.RetiredAt, k.VerifyUntil = now, now.Add(lifetime)
		if err := eng.Store().PutSigningKey(ctx, k); err != nil {
			return sk.ID, err
		}
	}
	return sk.ID, nil
}
