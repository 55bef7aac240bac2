package sqlite

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
	"github.com/tokengate/tokengate/storage/storagetest"
	"gorm.io/gorm"
)

func openT(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceMemory(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) core.Store { return openT(t, MemoryPath, Options{}) })
}

func TestConformanceFile(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) core.Store {
		return openT(t, filepath.Join(t.TempDir(), "tokengate.db"), Options{MaxReaders: 4})
	})
}

func TestEmptyPathIsPrivateMemory(t *testing.T) {
	ctx := t.Context()
	a := openT(t, "", Options{})
	b := openT(t, MemoryPath, Options{})
	if a.Path() != MemoryPath || b.Path() != MemoryPath {
		t.Fatalf("Path() = %q, %q; want %q", a.Path(), b.Path(), MemoryPath)
	}
	if err := a.PutClient(ctx, &core.Client{ID: "only-in-a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetClient(ctx, "only-in-a"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a client of one in-memory store is visible in another: %v", err)
	}
}

func TestReopenKeepsRows(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keep.db")
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	client := &core.Client{ID: "c", Grants: []core.GrantType{core.GrantClientCredentials}, AccessTTL: time.Minute, UpdatedAt: now}
	user := &core.User{ID: "u", Username: "ada", Linked: map[core.Provider]core.LinkedAccount{core.ProviderGitHub: {ID: "1"}}}
	auth := &core.Authorization{TokenDigest: core.Digest("auth"), UserID: "u", ClientID: "c", CreatedAt: now}
	tok := &core.Token{Digest: core.Digest("tok"), Kind: core.TokenRefresh, ClientID: "c", UserID: "u", FamilyID: "f",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	key := &core.SigningKey{ID: "k", Dialect: "d", Algorithm: "RS256", PEM: []byte("pem"), CreatedAt: now}

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for _, err := range []error{s.PutClient(ctx, client), s.PutUser(ctx, user), s.PutAuthorization(ctx, auth),
		s.InsertTokens(ctx, tok), s.PutSigningKey(ctx, key), s.Exchange(ctx, tok.Digest, now.Add(time.Minute))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openT(t, path, Options{})
	if c, err := s.GetClient(ctx, "c"); err != nil || c.AccessTTL != time.Minute || !c.UpdatedAt.Equal(now) {
		t.Errorf("client after reopen: %+v, %v", c, err)
	}
	if u, err := s.GetUserByUsername(ctx, "ada"); err != nil || u.Linked[core.ProviderGitHub].ID != "1" {
		t.Errorf("user after reopen: %+v, %v", u, err)
	}
	if a, err := s.GetAuthorization(ctx, auth.ID); err != nil || a.TokenDigest != auth.TokenDigest {
		t.Errorf("authorization %d after reopen: %+v, %v", auth.ID, a, err)
	}
	if got, err := s.GetToken(ctx, tok.Digest); err != nil || !got.ConsumedAt.Equal(now.Add(time.Minute)) || !got.IssuedAt.Equal(now) {
		t.Errorf("token after reopen: %+v, %v", got, err)
	}
	if keys, err := s.ListSigningKeys(ctx, "d"); err != nil || len(keys) != 1 || string(keys[0].PEM) != "pem" {
		t.Errorf("signing keys after reopen: %v, %v", keys, err)
	}
	// The reopened store assigns authorization IDs past the stored one.
	next := &core.Authorization{TokenDigest: core.Digest("auth2"), UserID: "u", ClientID: "c"}
	if err := s.PutAuthorization(ctx, next); err != nil || next.ID <= auth.ID {
		t.Errorf("PutAuthorization after reopen: id %d (first was %d), %v", next.ID, auth.ID, err)
	}
	var versions []int
	if err := s.r.Raw("SELECT version FROM schema_version ORDER BY version").Scan(&versions).Error; err != nil {
		t.Fatal(err)
	}
	if len(versions) != schemaVersion || versions[len(versions)-1] != schemaVersion {
		t.Errorf("schema_version rows = %v, want 1..%d once each", versions, schemaVersion)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("IntegrityCheck = %q, %v", res, err)
	}
}

func TestFileSettings(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "pragmas.db"), Options{})
	for _, tc := range []struct {
		db         *gorm.DB
		pragma     string
		want       string
		whichConns string
	}{
		{s.w, "journal_mode", "wal", "writer"},
		{s.r, "journal_mode", "wal", "reader"},
		{s.w, "synchronous", "1", "writer"}, // NORMAL
		{s.w, "busy_timeout", "5000", "writer"},
		{s.r, "busy_timeout", "5000", "reader"},
		{s.w, "foreign_keys", "1", "writer"},
		{s.w, "query_only", "0", "writer"},
		{s.r, "query_only", "1", "reader"},
	} {
		var got string
		if err := tc.db.Raw("PRAGMA " + tc.pragma).Scan(&got).Error; err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if !strings.EqualFold(got, tc.want) {
			t.Errorf("%s PRAGMA %s = %q, want %q", tc.whichConns, tc.pragma, got, tc.want)
		}
	}
	w, _ := s.w.DB()
	r, _ := s.r.DB()
	if got := w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	if got := r.Stats().MaxOpenConnections; got < 4 {
		t.Errorf("reader MaxOpenConnections = %d, want at least 4", got)
	}
	if res, err := s.IntegrityCheck(t.Context()); err != nil || res != "ok" {
		t.Errorf("IntegrityCheck = %q, %v", res, err)
	}
}

func TestSchema(t *testing.T) {
	s := openT(t, MemoryPath, Options{})
	var names []string
	if err := s.w.Raw("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	have := strings.Join(names, " ")
	for _, want := range []string{"clients", "users", "authorizations", "tokens", "signing_keys", "schema_version",
		"idx_tokens_family_id", "idx_tokens_client_id", "idx_tokens_expires_at", "idx_users_username"} {
		if !strings.Contains(" "+have+" ", " "+want+" ") {
			t.Errorf("schema lacks %s; has %s", want, have)
		}
	}
	var pk string
	if err := s.w.Raw("SELECT name FROM pragma_table_info('tokens') WHERE pk = 1").Scan(&pk).Error; err != nil || pk != "digest" {
		t.Errorf("tokens primary key = %q, %v; want digest", pk, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	s := openT(t, path, Options{})
	if err := s.w.Exec("INSERT INTO schema_version (version) VALUES (?)", schemaVersion+1).Error; err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s2, err := Open(t.Context(), path, Options{})
	if err == nil {
		_ = s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	var ve *SchemaVersionError
	if !errors.As(err, &ve) || ve.Database != schemaVersion+1 || ve.Binary != schemaVersion ||
		!strings.Contains(err.Error(), "upgrade tokengate") {
		t.Errorf("Open of a newer database: %v, want a *SchemaVersionError", err)
	}
	if errors.Is(err, core.ErrUnavailable) {
		t.Errorf("a newer schema is not an outage: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), Options{})
	if !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Open in a missing directory: %v, want core.ErrUnavailable", err)
	}
}

func TestErrorMapping(t *testing.T) {
	s := &Store{}
	sqlstoretest.CheckErrorMapping(t, s.fail, [][2]error{
		{sqlite3.Error{Code: sqlite3.ErrBusy}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrLocked}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrReadonly}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrFull}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrCantOpen}, core.ErrUnavailable},
		{sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintPrimaryKey}, core.ErrConflict},
		{sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, core.ErrConflict},
	}, []error{
		sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintNotNull},
		sqlite3.Error{Code: sqlite3.ErrError},
		errors.New("database is locked"), // text is never matched
	})
}

func TestBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	s := openT(t, path, Options{})
	// Another process-like connection holds the write lock, with a short
	// busy timeout on our side so the test stays fast.
	other := openT(t, path, Options{})
	sqlDB, _ := other.w.DB()
	conn, err := sqlDB.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck
	if err := s.w.Exec("PRAGMA busy_timeout = 50").Error; err != nil {
		t.Fatal(err)
	}
	err = s.PutClient(t.Context(), &core.Client{ID: "c"})
	if !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("PutClient while another connection holds the write lock: %v, want core.ErrUnavailable", err)
	}
	// Readers are not blocked by the writer in WAL mode.
	if _, err := s.GetClient(t.Context(), "c"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetClient during a foreign write transaction: %v, want core.ErrNotFound", err)
	}
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "concurrent.db"), Options{MaxReaders: 4})
	ctx := t.Context()
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 25 {
				tk := &core.Token{Digest: core.Digest(fmt.Sprintf("%d/%d", w, i)), Kind: core.TokenAccess, ClientID: "c",
					FamilyID: fmt.Sprint(w), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := s.InsertTokens(ctx, tk); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 25 {
				_, err := s.GetToken(ctx, core.Digest(fmt.Sprintf("%d/%d", w, i)))
				if err != nil && !errors.Is(err, core.ErrNotFound) {
					errs <- err
					return
				}
				if _, err := s.RevokeFamily(ctx, fmt.Sprint((w+1)%8), core.Revocation{At: now, Cause: core.RevokeAdmin}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := s.ListTokens(ctx, core.TokenFilter{})
	if err != nil || len(list) != 200 {
		t.Errorf("ListTokens: %d tokens, %v; want 200", len(list), err)
	}
}

func TestInsertTokensBulk(t *testing.T) {
	ctx := t.Context()
	s := openT(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
	ts := sqlstoretest.BulkTokens("a", 2*sqlstore.BatchSize+500)
	if err := s.InsertTokensBulk(ctx, ts); err != nil {
		t.Fatalf("InsertTokensBulk: %v", err)
	}
	list, err := s.ListTokens(ctx, core.TokenFilter{ClientID: "bulk"})
	if err != nil || len(list) != len(ts) {
		t.Fatalf("ListTokens after bulk insert: %d, %v; want %d", len(list), err, len(ts))
	}
	// A duplicate in the last batch rolls back the earlier batches too.
	more := sqlstoretest.BulkTokens("b", 2*sqlstore.BatchSize+500)
	more[len(more)-1] = ts[0]
	if err := s.InsertTokensBulk(ctx, more); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("InsertTokensBulk with a duplicate: %v, want core.ErrConflict", err)
	}
	if _, err := s.GetToken(ctx, more[0].Digest); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the first batch of a failed bulk insert was kept: %v", err)
	}
	// InsertTokens takes large batches as well.
	if err := s.InsertTokens(ctx, more[:len(more)-1]...); err != nil {
		t.Fatalf("InsertTokens of %d tokens: %v", len(more)-1, err)
	}
	if err := s.InsertTokensBulk(ctx, nil); err != nil {
		t.Errorf("InsertTokensBulk(nil): %v", err)
	}
}

// TestNoSecretsLogged checks that neither our logger nor gorm's sees SQL,
// digests or hashes, even when statements fail.
func TestNoSecretsLogged(t *testing.T) {
	sqlstoretest.CheckNoSecretsLogged(t, func(log *slog.Logger) core.Store {
		return openT(t, filepath.Join(t.TempDir(), "quiet.db"), Options{Logger: log})
	}, nil, "opened")
}

func BenchmarkInsertTokens(b *testing.B) {
	sqlstoretest.BenchmarkInsertTokens(b, openT(b, filepath.Join(b.TempDir(), "bench.db"), Options{}))
}

// BenchmarkGetToken measures the read from the database: the token read
// cache is off (BenchmarkGetTokenCached measures it).
func BenchmarkGetToken(b *testing.B) {
	sqlstoretest.BenchmarkGetToken(b, openT(b, filepath.Join(b.TempDir(), "bench.db"), Options{TokenCache: -1}))
}

// BenchmarkGetTokenParallel reads from 32 goroutines at once, as a loaded
// gateway's validations do: the hot read's connections are shared (the
// token read cache is off).
func BenchmarkGetTokenParallel(b *testing.B) {
	ctx := context.Background()
	s := openT(b, filepath.Join(b.TempDir(), "bench.db"), Options{TokenCache: -1})
	ts := sqlstoretest.BulkTokens("get", 10000)
	if err := s.InsertTokensBulk(ctx, ts); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(16) // 32 goroutines on two cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetToken(ctx, ts[int(n.Add(1))%len(ts)].Digest); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInsertTokensParallel issues from 32 goroutines, as a loaded
// gateway does; the group committer batches them into shared transactions.
// Keys and family ids are made as the engine makes them (time-ordered:
// appends) or as plain digests (random: a random index page per token, as
// releases before time-ordered keys stored every token).
func BenchmarkInsertTokensParallel(b *testing.B) {
	ctx := context.Background()
	minter := core.OpaqueMinter{Rand: crand.Reader}
	layouts := []struct {
		name string
		key  func(at time.Time, i int64) (key, family string)
	}{
		{"time-ordered", func(at time.Time, _ int64) (string, string) {
			v, _ := minter.Mint(ctx, core.Claims{IssuedAt: at})
			f, _ := core.NewFamilyID(crand.Reader, at)
			return core.TokenKey(v), f
		}},
		{"random", func(_ time.Time, i int64) (string, string) {
			return core.Digest(fmt.Sprint("bench-", i)), core.Digest(fmt.Sprint("family-", i))[:40]
		}},
	}
	for _, layout := range layouts {
		key := layout.key
		b.Run("keys="+layout.name, func(b *testing.B) {
			s := openT(b, filepath.Join(b.TempDir(), "bench.db"), Options{})
			var n atomic.Int64
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					now := time.Now()
					digest, family := key(now, i)
					tk := &core.Token{Digest: digest, Kind: core.TokenAccess, ClientID: "c", UserID: "u", Dialect: "d",
						Scopes: []string{"read"}, FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(time.Hour), AuthTime: now}
					if err := s.InsertTokens(ctx, tk); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// The writer never checkpoints on a request's time; the background
// checkpointer keeps the WAL short instead.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.db")
	s := openT(t, path, Options{WALLimit: 256 << 10})
	var auto int
	w, _ := s.w.DB()
	if err := w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, %v", auto, err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	// Under a stream of writes the WAL is reused once it passes the limit
	// instead of growing: 6 chunks would need ~6 chunks of WAL without it.
	const walLimit = 256 << 10
	var chunk, peak int64
	for i := range 6 {
		if err := s.InsertTokensBulk(context.Background(), sqlstoretest.BulkTokens(fmt.Sprint("ckpt", i), 1000)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			chunk = walSize()
		}
		peak = max(peak, walSize())
		s.ckpt.runNow() // the round a tick would run, without waiting for it
	}
	if chunk*6 <= walLimit+3*chunk {
		t.Fatalf("chunks too small to tell: %d bytes each", chunk)
	}
	if peak > walLimit+3*chunk {
		t.Fatalf("WAL grew to %d bytes (chunk %d, limit %d): not reused", peak, chunk, walLimit)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n != 0 {
		t.Fatalf("WAL after a clean close: %d bytes, want a final TRUNCATE checkpoint", n)
	}
}

// TestGroupCommitBatchesBusyWriter checks that concurrent issuers share
// transactions: once the writer is busy it lingers for more callers, so 32
// goroutines issuing one token at a time need far fewer commits than tokens.
// Every token is still committed before its InsertTokens returns.
func TestGroupCommitBatchesBusyWriter(t *testing.T) {
	ctx := t.Context()
	s := openT(t, filepath.Join(t.TempDir(), "group.db"), Options{})
	now := time.Now()
	const workers, each = 32, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				tk := &core.Token{Digest: core.Digest(fmt.Sprint("group-", w, "-", i)), Kind: core.TokenAccess, ClientID: "c",
					UserID: "u", Dialect: "d", FamilyID: "f", IssuedAt: now, ExpiresAt: now.Add(time.Hour), AuthTime: now}
				if err := s.InsertTokens(ctx, tk); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.GetToken(ctx, tk.Digest); err != nil {
					t.Errorf("token %d/%d not readable after InsertTokens returned: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	commits, rows := s.WriteStats()
	if rows != workers*each {
		t.Fatalf("WriteStats rows = %d, want %d", rows, workers*each)
	}
	t.Logf("%d commits for %d rows", commits, rows)
	if mean := float64(rows) / float64(commits); mean < 3 {
		t.Errorf("%d commits for %d rows (%.1f rows a commit); want the busy writer to batch at least 3 a commit", commits, rows, mean)
	}
}

// After a burst the writer's expectation comes down to a lone client's
// (one caller a transaction) within a few dozen commits, and never below
// what a transaction served.
func TestGroupCommitExpectationFollowsTheLoad(t *testing.T) {
	expect := maxGroup
	commits := 0
	for ; expect > 1; commits++ {
		if commits > 60 {
			t.Fatalf("after %d lone commits the writer still expects %d callers", commits, expect)
		}
		expect = nextExpect(expect, 1)
	}
	if got := nextExpect(3, 40); got != 40 {
		t.Fatalf("a transaction of 40 after expecting 3: expect %d", got)
	}
	if got := nextExpect(1, 1); got != 1 {
		t.Fatalf("a lone client: expect %d", got)
	}
}

// The busy writer waits for as many callers as its previous transaction
// served, and no longer: a lone client issuing one token after another is
// never held back by the linger, and a batch still gathers what is due.
// The linger is an hour here, so a writer that waited for it would hang.
func TestGroupCommitWaitsForTheExpectedCallersOnly(t *testing.T) {
	c := &committer{reqs: make(chan insertReq, maxGroup), lingerFor: time.Hour, linger: time.NewTimer(time.Hour)}
	c.linger.Stop()
	gathered := func(expect int, queued int) chan int {
		c.expect, c.lastCommit = expect, time.Now() // busy
		batch := []insertReq{{}}
		for range queued {
			c.reqs <- insertReq{}
		}
		out := make(chan int, 1)
		go func() { c.gather(&batch); out <- len(batch) }()
		return out
	}
	const patience = 10 * time.Second // far beyond any scheduling delay; an hour short of the linger

	// A lone client: the previous transaction served one caller.
	select {
	case n := <-gathered(1, 0):
		if n != 1 {
			t.Fatalf("gathered %d, want 1", n)
		}
	case <-time.After(patience):
		t.Fatal("a lone caller waited for the linger")
	}

	// Everything already queued is taken, beyond the expected count.
	if n := <-gathered(2, 4); n != 5 {
		t.Fatalf("gathered %d of 5 queued callers", n)
	}

	// Three expected, two here: the writer waits for the third.
	out := gathered(3, 1)
	select {
	case n := <-out:
		t.Fatalf("committed %d of the 3 expected callers without waiting", n)
	case <-time.After(50 * time.Millisecond):
	}
	c.reqs <- insertReq{}
	select {
	case n := <-out:
		if n != 3 {
			t.Fatalf("gathered %d, want 3", n)
		}
	case <-time.After(patience):
		t.Fatal("the writer kept waiting with every expected caller there")
	}
}
