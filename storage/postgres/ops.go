package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tokengate/tokengate/core"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// batchSize bounds the rows of one INSERT: 1000 token rows of 15 columns are
// 15000 parameters, well under PostgreSQL's 65535.
const batchSize = 1000

// freshIDAttempts bounds the retries of PutAuthorization with ID 0 when the
// ID the sequence hands out is taken by a row put with an explicit ID.
const freshIDAttempts = 16

// readCommitted is the isolation of the store's transactions, whatever the
// server's default_transaction_isolation: every race is settled by a
// conditional UPDATE or a unique index, which need nothing stronger, and a
// stronger level would turn lost races into serialization failures.
var readCommitted = &sql.TxOptions{Isolation: sql.LevelReadCommitted}

var (
	errZeroTime = errors.New("zero time")
	errNoFreeID = errors.New("no free authorization id")
)

// badConnAttempts bounds the attempts of one statement or transaction that
// fails with driver.ErrBadConn. database/sql returns that error only when
// nothing reached the server, after trying two pooled connections and one
// new one; but after a server restart more stale connections than that may
// be handed to one call in turn (each released by the call it failed), so
// the store tries again itself, and a stale connection fails one call only.
const badConnAttempts = 4

// retry runs fn until it does not fail with driver.ErrBadConn, at most
// badConnAttempts times. Rows and slices fn fills are reset by fn itself.
func retry(fn func() error) error {
	var err error
	for range badConnAttempts {
		if err = fn(); err == nil || !errors.Is(err, driver.ErrBadConn) {
			return err
		}
	}
	return err
}

// session returns a gorm session bound to ctx.
func (s *Store) session(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// upsert inserts row or replaces every column of the row with its key.
func (s *Store) upsert(ctx context.Context, row any) error {
	return retry(func() error { return s.session(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(row).Error })
}

// deleteByID deletes the row of model with id and reports ErrNotFound when
// there was none.
func (s *Store) deleteByID(ctx context.Context, model any, id any) error {
	var res *gorm.DB
	if err := retry(func() error { res = s.session(ctx).Where("id = ?", id).Delete(model); return res.Error }); err != nil {
		return err
	}
	if res.RowsAffected == 0 {
		return core.ErrNotFound
	}
	return nil
}

// Clients.

func (s *Store) GetClient(ctx context.Context, id string) (*core.Client, error) {
	const op = "get client"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var r clientRow
	if err := retry(func() error { return s.session(ctx).Where("id = ?", id).Take(&r).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	c, err := r.model()
	return c, s.fail(op, err)
}

func (s *Store) ListClients(ctx context.Context) ([]*core.Client, error) {
	const op = "list clients"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows []clientRow
	if err := retry(func() error { return s.session(ctx).Order("id").Find(&rows).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.Client, 0, len(rows))
	for i := range rows {
		c, err := rows[i].model()
		if err != nil {
			return nil, s.fail(op, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Store) PutClient(ctx context.Context, c *core.Client) error {
	const op = "put client"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := clientToRow(c)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.upsert(ctx, r))
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.deleteByID(ctx, &clientRow{}, id))
}

// Users.

func (s *Store) GetUser(ctx context.Context, id string) (*core.User, error) {
	return s.getUser(ctx, "get user", "id = ?", id)
}

// GetUserByUsername finds a user by exact username. The empty username
// belongs to no one.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (*core.User, error) {
	const op = "get user by username"
	if username == "" {
		if err := s.check(op); err != nil {
			return nil, err
		}
		return nil, s.fail(op, core.ErrNotFound)
	}
	return s.getUser(ctx, op, "username = ?", username)
}

func (s *Store) getUser(ctx context.Context, op, where string, arg string) (*core.User, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var r userRow
	if err := retry(func() error { return s.session(ctx).Where(where, arg).Take(&r).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	u, err := r.model()
	return u, s.fail(op, err)
}

func (s *Store) ListUsers(ctx context.Context) ([]*core.User, error) {
	const op = "list users"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows []userRow
	if err := retry(func() error { return s.session(ctx).Order("id").Find(&rows).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].model()
		if err != nil {
			return nil, s.fail(op, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// PutUser inserts or replaces a user. A non-empty username already taken by
// another user is core.ErrConflict.
func (s *Store) PutUser(ctx context.Context, u *core.User) error {
	const op = "put user"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := userToRow(u)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.upsert(ctx, r))
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "delete user"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.deleteByID(ctx, &userRow{}, id))
}

// Authorizations.

func (s *Store) GetAuthorization(ctx context.Context, id int64) (*core.Authorization, error) {
	const op = "get authorization"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var r authorizationRow
	if err := retry(func() error { return s.session(ctx).Where("id = ?", id).Take(&r).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	return r.model(), nil
}

func (s *Store) ListAuthorizations(ctx context.Context) ([]*core.Authorization, error) {
	const op = "list authorizations"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows []authorizationRow
	if err := retry(func() error { return s.session(ctx).Order("id").Find(&rows).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.Authorization, len(rows))
	for i := range rows {
		out[i] = rows[i].model()
	}
	return out, nil
}

// PutAuthorization inserts or replaces an authorization. An ID of 0 asks for
// a fresh ID, which is written back to a.ID.
//
// Fresh IDs come from the column's identity sequence. A row put with an
// explicit ID moves the sequence past it, so, as with SQLite's
// AUTOINCREMENT, fresh IDs follow the largest ID ever stored; should a
// concurrent writer still take the ID drawn, the insert does nothing and
// draws again.
func (s *Store) PutAuthorization(ctx context.Context, a *core.Authorization) error {
	const op = "put authorization"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := authorizationToRow(a)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if r.ID != 0 {
		err := retry(func() error {
			return s.session(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(r).Error; err != nil {
					return err
				}
				return tx.Exec(`SELECT setval(seq, ?) FROM (SELECT pg_get_serial_sequence('authorizations', 'id')::regclass AS seq) q
					WHERE COALESCE(pg_sequence_last_value(seq), 0) < ?`, r.ID, r.ID).Error
			}, readCommitted)
		})
		return s.fail(op, err)
	}
	for range freshIDAttempts {
		var ids []int64
		err := retry(func() error {
			ids = ids[:0]
			return s.session(ctx).Raw(`INSERT INTO authorizations (token_digest, user_id, client_id, created_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id`,
				r.TokenDigest, r.UserID, r.ClientID, r.Created).Scan(&ids).Error
		})
		if err != nil {
			return s.fail(op, err)
		}
		if len(ids) == 1 {
			a.ID = ids[0]
			return nil
		}
	}
	return s.fail(op, errNoFreeID)
}

func (s *Store) DeleteAuthorization(ctx context.Context, id int64) error {
	const op = "delete authorization"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.deleteByID(ctx, &authorizationRow{}, id))
}

// Tokens.

// InsertTokens stores tokens atomically; a digest that exists already (or
// twice in tokens) fails the whole call with core.ErrConflict.
func (s *Store) InsertTokens(ctx context.Context, tokens ...*core.Token) error {
	const op = "insert tokens"
	if err := s.check(op); err != nil {
		return err
	}
	if len(tokens) == 0 {
		return nil
	}
	rows, err := tokensToRows(tokens)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := withTimeout(ctx, s.bulkTimeout(len(rows)))
	defer cancel()
	if len(rows) <= batchSize {
		// One INSERT statement is atomic on its own.
		return s.fail(op, retry(func() error { return s.session(ctx).Create(&rows).Error }))
	}
	return s.fail(op, retry(func() error {
		return s.session(ctx).Transaction(func(tx *gorm.DB) error {
			return tx.CreateInBatches(&rows, batchSize).Error
		}, readCommitted)
	}))
}

// InsertTokensBulk inserts any number of tokens with one COPY: all or none,
// and much faster than INSERT for large numbers. It is meant for preloading.
// A digest that exists already (or twice in tokens) fails the whole call
// with core.ErrConflict.
func (s *Store) InsertTokensBulk(ctx context.Context, tokens []*core.Token) error {
	const op = "insert tokens bulk"
	if err := s.check(op); err != nil {
		return err
	}
	if len(tokens) == 0 {
		return nil
	}
	rows, err := tokensToRows(tokens)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := withTimeout(ctx, s.bulkTimeout(len(rows)))
	defer cancel()
	return s.fail(op, retry(func() error { return s.copyTokens(ctx, rows) }))
}

// copyTokens inserts rows with COPY FROM STDIN on one pooled connection.
func (s *Store) copyTokens(ctx context.Context, rows []tokenRow) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		if pc.Conn().IsClosed() {
			return driver.ErrBadConn
		}
		_, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{"tokens"}, tokenColumns,
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return rows[i].values(), nil }))
		return err
	})
}

// bulkTimeout is the default timeout of a call writing n tokens: the call
// timeout for every started 1000.
func (s *Store) bulkTimeout(n int) time.Duration {
	return s.callTimeout * time.Duration(1+n/batchSize)
}

func (s *Store) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	const op = "get token"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var r tokenRow
	if err := retry(func() error { return s.session(ctx).Where("digest = ?", digest).Take(&r).Error }); err != nil {
		return nil, s.fail(op, err)
	}
	t, err := r.model()
	return t, s.fail(op, err)
}

// Exchange marks the token consumed and inserts successors in one
// transaction. The conditional UPDATE is the whole race: it row-locks the
// token and, at READ COMMITTED, re-checks its WHERE against the committed
// row once a concurrent exchange ends, so exactly one of any number of
// exchanges (from any number of connections or processes) updates a row.
// A token that is unknown, consumed or revoked fails with core.ErrConsumed;
// a successor whose digest exists fails with core.ErrConflict. Either way
// nothing changes.
func (s *Store) Exchange(ctx context.Context, digest string, now time.Time, successors ...*core.Token) error {
	const op = "exchange"
	if err := s.check(op); err != nil {
		return err
	}
	if now.IsZero() {
		return s.fail(op, errZeroTime)
	}
	rows, err := tokensToRows(successors)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := withTimeout(ctx, s.bulkTimeout(len(rows)))
	defer cancel()
	err = retry(func() error {
		return s.session(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Exec("UPDATE tokens SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL AND revoked_at IS NULL",
				now.UTC(), digest)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return core.ErrConsumed
			}
			if len(rows) == 0 {
				return nil
			}
			return tx.CreateInBatches(&rows, batchSize).Error
		}, readCommitted)
	})
	return s.fail(op, err)
}

// RevokeToken marks one token revoked at now. Revoking a revoked token keeps
// its first revocation time; an unknown digest is core.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, digest string, now time.Time) error {
	const op = "revoke token"
	if err := s.check(op); err != nil {
		return err
	}
	if now.IsZero() {
		return s.fail(op, errZeroTime)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var res *gorm.DB
	if err := retry(func() error {
		res = s.session(ctx).Exec("UPDATE tokens SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL", now.UTC(), digest)
		return res.Error
	}); err != nil {
		return s.fail(op, err)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var n int64
	if err := retry(func() error { return s.session(ctx).Model(&tokenRow{}).Where("digest = ?", digest).Count(&n).Error }); err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return s.fail(op, core.ErrNotFound)
	}
	return nil
}

// revokeWhere revokes, with one UPDATE, the live tokens (neither consumed
// nor revoked) whose column equals value. Consumed tokens are left alone so
// that a later replay of one is still told apart from a revoked token.
func (s *Store) revokeWhere(ctx context.Context, op, column, value string, now time.Time) (int, error) {
	if err := s.check(op); err != nil {
		return 0, err
	}
	if now.IsZero() {
		return 0, s.fail(op, errZeroTime)
	}
	if value == "" {
		return 0, nil // tokens without a family or client belong to no group
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var res *gorm.DB
	if err := retry(func() error {
		res = s.session(ctx).Exec("UPDATE tokens SET revoked_at = ? WHERE "+column+" = ? AND revoked_at IS NULL AND consumed_at IS NULL",
			now.UTC(), value)
		return res.Error
	}); err != nil {
		return 0, s.fail(op, err)
	}
	return int(res.RowsAffected), nil
}

// RevokeFamily revokes every live token of a family and reports how many.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error) {
	return s.revokeWhere(ctx, "revoke family", "family_id", familyID, now)
}

// RevokeClientTokens revokes every live token of a client and reports how many.
func (s *Store) RevokeClientTokens(ctx context.Context, clientID string, now time.Time) (int, error) {
	return s.revokeWhere(ctx, "revoke client tokens", "client_id", clientID, now)
}

// ListTokens returns the tokens matching f, newest IssuedAt first (tokens
// without one last, as in SQLite).
func (s *Store) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	const op = "list tokens"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows []tokenRow
	if err := retry(func() error {
		q := s.session(ctx).Model(&tokenRow{})
		for _, c := range []struct{ column, value string }{
			{"client_id", f.ClientID}, {"user_id", f.UserID}, {"dialect", f.Dialect}, {"kind", string(f.Kind)},
		} {
			if c.value != "" {
				q = q.Where(c.column+" = ?", c.value)
			}
		}
		q = q.Order("issued_at DESC NULLS LAST").Order("digest")
		if f.Limit > 0 {
			q = q.Limit(f.Limit)
		}
		return q.Find(&rows).Error
	}); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.Token, 0, len(rows))
	for i := range rows {
		t, err := rows[i].model()
		if err != nil {
			return nil, s.fail(op, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// DeleteExpiredTokens deletes the tokens whose ExpiresAt is before cutoff
// (compared at microsecond precision).
func (s *Store) DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "delete expired tokens"
	if err := s.check(op); err != nil {
		return 0, err
	}
	if cutoff.IsZero() {
		return 0, nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var res *gorm.DB
	if err := retry(func() error {
		res = s.session(ctx).Exec("DELETE FROM tokens WHERE expires_at < ?", cutoff.UTC())
		return res.Error
	}); err != nil {
		return 0, s.fail(op, err)
	}
	return int(res.RowsAffected), nil
}

func (s *Store) DeleteAllTokens(ctx context.Context) error {
	const op = "delete all tokens"
	if err := s.check(op); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, retry(func() error { return s.session(ctx).Exec("DELETE FROM tokens").Error }))
}

// Signing keys.

// PutSigningKey inserts or replaces a key by ID.
func (s *Store) PutSigningKey(ctx context.Context, k *core.SigningKey) error {
	const op = "put signing key"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := signingKeyToRow(k)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(op, s.upsert(ctx, r))
}

// ListSigningKeys returns a dialect's keys, oldest CreatedAt first (keys
// without one first, as in SQLite).
func (s *Store) ListSigningKeys(ctx context.Context, dialect string) ([]*core.SigningKey, error) {
	const op = "list signing keys"
	if err := s.check(op); err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var rows []signingKeyRow
	if err := retry(func() error {
		return s.session(ctx).Where("dialect = ?", dialect).Order("created_at NULLS FIRST").Order("id").Find(&rows).Error
	}); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.SigningKey, len(rows))
	for i := range rows {
		out[i] = rows[i].model()
	}
	return out, nil
}
