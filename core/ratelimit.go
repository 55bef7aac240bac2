package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// FailureLimiter slows brute force without locking anyone out for someone
// else's failures. Each failed client authentication or login takes a token
// from two buckets of the identity it named (a client id, or a username):
// one for that identity from the request's source address, and one for the
// identity from every source (distributed guessing). Buckets refill at a
// steady rate. While either bucket is empty, attempts at the identity are
// refused before any KDF work, except with a credential the engine has
// already verified (its credential cache): a client keeps working while
// guesses at its secret are stopped. There is no bucket per source alone,
// so failures at one identity never slow another.
//
// Memory is bounded whatever the input: a bucket is keyed by a 16-byte
// keyed digest (HMAC-SHA256 under a per-process key) of the source and
// identity, never by the strings themselves, and at most MaxKeys buckets
// are kept, the least recently failed evicted first (LimiterEntryBytes
// each). An evicted bucket starts full again, so a flood of other
// identities can shorten a lockout but never extend one.
type FailureLimiter struct {
	pair, ident rate
	max         int
	clock       Clock // wall clock: the test clock must not unlock buckets
	macs        sync.Pool

	mu      sync.Mutex
	buckets map[limitKey]*bucket
	head    *bucket // most recently failed; head.prev is the oldest
	// refusingUntil (unix nanoseconds) is when the emptiest bucket ever
	// drained will have refilled to one token: before it some attempt may
	// be refused, after it none is, so Blocked skips the two keyed digests
	// (the cost of every request that presents credentials) while no
	// recent failure is in reach.
	refusingUntil atomic.Int64
}

// LimiterOptions configure a FailureLimiter; zero fields take the defaults.
type LimiterOptions struct {
	// Burst failures per identity and source, refilled at PerMinute.
	Burst     int
	PerMinute float64
	// IdentityBurst failures per identity from every source, refilled at
	// IdentityPerMinute (defaults: 5 × Burst and 5 × PerMinute).
	IdentityBurst     int
	IdentityPerMinute float64
	// MaxKeys bounds the buckets kept (default DefaultLimiterMaxKeys).
	MaxKeys int
}

// Limiter defaults.
const (
	DefaultLimiterBurst     = 20
	DefaultLimiterPerMinute = 10
	DefaultLimiterMaxKeys   = 65536
	// LimiterEntryBytes is about what one bucket costs (key, state, list
	// links, map slot): MaxKeys × LimiterEntryBytes bounds the limiter.
	LimiterEntryBytes = 160
)

type rate struct{ burst, perSecond float64 }

type limitKey [16]byte

// bucket is one key's token bucket, linked into the eviction order.
type bucket struct {
	key        limitKey
	tokens     float64
	at         int64 // wall-clock unix nanoseconds of the last failure
	prev, next *bucket
}

// NewFailureLimiter builds a limiter with o's limits.
func NewFailureLimiter(o LimiterOptions) *FailureLimiter {
	if o.Burst <= 0 {
		o.Burst = DefaultLimiterBurst
	}
	if o.PerMinute <= 0 {
		o.PerMinute = DefaultLimiterPerMinute
	}
	if o.IdentityBurst <= 0 {
		o.IdentityBurst = 5 * o.Burst
	}
	if o.IdentityPerMinute <= 0 {
		o.IdentityPerMinute = 5 * o.PerMinute
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultLimiterMaxKeys
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	l := &FailureLimiter{pair: rate{float64(o.Burst), o.PerMinute / 60},
		ident: rate{float64(o.IdentityBurst), o.IdentityPerMinute / 60},
		max:   o.MaxKeys, clock: SystemClock{}, buckets: map[limitKey]*bucket{}}
	l.macs.New = func() any { return hmac.New(sha256.New, key) }
	return l
}

// WithClock makes the limiter read c (tests).
func (l *FailureLimiter) WithClock(c Clock) *FailureLimiter { l.clock = c; return l }

// keys are the pair and identity keys of an attempt at identity (of kind
// "client" or "user") from source.
func (l *FailureLimiter) keys(kind, identity, source string) (pair, ident limitKey) {
	h := l.macs.Get().(hash.Hash)
	defer l.macs.Put(h)
	digest := func(parts ...string) (k limitKey) {
		h.Reset()
		for _, p := range parts {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(p)))
			h.Write(n[:])
			h.Write([]byte(p))
		}
		var sum [sha256.Size]byte
		copy(k[:], h.Sum(sum[:0]))
		return k
	}
	return digest("pair", kind, source, identity), digest("identity", kind, identity)
}

func (r rate) level(b *bucket, now int64) float64 {
	return math.Min(r.burst, b.tokens+float64(now-b.at)/1e9*r.perSecond)
}

// Blocked reports whether attempts at identity from source are refused, and
// how long until they are not.
func (l *FailureLimiter) Blocked(kind, identity, source string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	now := l.clock.Now().UnixNano()
	if now >= l.refusingUntil.Load() {
		return 0, false
	}
	pair, ident := l.keys(kind, identity, source)
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.wait(pair, l.pair, now), l.wait(ident, l.ident, now))
	return wait, wait > 0
}

func (l *FailureLimiter) wait(k limitKey, r rate, now int64) time.Duration {
	b := l.buckets[k]
	if b == nil {
		return 0
	}
	lv := r.level(b, now)
	switch {
	case lv >= 1:
		return 0
	case r.perSecond <= 0:
		return time.Hour
	}
	return max(time.Duration((1-lv)/r.perSecond*float64(time.Second)), time.Millisecond)
}

// Fail takes a token from both buckets of an attempt at identity from source.
func (l *FailureLimiter) Fail(kind, identity, source string) {
	if l == nil {
		return
	}
	pair, ident := l.keys(kind, identity, source)
	now := l.clock.Now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.take(pair, l.pair, now)
	l.take(ident, l.ident, now)
}

func (l *FailureLimiter) take(k limitKey, r rate, now int64) {
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(l.head.prev)
		}
		b = &bucket{key: k, tokens: r.burst, at: now}
		l.buckets[k] = b
	} else {
		l.unlink(b)
	}
	b.tokens, b.at = r.level(b, now)-1, now
	l.pushFront(b)
	until := int64(math.MaxInt64) // a bucket that never refills refuses for good
	if r.perSecond > 0 {
		until = now + int64(math.Ceil((1-b.tokens)/r.perSecond*1e9))
	}
	if until > l.refusingUntil.Load() { // under l.mu: no concurrent store
		l.refusingUntil.Store(until)
	}
}

func (l *FailureLimiter) pushFront(b *bucket) {
	if l.head == nil {
		b.prev, b.next = b, b
	} else {
		b.next, b.prev = l.head, l.head.prev
		l.head.prev.next, l.head.prev = b, b
	}
	l.head = b
}

func (l *FailureLimiter) unlink(b *bucket) {
	if b.next == b {
		l.head = nil
	} else {
		b.prev.next, b.next.prev = b.next, b.prev
		if l.head == b {
			l.head = b.next
		}
	}
	b.prev, b.next = nil, nil
}

func (l *FailureLimiter) evict(b *bucket) {
	l.unlink(b)
	delete(l.buckets, b.key)
}

// Len reports how many buckets the limiter holds.
func (l *FailureLimiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Reset forgets every failure (the admin API's reset).
func (l *FailureLimiter) Reset() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
	l.head = nil
	l.refusingUntil.Store(0)
}

type sourceKey struct{}

// WithSource records the request's source address (without port) for the
// failure limiter; the wire layer sets it.
func WithSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceKey{}, addr)
}

func sourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

func rateLimited(wait time.Duration) *Error {
	return &Error{Kind: KindRateLimited, RetryAfter: wait, Description: "too many failed attempts; try again later"}
}
