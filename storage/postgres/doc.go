// Package postgres implements core.Store on PostgreSQL, through gorm and
// gorm.io/driver/postgres (pgx v5 underneath, by way of database/sql).
//
// It owns the PostgreSQL schema (tables clients, users, authorizations,
// tokens, signing_keys and schema_version) and its migrations, and the
// translation of driver errors into the core sentinels: missing rows are
// core.ErrNotFound, unique violations (SQLSTATE 23505) core.ErrConflict, a
// lost race on a token core.ErrConsumed, and an unreachable, restarting,
// overloaded or read-only server, a broken connection or a call out of time
// core.ErrUnavailable. Errors are classified by SQLSTATE and error type,
// never by message text. The row types, their mapping to the core models and
// the operations whose SQL is the same in both dialects are shared with
// storage/sqlite through storage/internal/sqlstore, which runs them with
// this package's call timeouts, retries and READ COMMITTED transactions;
// PutAuthorization, InsertTokensBulk (COPY), RevokeToken and the control
// plane are this package's own.
//
// # Schema and migrations
//
// The schema is an ordered list of explicit SQL steps (migrate.go), applied
// by the runner storage/sqlite uses too (storage/internal/migrate); the
// schema_version table records the steps applied. Open (unless
// Options.SkipMigrate) and Migrate apply the pending steps in one
// transaction holding a transaction-scoped advisory lock
// (pg_advisory_xact_lock) keyed by the schema, so replicas starting together
// do not race: one migrates, the others wait and find nothing to do. A
// database at a newer version than this build is refused with a
// *SchemaVersionError ("upgrade tokengate"). Options.Schema puts the store in
// a schema of its own (created if missing) through search_path.
// TestSchemaParity checks that these steps and SQLite's make the same
// tables, columns, keys and indexes (the control plane's tables aside,
// which only PostgreSQL has).
//
// Times are timestamptz, exact to the microsecond, with NULL for the zero
// time; durations are bigint nanoseconds; slices and maps are JSON text, as
// in storage/sqlite. Keys that lists are ordered by use the "C" collation.
//
// # Concurrency
//
// Every atomic step is one conditional statement. Exchange is one
// READ COMMITTED transaction whose UPDATE ... WHERE consumed_at IS NULL AND
// revoked_at IS NULL row-locks the token and re-checks the condition once a
// concurrent exchange commits, so exactly one of any number of concurrent
// exchanges, from any number of connections or processes, succeeds; the
// successors are inserted only by that one. RevokeFamily and
// RevokeClientTokens are single UPDATEs.
//
// # Outages
//
// A connect_timeout of 2s is added to DSNs without one, and calls whose
// context has no deadline are bounded by Options.CallTimeout (5s), so a
// server that goes away makes calls fail fast with core.ErrUnavailable
// rather than hang. database/sql discards broken connections and dials new
// ones, so the store recovers by itself when the server returns; a pooled
// connection whose session the server ended fails at most one call.
//
// gorm's logger is kept silent so that SQL carrying token digests or secret
// hashes is never logged, and DSN() omits the password.
//
// testing.go holds test support for this and other packages: TestDSN and
// OpenTest give a fresh schema on the server named by
// TOKENGATE_TEST_POSTGRES_DSN, dropped when the test ends, and skip the test
// when no server answers (fail it when TOKENGATE_REQUIRE_POSTGRES=1).
//
// This package is persistence only: it must not import echo, net/http,
// config or the dialects, and it passes storage/storagetest.
package postgres
