package core

import (
	"context"
	"sync"
	"time"
)

// clientCache keeps client records read on the hot path for a short time.
// A change made through this process's admin API invalidates its entry at
// once; a change made by another replica is seen within ttl. Freshness is
// measured on the wall clock, not the engine's adjustable clock, so moving
// or freezing the test clock never pins a stale client.
type clientCache struct {
	store Store
	ttl   time.Duration
	wall  Clock
	max   int

	mu      sync.RWMutex
	entries map[string]clientEntry
}

type clientEntry struct {
	client  *Client
	fetched time.Time
}

func newClientCache(store Store, ttl time.Duration, max int) *clientCache {
	if max <= 0 {
		max = 10000
	}
	return &clientCache{store: store, ttl: ttl, wall: SystemClock{}, max: max, entries: map[string]clientEntry{}}
}

// get returns the client (shared, read-only) or the store's error.
func (c *clientCache) get(ctx context.Context, id string) (*Client, error) {
	if c.ttl <= 0 {
		return c.store.GetClient(ctx, id)
	}
	now := c.wall.Now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) < c.ttl {
		return e.client, nil
	}
	cl, err := c.store.GetClient(ctx, id)
	if err != nil {
		c.invalidate(id)
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // random eviction
			delete(c.entries, k)
			break
		}
	}
	c.entries[id] = clientEntry{client: cl, fetched: now}
	c.mu.Unlock()
	return cl, nil
}

func (c *clientCache) invalidate(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

func (c *clientCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
