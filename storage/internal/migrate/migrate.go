// Package migrate is the schema migration runner storage/sqlite and
// storage/postgres share. Each backend keeps its own SQL text (the column
// types differ) as an ordered list of Steps; the runner applies the pending
// ones, records them in the schema_version table and refuses a database
// newer than the backend's last step.
//
// Every pending step runs in one transaction, opened by the backend's
// Begin, which takes whatever lock serialises migrators (PostgreSQL: an
// advisory lock, so replicas starting together migrate once; SQLite: the
// writer's BEGIN IMMEDIATE already is that lock). A failed step therefore
// leaves the database exactly as it was, at exactly one version.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	"gorm.io/gorm"
)

// Step is one step of a schema's history. Released steps are never edited:
// a change to the schema is a new step appended to the list.
type Step struct {
	Version int
	Name    string
	Stmts   []string
}

// Latest is the version of the last of steps, 0 for none: the version a
// build with those steps reads and writes.
func Latest(steps []Step) int {
	if len(steps) == 0 {
		return 0
	}
	return steps[len(steps)-1].Version
}

// Backend is what differs between backends in running the steps. T is how
// the backend stores a time (sqlstore.Time), for schema_version.applied_at.
type Backend[T sqlstore.Time] struct {
	// VersionTable creates schema_version (version integer primary key,
	// applied_at) if it is missing.
	VersionTable string
	// HasVersionTable is a query answering one boolean: whether
	// schema_version exists.
	HasVersionTable string
	// Begin, if set, runs first in the migration's transaction: it takes the
	// lock serialising migrators and prepares what the steps need.
	Begin func(tx *gorm.DB) error
	// TxOptions are the migration transaction's; nil for the default.
	TxOptions *sql.TxOptions
}

// SchemaVersionError reports a database whose schema this build cannot use:
// a newer one (upgrade tokengate), or, when the store was told not to
// migrate, an older one (run tokengate migrate).
type SchemaVersionError struct {
	Database int // the version the database records
	Binary   int // the version this build supports
}

func (e *SchemaVersionError) Error() string {
	if e.Database > e.Binary {
		return fmt.Sprintf("database schema version %d is newer than this binary supports (%d); upgrade tokengate",
			e.Database, e.Binary)
	}
	return fmt.Sprintf("database schema version %d is older than this binary needs (%d); run tokengate migrate",
		e.Database, e.Binary)
}

// Run brings the database to the last of steps and reports the versions
// before and after. A database that has tables but no schema_version is at
// version 0: the first step must adopt it (CREATE ... IF NOT EXISTS with the
// columns those tables have).
func Run[T sqlstore.Time](ctx context.Context, db *gorm.DB, b Backend[T], steps []Step) (from, to int, err error) {
	for i := 1; i < len(steps); i++ {
		if steps[i].Version <= steps[i-1].Version {
			return 0, 0, fmt.Errorf("migration %d (%s) follows %d: versions must increase",
				steps[i].Version, steps[i].Name, steps[i-1].Version)
		}
	}
	target := Latest(steps)
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if b.Begin != nil {
			if err := b.Begin(tx); err != nil {
				return err
			}
		}
		if err := tx.Exec(b.VersionTable).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&from).Error; err != nil {
			return err
		}
		to = from
		if from > target {
			return &SchemaVersionError{Database: from, Binary: target}
		}
		for _, step := range steps {
			if step.Version <= from {
				continue
			}
			for _, stmt := range step.Stmts {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("migration %d (%s): %w", step.Version, step.Name, err)
				}
			}
			if err := tx.Exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
				step.Version, sqlstore.EncodeTime[T](time.Now())).Error; err != nil {
				return fmt.Errorf("migration %d (%s): %w", step.Version, step.Name, err)
			}
			to = step.Version
		}
		return nil
	}, b.TxOptions)
	if err != nil {
		return from, from, err
	}
	return from, to, nil
}

// Current reads the database's schema version, 0 for a database without a
// schema_version table.
func Current[T sqlstore.Time](ctx context.Context, db *gorm.DB, b Backend[T]) (int, error) {
	var exists bool
	if err := db.WithContext(ctx).Raw(b.HasVersionTable).Scan(&exists).Error; err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := db.WithContext(ctx).Raw("SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&v).Error
	return v, err
}
