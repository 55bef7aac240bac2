package gateway

import (
	"fmt"
	"testing"
	"time"
)

func TestLineThrottle(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewLineThrottle(nil)
	th.now = func() time.Time { return now }
	allowed := 0
	for range 100 {
		if ok, _ := th.Allow("203.0.113.1", "401 invalid_client"); ok {
			allowed++
		}
	}
	if allowed != LogBurst {
		t.Fatalf("%d of 100 lines allowed, want %d", allowed, LogBurst)
	}
	// Other kinds and other sources have their own buckets.
	if ok, _ := th.Allow("203.0.113.1", "404 not_found"); !ok {
		t.Fatal("another kind held back")
	}
	if ok, _ := th.Allow("203.0.113.2", "401 invalid_client"); !ok {
		t.Fatal("another source held back")
	}
	// A second later one more line, which tells how many were held back.
	now = now.Add(time.Second)
	if ok, held := th.Allow("203.0.113.1", "401 invalid_client"); !ok || held != 100-LogBurst {
		t.Fatalf("after a second: allowed %v, held back %d, want %d", ok, held, 100-LogBurst)
	}
}

// Past LogSources pairs, new sources share one bucket per kind: many
// sources together cannot flood the log either, and the map stays bounded.
func TestLineThrottleBounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewLineThrottle(nil)
	th.now = func() time.Time { return now }
	for i := range LogSources {
		for range LogBurst + 1 {
			th.Allow(fmt.Sprint("src-", i), "400 invalid_request")
		}
	}
	allowed := 0
	for i := range 10 * LogBurst {
		if ok, _ := th.Allow(fmt.Sprint("new-", i), "400 invalid_request"); ok {
			allowed++
		}
	}
	if allowed != LogBurst || len(th.buckets) > LogSources+1 {
		t.Fatalf("%d lines of new sources allowed, %d buckets", allowed, len(th.buckets))
	}
	// Once the tracked sources' buckets refill and a second has passed,
	// they are forgotten and new sources get buckets of their own again.
	now = now.Add(time.Minute)
	if ok, _ := th.Allow("newest", "400 invalid_request"); !ok || th.buckets[lineKey{"newest", "400 invalid_request"}] == nil {
		t.Fatal("pruning did not make room")
	}
}
