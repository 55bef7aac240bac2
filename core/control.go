package core

import (
	"context"
	"time"
)

// ControlStore is implemented by stores that let several gateway replicas
// share the test control plane's state: the admin clock and the fault rules
// (as small JSON documents under a key) and the fault hit counters. Every
// PutControl bumps a version, so a replica learns of a change with one cheap
// read per request.
type ControlStore interface {
	ControlVersion(ctx context.Context) (int64, error)
	GetControl(ctx context.Context, key string) ([]byte, error) // ErrNotFound when unset
	PutControl(ctx context.Context, key string, value []byte) error
	// EnsureControl stores value under key unless the key is set, and
	// returns what is stored: replicas starting together agree on one value.
	EnsureControl(ctx context.Context, key string, value []byte) ([]byte, error)
	// Hit adds one to counter key unless limit > 0 and it has reached
	// limit; it reports whether it counted. Concurrent hits on one key from
	// any number of replicas never count past limit.
	Hit(ctx context.Context, key string, limit int64) (bool, error)
	// Counters returns every counter whose key starts with prefix.
	Counters(ctx context.Context, prefix string) (map[string]int64, error)
	// ResetCounters deletes every counter whose key starts with prefix.
	ResetCounters(ctx context.Context, prefix string) error
}

// ClockState is an AdjustableClock's setting, portable between replicas:
// each applies it to its own base clock.
type ClockState struct {
	Offset time.Duration `json:"offset"`
	Frozen bool          `json:"frozen"`
	At     time.Time     `json:"at,omitzero"`
}

// State returns the clock's current setting.
func (c *AdjustableClock) State() ClockState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return ClockState{Offset: c.offset, Frozen: c.frozen, At: c.at}
}

// SetState applies a setting read from another replica.
func (c *AdjustableClock) SetState(s ClockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.frozen, c.at = s.Offset, s.Frozen, s.At
}
