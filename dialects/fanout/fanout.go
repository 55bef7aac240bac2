// Package fanout delivers values published on a request path to a bounded
// set of live watchers (the console's journal view) without ever making the
// publisher wait: a watcher whose buffer is full misses the value and is
// told how many it missed. With no watcher, Watched is one atomic load, so
// a caller can skip building the value at all.
//
// It imports nothing of tokengate, so the control plane and the console can
// both use it.
package fanout

import (
	"errors"
	"sync"
	"sync/atomic"
)

// ErrFull is returned by Subscribe when the hub has its maximum number of
// subscribers.
var ErrFull = errors.New("fanout: too many subscribers")

// Hub fans values out to subscribers. The zero value is not usable; use New.
type Hub[T any] struct {
	max, buffer int
	mu          sync.Mutex // serialises Subscribe and Close, never Publish
	subs        atomic.Pointer[[]*Sub[T]]
}

// New makes a hub of at most maxSubs subscribers, each buffering up to
// buffer values.
func New[T any](maxSubs, buffer int) *Hub[T] {
	h := &Hub[T]{max: max(maxSubs, 1), buffer: max(buffer, 1)}
	h.subs.Store(&[]*Sub[T]{})
	return h
}

// Watched reports whether anyone subscribes: the request path's only cost
// when no one does.
func (h *Hub[T]) Watched() bool { return len(*h.subs.Load()) > 0 }

// Publish offers v to every subscriber without blocking; a subscriber whose
// buffer is full drops it and counts the drop.
func (h *Hub[T]) Publish(v T) {
	for _, s := range *h.subs.Load() {
		select {
		case s.ch <- v:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribe adds a subscriber, or fails with ErrFull.
func (h *Hub[T]) Subscribe() (*Sub[T], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	if len(old) >= h.max {
		return nil, ErrFull
	}
	s := &Sub[T]{hub: h, ch: make(chan T, h.buffer)}
	next := append(append(make([]*Sub[T], 0, len(old)+1), old...), s)
	h.subs.Store(&next)
	return s, nil
}

func (h *Hub[T]) remove(s *Sub[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	next := make([]*Sub[T], 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	h.subs.Store(&next)
}

// Subscribers is the number of current subscribers.
func (h *Hub[T]) Subscribers() int { return len(*h.subs.Load()) }

// Sub is one subscriber.
type Sub[T any] struct {
	hub     *Hub[T]
	ch      chan T
	dropped atomic.Int64
	once    sync.Once
}

// C delivers the published values. It is never closed: stop reading after
// Close.
func (s *Sub[T]) C() <-chan T { return s.ch }

// Dropped is how many values this subscriber missed because its buffer was
// full.
func (s *Sub[T]) Dropped() int64 { return s.dropped.Load() }

// Close unsubscribes; it is safe to call more than once.
func (s *Sub[T]) Close() { s.once.Do(func() { s.hub.remove(s) }) }
