// Package sqlite implements core.Store on SQLite, through gorm and the cgo
// driver github.com/mattn/go-sqlite3.
//
// It owns the SQLite schema (tables clients, users, authorizations, tokens,
// signing_keys and schema_version, created by gorm's AutoMigrate from the row
// types of storage/internal/sqlstore) and the translation of driver errors
// into the core sentinels: missing rows are core.ErrNotFound, duplicate keys
// core.ErrConflict, a lost race on a token core.ErrConsumed, and a locked,
// full, read-only, unreadable or closed database core.ErrUnavailable. The
// row types, their mapping to the core models and the operations whose SQL
// is the same in both dialects are shared with storage/postgres through
// storage/internal/sqlstore; this package adds its hot path (a group
// committer for InsertTokens, a prepared statement for GetToken), its
// background checkpointer, and PutAuthorization and RevokeToken.
//
// A file store runs in WAL mode with one writer connection, which serialises
// every write so writers never contend for SQLITE_BUSY, and a separate pool of
// query-only reader connections. ":memory:" (or "") is a private in-memory
// database on a single connection.
//
// Times are stored as UTC unix nanoseconds, with NULL for the zero time;
// slices and maps are stored as JSON text. gorm's logger is kept silent so
// that SQL carrying token digests or secret hashes is never logged.
//
// This package is persistence only: it must not import echo, net/http,
// config or the dialects, and it passes storage/storagetest.
package sqlite
