package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/tokengate/tokengate/core"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// batchSize bounds the rows of one INSERT: 1000 token rows of 15 columns stay
// well under SQLite's 32766 bound variables.
const batchSize = 1000

var errZeroTime = errors.New("zero time")

// reader and writer return sessions bound to ctx.
func (s *Store) reader(ctx context.Context) *gorm.DB { return s.r.WithContext(ctx) }
func (s *Store) writer(ctx context.Context) *gorm.DB { return s.w.WithContext(ctx) }

// upsert inserts row or replaces every column of the row with its key.
func (s *Store) upsert(ctx context.Context, row any) error {
	return s.writer(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(row).Error
}

// deleteByID deletes the row of model with id and reports ErrNotFound when
// there was none.
func (s *Store) deleteByID(ctx context.Context, model any, id any) error {
	res := s.writer(ctx).Where("id = ?", id).Delete(model)
	if res.Error != nil {
		return res.Error
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
	var r clientRow
	if err := s.reader(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
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
	var rows []clientRow
	if err := s.reader(ctx).Order("id").Find(&rows).Error; err != nil {
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
	return s.fail(op, s.upsert(ctx, r))
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	if err := s.check(op); err != nil {
		return err
	}
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
	var r userRow
	if err := s.reader(ctx).Where(where, arg).Take(&r).Error; err != nil {
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
	var rows []userRow
	if err := s.reader(ctx).Order("id").Find(&rows).Error; err != nil {
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
	return s.fail(op, s.upsert(ctx, r))
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "delete user"
	if err := s.check(op); err != nil {
		return err
	}
	return s.fail(op, s.deleteByID(ctx, &userRow{}, id))
}

// Authorizations.

func (s *Store) GetAuthorization(ctx context.Context, id int64) (*core.Authorization, error) {
	const op = "get authorization"
	if err := s.check(op); err != nil {
		return nil, err
	}
	var r authorizationRow
	if err := s.reader(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, s.fail(op, err)
	}
	return r.model(), nil
}

func (s *Store) ListAuthorizations(ctx context.Context) ([]*core.Authorization, error) {
	const op = "list authorizations"
	if err := s.check(op); err != nil {
		return nil, err
	}
	var rows []authorizationRow
	if err := s.reader(ctx).Order("id").Find(&rows).Error; err != nil {
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
func (s *Store) PutAuthorization(ctx context.Context, a *core.Authorization) error {
	const op = "put authorization"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := authorizationToRow(a)
	if err != nil {
		return s.fail(op, err)
	}
	if err := s.upsert(ctx, r); err != nil {
		return s.fail(op, err)
	}
	if r.ID == 0 {
		return s.fail(op, errors.New("no id assigned"))
	}
	a.ID = r.ID
	return nil
}

func (s *Store) DeleteAuthorization(ctx context.Context, id int64) error {
	const op = "delete authorization"
	if err := s.check(op); err != nil {
		return err
	}
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
	return s.fail(op, s.committer.insert(ctx, rows))
}

// InsertTokensBulk inserts any number of tokens in batches of 1000 rows
// within one transaction: all or none. It is meant for preloading.
func (s *Store) InsertTokensBulk(ctx context.Context, tokens []*core.Token) error {
	const op = "insert tokens bulk"
	if err := s.check(op); err != nil {
		return err
	}
	return s.fail(op, s.insertTokens(ctx, tokens))
}

func (s *Store) insertTokens(ctx context.Context, tokens []*core.Token) error {
	if len(tokens) == 0 {
		return nil
	}
	rows, err := tokensToRows(tokens)
	if err != nil {
		return err
	}
	if len(rows) <= batchSize {
		// One INSERT statement is atomic on its own.
		return s.writer(ctx).Create(&rows).Error
	}
	return s.writer(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.CreateInBatches(&rows, batchSize).Error
	})
}

func (s *Store) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	const op = "get token"
	if err := s.check(op); err != nil {
		return nil, err
	}
	t, err := s.getTokenFast(ctx, digest)
	return t, s.fail(op, err)
}

// Exchange marks the token consumed and inserts successors in one write
// transaction. A token that is unknown, consumed or revoked fails with
// core.ErrConsumed; a successor whose digest exists fails with
// core.ErrConflict. Either way nothing changes.
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
	err = s.writer(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE tokens SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL AND revoked_at IS NULL",
			now.UnixNano(), digest)
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
	err := s.writer(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE tokens SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL", now.UnixNano(), digest)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		var n int64
		if err := tx.Model(&tokenRow{}).Where("digest = ?", digest).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return core.ErrNotFound
		}
		return nil
	})
	return s.fail(op, err)
}

// revokeWhere revokes the live tokens (neither consumed nor revoked) whose
// column equals value. Consumed tokens are left alone so that a later replay
// of one is still told apart from a revoked token.
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
	res := s.writer(ctx).Exec("UPDATE tokens SET revoked_at = ? WHERE "+column+" = ? AND revoked_at IS NULL AND consumed_at IS NULL",
		now.UnixNano(), value)
	if res.Error != nil {
		return 0, s.fail(op, res.Error)
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

// ListTokens returns the tokens matching f, newest IssuedAt first.
func (s *Store) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	const op = "list tokens"
	if err := s.check(op); err != nil {
		return nil, err
	}
	q := s.reader(ctx).Model(&tokenRow{})
	for _, c := range []struct{ column, value string }{
		{"client_id", f.ClientID}, {"user_id", f.UserID}, {"dialect", f.Dialect}, {"kind", string(f.Kind)},
	} {
		if c.value != "" {
			q = q.Where(c.column+" = ?", c.value)
		}
	}
	q = q.Order("issued_at DESC").Order("digest")
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []tokenRow
	if err := q.Find(&rows).Error; err != nil {
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

// DeleteExpiredTokens deletes the tokens whose ExpiresAt is before cutoff.
func (s *Store) DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "delete expired tokens"
	if err := s.check(op); err != nil {
		return 0, err
	}
	if cutoff.IsZero() {
		return 0, nil
	}
	res := s.writer(ctx).Exec("DELETE FROM tokens WHERE expires_at < ?", cutoff.UnixNano())
	if res.Error != nil {
		return 0, s.fail(op, res.Error)
	}
	return int(res.RowsAffected), nil
}

func (s *Store) DeleteAllTokens(ctx context.Context) error {
	const op = "delete all tokens"
	if err := s.check(op); err != nil {
		return err
	}
	return s.fail(op, s.writer(ctx).Exec("DELETE FROM tokens").Error)
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
	return s.fail(op, s.upsert(ctx, r))
}

// ListSigningKeys returns a dialect's keys, oldest CreatedAt first.
func (s *Store) ListSigningKeys(ctx context.Context, dialect string) ([]*core.SigningKey, error) {
	const op = "list signing keys"
	if err := s.check(op); err != nil {
		return nil, err
	}
	var rows []signingKeyRow
	if err := s.reader(ctx).Where("dialect = ?", dialect).Order("created_at").Order("id").Find(&rows).Error; err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]*core.SigningKey, len(rows))
	for i := range rows {
		out[i] = rows[i].model()
	}
	return out, nil
}
