package core

import (
	"sync"
	"time"
)

// Clock is the engine's only source of the current time.
type Clock interface{ Now() time.Time }

// SystemClock reads the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// AdjustableClock wraps a base clock with an offset and an optional freeze;
// it is the clock the admin API moves so tests never sleep.
type AdjustableClock struct {
	base   Clock
	mu     sync.RWMutex
	offset time.Duration
	frozen bool
	at     time.Time // the frozen instant, when frozen
}

// NewAdjustableClock returns a clock that reads base until moved.
func NewAdjustableClock(base Clock) *AdjustableClock {
	if base == nil {
		base = SystemClock{}
	}
	return &AdjustableClock{base: base}
}

func (c *AdjustableClock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen {
		return c.at
	}
	return c.base.Now().Add(c.offset)
}

// Advance moves the clock forward by d (backward for negative d).
func (c *AdjustableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}

// Set makes the clock read t now; it keeps running from there unless frozen.
func (c *AdjustableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t
		return
	}
	c.offset = t.Sub(c.base.Now())
}

// Freeze stops (true) or restarts (false) the clock at its current reading.
func (c *AdjustableClock) Freeze(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on == c.frozen {
		return
	}
	now := c.base.Now()
	if on {
		c.at = now.Add(c.offset)
	} else {
		c.offset = c.at.Sub(now)
	}
	c.frozen = on
}

// Reset returns the clock to the base clock's reading, running.
func (c *AdjustableClock) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.frozen, c.at = 0, false, time.Time{}
}

// Offset reports how far the clock reads from its base, and whether it is frozen.
func (c *AdjustableClock) Offset() (time.Duration, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen {
		return c.at.Sub(c.base.Now()), true
	}
	return c.offset, false
}

// FakeClock is a clock for tests that moves only when told.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

func (f *FakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *FakeClock) Advance(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }
