// Package sqlite implements core.Store on SQLite, through gorm and the cgo
// driver github.com/mattn/go-sqlite3.
//
// It owns the SQLite schema (tables clients, users, authorizations, tokens,
// signing_keys and schema_version) and its migrations, and the translation
// of driver errors
// into the core sentinels: missing rows are core.ErrNotFound, duplicate keys
// core.ErrConflict, a lost race on a token core.ErrConsumed, and a locked,
// full, read-only, unreadable or closed database core.ErrUnavailable. The
// row types, their mapping to the core models and the operations whose SQL
// is the same in both dialects are shared with storage/postgres through
// storage/internal/sqlstore; this package adds its hot path (a group
// committer for InsertTokens, GetToken's own connections and prepared
// statement, and a cache of the tokens written or read lately that every
// token write invalidates: one gateway process owns an SQLite file), its
// background checkpointer, and PutAuthorization and RevokeToken.
//
// # Schema and migrations
//
// The schema is an ordered list of explicit SQL steps (migrate.go), applied
// by the runner storage/postgres uses too (storage/internal/migrate) and
// recorded in schema_version. Open applies the pending steps in one
// transaction on the writer connection, whose BEGIN IMMEDIATE holds the
// database's write lock, so two processes opening one file migrate it once.
// A database at a newer version than this build is refused with a
// *SchemaVersionError ("upgrade tokengate").
//
// Step 1 is exactly the schema the releases before explicit migrations had
// gorm derive from the row types, written out with CREATE ... IF NOT
// EXISTS. Their databases open unchanged: those releases recorded version
// 1 already, and one that lacks the record (or the schema_version table)
// is at version 0, where step 1 adopts its tables as they are. A database
// written by such a release (testdata/release.db, and the rows it read back
// in testdata/release.json) is the fixture of TestUpgradeReleaseDatabase.
// Released steps are never edited; a change is a new step, and the parity
// test in storage/postgres keeps the two backends' schemas alike.
//
// A file store runs in WAL mode with one writer connection, which serialises
// every write so writers never contend for SQLITE_BUSY, and query-only
// reader connections: a database/sql pool for most queries, and the hot
// token read's own, opened with the driver (reads.go). ":memory:" (or "")
// is a private in-memory database on a single connection.
//
// Times are stored as UTC unix nanoseconds, with NULL for the zero time;
// slices and maps are stored as JSON text. gorm's logger is kept silent so
// that SQL carrying token digests or secret hashes is never logged.
//
// This package is persistence only: it must not import echo, net/http,
// config or the dialects, and it passes storage/storagetest.
package sqlite
