package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Many concurrent reads share at most MaxReaders connections of the hot
// read, each read sees what the writer committed, a connection the driver
// calls bad is dropped (and another dialled in its place), and once the
// store closes, reads fail as unavailable without waiting.
func TestTokenReadsShareTheirConnections(t *testing.T) {
	ctx := context.Background()
	const readers = 2
	s := openT(t, filepath.Join(t.TempDir(), "reads.db"), Options{MaxReaders: readers})
	now := time.Now()
	tk := &core.Token{Digest: core.Digest("read me"), Kind: core.TokenAccess, ClientID: "c",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.InsertTokens(ctx, tk); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := s.GetToken(ctx, tk.Digest); err != nil {
					errs <- fmt.Errorf("reader %d, read %d: %w", g, i, err)
					return
				}
				if _, err := s.GetToken(ctx, core.Digest("absent")); !errors.Is(err, core.ErrNotFound) {
					errs <- fmt.Errorf("reader %d: an absent token: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.reads.mu.Lock()
	open := s.reads.open
	s.reads.mu.Unlock()
	if open < 1 || open > readers || len(s.reads.free) != open {
		t.Fatalf("%d connections open, %d free; want between 1 and %d, all free", open, len(s.reads.free), readers)
	}

	// A write is visible to the next read on a connection that has read
	// before.
	later := &core.Token{Digest: core.Digest("written later"), Kind: core.TokenAccess, ClientID: "c",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.InsertTokens(ctx, later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reads.read(ctx, later.Digest); err != nil {
		t.Fatalf("a token committed after the connections opened: %v", err)
	}

	// A bad connection is closed, not given back.
	rc, err := s.reads.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.reads.put(rc, driver.ErrBadConn)
	s.reads.mu.Lock()
	afterBad := s.reads.open
	s.reads.mu.Unlock()
	if afterBad != open-1 {
		t.Fatalf("after a bad connection %d are open, want %d", afterBad, open-1)
	}
	if _, err := s.reads.read(ctx, tk.Digest); err != nil { // past the token read cache
		t.Fatalf("a read after a bad connection: %v", err)
	}

	// A connection in use when the store closes is closed when it comes
	// back; reads after the close fail at once.
	held, err := s.reads.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.reads.put(held, nil)
	if s.reads.open != 0 || len(s.reads.free) != 0 {
		t.Fatalf("after Close %d connections open, %d free", s.reads.open, len(s.reads.free))
	}
	if _, err := s.GetToken(ctx, tk.Digest); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("GetToken after Close: %v, want core.ErrUnavailable", err)
	}
	if _, err := s.reads.get(ctx); err == nil {
		t.Fatal("the hot read handed out a connection after Close")
	}
}

// A read waiting for a connection gives up when the store closes.
func TestTokenReadsWaitingGiveUpAtClose(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "close.db"), Options{MaxReaders: 1})
	rc, err := s.reads.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := s.reads.get(context.Background()) // no deadline: only Close ends it
		waited <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it wait
	s.reads.close()
	select {
	case err := <-waited:
		if err == nil {
			t.Fatal("a waiting read got a connection from a closed store")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting read still waits after close")
	}
	s.reads.put(rc, nil)
}

// A read that has to wait for a connection gives up with its context.
func TestTokenReadsWaitWithTheirContext(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "wait.db"), Options{MaxReaders: 1})
	rc, err := s.reads.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.reads.put(rc, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.reads.get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for the only connection: %v, want the context's deadline", err)
	}
}
