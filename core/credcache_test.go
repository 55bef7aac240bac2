package core

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// Concurrent first checks of one credential share one KDF run; a wrong
// secret and a later check of a cached one behave as alone.
func TestConcurrentChecksShareOneKDFRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCredentialCache(10)
		release := make(chan struct{})
		var runs atomic.Int32
		c.kdf = func(hash, secret string) bool {
			runs.Add(1)
			<-release
			return hash == "hash-of-"+secret
		}
		const callers = 8
		results := make(chan bool, callers)
		for range callers {
			go func() { results <- c.verify(true, "app", "hash-of-s3cret", "s3cret") }()
		}
		synctest.Wait() // every caller is in verify: one runs the KDF, the rest wait for it
		close(release)
		for range callers {
			if !<-results {
				t.Fatal("a shared check failed")
			}
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("%d KDF runs for %d concurrent checks of one credential, want 1", n, callers)
		}
		if !c.verify(true, "app", "hash-of-s3cret", "s3cret") || runs.Load() != 1 {
			t.Fatalf("a verified credential ran the KDF again (%d runs)", runs.Load())
		}
		if c.verify(true, "app", "hash-of-s3cret", "wrong") || runs.Load() != 2 {
			t.Fatalf("wrong secret: KDF runs %d, want 2 and a failure", runs.Load())
		}
		if c.verify(false, "ghost", "", "s3cret") || runs.Load() != 3 {
			t.Fatalf("unknown principal: KDF runs %d, want 3 and a failure", runs.Load())
		}
	})
}
