package sqlite

import (
	"database/sql"
	"os"
	"sync"
	"time"
)

// The writer connection runs with wal_autocheckpoint off, so no commit
// pays for a checkpoint (copying WAL pages into the database file and
// fsyncing it). A background goroutine on a connection of its own runs
// PASSIVE checkpoints instead, which never block the writer or readers.
// Under a steady stream of writes a PASSIVE checkpoint never finds the WAL
// fully copied at a moment the writer could start over, so the WAL would
// grow without bound; once it passes Options.WALLimit the goroutine runs a
// RESTART checkpoint, which waits for the writer briefly and makes the next
// write start the WAL from its beginning (the file keeps its size and is
// reused, so it stays near the limit). Durability is unchanged: a
// transaction is durable (against a process crash) once its commit
// returned, checkpointed or not.

const (
	// checkpointInterval is how often the background checkpoint runs.
	checkpointInterval = 500 * time.Millisecond
	// defaultWALLimit is the WAL size above which it is truncated.
	defaultWALLimit int64 = 64 << 20
)

type checkpointer struct {
	db      *sql.DB
	walPath string
	limit   int64
	stop    chan struct{}
	// now asks the goroutine for one round at once; the round is over when
	// the sent channel is closed. Tests use it instead of waiting for ticks.
	now  chan chan struct{}
	done sync.WaitGroup
	once sync.Once
}

func startCheckpointer(db *sql.DB, dbPath string, limit int64) *checkpointer {
	if limit <= 0 {
		limit = defaultWALLimit
	}
	c := &checkpointer{db: db, walPath: dbPath + "-wal", limit: limit, stop: make(chan struct{}),
		now: make(chan chan struct{})}
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
				c.round()
			case done := <-c.now:
				c.round()
				close(done)
			}
		}
	}()
	return c
}

// round is one background checkpoint. PASSIVE first: it copies what it can
// without blocking anyone, so a RESTART that follows has little left to do
// while the writer waits for it.
func (c *checkpointer) round() {
	_, _ = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	if fi, err := os.Stat(c.walPath); err == nil && fi.Size() > c.limit {
		_, _ = c.db.Exec("PRAGMA wal_checkpoint(RESTART)")
	}
}

// runNow has the goroutine run one round now and waits for it.
func (c *checkpointer) runNow() {
	done := make(chan struct{})
	c.now <- done
	<-done
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
