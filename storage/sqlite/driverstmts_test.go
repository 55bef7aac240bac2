package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// The writer's statements are prepared on the driver connection they run
// on, once; on another connection (should database/sql ever replace the
// writer's) they are prepared again there, and the old ones finalized.
func TestWriterStatementsFollowTheConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	openT(t, path, Options{}) // the schema
	open := func() *sqlite3.SQLiteConn {
		c, err := (&sqlite3.SQLiteDriver{}).Open(fileURI(path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c.(*sqlite3.SQLiteConn)
	}
	c1, c2 := open(), open()
	var d driverStmts
	defer d.close()
	first, err := d.on(c1)
	if err != nil {
		t.Fatal(err)
	}
	insert := first.insert
	if again, err := d.on(c1); err != nil || again.insert != insert {
		t.Fatalf("the same connection prepared again (%v)", err)
	}
	moved, err := d.on(c2)
	if err != nil {
		t.Fatal(err)
	}
	if moved.conn != c2 || moved.insert == insert || moved.begin == nil || moved.active == nil {
		t.Fatalf("statements after the move: %+v", moved)
	}
	if _, err := moved.begin.ExecContext(context.Background(), nil); err != nil {
		t.Fatalf("BEGIN on the new connection: %v", err)
	}
	if _, err := moved.rollback.ExecContext(context.Background(), nil); err != nil {
		t.Fatalf("ROLLBACK on the new connection: %v", err)
	}
}
