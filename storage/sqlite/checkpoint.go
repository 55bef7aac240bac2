package sqlite

import (
	"database/sql"
	"sync"
	"time"
)

// The writer connection runs with wal_autocheckpoint off, so no request
// ever pays for a checkpoint (copying WAL pages into the database file and
// fsyncing it). A background goroutine on a connection of its own runs
// PASSIVE checkpoints instead: they never block the writer or readers, and
// the WAL is reused from its start once a checkpoint has caught up.
// Durability is unchanged: a transaction is durable (against a process
// crash) once its commit returned, checkpointed or not.

// checkpointInterval is how often the background checkpoint runs.
var checkpointInterval = 500 * time.Millisecond

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				_, _ = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
	return c
}

// close stops the goroutine and runs a last full checkpoint, so a cleanly
// closed database leaves a short WAL.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		c.done.Wait()
		_, _ = c.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		err = c.db.Close()
	})
	return err
}
