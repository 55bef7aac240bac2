package sqlstoretest

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
)

// Schema is a database's tables as the schema tests compare them.
type Schema struct {
	Tables  map[string][]Column // columns in table order
	Indexes []Index             // secondary indexes (not primary keys), by name
}

// Column is one column; Type is the backend's own spelling.
type Column struct {
	Name    string
	Type    string
	NotNull bool
	PK      bool
}

// Index is a secondary index.
type Index struct {
	Name, Table string
	Unique      bool
	Partial     bool
	Columns     []string
}

// SQLiteSchema reads the schema of an SQLite database (pragma table_info,
// index_list and index_info), leaving out SQLite's own tables.
func SQLiteSchema(t testing.TB, db *sql.DB) Schema {
	t.Helper()
	s := Schema{Tables: map[string][]Column{}}
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	for _, table := range tables {
		rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c Column
			var pk int
			if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &pk); err != nil {
				t.Fatal(err)
			}
			c.Type, c.PK = strings.ToLower(c.Type), pk > 0
			s.Tables[table] = append(s.Tables[table], c)
		}
		closeRows(t, rows)

		rows, err = db.Query(`SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin = 'c'`, table)
		if err != nil {
			t.Fatal(err)
		}
		var idx []Index
		for rows.Next() {
			ix := Index{Table: table}
			if err := rows.Scan(&ix.Name, &ix.Unique, &ix.Partial); err != nil {
				t.Fatal(err)
			}
			idx = append(idx, ix)
		}
		closeRows(t, rows)
		for _, ix := range idx {
			ix.Columns = queryStrings(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix.Name)
			s.Indexes = append(s.Indexes, ix)
		}
	}
	sortIndexes(s.Indexes)
	return s
}

// PostgresSchema reads the schema of one PostgreSQL schema (namespace) from
// information_schema and pg_index.
func PostgresSchema(t testing.TB, db *sql.DB, namespace string) Schema {
	t.Helper()
	s := Schema{Tables: map[string][]Column{}}
	rows, err := db.Query(`SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable = 'NO',
			EXISTS (SELECT 1 FROM pg_index ix
				JOIN pg_class tc ON tc.oid = ix.indrelid JOIN pg_namespace n ON n.oid = tc.relnamespace
				JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = ANY (ix.indkey)
				WHERE ix.indisprimary AND n.nspname = c.table_schema AND tc.relname = c.table_name
				AND a.attname = c.column_name)
		FROM information_schema.columns c WHERE c.table_schema = $1 ORDER BY c.table_name, c.ordinal_position`, namespace)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table string
		var c Column
		if err := rows.Scan(&table, &c.Name, &c.Type, &c.NotNull, &c.PK); err != nil {
			t.Fatal(err)
		}
		s.Tables[table] = append(s.Tables[table], c)
	}
	closeRows(t, rows)

	rows, err = db.Query(`SELECT ic.relname::text, tc.relname::text, ix.indisunique, ix.indpred IS NOT NULL, a.attname::text
		FROM pg_index ix
		JOIN pg_class ic ON ic.oid = ix.indexrelid
		JOIN pg_class tc ON tc.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = tc.relnamespace
		CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = k.attnum
		WHERE n.nspname = $1 AND NOT ix.indisprimary
		ORDER BY 1, k.ord`, namespace)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ix Index
		var col string
		if err := rows.Scan(&ix.Name, &ix.Table, &ix.Unique, &ix.Partial, &col); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Indexes); n > 0 && s.Indexes[n-1].Name == ix.Name {
			s.Indexes[n-1].Columns = append(s.Indexes[n-1].Columns, col)
			continue
		}
		ix.Columns = []string{col}
		s.Indexes = append(s.Indexes, ix)
	}
	closeRows(t, rows)
	sortIndexes(s.Indexes)
	return s
}

func sortIndexes(idx []Index) {
	slices.SortFunc(idx, func(a, b Index) int { return strings.Compare(a.Name, b.Name) })
}

func queryStrings(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	closeRows(t, rows)
	return out
}

func closeRows(t testing.TB, rows *sql.Rows) {
	t.Helper()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
}
