package core

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultKeyReload is how often a KeyRing re-reads its keys by default.
const DefaultKeyReload = 10 * time.Second

// MaxJWSLen bounds a token KeyRing.Verify looks at.
const MaxJWSLen = 8 << 10

// minKidMissReload bounds how often an unknown kid may trigger a reload (on
// the wall clock: it guards the database, it decides no expiry).
const minKidMissReload = time.Second

// KeyRingOptions configure a KeyRing.
type KeyRingOptions struct {
	// Owner names whose keys these are: the dialect instance.
	Owner string
	// Algorithm of the keys the ring generates and accepts (default RS256).
	Algorithm string
	// Reload is how often, by the engine clock, the ring re-reads its keys
	// to pick up a rotation (default DefaultKeyReload).
	Reload time.Duration
	// Logger hears of failed reloads; nil discards.
	Logger *slog.Logger
	// Static, when set, is the ring's only key (read from a file, say): it
	// is never stored, reloaded or rotated.
	Static crypto.Signer
}

// KeyRing keeps one owner's signing keys parsed in memory: it loads them
// from a KeyStore, generates the first when first needed, re-reads them
// periodically and on an unknown kid, signs with the newest unretired key
// and publishes every key whose tokens may still be live. It is safe for
// concurrent use; dialects get one from Engine.KeyRing.
type KeyRing struct {
	keys     KeyStore // nil for a static ring
	clock    Clock
	wall     Clock
	log      *slog.Logger
	owner    string
	alg      string
	interval time.Duration

	set      atomic.Pointer[keySet]
	mu       sync.Mutex // serialises loads and generation
	lastMiss atomic.Int64
}

// ringKey is one parsed key.
type ringKey struct {
	kid         string
	signer      crypto.Signer
	createdAt   time.Time
	retired     bool
	verifyUntil time.Time // zero with !retired: published indefinitely
	header      string    // base64url JOSE header, with the trailing dot
	pem         []byte    // as stored, to recognise the key on reload
	jwk         JWK
}

// publishedAt reports whether tokens signed by k still verify at now.
func (k *ringKey) publishedAt(now time.Time) bool { return !k.retired || now.Before(k.verifyUntil) }

// keySet is an immutable snapshot of a ring's keys.
type keySet struct {
	active   *ringKey   // signs new tokens
	keys     []*ringKey // every key, active first, then newest first
	loadedAt time.Time
}

func (s *keySet) find(kid string, now time.Time) *ringKey {
	for _, k := range s.keys {
		if k.kid == kid && k.publishedAt(now) {
			return k
		}
	}
	return nil
}

// KeyRing returns a key ring over the engine's store and clock.
func (e *Engine) KeyRing(o KeyRingOptions) (*KeyRing, error) {
	var keys KeyStore = noKeyStore{}
	if e.store != nil {
		keys = e.store
	}
	return NewKeyRing(keys, e.clock, o)
}

// noKeyStore serves an engine built without a store (config check's dry
// run mounts every dialect on one): a ring over it builds, and fails only
// if it is ever asked for a key.
type noKeyStore struct{}

func (noKeyStore) ListSigningKeys(context.Context, string) ([]*SigningKey, error) {
	return nil, ErrUnavailable
}

func (noKeyStore) PutSigningKey(context.Context, *SigningKey) error { return ErrUnavailable }

// NewKeyRing returns a key ring over keys (which may be nil for a static
// ring) and clock.
func NewKeyRing(keys KeyStore, clock Clock, o KeyRingOptions) (*KeyRing, error) {
	if o.Algorithm == "" {
		o.Algorithm = AlgRS256
	}
	if o.Reload <= 0 {
		o.Reload = DefaultKeyReload
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if o.Algorithm != AlgRS256 {
		return nil, fmt.Errorf("signing algorithm %q is not supported", o.Algorithm)
	}
	r := &KeyRing{keys: keys, clock: clock, wall: SystemClock{}, log: o.Logger, owner: o.Owner, alg: o.Algorithm,
		interval: o.Reload}
	if o.Static != nil {
		k, err := newRingKey(o.Static, o.Algorithm)
		if err != nil {
			return nil, err
		}
		r.keys = nil
		r.set.Store(&keySet{active: k, keys: []*ringKey{k}})
	} else if keys == nil {
		return nil, errors.New("a key ring needs a key store or a static key")
	}
	return r, nil
}

// static reports whether the ring serves a fixed key.
func (r *KeyRing) static() bool { return r.keys == nil }

// Load reads the stored keys now, without generating one, so that a broken
// store or key fails a start rather than the first request.
func (r *KeyRing) Load(ctx context.Context) error {
	if r.static() {
		return nil
	}
	_, err := r.reload(ctx, false)
	return err
}

// Sign returns the compact JWS of payload signed with the active key; its
// header is {"kid":…,"alg":…}, in that order.
func (r *KeyRing) Sign(ctx context.Context, payload []byte) (string, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return "", err
	}
	k := s.active
	enc := base64.RawURLEncoding
	sigLen := enc.EncodedLen(signatureSize(k.signer))
	var b strings.Builder
	b.Grow(len(k.header) + enc.EncodedLen(len(payload)) + 1 + sigLen)
	b.WriteString(k.header)
	buf := make([]byte, enc.EncodedLen(len(payload)))
	enc.Encode(buf, payload)
	b.Write(buf)
	digest := sha256.Sum256([]byte(b.String()))
	sig, err := sign(k.signer, digest[:])
	if err != nil {
		return "", err
	}
	b.WriteByte('.')
	buf = make([]byte, enc.EncodedLen(len(sig)))
	enc.Encode(buf, sig)
	b.Write(buf)
	return b.String(), nil
}

// SignWith signs a compact JWS whose JOSE header and payload build writes,
// given the active key's kid and algorithm: for token formats that order
// or add header members themselves (declared dialects). The header must
// name that algorithm.
func (r *KeyRing) SignWith(ctx context.Context, build func(kid, alg string) (header, payload []byte)) (string, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return "", err
	}
	k := s.active
	header, payload := build(k.kid, r.alg)
	enc := base64.RawURLEncoding
	out := make([]byte, 0, enc.EncodedLen(len(header))+enc.EncodedLen(len(payload))+enc.EncodedLen(signatureSize(k.signer))+2)
	out = enc.AppendEncode(out, header)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	digest := sha256.Sum256(out)
	sig, err := sign(k.signer, digest[:])
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	return string(enc.AppendEncode(out, sig)), nil
}

// joseHeader is the part of a JOSE header verification reads.
type joseHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// Verify reports whether token is a compact JWS of the ring's algorithm
// whose signature one of the published keys verifies. Only a failure to
// load the keys is an error; a bad token is false.
func (r *KeyRing) Verify(ctx context.Context, token string) (bool, error) {
	if len(token) > MaxJWSLen {
		return false, nil
	}
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return false, nil
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") || p == "" {
		return false, nil
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(h)
	if err != nil {
		return false, nil
	}
	var hdr joseHeader
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != r.alg || hdr.Kid == "" || hdr.Crit != nil {
		return false, nil
	}
	sb, err := enc.DecodeString(sig)
	if err != nil {
		return false, nil
	}
	k, err := r.verifying(ctx, hdr.Kid)
	if err != nil || k == nil {
		return false, err
	}
	digest := sha256.Sum256([]byte(token[:len(h)+1+len(p)]))
	return verifySignature(k.signer.Public(), digest[:], sb), nil
}

// JWKS returns the published keys at the engine's now: the active key
// first, then the retired ones whose tokens may still be live, newest first.
func (r *KeyRing) JWKS(ctx context.Context) ([]JWK, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return nil, err
	}
	now := r.clock.Now()
	out := make([]JWK, 0, len(s.keys))
	for _, k := range s.keys {
		if k.publishedAt(now) {
			out = append(out, k.jwk)
		}
	}
	return out, nil
}

// signing returns the current snapshot with an active key, loading or
// generating keys as needed.
func (r *KeyRing) signing(ctx context.Context) (*keySet, error) {
	s := r.set.Load()
	if r.static() {
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
		r.log.Warn("reloading the signing keys failed; keeping the loaded ones", "owner", r.owner, "error", err.Error())
		cp := *s
		cp.loadedAt = r.clock.Now()
		r.set.Store(&cp)
	}
	return s, nil
}

// verifying returns the published key with kid, reloading once on a miss.
func (r *KeyRing) verifying(ctx context.Context, kid string) (*ringKey, error) {
	s, err := r.signing(ctx)
	if err != nil {
		return nil, err
	}
	now := r.clock.Now()
	if k := s.find(kid, now); k != nil || r.static() {
		return k, nil
	}
	last := r.lastMiss.Load()
	wall := r.wall.Now().UnixNano()
	if wall-last < int64(minKidMissReload) || !r.lastMiss.CompareAndSwap(last, wall) {
		return nil, nil
	}
	s, err = r.reload(ctx, false)
	if err != nil {
		return nil, err
	}
	return s.find(kid, now), nil
}

func (r *KeyRing) due(s *keySet) bool {
	now := r.clock.Now()
	return now.Before(s.loadedAt) || now.Sub(s.loadedAt) >= r.interval
}

// reload reads the keys from the store (waiting for a concurrent load).
func (r *KeyRing) reload(ctx context.Context, generate bool) (*keySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.set.Load(); s != nil && s.active != nil && !r.due(s) && generate {
		return s, nil // another caller just loaded
	}
	return r.loadLocked(ctx, generate)
}

func (r *KeyRing) loadLocked(ctx context.Context, generate bool) (*keySet, error) {
	now := r.clock.Now()
	stored, err := r.keys.ListSigningKeys(ctx, r.owner)
	if err != nil {
		return nil, err
	}
	prev := r.set.Load()
	s, err := r.parseKeySet(stored, prev)
	if err != nil {
		return nil, err
	}
	if s.active == nil && generate {
		sk, err := newSigningKey(r.owner, r.alg, now)
		if err != nil {
			return nil, err
		}
		if err := r.keys.PutSigningKey(ctx, sk); err != nil {
			return nil, err
		}
		if s, err = r.parseKeySet(append(stored, sk), prev); err != nil {
			return nil, err
		}
	}
	s.loadedAt = now
	r.set.Store(s)
	return s, nil
}

// parseKeySet parses stored keys of the ring's algorithm; the active key is
// the newest unretired one. Keys already parsed in prev (same kid, same
// PEM) are reused, so a periodic reload costs one query, not one key parse
// per key.
func (r *KeyRing) parseKeySet(stored []*SigningKey, prev *keySet) (*keySet, error) {
	s := &keySet{}
	for _, sk := range stored {
		if keyAlgorithm(sk) != r.alg {
			continue
		}
		var k *ringKey
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
			signer, err := ParsePrivateKeyPEM(sk.PEM)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
			}
			if k, err = newRingKey(signer, r.alg); err != nil {
				return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
			}
			k.kid, k.jwk.Kid, k.header, k.pem = sk.ID, sk.ID, encodeJOSEHeader(sk.ID, r.alg), sk.PEM
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

// keyAlgorithm is a stored key's algorithm; rows from before the column
// was set are RS256.
func keyAlgorithm(sk *SigningKey) string {
	if sk.Algorithm == "" {
		return AlgRS256
	}
	return sk.Algorithm
}

// newRingKey checks signer is a key for alg and prepares its kid (the
// RFC 7638 thumbprint), header and JWK.
func newRingKey(signer crypto.Signer, alg string) (*ringKey, error) {
	got, err := signerAlgorithm(signer)
	if err != nil {
		return nil, err
	}
	if got != alg {
		return nil, fmt.Errorf("the key is for %s, not %s", got, alg)
	}
	if k, ok := signer.(*rsa.PrivateKey); ok {
		k.Precompute()
	}
	kid, err := Thumbprint(signer.Public())
	if err != nil {
		return nil, err
	}
	jwk, err := publicJWK(kid, alg, signer.Public())
	if err != nil {
		return nil, err
	}
	return &ringKey{kid: kid, signer: signer, header: encodeJOSEHeader(kid, alg), jwk: jwk}, nil
}

// RotateSigningKey adds a new signing key for owner (of the algorithm its
// keys have, RS256 if none) and retires every key signing until now: each
// stays published, so its tokens verify, until now + lifetime, which should
// be the longest access-token lifetime in use plus the owner's reload
// interval (running gateways may sign with the old key until they reload).
// Times are the engine clock's. It returns the new key's kid.
func (e *Engine) RotateSigningKey(ctx context.Context, owner string, lifetime time.Duration) (string, error) {
	if owner == "" {
		return "", required("owner")
	}
	if lifetime <= 0 {
		return "", InvalidParam("lifetime", lifetime.String(), "must be positive")
	}
	old, err := e.store.ListSigningKeys(ctx, owner)
	if err != nil {
		return "", storeError(err)
	}
	alg := AlgRS256
	for _, k := range old { // oldest first: the newest unretired key decides
		if k.RetiredAt.IsZero() {
			alg = keyAlgorithm(k)
		}
	}
	now := e.clock.Now()
	sk, err := newSigningKey(owner, alg, now)
	if err != nil {
		return "", Internal(err)
	}
	// Store the new key first so there is never a moment without an active one.
	if err := e.store.PutSigningKey(ctx, sk); err != nil {
		return "", storeError(err)
	}
	for _, k := range old {
		if !k.RetiredAt.IsZero() || k.ID == sk.ID {
			continue
		}
		k.RetiredAt, k.VerifyUntil = now, now.Add(lifetime)
		if err := e.store.PutSigningKey(ctx, k); err != nil {
			return sk.ID, storeError(err)
		}
	}
	return sk.ID, nil
}
