package postgres

import (
	"context"

	"gorm.io/gorm"

	"github.com/tokengate/tokengate/core"
)

// The shared control plane (core.ControlStore): replicas on one database
// read the admin clock and the fault rules from control_state, notice a
// change through control_version (one indexed read per request), and count
// fault hits in control_counters with a conditional upsert, so a rule with
// count N fires exactly N times across every replica.

var _ core.ControlStore = (*Store)(nil)

// ControlVersion returns the version PutControl last bumped.
func (s *Store) ControlVersion(ctx context.Context) (int64, error) {
	const op = "control version"
	if err := s.check(op); err != nil {
		return 0, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var v int64
	err := retry(func() error {
		return s.session(ctx).Raw("SELECT version FROM control_version WHERE id = 1").Scan(&v).Error
	})
	return v, s.fail(op, err)
}

// GetControl returns the document under key, core.ErrNotFound when unset.
func (s *Store) GetControl(ctx context.Context, key string) ([]byte, error) {
	const op = "get control"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows [][]byte
	err := retry(func() error {
		rows = nil
		return s.session(ctx).Raw("SELECT value FROM control_state WHERE key = ?", key).Scan(&rows).Error
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(rows) == 0 {
		return nil, s.fail(op, core.ErrNotFound)
	}
	return rows[0], nil
}

// PutControl stores value under key and bumps the version, in one transaction.
func (s *Store) PutControl(ctx context.Context, key string, value []byte) error {
	const op = "put control"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	err := retry(func() error {
		return s.session(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO control_state (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, value).Error; err != nil {
				return err
			}
			return bumpControlVersion(tx)
		}, readCommitted)
	})
	return s.fail(op, err)
}

// EnsureControl stores value under key unless it is set (without bumping the
// version: nothing a replica has loaded changes) and returns the stored value.
func (s *Store) EnsureControl(ctx context.Context, key string, value []byte) ([]byte, error) {
	const op = "ensure control"
	if err := s.check(op); err != nil {
		return nil, err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	err := retry(func() error {
		return s.session(cctx).Exec(`INSERT INTO control_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, value).Error
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	return s.GetControl(ctx, key)
}

// Hit counts one hit on key unless limit > 0 and the counter has reached it.
// The upsert's conflict branch re-checks the limit under the row lock, so
// concurrent replicas never count past it.
func (s *Store) Hit(ctx context.Context, key string, limit int64) (bool, error) {
	const op = "hit"
	if err := s.check(op); err != nil {
		return false, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var n []int64
	err := retry(func() error {
		n = nil
		return s.session(ctx).Raw(`INSERT INTO control_counters AS c (key, n) VALUES (?, 1)
			ON CONFLICT (key) DO UPDATE SET n = c.n + 1 WHERE ? <= 0 OR c.n < ?
			RETURNING n`, key, limit, limit).Scan(&n).Error
	})
	if err != nil {
		return false, s.fail(op, err)
	}
	return len(n) == 1, nil
}

// Counters returns every counter whose key starts with prefix.
func (s *Store) Counters(ctx context.Context, prefix string) (map[string]int64, error) {
	const op = "counters"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	type row struct {
		Key string
		N   int64
	}
	var rows []row
	err := retry(func() error {
		rows = nil
		return s.session(ctx).Raw("SELECT key, n FROM control_counters WHERE starts_with(key, ?)", prefix).Scan(&rows).Error
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Key] = r.N
	}
	return out, nil
}

// ResetCounters deletes every counter whose key starts with prefix.
func (s *Store) ResetCounters(ctx context.Context, prefix string) error {
	const op = "reset counters"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	err := retry(func() error {
		return s.session(ctx).Exec("DELETE FROM control_counters WHERE starts_with(key, ?)", prefix).Error
	})
	return s.fail(op, err)
}

// bumpControlVersion tells every replica that the shared state changed: the
// next request each serves reloads it (the dialects added at run time too).
func bumpControlVersion(tx *gorm.DB) error {
	return tx.Exec("UPDATE control_version SET version = version + 1 WHERE id = 1").Error
}
