package sqlstoretest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/storage/internal/migrate"
	"gorm.io/gorm"
)

// CheckMigrate checks the shared runner on a backend's database, already
// migrated to steps and holding at least one token; run runs the backend's
// migration to the steps it is given. An older build (no steps) refuses the
// database; a further step, a column and an index on tokens as a newer build
// might add, applies once and fills every row; a failing step applies
// nothing, neither itself nor the good step before it in the same run. It
// returns the newer build's steps; the caller checks that its store still
// works on the wider table and that this build now refuses the database.
func CheckMigrate(t *testing.T, db *gorm.DB, steps []migrate.Step, run func([]migrate.Step) (from, to int, err error)) []migrate.Step {
	t.Helper()
	v := migrate.Latest(steps)
	var ve *migrate.SchemaVersionError
	if _, _, err := run(nil); !errors.As(err, &ve) || ve.Database != v || ve.Binary != 0 ||
		!strings.Contains(err.Error(), "upgrade tokengate") {
		t.Errorf("migrating with an older build: %v, want a *SchemaVersionError", err)
	}

	next := append(append([]migrate.Step{}, steps...), migrate.Step{Version: v + 1, Name: "test step",
		Stmts: []string{
			`ALTER TABLE tokens ADD COLUMN note text NOT NULL DEFAULT 'migrated'`,
			`CREATE INDEX idx_tokens_note ON tokens (note)`,
		}})
	if from, to, err := run(next); err != nil || from != v || to != v+1 {
		t.Fatalf("migrate to %d: from %d to %d, %v", v+1, from, to, err)
	}
	if from, to, err := run(next); err != nil || from != v+1 || to != v+1 {
		t.Errorf("migrating again: from %d to %d, %v; want nothing to do at %d", from, to, err, v+1)
	}
	var all, noted int64
	if err := db.Raw("SELECT COUNT(*), COUNT(CASE WHEN note = 'migrated' THEN 1 END) FROM tokens").Row().Scan(&all, &noted); err != nil ||
		all == 0 || noted != all {
		t.Errorf("the new column: %d of %d tokens filled, %v", noted, all, err)
	}

	bad := append(append([]migrate.Step{}, next...),
		migrate.Step{Version: v + 2, Name: "good", Stmts: []string{`CREATE TABLE extra (x integer)`}},
		migrate.Step{Version: v + 3, Name: "bad", Stmts: []string{`ALTER TABLE nosuchtable ADD COLUMN y integer`}})
	if _, _, err := run(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d (bad)", v+3)) {
		t.Errorf("a failing migration: %v", err)
	}
	if got := recorded(t, db); got != v+1 {
		t.Errorf("schema version after a failed migration = %d, want %d", got, v+1)
	}
	if db.Migrator().HasTable("extra") {
		t.Error("a step of a failed migration was kept")
	}

	unordered := append(append([]migrate.Step{}, next...), migrate.Step{Version: v, Name: "again"})
	if _, _, err := run(unordered); err == nil || !strings.Contains(err.Error(), "versions must increase") {
		t.Errorf("migrating with steps out of order: %v", err)
	}
	return next
}

// recorded is the highest version in schema_version.
func recorded(t *testing.T, db *gorm.DB) int {
	t.Helper()
	var v int
	if err := db.Raw("SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return v
}
