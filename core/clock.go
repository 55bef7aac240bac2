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

// The adjustable clock's range. Every time the engine stores must fit both
// backends and JSON: SQLite keeps int64 Unix nanoseconds, which end on
// 2262-04-11, and a token expires up to MaxLifetime after the clock's
// reading; RFC 3339 in JSON ends with the year 9999. So the clock may be
// set from the Unix epoch to ClockMax, and lifetimes are at most
// MaxLifetime: ClockMax + MaxLifetime is 2250.
var (
	ClockMin = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)
	ClockMax = time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// MaxLifetime bounds every configured token lifetime (50 years).
const MaxLifetime = 50 * 365 * 24 * time.Hour

// ClockRangeError is the refusal of a clock change that would leave
// ClockMin..ClockMax.
func ClockRangeError(param string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonMalformed, Param: param,
		Description: "the clock must stay between " + ClockMin.Format(time.RFC3339) + " and " + ClockMax.Format(time.RFC3339)}
}

func inClockRange(t time.Time) bool { return !t.Before(ClockMin) && !t.After(ClockMax) }

// Advance moves the clock forward by d (backward for negative d). A move
// that would leave ClockMin..ClockMax changes nothing and fails with
// ClockRangeError("advance").
func (c *AdjustableClock) Advance(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.base.Now()
	reading := now.Add(c.offset)
	if c.frozen {
		reading = c.at
	}
	// Computed from the reading, not by adding offsets: offsets of
	// ±292 years saturate, and two large advances must not wrap around.
	target := reading.Add(d)
	if d > 0 && target.Before(reading) || d < 0 && target.After(reading) || !inClockRange(target) {
		return ClockRangeError("advance")
	}
	if c.frozen {
		c.at = target
	} else {
		c.offset = target.Sub(now)
	}
	return nil
}

// Set makes the clock read t now; it keeps running from there unless
// frozen. A time outside ClockMin..ClockMax changes nothing and fails with
// ClockRangeError("set").
func (c *AdjustableClock) Set(t time.Time) error {
	if !inClockRange(t) {
		return ClockRangeError("set")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t
		return nil
	}
	c.offset = t.Sub(c.base.Now())
	return nil
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
