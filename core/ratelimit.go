package core

import (
	"context"
	"math"
	"sync"
	"time"
)

// FailureLimiter slows brute force: each failed client authentication or
// login takes a token from a bucket per key (client id or username, and the
// source address); buckets refill at a steady rate. When a bucket is empty,
// further attempts for that key are refused before any KDF work, except
// credentials the engine has already verified (its credential cache): a
// legitimate client keeps working while guesses are stopped.
type FailureLimiter struct {
	burst float64
	rate  float64 // tokens per second
	clock Clock   // wall clock: the test clock must not unlock buckets

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewFailureLimiter allows burst failures per key, refilled at perMinute.
func NewFailureLimiter(burst int, perMinute float64) *FailureLimiter {
	return &FailureLimiter{burst: float64(burst), rate: perMinute / 60, clock: SystemClock{}, buckets: map[string]*bucket{}}
}

// WithClock makes the limiter read c (tests).
func (l *FailureLimiter) WithClock(c Clock) *FailureLimiter { l.clock = c; return l }

func (l *FailureLimiter) level(b *bucket, now time.Time) float64 {
	return math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
}

// Blocked reports whether any key is out of tokens, and how long until the
// most starved of them has one again.
func (l *FailureLimiter) Blocked(keys ...string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			continue
		}
		if lv := l.level(b, now); lv < 1 {
			d := time.Duration((1 - lv) / l.rate * float64(time.Second))
			wait = max(wait, d)
		}
	}
	return wait, wait > 0
}

// Fail takes a token from each key's bucket.
func (l *FailureLimiter) Fail(keys ...string) {
	if l == nil {
		return
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 100000 {
		l.prune(now)
	}
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			b = &bucket{tokens: l.burst, at: now}
			l.buckets[k] = b
		}
		b.tokens, b.at = l.level(b, now)-1, now
	}
}

// prune forgets buckets that have refilled completely.
func (l *FailureLimiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
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

func (e *Engine) limitKeys(ctx context.Context, kind, name string) []string {
	keys := []string{kind + ":" + name}
	if src := sourceOf(ctx); src != "" {
		keys = append(keys, "src:"+src)
	}
	return keys
}

func rateLimited(wait time.Duration) *Error {
	return &Error{Kind: KindRateLimited, RetryAfter: wait, Description: "too many failed attempts; try again later"}
}
