package migrate_test

import (
	"testing"

	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
)

// The runner's behaviour is checked on both backends' databases by
// sqlstoretest.CheckMigrate (storage/sqlite, storage/postgres).

// TestImports keeps the package persistence-only, as the backends are.
func TestImports(t *testing.T) { sqlstoretest.CheckImports(t) }
