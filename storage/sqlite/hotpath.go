package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
)

// The token endpoints' hot path bypasses gorm: issuing goes through a group
// committer, reading through a prepared statement.
//
// Group commit: every InsertTokens call queues its rows with the single
// writer goroutine, which takes whatever has queued while the previous
// transaction ran (and, when busy, what arrives within lingerFor, until as
// many callers as recent transactions served are there) and commits it as
// one transaction. Each caller returns only after its own rows are
// committed, so durability per response is unchanged
// (WAL, synchronous=NORMAL: a commit survives a process crash; an OS crash or
// power loss may lose the last transactions, as with any NORMAL database);
// what is saved is one BEGIN/COMMIT and WAL frame write per request under
// load. If a batch fails (one caller's duplicate digest, say), each request in
// it is retried in its own transaction so one bad request fails alone; if it
// fails because the database is unavailable, the whole batch fails at once.

const insertTokenSQL = `INSERT INTO tokens (digest, kind, client_id, user_id, dialect, scopes, family_id,
 issued_at, expires_at, auth_time, consumed_at, revoked_at, redirect_uri, code_challenge, code_challenge_method, details)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertPlainTokenSQL inserts the usual token, one with no redirect URI,
// PKCE challenge, consumption, revocation or details (with or without an
// auth time: tokens issued for a user have one): those columns are written
// as literals, saving the writer six of sixteen parameter binds (each a cgo
// call and, for text, a copy) per row.
const insertPlainTokenSQL = `INSERT INTO tokens (digest, kind, client_id, user_id, dialect, scopes, family_id,
 issued_at, expires_at, auth_time, redirect_uri, code_challenge, code_challenge_method, details)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '` + sqlstore.EmptyDetails + `')`

// plain reports whether insertPlainTokenSQL writes t as it is.
func plain(t *tokenRow) bool {
	return t.Consumed == nil && t.Revoked == nil && t.RedirectURI == "" &&
		t.CodeChallenge == "" && t.CodeChallengeMethod == "" && t.Details == sqlstore.EmptyDetails
}

// selectTokenSQL reads a token as one encoded value (record.go).
var selectTokenSQL = encodedTokenSQL()

// maxGroup bounds how many callers one transaction serves.
const maxGroup = 256

// insertReq is one caller's write: rows to insert and, for an exchange,
// the token to consume first (only if it is still live), or, for a guarded
// insert, the client whose active access token forbids it.
type insertReq struct {
	consume string // digest; "" for a plain insert
	now     int64  // consumed_at or the guard's time, unix nanoseconds
	guard   *activeGuard
	rows    []tokenRow
	done    chan error
}

// activeGuard names whose active access token refuses an insert.
type activeGuard struct{ clientID, dialect string }

const consumeTokenSQL = `UPDATE tokens SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL AND revoked_at IS NULL`

type committer struct {
	commits atomic.Int64 // transactions written
	rows    atomic.Int64 // token rows written
	obs     core.StoreObserver
	db      *sql.DB
	drv     driverStmts // the writer goroutine's, prepared on first use
	args    []driver.NamedValue
	reqs    chan insertReq
	quit    chan struct{}
	// lingerFor is the const of that name; tests lengthen it. It, linger,
	// lastCommit and expect belong to the writer goroutine (gather).
	lingerFor  time.Duration
	linger     *time.Timer
	lastCommit time.Time
	expect     int // callers expected back (nextExpect)
	stopped    sync.WaitGroup
	once       sync.Once
}

func newCommitter(db *sql.DB, obs core.StoreObserver) *committer {
	if obs == nil {
		obs = core.NopObserver
	}
	c := &committer{db: db, reqs: make(chan insertReq, maxGroup), args: make([]driver.NamedValue, 0, 16),
		quit: make(chan struct{}), obs: obs, lingerFor: lingerFor, linger: time.NewTimer(time.Hour)}
	c.linger.Stop()
	c.stopped.Add(1)
	go c.loop()
	return c
}

var errCommitterStopped = errors.New("writer stopped")

// insert queues rows and waits until they are committed (or failed).
func (c *committer) insert(ctx context.Context, rows []tokenRow) error {
	return c.submit(ctx, insertReq{rows: rows})
}

// exchange consumes the live token digest and inserts rows in one
// transaction, or fails with core.ErrConsumed changing nothing.
func (c *committer) exchange(ctx context.Context, digest string, now int64, rows []tokenRow) error {
	return c.submit(ctx, insertReq{consume: digest, now: now, rows: rows})
}

// insertUnlessActive inserts rows unless the guard's client holds an
// active access token of its dialect at now: the check runs in the writer's
// transaction, after the batch's earlier requests, so no other write comes
// between the check and the insert.
func (c *committer) insertUnlessActive(ctx context.Context, g activeGuard, now int64, rows []tokenRow) error {
	return c.submit(ctx, insertReq{guard: &g, now: now, rows: rows})
}

func (c *committer) submit(ctx context.Context, r insertReq) error {
	r.done = make(chan error, 1)
	select {
	case c.reqs <- r:
	case <-c.quit:
		return errCommitterStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the rows will be written whatever the caller does, so wait
	// for the outcome rather than the caller's context.
	return <-r.done
}

func (c *committer) loop() {
	defer c.stopped.Done()
	batch := make([]insertReq, 0, maxGroup)
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-c.quit:
			c.drain()
			return
		}
		c.gather(&batch)
		c.commit(batch)
		c.lastCommit, c.expect = time.Now(), nextExpect(c.expect, len(batch))
	}
}

// lingerFor is how long the writer waits for more callers before it
// commits, once the gateway is busy: a commit writes every page it touched
// to the WAL (tens of µs), so under load a few more rows per transaction save
// far more CPU than the wait costs in latency. The wait sleeps on a timer
// (spinning would take the CPU the handlers need to produce those rows).
const lingerFor = 200 * time.Microsecond

// busyWithin is what makes the writer "busy": a previous commit ended less
// than this long before the next request came. An idle gateway commits a
// lone request at once.
const busyWithin = time.Millisecond

// gather adds to batch whatever is queued and, when the writer is busy,
// whatever arrives within lingerFor of the first request, until the batch
// is as large as recent ones (expect, see nextExpect): the callers those
// transactions released are the ones expected back (clients in a closed
// loop), so once they are here waiting longer only adds latency. Everything
// already queued is always taken, so the batch grows with the load. The
// early end matters most when the machine is idle: Go then sleeps a
// sub-millisecond timer for up to a millisecond, which, with a fixed linger,
// made a lone client issuing token after token wait about a millisecond for
// each (tgbench -c 1: 700 requests/s; 5,400 with the early end).
func (c *committer) gather(batch *[]insertReq) {
	first := time.Now()
	busy := first.Sub(c.lastCommit) < busyWithin
	for len(*batch) < maxGroup {
		select {
		case r := <-c.reqs:
			*batch = append(*batch, r)
			continue
		default:
		}
		if !busy || len(*batch) >= c.expect {
			return
		}
		left := c.lingerFor - time.Since(first)
		if left <= 0 {
			return
		}
		c.linger.Reset(left)
		select {
		case r := <-c.reqs:
			*batch = append(*batch, r)
			c.linger.Stop() // since Go 1.23 no stale tick survives Stop or Reset
		case <-c.linger.C:
			return
		}
	}
}

// nextExpect is how many callers the writer expects after a transaction of
// batch requests when it expected expect: the batch's size if that is
// more, else an eighth less (at least one less), so that after a burst the
// expectation comes down to a lone client's within a few dozen commits.
func nextExpect(expect, batch int) int {
	return max(batch, expect-max(expect/8, 1))
}

// drain answers everything still queued at stop.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.reqs:
			r.done <- errCommitterStopped
		default:
			return
		}
	}
}

func (c *committer) commit(batch []insertReq) {
	results, err := c.write(batch)
	if err == nil {
		for i, r := range batch {
			r.done <- results[i]
		}
		return
	}
	// Retry one by one only a failure one request may have caused (its
	// duplicate digest, say). When the database itself is unavailable —
	// busy or locked past the busy timeout, read-only, full, I/O error —
	// every retry would wait out the busy timeout again, once per request.
	if len(batch) == 1 || errors.Is(classify("insert tokens", err), core.ErrUnavailable) {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		res, err := c.write([]insertReq{r})
		if err == nil {
			err = res[0]
		}
		r.done <- err
	}
}

// write runs a batch in one transaction. The returned error is the
// transaction's (nothing was written); results[i] is request i's own outcome
// (core.ErrConsumed for an exchange whose token was not live, or
// core.ErrActiveToken for a guarded insert, which wrote nothing for that
// request).
//
// It runs on the driver's connection (sql.Conn.Raw) with statements
// prepared there once, BEGIN and COMMIT included: database/sql's work per
// statement (a transaction object, each statement joined to it, arguments
// converted by reflection, a result wrapper) was about a third of the
// writer's allocations per row.
func (c *committer) write(batch []insertReq) (results []error, err error) {
	err = onDriver(context.Background(), c.db, func(conn *sqlite3.SQLiteConn) error {
		results, err = c.writeOn(conn, batch)
		return err
	})
	return results, err
}

// onDriver runs f on a connection of db's pool as the SQLite driver's own
// (the hot paths' statements are prepared on it), holding the connection
// as a transaction would.
func onDriver(ctx context.Context, db *sql.DB, f func(*sqlite3.SQLiteConn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("sqlite: the driver connection is a %T", dc)
		}
		return f(sc)
	})
}

// firstValue runs query st with args and returns the first column of its
// first row, or io.EOF when it answers none. Without a cancellable context
// the driver steps the query on this goroutine (on a cancellable one it
// starts a goroutine per step, to interrupt it: more than a lookup costs).
func firstValue(st *sqlite3.SQLiteStmt, args []driver.NamedValue) (driver.Value, error) {
	rows, err := st.QueryContext(context.Background(), args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dest := []driver.Value{nil}
	if err := rows.Next(dest); err != nil {
		return nil, err
	}
	return dest[0], nil
}

func (c *committer) writeOn(conn *sqlite3.SQLiteConn, batch []insertReq) (results []error, err error) {
	st, err := c.drv.on(conn)
	if err != nil {
		return nil, err
	}
	if _, err := c.exec(st.begin); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_, _ = c.exec(st.rollback)
		}
	}()
	results = make([]error, len(batch))
	written := 0
	for i, r := range batch {
		if r.consume != "" {
			res, err := c.exec(st.consume, r.now, r.consume)
			if err != nil {
				return nil, err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				results[i] = core.ErrConsumed
				continue
			}
		}
		if g := r.guard; g != nil {
			active, err := c.exists(st.active, g.clientID, g.dialect, r.now, string(core.TokenAccess))
			if err != nil {
				return nil, err
			}
			if active {
				results[i] = core.ErrActiveToken
				continue
			}
		}
		for j := range r.rows {
			t := &r.rows[j]
			if plain(t) {
				_, err = c.exec(st.insertPlain, t.Digest, t.Kind, t.ClientID, t.UserID, t.Dialect, t.Scopes, t.FamilyID,
					nullable(t.Issued), nullable(t.Expires), nullable(t.AuthTime))
			} else {
				_, err = c.exec(st.insert, t.Digest, t.Kind, t.ClientID, t.UserID, t.Dialect, t.Scopes, t.FamilyID,
					nullable(t.Issued), nullable(t.Expires), nullable(t.AuthTime), nullable(t.Consumed), nullable(t.Revoked),
					t.RedirectURI, t.CodeChallenge, t.CodeChallengeMethod, t.Details)
			}
			if err != nil {
				return nil, err
			}
		}
		written += len(r.rows)
	}
	if _, err := c.exec(st.commit); err != nil {
		return nil, err
	}
	c.commits.Add(1)
	c.rows.Add(int64(written))
	c.obs.GroupCommit(len(batch), written)
	return results, nil
}

// exec runs a prepared statement with args, numbered in order, reusing
// the writer's argument list. Without a cancellable context the driver
// runs it on this goroutine.
func (c *committer) exec(st *sqlite3.SQLiteStmt, args ...driver.Value) (driver.Result, error) {
	return st.ExecContext(context.Background(), c.numbered(args))
}

// exists runs a query answering one boolean row.
func (c *committer) exists(st *sqlite3.SQLiteStmt, args ...driver.Value) (bool, error) {
	v, err := firstValue(st, c.numbered(args))
	if err != nil {
		return false, err
	}
	n, ok := v.(int64)
	if !ok {
		return false, fmt.Errorf("sqlite: the active-token check answered a %T", v)
	}
	return n != 0, nil
}

func (c *committer) numbered(args []driver.Value) []driver.NamedValue {
	c.args = c.args[:0]
	for i, v := range args {
		c.args = append(c.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return c.args
}

// nullable is a nullable time column's value for the driver.
func nullable(v *int64) driver.Value {
	if v == nil {
		return nil
	}
	return *v
}

// driverStmts are the writer's statements, prepared on the driver
// connection they run on. The writer pool holds one connection for the
// store's life; should database/sql ever replace it, they are prepared
// again on the new one.
type driverStmts struct {
	conn                                                          *sqlite3.SQLiteConn
	begin, commit, rollback, insert, insertPlain, consume, active *sqlite3.SQLiteStmt
}

func (d *driverStmts) on(conn *sqlite3.SQLiteConn) (*driverStmts, error) {
	if d.conn == conn {
		return d, nil
	}
	d.close()
	fresh := driverStmts{conn: conn}
	for _, p := range []struct {
		st  **sqlite3.SQLiteStmt
		sql string
	}{
		{&fresh.begin, "BEGIN IMMEDIATE"}, {&fresh.commit, "COMMIT"}, {&fresh.rollback, "ROLLBACK"},
		{&fresh.insert, insertTokenSQL}, {&fresh.insertPlain, insertPlainTokenSQL},
		{&fresh.consume, consumeTokenSQL}, {&fresh.active, sqlstore.ActiveAccessTokenSQL},
	} {
		st, err := conn.Prepare(p.sql)
		if err != nil {
			fresh.close()
			return nil, err
		}
		*p.st = st.(*sqlite3.SQLiteStmt)
	}
	*d = fresh
	return d, nil
}

// close finalizes the statements (before their connection closes).
func (d *driverStmts) close() {
	for _, st := range []*sqlite3.SQLiteStmt{d.begin, d.commit, d.rollback, d.insert, d.insertPlain, d.consume, d.active} {
		if st != nil {
			_ = st.Close()
		}
	}
	*d = driverStmts{}
}

// WriteStats reports how many group-commit transactions and token rows the
// store has written: rows/commits is the mean batch size.
func (s *Store) WriteStats() (commits, rows int64) {
	return s.committer.commits.Load(), s.committer.rows.Load()
}

func (c *committer) stop() {
	c.once.Do(func() {
		close(c.quit)
		c.stopped.Wait()
		c.drv.close() // the loop has ended: nothing uses them
	})
}
