package core

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sync"

	"golang.org/x/sync/singleflight"
)

// credentialCache remembers client secrets that passed the KDF check, so the
// hot path pays bcrypt once per (client, secret, stored hash) instead of per
// request. Entries are keyed by client id and hold an HMAC of the secret
// under a per-process key plus the stored hash they were checked against: a
// changed secret (new hash) or a different presented secret misses, so no
// explicit invalidation is needed and a dump of the cache reveals no secret.
type credentialCache struct {
	check   func(hash, secret string) bool // the KDF comparison
	macs    sync.Pool                      // of *macState: HMAC-SHA256 under the per-process key
	max     int
	mu      sync.RWMutex
	entries map[string]credEntry

	// inflight lets concurrent first checks of one credential share a
	// single KDF run instead of each paying it (a cold start under load).
	inflight singleflight.Group
}

type credEntry struct {
	mac  [32]byte
	hash string
}

func newCredentialCache(max int, check func(hash, secret string) bool) *credentialCache {
	if max <= 0 {
		max = 10000
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	c := &credentialCache{check: check, max: max, entries: make(map[string]credEntry)}
	c.macs.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return c
}

// cached reports whether secret was verified for this client and stored
// hash before, without any KDF work.
func (c *credentialCache) cached(known bool, id, hash, secret string) bool {
	if !known || hash == "" {
		return false
	}
	mac := c.mac(secret)
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	return ok && e.hash == hash && subtle.ConstantTimeCompare(e.mac[:], mac[:]) == 1
}

// verify reports whether secret matches hash for the principal id (a
// client, or "user\x00"+username). For an unknown principal (known false)
// the same KDF work is done and false returned.
func (c *credentialCache) verify(known bool, id, hash, secret string) bool {
	if c.cached(known, id, hash, secret) {
		return true
	}
	mac := c.mac(secret)
	// One flight per (principal, presented secret, stored hash); the key
	// holds the secret's keyed MAC, never the secret.
	key := id + "\x00" + string(mac[:]) + "\x00" + hash
	ok, _, _ := c.inflight.Do(key, func() (any, error) {
		if !c.check(hash, secret) || !known {
			return false, nil
		}
		c.mu.Lock()
		if len(c.entries) >= c.max {
			for k := range c.entries { // map order is random: evict an arbitrary entry
				delete(c.entries, k)
				break
			}
		}
		c.entries[id] = credEntry{mac: mac, hash: hash}
		c.mu.Unlock()
		return true, nil
	})
	return ok.(bool)
}

func (c *credentialCache) mac(secret string) [32]byte {
	m := c.macs.Get().(*macState)
	m.h.Reset()
	m.in = append(m.in[:0], secret...)
	m.h.Write(m.in)
	m.sum = m.h.Sum(m.sum[:0])
	var out [32]byte
	copy(out[:], m.sum)
	clear(m.in) // the secret does not outlive the call in the pool
	c.macs.Put(m)
	return out
}

// macState is a pooled HMAC with its buffers: through the hash.Hash
// interface the secret's bytes and the sum would each escape to the heap.
type macState struct {
	h       hash.Hash
	in, sum []byte
}
