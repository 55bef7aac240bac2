package fanout

import (
	"errors"
	"sync"
	"testing"
)

func TestPublishReachesEverySubscriber(t *testing.T) {
	h := New[int](2, 4)
	if h.Watched() {
		t.Fatal("a new hub is watched")
	}
	a, err := h.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Subscribe()
	if _, err := h.Subscribe(); !errors.Is(err, ErrFull) {
		t.Fatalf("third subscriber of a hub of two: %v", err)
	}
	h.Publish(7)
	if got := <-a.C(); got != 7 {
		t.Fatalf("a got %d", got)
	}
	if got := <-b.C(); got != 7 {
		t.Fatalf("b got %d", got)
	}
	a.Close()
	a.Close()
	h.Publish(8)
	select {
	case v := <-a.C():
		t.Fatalf("closed subscriber got %d", v)
	default:
	}
	if h.Subscribers() != 1 || <-b.C() != 8 {
		t.Fatal("the remaining subscriber lost a value")
	}
	b.Close()
	if h.Watched() {
		t.Fatal("watched with no subscribers")
	}
	if _, err := h.Subscribe(); err != nil {
		t.Fatalf("a freed slot is not reusable: %v", err)
	}
}

// A subscriber that does not read never blocks the publisher: its values
// beyond the buffer are dropped and counted.
func TestFullBufferDropsInsteadOfBlocking(t *testing.T) {
	h := New[int](1, 3)
	s, _ := h.Subscribe()
	for i := range 10 {
		h.Publish(i)
	}
	if s.Dropped() != 7 {
		t.Fatalf("dropped %d, want 7", s.Dropped())
	}
	for want := range 3 {
		if got := <-s.C(); got != want {
			t.Fatalf("got %d, want %d (oldest kept)", got, want)
		}
	}
}

func TestConcurrentPublishAndSubscribe(t *testing.T) {
	h := New[int](4, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				h.Publish(i)
			}
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				if s, err := h.Subscribe(); err == nil {
					s.Close()
				}
			}
		}()
	}
	wg.Wait()
	if h.Subscribers() != 0 {
		t.Fatalf("%d subscribers left", h.Subscribers())
	}
}

func BenchmarkPublishUnwatched(b *testing.B) {
	h := New[int](8, 64)
	for b.Loop() {
		if h.Watched() {
			h.Publish(1)
		}
	}
}

func BenchmarkPublishOneWatcher(b *testing.B) {
	h := New[int](8, 64)
	s, _ := h.Subscribe()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-s.C():
			case <-done:
				return
			}
		}
	}()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if h.Watched() {
				h.Publish(1)
			}
		}
	})
	close(done)
}

// BenchmarkPublishFullBuffer is a watched request path under load: the
// view reads a few rows per window, so its buffer stays full and each
// publish is a failed send and a counted drop.
func BenchmarkPublishFullBuffer(b *testing.B) {
	h := New[[24]int64](8, 256) // about a journal entry's size
	s, _ := h.Subscribe()
	defer s.Close()
	for range 256 {
		h.Publish([24]int64{})
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if h.Watched() {
				h.Publish([24]int64{})
			}
		}
	})
	if s.Dropped() == 0 {
		b.Fatal("nothing was dropped")
	}
}
