package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/migrate"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// MemoryPath is the path of a private in-memory database.
const MemoryPath = ":memory:"

// Options tunes a Store. The zero value is usable.
type Options struct {
	// Logger receives open/close events; nil discards them. SQL is never logged.
	Logger *slog.Logger
	// MaxReaders bounds each of a file store's two pools of query-only
	// connections, the hot token read's and the other queries' (default:
	// the larger of 4 and GOMAXPROCS). An in-memory store has one
	// connection.
	MaxReaders int
	// TokenCache is how many tokens written or read lately GetToken keeps
	// in memory (default 4,096, about 1.3 MB; negative: none). See
	// tokencache.go.
	TokenCache int
	// WALLimit is the WAL size in bytes above which the background
	// checkpoint truncates it (default 64 MiB).
	WALLimit int64
	// Observer is told the size of each group-commit transaction
	// (metrics); nil: nothing is.
	Observer core.StoreObserver
}

// Store is core.Store on SQLite. It is safe for concurrent use. Its methods
// are those of core.Store, InsertTokensBulk and those below; the ones
// without a declaration here are those it shares with storage/postgres
// (sqlstore.Ops in storage/internal/sqlstore).
type Store struct {
	ops    // the operations shared with storage/postgres
	path   string
	memory bool
	log    *slog.Logger
	w      *gorm.DB // the one writer connection
	r      *gorm.DB // the reader pool; the writer itself for :memory:
	closed atomic.Bool

	walLimit  int64
	obs       core.StoreObserver // group-commit sizes; nil: none
	committer *committer         // group commit of InsertTokens
	ckpt      *checkpointer
	reads     *tokenReads // GetToken's connections
	cache     *tokenCache // tokens written or read lately (tokencache.go)
}

var _ core.Store = (*Store)(nil)

// Times are stored as int64 unix nanoseconds.
type (
	ops      = sqlstore.Ops[int64]
	tokenRow = sqlstore.Token[int64]
)

// Open opens (creating if needed) the database at path and migrates its
// schema. path ":memory:" or "" gives a private in-memory database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{path: path, log: log, walLimit: opts.WALLimit, obs: opts.Observer, cache: newTokenCache(cmp.Or(opts.TokenCache, defaultTokenCache))}
	if path == "" || path == MemoryPath {
		s.path, s.memory = MemoryPath, true
	}

	var err error
	if s.memory {
		// A :memory: database lives and dies with its connection, so the
		// pool holds exactly one, forever, shared by readers and the writer.
		s.w, err = openDB(":memory:?_foreign_keys=on&_busy_timeout=5000&_txlock=immediate", 1)
		s.r = s.w
	} else {
		s.w, err = openWriter(ctx, fileURI(path)+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate")
	}
	if err != nil {
		return nil, classify("open", err)
	}
	from, to, err := migrate.Run(ctx, s.w, migrator, migrations)
	if err != nil {
		_ = closeDB(s.w)
		return nil, classify("migrate", err)
	}
	if to != from {
		log.Info("sqlite: migrated schema", "path", s.path, "from_version", from, "to_version", to)
	}
	if !s.memory {
		n := opts.MaxReaders
		if n <= 0 {
			n = max(4, runtime.GOMAXPROCS(0))
		}
		readDSN := fileURI(path) + "?_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on&_query_only=on"
		s.r, err = openDB(readDSN, n)
		s.reads = newTokenReads(readDSN, n)
		if err != nil {
			_ = closeDB(s.w)
			return nil, classify("open readers", err)
		}
		var mode string
		if err := s.w.WithContext(ctx).Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
			_ = s.Close()
			return nil, classify("open", err)
		}
		if !strings.EqualFold(mode, "wal") {
			log.Warn("sqlite: database is not in WAL mode", "path", path, "journal_mode", mode)
		}
		log.Info("sqlite: opened", "path", path, "journal_mode", mode, "readers", n)
	}
	s.ops = sqlstore.NewOps(sqlstore.Backend[int64]{Reader: s.r, Writer: s.w, Check: s.check, Fail: s.fail,
		MergeDetails: mergeDetails, TokensChanged: s.tokensChanged})
	if err := s.prepareHotPath(); err != nil {
		_ = s.Close()
		return nil, classify("prepare", err)
	}
	return s, nil
}

// tokensChanged drops what the token read cache holds of a token that a
// write may have changed (digest), or of every token ("").
func (s *Store) tokensChanged(digest string) {
	if digest == "" {
		s.cache.clear()
		return
	}
	s.cache.forget(digest)
}

// fileURI turns a file path into an SQLite URI, escaping the characters a
// URI gives meaning to.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

func openDB(dsn string, conns int) (*gorm.DB, error) {
	db, err := gorm.Open(gormsqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		SkipDefaultTransaction: true, // the store opens its own transactions
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		if db != nil {
			if sqlDB, e := db.DB(); e == nil {
				_ = sqlDB.Close()
			}
		}
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)
	return db, nil
}

// openWriter opens the writer connection of a file database. Switching a
// new file to WAL while another process does the same answers "database is
// locked" at once (SQLite runs no busy handler for that step), so the open
// is retried for as long as busy_timeout would wait.
func openWriter(ctx context.Context, dsn string) (*gorm.DB, error) {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		db, err := openDB(dsn, 1)
		var se sqlite3.Error
		busy := errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
		if !busy || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

func closeDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func (s *Store) prepareHotPath() error {
	w, err := s.w.DB()
	if err != nil {
		return err
	}
	if s.memory {
		s.reads = sharedTokenReads(w)
	}
	s.committer = newCommitter(w, s.obs)
	if !s.memory {
		// The writer's one connection lives as long as the store, so this
		// per-connection setting holds for every write.
		if _, err := w.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
			return err
		}
		ck, err := sql.Open("sqlite3", fileURI(s.path)+"?_busy_timeout=5000")
		if err != nil {
			return err
		}
		ck.SetMaxOpenConns(1)
		s.ckpt = startCheckpointer(ck, s.path, s.walLimit)
	}
	return nil
}

// SchemaVersion reports the schema version the database records.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	const op = "schema version"
	if err := s.check(op); err != nil {
		return 0, err
	}
	v, err := migrate.Current(ctx, s.r, migrator)
	return v, s.fail(op, err)
}

// Path returns the database path, ":memory:" for an in-memory store.
func (s *Store) Path() string { return s.path }

// IntegrityCheck runs PRAGMA integrity_check and returns its report, "ok"
// for a sound database.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if err := s.check("integrity check"); err != nil {
		return "", err
	}
	var lines []string
	if err := s.r.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&lines).Error; err != nil {
		return "", s.fail("integrity check", err)
	}
	return strings.Join(lines, "\n"), nil
}

// Close closes the database. Later calls fail with core.ErrUnavailable;
// closing twice is harmless.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	if s.committer != nil {
		s.committer.stop()
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	if s.reads != nil {
		s.reads.close()
	}
	if s.r != s.w {
		errs = append(errs, closeDB(s.r))
	}
	errs = append(errs, closeDB(s.w))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	s.log.Info("sqlite: closed", "path", s.path)
	return nil
}

// check fails fast once the store is closed.
func (s *Store) check(op string) error { return sqlstore.Check("sqlite", s.closed.Load(), op) }

// fail maps an error of operation op to the core sentinels.
func (s *Store) fail(op string, err error) error {
	return sqlstore.Fail("sqlite", s.closed.Load(), op, err, classify)
}

// classify maps driver errors by their SQLite result codes, never by text.
func classify(op string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrFull,
			sqlite3.ErrCantOpen:
			return fmt.Errorf("sqlite: %s: %w: %w", op, core.ErrUnavailable, err)
		case sqlite3.ErrConstraint:
			if se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || se.ExtendedCode == sqlite3.ErrConstraintUnique {
				return fmt.Errorf("sqlite: %s: %w: %w", op, core.ErrConflict, err)
			}
		}
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, core.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
