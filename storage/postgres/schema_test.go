package postgres

import (
	"context"
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// pgOnlyTables are the shared control plane's tables: PostgreSQL shares it
// between replicas; one SQLite process keeps it in memory.
var pgOnlyTables = []string{"control_counters", "control_state", "control_version"}

// compatible lists, for each SQLite column type, the PostgreSQL types that
// hold the same values: integers are also times (unix nanoseconds in SQLite,
// timestamptz in PostgreSQL), numeric is SQLite's boolean.
var compatible = map[string][]string{
	"text":    {"text"},
	"integer": {"integer", "bigint", "timestamp with time zone"},
	"numeric": {"boolean"},
	"blob":    {"bytea"},
}

// TestSchemaParity checks that the two backends' migrations make the same
// tables, with the same columns in the same order, of compatible types, the
// same NOT NULLs and primary keys, and the same secondary indexes.
func TestSchemaParity(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "parity.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lite := sqlstoretest.SQLiteSchema(t, db)
	for _, table := range []string{"clients", "users", "authorizations", "tokens", "signing_keys", "dialect_specs", "schema_version"} {
		if len(lite.Tables[table]) == 0 {
			t.Errorf("SQLite has no table %s: %v", table, slices.Sorted(maps.Keys(lite.Tables)))
		}
	}

	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, schema := TestSchema(t)
		p := openT(t, dsn, Options{Schema: schema})
		pg := sqlstoretest.PostgresSchema(t, p.sqlDB, schema)
		for _, table := range pgOnlyTables {
			if _, ok := pg.Tables[table]; !ok {
				t.Errorf("PostgreSQL lacks its control-plane table %s", table)
			}
			delete(pg.Tables, table)
		}
		if d := cmp.Diff(lite, pg, cmp.Comparer(sameColumn)); d != "" {
			t.Errorf("the schemas differ (-SQLite +PostgreSQL):\n%s", d)
		}
	})
}

// sameColumn compares a column of either backend with one of the other. A
// primary key column counts as NOT NULL, as PostgreSQL makes it (SQLite
// lets a text key be NULL).
func sameColumn(a, b sqlstoretest.Column) bool {
	return a.Name == b.Name && a.PK == b.PK && (a.NotNull || a.PK) == (b.NotNull || b.PK) &&
		(slices.Contains(compatible[a.Type], b.Type) || slices.Contains(compatible[b.Type], a.Type))
}
