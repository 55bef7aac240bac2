package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/migrate"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	gormpostgres "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Defaults of Options and of the DSN.
const (
	DefaultMaxOpenConns    = 16
	DefaultMaxIdleConns    = 8
	DefaultConnMaxLifetime = 30 * time.Minute
	// DefaultConnectTimeout is set as connect_timeout when the DSN has none,
	// so that an unreachable server fails calls fast instead of hanging.
	DefaultConnectTimeout = 2 * time.Second
	// DefaultCallTimeout bounds a call whose context has no deadline.
	DefaultCallTimeout = 5 * time.Second
	// DefaultApplicationName is the application_name of the store's
	// sessions when the DSN sets none.
	DefaultApplicationName = "tokengate"

	// migrateTimeout bounds Open and Migrate when ctx has no deadline; it
	// includes waiting for another replica's migration.
	migrateTimeout = 2 * time.Minute
)

// Options tunes a Store. The zero value is usable.
type Options struct {
	// Logger receives open, migrate and close events; nil discards them.
	// SQL is never logged.
	Logger *slog.Logger
	// MaxOpenConns bounds the connection pool (default 16).
	MaxOpenConns int
	// MaxIdleConns bounds the idle connections kept (default 8).
	MaxIdleConns int
	// ConnMaxLifetime recycles connections older than this (default 30m).
	ConnMaxLifetime time.Duration
	// Schema, if set, is the schema the store uses through search_path;
	// it is created if missing. Empty: the DSN's search_path (if any) or
	// the server's default decides.
	Schema string
	// CallTimeout bounds every call whose context has no deadline (default
	// 5s), so that a server that stops answering cannot hang a caller.
	CallTimeout time.Duration
	// SkipMigrate makes Open check the schema version instead of migrating:
	// a database at any other version than this build's is refused. Migrate
	// (as run by "tokengate migrate") brings it up to date.
	SkipMigrate bool
}

// Store is core.Store on PostgreSQL. It is safe for concurrent use, also by
// several processes sharing one database. Its methods are those of
// core.Store and core.ControlStore, InsertTokensBulk and those below; the
// ones without a declaration here are those it shares with storage/sqlite
// (sqlstore.Ops in storage/internal/sqlstore).
type Store struct {
	ops                 // the operations shared with storage/sqlite
	dsn          string // without password
	schema       string // Options.Schema or the DSN's search_path
	createSchema string // Options.Schema quoted, created by migrations
	lockKey      int64
	log          *slog.Logger
	callTimeout  time.Duration
	db           *gorm.DB
	sqlDB        *sql.DB
	closed       atomic.Bool
}

var _ core.Store = (*Store)(nil)

// Times are timestamptz, time.Time in Go.
type ops = sqlstore.Ops[time.Time]

// Open connects to the PostgreSQL database dsn names (a postgres:// URL or
// key=value pairs, as libpq takes them) and migrates its schema, unless
// opts.SkipMigrate. A server that cannot be reached fails with an error
// wrapping core.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = DefaultApplicationName
	}
	s := &Store{dsn: redactDSN(dsn), schema: cfg.RuntimeParams["search_path"], log: log,
		callTimeout: opts.CallTimeout}
	if s.callTimeout <= 0 {
		s.callTimeout = DefaultCallTimeout
	}
	if opts.Schema != "" {
		s.schema = opts.Schema
		s.createSchema = pgx.Identifier{opts.Schema}.Sanitize()
		cfg.RuntimeParams["search_path"] = s.createSchema
	}
	s.lockKey = lockKey(s.schema)

	s.sqlDB = stdlib.OpenDB(*cfg)
	maxOpen, maxIdle, lifetime := opts.MaxOpenConns, opts.MaxIdleConns, opts.ConnMaxLifetime
	if maxOpen <= 0 {
		maxOpen = DefaultMaxOpenConns
	}
	if maxIdle <= 0 {
		maxIdle = DefaultMaxIdleConns
	}
	if lifetime <= 0 {
		lifetime = DefaultConnMaxLifetime
	}
	s.sqlDB.SetMaxOpenConns(maxOpen)
	s.sqlDB.SetMaxIdleConns(min(maxIdle, maxOpen))
	s.sqlDB.SetConnMaxLifetime(lifetime)

	s.db, err = gorm.Open(gormpostgres.New(gormpostgres.Config{Conn: s.sqlDB}), &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent), // SQL carries digests and hashes
		SkipDefaultTransaction: true,                                  // the store opens its own transactions
		DisableAutomaticPing:   true,                                  // pinged below, with a deadline
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		_ = s.sqlDB.Close()
		return nil, classify("open", err)
	}
	s.ops = sqlstore.NewOps(sqlstore.Backend[time.Time]{Reader: s.db, Writer: s.db, Check: s.check, Fail: s.fail,
		TxOptions: readCommitted, Bound: s.bound, Retry: retry, RowLock: " FOR UPDATE", DialectsChanged: bumpControlVersion,
		MergeDetails: mergeDetails})

	ctx, cancel := withTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := s.sqlDB.PingContext(ctx); err != nil {
		_ = s.sqlDB.Close()
		return nil, classify("open", err)
	}
	version := 0
	if opts.SkipMigrate {
		version, err = migrate.Current(ctx, s.db, s.migrator())
		if err == nil && version != schemaVersion {
			err = &SchemaVersionError{Database: version, Binary: schemaVersion}
		}
	} else {
		version, err = s.migrate(ctx)
	}
	if err != nil {
		_ = s.sqlDB.Close()
		return nil, classify("open", err)
	}
	log.Info("postgres: opened", "dsn", s.dsn, "schema", s.schema, "schema_version", version,
		"max_open_conns", maxOpen)
	return s, nil
}

// Migrate brings the database schema to this build's version; it is what
// "tokengate migrate" runs. Open migrates too unless Options.SkipMigrate, so
// calling Migrate on a store opened that way does nothing. A database newer
// than this build fails with a *SchemaVersionError.
func (s *Store) Migrate(ctx context.Context) error {
	const op = "migrate"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, migrateTimeout)
	defer cancel()
	_, err := s.migrate(ctx)
	return s.fail(op, err)
}

func (s *Store) migrate(ctx context.Context) (int, error) {
	from, to, err := migrate.Run(ctx, s.db, s.migrator(), migrations)
	if err != nil {
		return from, err
	}
	if to != from {
		s.log.Info("postgres: migrated schema", "schema", s.schema, "from_version", from, "to_version", to)
	}
	return to, nil
}

// SchemaVersion reports the schema version the database records (0 for an
// empty database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	const op = "schema version"
	if err := s.check(op); err != nil {
		return 0, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	v, err := migrate.Current(ctx, s.db, s.migrator())
	return v, s.fail(op, err)
}

// DSN returns the DSN the store was opened with, its password removed.
func (s *Store) DSN() string { return s.dsn }

// Close closes the connection pool. Later calls fail with
// core.ErrUnavailable; closing twice is harmless.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.sqlDB.Close(); err != nil {
		return fmt.Errorf("postgres: close: %w", err)
	}
	s.log.Info("postgres: closed", "dsn", s.dsn, "schema", s.schema)
	return nil
}

// withTimeout bounds ctx by d unless it has a deadline already.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// call bounds one call by the store's call timeout.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return withTimeout(ctx, s.callTimeout)
}

// check fails fast once the store is closed.
func (s *Store) check(op string) error { return sqlstore.Check("postgres", s.closed.Load(), op) }

// fail maps an error of operation op to the core sentinels.
func (s *Store) fail(op string, err error) error {
	return sqlstore.Fail("postgres", s.closed.Load(), op, err, classify)
}

// classify maps driver errors by SQLSTATE codes and error types, never by
// their text.
func classify(op string, err error) error {
	switch {
	case unavailable(err):
		return fmt.Errorf("postgres: %s: %w: %w", op, core.ErrUnavailable, err)
	case sqlState(err) == "23505": // unique_violation
		return fmt.Errorf("postgres: %s: %w: %w", op, core.ErrConflict, err)
	case strings.HasPrefix(sqlState(err), "22"): // data_exception: a value the column cannot hold
		return fmt.Errorf("postgres: %s: %w: %w", op, core.ErrInvalidValue, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// sqlState returns the SQLSTATE of a server error, "" for other errors.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// unavailable reports whether err means the database cannot serve now but
// may later: the server is down, unreachable, restarting, out of resources
// or read-only, the connection broke, or the call ran out of time.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return true
	}
	code := sqlState(err)
	switch {
	case strings.HasPrefix(code, "08"): // connection_exception
		return true
	case strings.HasPrefix(code, "53"): // insufficient_resources
		return true
	}
	switch code {
	case "57P01", // admin_shutdown (also pg_terminate_backend)
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now
		"57014", // query_canceled (statement_timeout)
		"25006", // read_only_sql_transaction (a standby, or a failover in progress)
		"40001", // serialization_failure
		"40P01", // deadlock_detected
		"55P03": // lock_not_available
		return true
	}
	return false
}

// redactDSN removes the password from a DSN, URL or key=value form.
func redactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "postgres://(unparsable DSN)"
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.User(u.User.Username())
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	var kept []string
	for _, kv := range splitKeyValues(dsn) {
		key, _, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(key) != "password" {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, " ")
}

// splitKeyValues splits a libpq key=value DSN into its "key=value" pairs,
// keeping quoted values (with their quotes and escapes) intact.
func splitKeyValues(dsn string) []string {
	var pairs []string
	i := 0
	for i < len(dsn) {
		for i < len(dsn) && isSpace(dsn[i]) {
			i++
		}
		if i == len(dsn) {
			break
		}
		start := i
		for i < len(dsn) && dsn[i] != '=' && !isSpace(dsn[i]) {
			i++
		}
		key := dsn[start:i]
		for i < len(dsn) && isSpace(dsn[i]) {
			i++
		}
		if i < len(dsn) && dsn[i] == '=' {
			i++
		}
		for i < len(dsn) && isSpace(dsn[i]) {
			i++
		}
		vstart := i
		if i < len(dsn) && dsn[i] == '\'' {
			i++
			for i < len(dsn) && dsn[i] != '\'' {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, len(dsn))
		} else {
			for i < len(dsn) && !isSpace(dsn[i]) {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i, len(dsn))
		}
		pairs = append(pairs, key+"="+dsn[vstart:i])
	}
	return pairs
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
