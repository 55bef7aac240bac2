package sqlite

import (
	"github.com/tokengate/tokengate/storage/internal/migrate"
)

// migrations is the schema's history, oldest first, run by the runner
// storage/postgres uses too (storage/internal/migrate). The last step's
// version is the version this build reads and writes.
//
// Step 1 is, column for column, the schema gorm's automatic migration made
// from the row types in the releases before explicit migrations
// (testdata/release.db is one), with IF NOT EXISTS throughout: it creates
// that schema in a new database and adopts such a release's database as it
// is. Those releases recorded version 1 in schema_version already; one
// without the row (or the table) is at version 0, and step 1 adopts it just
// the same.
//
// Times are integer UTC unix nanoseconds (NULL for the zero time), booleans
// numeric 0 or 1, durations integer nanoseconds, slices and maps JSON text.
var migrations = []migrate.Step{
	{Version: 1, Name: "initial schema", Stmts: []string{
		`CREATE TABLE IF NOT EXISTS clients (
			id               text,
			secret_hash      text NOT NULL,
			grants           text NOT NULL,
			dialects         text NOT NULL,
			redirect_uris    text NOT NULL,
			scopes           text NOT NULL,
			access_ttl       integer NOT NULL,
			refresh_ttl      integer NOT NULL,
			allow_plain_pkce numeric NOT NULL,
			disabled         numeric NOT NULL,
			expires_at       integer,
			updated_at       integer,
			PRIMARY KEY (id)
		)`,
		`CREATE TABLE IF NOT EXISTS users (
			id            text,
			username      text NOT NULL,
			first_name    text NOT NULL,
			last_name     text NOT NULL,
			email         text NOT NULL,
			password_hash text NOT NULL,
			linked        text NOT NULL,
			updated_at    integer,
			PRIMARY KEY (id)
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS idx_users_username ON users (username) WHERE username <> ''`,
		`CREATE TABLE IF NOT EXISTS authorizations (
			id           integer PRIMARY KEY AUTOINCREMENT,
			token_digest text NOT NULL,
			user_id      text NOT NULL,
			client_id    text NOT NULL,
			created_at   integer
		)`,
		`CREATE TABLE IF NOT EXISTS tokens (
			digest                text,
			kind                  text NOT NULL,
			client_id             text NOT NULL,
			user_id               text NOT NULL,
			dialect               text NOT NULL,
			scopes                text NOT NULL,
			family_id             text NOT NULL,
			issued_at             integer,
			expires_at            integer,
			auth_time             integer,
			consumed_at           integer,
			revoked_at            integer,
			redirect_uri          text NOT NULL,
			code_challenge        text NOT NULL,
			code_challenge_method text NOT NULL,
			PRIMARY KEY (digest)
		)`,
		`CREATE INDEX IF NOT EXISTS idx_tokens_client_id ON tokens (client_id)`,
		`CREATE INDEX IF NOT EXISTS idx_tokens_family_id ON tokens (family_id)`,
		`CREATE INDEX IF NOT EXISTS idx_tokens_expires_at ON tokens (expires_at)`,
		`CREATE TABLE IF NOT EXISTS signing_keys (
			id           text,
			dialect      text NOT NULL,
			algorithm    text NOT NULL,
			pem          blob,
			created_at   integer,
			retired_at   integer,
			verify_until integer,
			PRIMARY KEY (id)
		)`,
		`CREATE INDEX IF NOT EXISTS idx_signing_keys_dialect ON signing_keys (dialect)`,
	}},
	{Version: 2, Name: "dialects added at run time", Stmts: []string{
		`CREATE TABLE IF NOT EXISTS dialect_specs (
			name       text,
			type       text NOT NULL,
			prefix     text NOT NULL,
			listen     text NOT NULL,
			spec       text NOT NULL,
			created_at integer,
			PRIMARY KEY (name)
		)`,
	}},
}

// schemaVersion is the schema version this build reads and writes.
var schemaVersion = migrate.Latest(migrations)

// SchemaVersionError reports a database whose schema is newer than this
// build's (upgrade tokengate).
type SchemaVersionError = migrate.SchemaVersionError

// migrator is how the shared runner migrates SQLite: on the one writer
// connection, whose transactions begin IMMEDIATE, so the migration holds the
// database's write lock from its first statement and another process
// opening the file at the same time waits, then finds nothing to do.
var migrator = migrate.Backend[int64]{
	VersionTable: `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer,
		applied_at integer,
		PRIMARY KEY (version)
	)`,
	HasVersionTable: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')",
}
