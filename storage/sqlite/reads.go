package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mattn/go-sqlite3"
	"github.com/tokengate/tokengate/core"
)

// getTokenFast answers from the token read cache, else reads one token on
// the driver directly, with the statement prepared once per connection
// (tokenReads), past database/sql's per-query work (a Rows, its column
// list, Scan's conversion, locks), which cost as much as SQLite's lookup.
func (s *Store) getTokenFast(ctx context.Context, digest string) (*core.Token, error) {
	enc, at, ok := s.cache.get(digest)
	if !ok {
		var err error
		if enc, err = s.reads.read(ctx, digest); err != nil {
			return nil, err
		}
		s.cache.put(digest, enc, at)
	}
	r := tokenRow{Digest: digest}
	if err := decodeToken(enc, &r); err != nil {
		return nil, err
	}
	return r.Model()
}

// tokenReads is the hot token read. A file store gives it connections of
// its own, opened with the driver and kept on a free list, each with the
// statement prepared once: taking a connection from database/sql's pool
// for every read (the Conn, the pool's lock and bookkeeping, Raw, the
// return) was about a sixth of the read. It opens them as reads need them,
// up to max, and they are query-only like the store's reader pool. An
// in-memory store has one connection, shared with the writer: its reads
// borrow it from database/sql (db).
type tokenReads struct {
	dsn  string  // the read-only connections' DSN; "" for db
	db   *sql.DB // the in-memory store's one connection
	max  int
	free chan *readConn
	stop chan struct{} // closed by close: waiting reads give up

	mu     sync.Mutex
	open   int // connections dialled and not closed, free or in use
	closed bool
	shared *readConn // db's connection and its statement (in-memory)
}

type readConn struct {
	conn *sqlite3.SQLiteConn
	st   *sqlite3.SQLiteStmt
}

// newTokenReads is a file store's hot read, on connections of its own
// opened with dsn, at most max.
func newTokenReads(dsn string, max int) *tokenReads {
	return &tokenReads{dsn: dsn, max: max, free: make(chan *readConn, max), stop: make(chan struct{})}
}

// sharedTokenReads is an in-memory store's hot read, on db's one
// connection.
func sharedTokenReads(db *sql.DB) *tokenReads {
	return &tokenReads{db: db, stop: make(chan struct{})}
}

// read returns the encoded token with key digest, or core.ErrNotFound.
func (t *tokenReads) read(ctx context.Context, digest string) (string, error) {
	if t.dsn == "" {
		var enc string
		err := onDriver(ctx, t.db, func(conn *sqlite3.SQLiteConn) error {
			rc, err := t.sharedOn(conn)
			if err == nil {
				enc, err = rc.read(digest)
			}
			return err
		})
		return enc, err
	}
	rc, err := t.get(ctx)
	if err != nil {
		return "", err
	}
	enc, err := rc.read(digest)
	t.put(rc, err)
	return enc, err
}

// sharedOn is the in-memory store's connection with its statement.
func (t *tokenReads) sharedOn(conn *sqlite3.SQLiteConn) (*readConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shared != nil && t.shared.conn == conn {
		return t.shared, nil
	}
	if t.shared != nil { // database/sql replaced the connection
		_ = t.shared.st.Close()
	}
	st, err := conn.Prepare(selectTokenSQL)
	if err != nil {
		t.shared = nil
		return nil, err
	}
	t.shared = &readConn{conn: conn, st: st.(*sqlite3.SQLiteStmt)}
	return t.shared, nil
}

// get takes a free connection, dials one while fewer than max are open,
// or waits for one to come back.
func (t *tokenReads) get(ctx context.Context) (*readConn, error) {
	select {
	case rc := <-t.free:
		return rc, nil
	default:
	}
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return nil, sql.ErrConnDone
	case t.open < t.max:
		t.open++
		t.mu.Unlock()
		rc, err := t.dial()
		if err != nil {
			t.mu.Lock()
			t.open--
			t.mu.Unlock()
		}
		return rc, err
	}
	t.mu.Unlock()
	select {
	case rc := <-t.free:
		return rc, nil
	case <-t.stop:
		return nil, sql.ErrConnDone
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (t *tokenReads) dial() (*readConn, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(t.dsn)
	if err != nil {
		return nil, err
	}
	conn := c.(*sqlite3.SQLiteConn)
	st, err := conn.Prepare(selectTokenSQL)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &readConn{conn: conn, st: st.(*sqlite3.SQLiteStmt)}, nil
}

// put gives a connection back after a read that ended with err; one the
// driver calls bad, or one coming back after close, is closed instead.
func (t *tokenReads) put(rc *readConn, err error) {
	t.mu.Lock()
	if t.closed || errors.Is(err, driver.ErrBadConn) {
		t.open--
		t.mu.Unlock()
		rc.close()
		return
	}
	t.mu.Unlock()
	t.free <- rc // never blocks: at most max are open
}

// close closes the free connections and has put close the others as they
// come back; reads waiting for a connection and later reads fail.
func (t *tokenReads) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		close(t.stop)
	}
	t.closed = true
	for {
		select {
		case rc := <-t.free:
			t.open--
			rc.close()
		default:
			if t.shared != nil {
				_ = t.shared.st.Close() // before database/sql closes its connection
				t.shared = nil
			}
			return
		}
	}
}

func (rc *readConn) close() {
	_ = rc.st.Close()
	_ = rc.conn.Close()
}

// read runs the statement: the encoded token, or core.ErrNotFound.
// Without a cancellable context the driver steps it on this goroutine.
func (rc *readConn) read(digest string) (string, error) {
	v, err := firstValue(rc.st, []driver.NamedValue{{Ordinal: 1, Value: digest}})
	switch {
	case errors.Is(err, io.EOF):
		return "", core.ErrNotFound
	case err != nil:
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("sqlite: the token read answered a %T", v)
}
