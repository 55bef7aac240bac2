package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/migrate"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
	"github.com/tokengate/tokengate/storage/storagetest"
)

func openT(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", redactDSN(dsn), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// admin returns a connection to the test server outside any store.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := adminConn(ctx, TestServerDSN(t))
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestConformance runs the suite with each store in a schema of its own,
// named by the DSN's search_path (TestDSN).
func TestConformance(t *testing.T) {
	t.Parallel()
	TestServerDSN(t) // skip once, not in every subtest
	storagetest.Run(t, func(t *testing.T) core.Store {
		return openT(t, TestDSN(t), Options{MaxOpenConns: 8})
	})
}

// TestControlConformance runs the shared control plane's suite.
func TestControlConformance(t *testing.T) {
	t.Parallel()
	TestServerDSN(t)
	storagetest.RunControl(t, func(t *testing.T) core.ControlStore {
		return openT(t, TestDSN(t), Options{MaxOpenConns: 8})
	})
}

// TestConformanceSchemaOption runs the suite with Options.Schema creating
// each store's schema, and the default pool.
func TestConformanceSchemaOption(t *testing.T) {
	t.Parallel()
	TestServerDSN(t) // skip once, not in every subtest
	storagetest.Run(t, func(t *testing.T) core.Store {
		dsn, schema := TestSchema(t)
		return openT(t, dsn, Options{Schema: schema})
	})
}

// TestTwoStoresExchangeRace opens several stores (separate pools, like
// replicas) on one schema at once, which races their migrations, and then
// races Exchange of one digest across two of them.
func TestTwoStoresExchangeRace(t *testing.T) {
	t.Parallel()
	dsn, schema := TestSchema(t)
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		dsn := dsn
		if i == 1 {
			// The store's transactions are READ COMMITTED whatever the
			// server's default, so Exchange's losers see ErrConsumed, not
			// serialization failures.
			dsn = withParams(dsn, map[string]string{"default_transaction_isolation": "serializable"})
		}
		wg.Go(func() {
			stores[i], errs[i] = Open(t.Context(), dsn, Options{Schema: schema, MaxOpenConns: 10})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	var versions []int
	if err := stores[0].db.Raw("SELECT version FROM schema_version ORDER BY version").Scan(&versions).Error; err != nil {
		t.Fatal(err)
	}
	// One row per migration step, each exactly once.
	if len(versions) != schemaVersion || versions[len(versions)-1] != schemaVersion {
		t.Fatalf("schema_version after %d concurrent Opens: %v, want 1..%d once each", len(stores), versions, schemaVersion)
	}

	a, b := stores[0], stores[1]
	ctx := t.Context()
	now := time.Now()
	const n = 20
	for round := range 5 {
		parent := &core.Token{Digest: core.Digest(fmt.Sprint("parent-", round)), Kind: core.TokenRefresh, ClientID: "c",
			FamilyID: fmt.Sprint("f", round), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := a.InsertTokens(ctx, parent); err != nil {
			t.Fatal(err)
		}
		succ := make([]*core.Token, n)
		for i := range succ {
			succ[i] = &core.Token{Digest: core.Digest(fmt.Sprint("succ-", round, "-", i)), Kind: core.TokenRefresh,
				ClientID: "c", FamilyID: parent.FamilyID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		}
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				<-start
				errs[i] = s.Exchange(ctx, parent.Digest, now.Add(time.Duration(i+1)*time.Second), succ[i])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: exchanges %d and %d both succeeded", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, core.ErrConsumed):
				t.Errorf("round %d: exchange %d: %v, want nil or core.ErrConsumed", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: none of %d exchanges succeeded: %v", round, n, errs)
		}
		for i, sc := range succ {
			_, err := b.GetToken(ctx, sc.Digest)
			if i == winner && err != nil {
				t.Errorf("round %d: the winner's successor: %v", round, err)
			}
			if i != winner && !errors.Is(err, core.ErrNotFound) {
				t.Errorf("round %d: successor of losing exchange %d: %v, want core.ErrNotFound", round, i, err)
			}
		}
		got, err := a.GetToken(ctx, parent.Digest)
		if err != nil || !got.ConsumedAt.Equal(now.Add(time.Duration(winner+1)*time.Second).Truncate(time.Microsecond)) {
			t.Errorf("round %d: parent after the race: %+v, %v", round, got, err)
		}
	}
}

// TestAuthorizationIDs checks that fresh IDs follow explicit ones and stay
// unique when drawn concurrently by two stores.
func TestAuthorizationIDs(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	a, b := openT(t, dsn, Options{}), openT(t, dsn, Options{})
	ctx := t.Context()
	if err := a.PutAuthorization(ctx, &core.Authorization{ID: 10, TokenDigest: "d10", UserID: "u", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	fresh := &core.Authorization{TokenDigest: "fresh", UserID: "u", ClientID: "c"}
	if err := b.PutAuthorization(ctx, fresh); err != nil || fresh.ID != 11 {
		t.Fatalf("PutAuthorization with ID 0 after ID 10: id %d, %v; want 11", fresh.ID, err)
	}
	// Explicit IDs below the sequence do not move it back.
	if err := a.PutAuthorization(ctx, &core.Authorization{ID: 3, TokenDigest: "d3", UserID: "u", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	auths := make([]*core.Authorization, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		auths[i] = &core.Authorization{TokenDigest: fmt.Sprint("c", i), UserID: "u", ClientID: "c"}
		wg.Go(func() { errs[i] = s.PutAuthorization(ctx, auths[i]) })
	}
	wg.Wait()
	seen := map[int64]bool{3: true, 10: true, 11: true}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent PutAuthorization %d: %v", i, err)
		}
		if auths[i].ID <= 11 || seen[auths[i].ID] {
			t.Errorf("concurrent PutAuthorization %d got ID %d (seen %v)", i, auths[i].ID, seen)
		}
		seen[auths[i].ID] = true
	}
	list, err := a.ListAuthorizations(ctx)
	if err != nil || len(list) != n+3 {
		t.Errorf("ListAuthorizations: %d, %v; want %d", len(list), err, n+3)
	}
}

func TestSchemaObjects(t *testing.T) {
	t.Parallel()
	dsn, schema := TestSchema(t)
	s := openT(t, dsn, Options{Schema: schema})
	var names []string
	if err := s.db.Raw(`SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ? AND c.relkind IN ('r', 'i') ORDER BY 1`, schema).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	have := " " + strings.Join(names, " ") + " "
	for _, want := range []string{"clients", "users", "authorizations", "tokens", "signing_keys", "schema_version",
		"idx_tokens_family_id", "idx_tokens_client_id", "idx_tokens_expires_at", "idx_users_username", "tokens_pkey"} {
		if !strings.Contains(have, " "+want+" ") {
			t.Errorf("schema %s lacks %s; has%s", schema, want, have)
		}
	}
	var typ string
	if err := s.db.Raw(`SELECT data_type::text FROM information_schema.columns
		WHERE table_schema = ? AND table_name = 'tokens' AND column_name = 'consumed_at'`, schema).Scan(&typ).Error; err != nil ||
		typ != "timestamp with time zone" {
		t.Errorf("tokens.consumed_at type = %q, %v", typ, err)
	}
	var sp, app string
	if err := s.db.Raw("SHOW search_path").Scan(&sp).Error; err != nil || sp != `"`+schema+`"` && sp != schema {
		t.Errorf("search_path = %q, %v; want %s", sp, err, schema)
	}
	if err := s.db.Raw("SHOW application_name").Scan(&app).Error; err != nil || app != DefaultApplicationName {
		t.Errorf("application_name = %q, %v; want %s", app, err, DefaultApplicationName)
	}
	if got := s.sqlDB.Stats().MaxOpenConnections; got != DefaultMaxOpenConns {
		t.Errorf("MaxOpenConnections = %d, want %d", got, DefaultMaxOpenConns)
	}
}

// TestNewerSchemaRefused fakes a database written by a newer build.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	s := openT(t, dsn, Options{})
	if err := s.db.Exec("INSERT INTO schema_version (version) VALUES (?)", schemaVersion+1).Error; err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("database schema version %d is newer than this binary supports (%d); upgrade tokengate",
		schemaVersion+1, schemaVersion)
	s2, err := Open(t.Context(), dsn, Options{})
	if err == nil {
		_ = s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	var ve *SchemaVersionError
	if !errors.As(err, &ve) || ve.Database != schemaVersion+1 || ve.Binary != schemaVersion || !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a newer database: %v, want %q", err, want)
	}
	if errors.Is(err, core.ErrUnavailable) {
		t.Errorf("a newer schema is not an outage: %v", err)
	}
	if err := s.Migrate(t.Context()); !errors.As(err, &ve) {
		t.Errorf("Migrate of a newer database: %v, want a *SchemaVersionError", err)
	}
	if _, err := Open(t.Context(), dsn, Options{SkipMigrate: true}); !errors.As(err, &ve) {
		t.Errorf("Open(SkipMigrate) of a newer database: %v, want a *SchemaVersionError", err)
	}
}

// TestMigrateForward applies a further step to a database holding rows, as
// a newer build would, and checks nothing is lost; then this build refuses
// the result.
func TestMigrateForward(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	ctx := t.Context()
	s := openT(t, dsn, Options{})
	now := time.Now().Truncate(time.Microsecond)
	tk := &core.Token{Digest: core.Digest("kept"), Kind: core.TokenRefresh, ClientID: "c", FamilyID: "f",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, err := range []error{s.PutClient(ctx, &core.Client{ID: "c", UpdatedAt: now}), s.InsertTokens(ctx, tk),
		s.PutUser(ctx, &core.User{ID: "u", Username: "ada"})} {
		if err != nil {
			t.Fatal(err)
		}
	}

	next := sqlstoretest.CheckMigrate(t, s.db, migrations, func(steps []migrate.Step) (int, int, error) {
		return migrate.Run(ctx, s.db, s.migrator(), steps)
	})
	// The rows survived, and this store still works on the wider table.
	if got, err := s.GetToken(ctx, tk.Digest); err != nil || !got.IssuedAt.Equal(now) {
		t.Errorf("token after migrating: %+v, %v", got, err)
	}
	if c, err := s.GetClient(ctx, "c"); err != nil || !c.UpdatedAt.Equal(now) {
		t.Errorf("client after migrating: %+v, %v", c, err)
	}
	if u, err := s.GetUserByUsername(ctx, "ada"); err != nil || u.ID != "u" {
		t.Errorf("user after migrating: %+v, %v", u, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != migrate.Latest(next) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, migrate.Latest(next))
	}
	// This build refuses the migrated database.
	if s2, err := Open(ctx, dsn, Options{}); err == nil {
		_ = s2.Close()
		t.Error("this build opened a database at a newer version")
	}
}

// TestMigrateFromV0 opens a database holding a partial schema made by hand
// without schema_version (version 0): the migration completes it and keeps
// the rows.
func TestMigrateFromV0(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	ctx := t.Context()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn := admin(t)
	schema := pgx.Identifier{cfg.RuntimeParams["search_path"]}.Sanitize()
	for _, stmt := range []string{
		migrations[0].Stmts[0], // clients, as version 1 has it
		`INSERT INTO clients VALUES ('old', 'hash', '["client_credentials"]', 'null', 'null', 'null', 60000000000, 0, false, false, NULL, '2030-01-02T03:04:05.123456Z')`,
	} {
		if _, err := conn.Exec(ctx, "SET search_path = "+schema+"; "+stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := openT(t, dsn, Options{SkipMigrate: false})
	c, err := s.GetClient(ctx, "old")
	if err != nil || c.AccessTTL != time.Minute || c.SecretHash != "hash" || len(c.Grants) != 1 ||
		!c.UpdatedAt.Equal(time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)) {
		t.Fatalf("a client stored before the migration: %+v, %v", c, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != schemaVersion {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
	}
	if err := s.InsertTokens(ctx, &core.Token{Digest: "d", Kind: core.TokenAccess, ClientID: "old"}); err != nil {
		t.Errorf("InsertTokens after migrating from version 0: %v", err)
	}
}

// TestSkipMigrate: a store told not to migrate refuses an old schema until
// Migrate has run.
func TestSkipMigrate(t *testing.T) {
	t.Parallel()
	dsn, schema := TestSchema(t)
	ctx := t.Context()
	_, err := Open(ctx, dsn, Options{Schema: schema, SkipMigrate: true})
	var ve *SchemaVersionError
	if !errors.As(err, &ve) || ve.Database != 0 || !strings.Contains(err.Error(), "run tokengate migrate") {
		t.Fatalf("Open(SkipMigrate) of an empty schema: %v, want a *SchemaVersionError asking to migrate", err)
	}
	m := openT(t, dsn, Options{Schema: schema})
	if err := m.Migrate(ctx); err != nil {
		t.Fatalf("Migrate of a migrated database: %v", err)
	}
	s := openT(t, dsn, Options{Schema: schema, SkipMigrate: true})
	if err := s.PutClient(ctx, &core.Client{ID: "c"}); err != nil {
		t.Errorf("PutClient: %v", err)
	}
	_ = m.Close()
	if err := m.Migrate(ctx); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Migrate after Close: %v, want core.ErrUnavailable", err)
	}
}

// TestTerminatedBackends ends every session of a store from the server side,
// as an administrator or a server restart would: each call then succeeds or
// fails with core.ErrUnavailable, never hangs, and the store heals itself,
// a stale connection failing at most one call.
func TestTerminatedBackends(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	appName := cfg.RuntimeParams["application_name"]
	const conns = 4
	s := openT(t, dsn, Options{MaxOpenConns: conns, MaxIdleConns: conns})
	ctx := t.Context()
	now := time.Now()
	if err := s.PutClient(ctx, &core.Client{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	conn := admin(t)
	countSessions := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND application_name = $1`, appName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	for round := range 3 {
		// Fill the pool: conns connections, all idle.
		held := make([]interface{ Close() error }, conns)
		for i := range held {
			c, err := s.sqlDB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.PingContext(ctx); err != nil {
				t.Fatal(err)
			}
			held[i] = c
		}
		for _, c := range held {
			_ = c.Close()
		}
		if n := countSessions(); n != conns {
			t.Fatalf("round %d: %d sessions named %s, want %d", round, n, appName, conns)
		}
		var killed int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1) k`, appName).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed != conns {
			t.Fatalf("round %d: terminated %d sessions, want %d", round, killed, conns)
		}

		// Right away (before database/sql's idle-connection ping would
		// notice), from several goroutines, with reads, writes and
		// transactions.
		const workers, calls = 8, 6
		var mu sync.Mutex
		var failures, successes int
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					start := time.Now()
					var err error
					switch i % 3 {
					case 0:
						_, err = s.GetClient(ctx, "c")
					case 1:
						err = s.InsertTokens(ctx, &core.Token{Digest: fmt.Sprint(round, "/", w, "/", i), Kind: core.TokenRefresh,
							ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
					case 2:
						err = s.Exchange(ctx, fmt.Sprint(round, "/", w, "/", i-1), now)
						if errors.Is(err, core.ErrConsumed) {
							err = nil // its InsertTokens was the call that failed
						}
					}
					if d := time.Since(start); d > 4*time.Second {
						t.Errorf("round %d: a call took %v", round, d)
					}
					mu.Lock()
					switch {
					case err == nil:
						successes++
					case errors.Is(err, core.ErrUnavailable):
						failures++
						t.Logf("round %d: %v", round, err)
					default:
						t.Errorf("round %d: %v, want nil or core.ErrUnavailable", round, err)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		t.Logf("round %d: after terminating %d sessions: %d calls failed, %d succeeded", round, conns, failures, successes)
		if failures > conns {
			t.Errorf("round %d: %d calls failed after terminating %d sessions; a stale connection may fail one call only",
				round, failures, conns)
		}
		// And it keeps working.
		for i := range 5 {
			if _, err := s.GetClient(ctx, "c"); err != nil {
				t.Fatalf("round %d: call %d after recovery: %v", round, i, err)
			}
		}
	}
}

// proxy is a TCP proxy in front of the test server that a test can cut
// (connections refused), black-hole (connections accepted, never answered)
// and restore, without touching the shared server.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0", true)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) listen(addr string, forward bool) {
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				return
			}
			if !forward {
				continue // black hole: hold the connection, say nothing
			}
			p.wg.Go(func() {
				up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
				if err != nil || !p.track(up) {
					_ = c.Close()
					return
				}
				go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
				_, _ = io.Copy(c, up)
				_ = c.Close()
			})
		}
	})
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

// stop closes the listener and every connection.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}

// TestServerGoesAway cuts the network to the server, then makes it a black
// hole, then restores it: calls fail fast with core.ErrUnavailable while the
// server is gone and the store recovers by itself.
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	dsn := TestDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	host, port, _ := net.SplitHostPort(p.addr)
	s := openT(t, withParams(dsn, map[string]string{"host": host, "port": port}),
		Options{CallTimeout: time.Second, MaxOpenConns: 4})
	ctx := context.Background() // no deadline: the store's own timeouts must bound calls
	if err := s.PutClient(ctx, &core.Client{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	call := func(what string) error {
		t.Helper()
		start := time.Now()
		_, err := s.GetClient(ctx, "c")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: a call took %v", what, d)
		}
		return err
	}

	p.stop() // refused
	for i := range 3 {
		if err := call("server gone"); !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("server gone, call %d: %v, want core.ErrUnavailable", i, err)
		}
	}
	p.listen(p.addr, false) // black hole
	for i := range 2 {
		if err := call("server a black hole"); !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("server a black hole, call %d: %v, want core.ErrUnavailable", i, err)
		}
	}
	p.stop()
	p.listen(p.addr, true) // back
	var errs []error
	for range 5 {
		err := call("server back")
		if err == nil {
			break
		}
		if !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("server back: %v, want nil or core.ErrUnavailable", err)
		}
		errs = append(errs, err)
	}
	if len(errs) == 5 {
		t.Fatalf("the store did not recover once the server was back: %v", errs)
	}
	if err := s.PutClient(ctx, &core.Client{ID: "d"}); err != nil {
		t.Errorf("PutClient after recovery: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	start := time.Now()
	_, err = Open(context.Background(), "postgres://tokengate:secret@"+addr+"/test?sslmode=disable", Options{})
	if !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Open of an unreachable server: %v, want core.ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open of an unreachable server took %v", d)
	}
	if _, err := Open(context.Background(), "postgres://[::1", Options{}); err == nil || errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Open of a malformed DSN: %v, want a non-outage error", err)
	}
}

func TestErrorMapping(t *testing.T) {
	s := &Store{}
	sqlstoretest.CheckErrorMapping(t, s.fail, [][2]error{
		{&pgconn.PgError{Code: "23505"}, core.ErrConflict},
		{fmt.Errorf("in a transaction: %w", &pgconn.PgError{Code: "23505"}), core.ErrConflict},
		{&pgconn.PgError{Code: "08006"}, core.ErrUnavailable}, // connection_failure
		{&pgconn.PgError{Code: "08001"}, core.ErrUnavailable}, // sqlclient_unable_to_establish_sqlconnection
		{&pgconn.PgError{Code: "57P01"}, core.ErrUnavailable}, // admin_shutdown
		{&pgconn.PgError{Code: "57P03"}, core.ErrUnavailable}, // cannot_connect_now
		{&pgconn.PgError{Code: "53300"}, core.ErrUnavailable}, // too_many_connections
		{&pgconn.PgError{Code: "53100"}, core.ErrUnavailable}, // disk_full
		{&pgconn.PgError{Code: "25006"}, core.ErrUnavailable}, // read_only_sql_transaction
		{&pgconn.PgError{Code: "40P01"}, core.ErrUnavailable}, // deadlock_detected
		{&pgconn.ConnectError{}, core.ErrUnavailable},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, core.ErrUnavailable},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, core.ErrUnavailable},
		{driver.ErrBadConn, core.ErrUnavailable},
		{io.ErrUnexpectedEOF, core.ErrUnavailable},
		{context.DeadlineExceeded, core.ErrUnavailable},
		{fmt.Errorf("timeout: %w", context.DeadlineExceeded), core.ErrUnavailable},
	}, []error{
		&pgconn.PgError{Code: "23502"}, // not_null_violation
		&pgconn.PgError{Code: "42P01"}, // undefined_table
		&pgconn.PgError{Code: "22021"}, // character_not_in_repertoire
		&pgconn.PgError{Code: "23505"[:4]},
		errors.New("connection refused"), // text is never matched
		errors.New("duplicate key value violates unique constraint"),
		context.Canceled, // the caller gave up; the database did not fail
	})
}

func TestDSNRedacted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db"},
		{"postgres://h/db?password=secret&user=u", "postgres://h/db?user=u"},
		{"host=h user=u password=secret dbname=db", "host=h user=u dbname=db"},
		{"host=h password = 'se cr\\'et' dbname=db", "host=h dbname=db"},
		{"password=secret", ""},
	} {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	dsn := TestDSN(t)
	s := openT(t, withParams(dsn, map[string]string{"password": "secret"}), Options{})
	if strings.Contains(s.DSN(), "secret") || !strings.Contains(s.DSN(), "search_path=tg_test_") {
		t.Errorf("DSN() = %q", s.DSN())
	}
}

func TestInsertTokensBulk(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openT(t, TestDSN(t), Options{})
	ts := sqlstoretest.BulkTokens("a", 2*sqlstore.BatchSize+500)
	if err := s.InsertTokensBulk(ctx, ts); err != nil {
		t.Fatalf("InsertTokensBulk: %v", err)
	}
	list, err := s.ListTokens(ctx, core.TokenFilter{ClientID: "bulk"})
	if err != nil || len(list) != len(ts) {
		t.Fatalf("ListTokens after bulk insert: %d, %v; want %d", len(list), err, len(ts))
	}
	for _, i := range []int{0, 1, len(ts) - 1} {
		got, err := s.GetToken(ctx, ts[i].Digest)
		if err != nil || !got.RevokedAt.Equal(ts[i].RevokedAt.Truncate(time.Microsecond)) ||
			!got.IssuedAt.Equal(ts[i].IssuedAt.Truncate(time.Microsecond)) || len(got.Scopes) != 1 {
			t.Errorf("bulk token %d: %+v, %v", i, got, err)
		}
	}
	// A duplicate at the end fails the whole COPY.
	more := sqlstoretest.BulkTokens("b", 2*sqlstore.BatchSize+500)
	more[len(more)-1] = ts[0]
	if err := s.InsertTokensBulk(ctx, more); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("InsertTokensBulk with a duplicate: %v, want core.ErrConflict", err)
	}
	if _, err := s.GetToken(ctx, more[0].Digest); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the start of a failed bulk insert was kept: %v", err)
	}
	// InsertTokens takes more than one INSERT's worth, atomically too.
	if err := s.InsertTokens(ctx, more...); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("InsertTokens of %d tokens with a duplicate: %v, want core.ErrConflict", len(more), err)
	}
	if _, err := s.GetToken(ctx, more[0].Digest); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the first batch of a failed InsertTokens was kept: %v", err)
	}
	if err := s.InsertTokens(ctx, more[:len(more)-1]...); err != nil {
		t.Fatalf("InsertTokens of %d tokens: %v", len(more)-1, err)
	}
	if err := s.InsertTokensBulk(ctx, nil); err != nil {
		t.Errorf("InsertTokensBulk(nil): %v", err)
	}
	_ = s.Close()
	if err := s.InsertTokensBulk(ctx, ts[:1]); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("InsertTokensBulk after Close: %v, want core.ErrUnavailable", err)
	}
}

// TestNoSecretsLogged checks that neither our logger nor gorm's sees SQL,
// digests, hashes or the password, even when statements fail.
func TestNoSecretsLogged(t *testing.T) {
	t.Parallel()
	dsn, schema := TestSchema(t)
	sqlstoretest.CheckNoSecretsLogged(t, func(log *slog.Logger) core.Store {
		return openT(t, withParams(dsn, map[string]string{"password": "pgsecret"}), Options{Logger: log, Schema: schema})
	}, []string{"pgsecret"}, "opened", "migrated", "closed")
}

func TestTestDSNHelpers(t *testing.T) {
	dsn := TestDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := cfg.RuntimeParams["search_path"]
	if !strings.HasPrefix(schema, testSchemaPrefix) || cfg.RuntimeParams["application_name"] != schema {
		t.Fatalf("TestDSN = %s", redactDSN(dsn))
	}
	var exists bool
	conn := admin(t)
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil || !exists {
		t.Fatalf("the schema of TestDSN does not exist: %v, %v", exists, err)
	}
	// The cleanup of a finished subtest drops its schema.
	var sub string
	t.Run("sub", func(t *testing.T) {
		s := OpenTest(t)
		sub = s.schema
		if err := s.PutClient(t.Context(), &core.Client{ID: "c"}); err != nil {
			t.Fatal(err)
		}
	})
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", sub).Scan(&exists); err != nil || exists {
		t.Errorf("the schema %s of a finished test was not dropped: %v, %v", sub, exists, err)
	}
}

func BenchmarkInsertTokens(b *testing.B) { sqlstoretest.BenchmarkInsertTokens(b, OpenTest(b)) }

func BenchmarkGetToken(b *testing.B) { sqlstoretest.BenchmarkGetToken(b, OpenTest(b)) }

func BenchmarkInsertTokensBulk(b *testing.B) {
	ctx := context.Background()
	s := OpenTest(b)
	i := 0
	for b.Loop() {
		if err := s.InsertTokensBulk(ctx, sqlstoretest.BulkTokens(fmt.Sprint("bulk", i), 1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
