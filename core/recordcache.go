package core

import (
	"context"
	"sync"
	"time"
)

// recordCache keeps records read on the hot path (clients, users,
// authorizations) for a short time. A change made through this process's
// admin API invalidates its entry at once; a change made by another replica
// is seen within ttl. Freshness is measured on the wall clock, not the
// engine's adjustable clock, so moving or freezing the test clock never pins
// a stale record. Cached records are shared: callers must not modify them.
type recordCache[K comparable, V any] struct {
	load func(ctx context.Context, key K) (V, error)
	ttl  time.Duration
	wall Clock
	max  int

	mu      sync.RWMutex
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	value   V
	fetched time.Time
}

func newRecordCache[K comparable, V any](load func(context.Context, K) (V, error), ttl time.Duration, max int) *recordCache[K, V] {
	if max <= 0 {
		max = 10000
	}
	return &recordCache[K, V]{load: load, ttl: ttl, wall: SystemClock{}, max: max, entries: map[K]cacheEntry[V]{}}
}

// get returns the record or the loader's error (errors are not cached).
func (c *recordCache[K, V]) get(ctx context.Context, key K) (V, error) {
	if c.ttl <= 0 {
		return c.load(ctx, key)
	}
	now := c.wall.Now()
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.value, nil
	}
	v, err := c.load(ctx, key)
	if err != nil {
		c.invalidate(key)
		return v, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // random eviction
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cacheEntry[V]{value: v, fetched: now}
	c.mu.Unlock()
	return v, nil
}

func (c *recordCache[K, V]) invalidate(key K) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

func (c *recordCache[K, V]) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
