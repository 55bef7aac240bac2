// Package sqlstore is what storage/sqlite and storage/postgres share: the
// gorm row types and their mapping to the core models (generic in how a
// time is stored, see Time), the mapping of errors to the core sentinels
// around each backend's classification of its driver's errors, and Ops, the
// core.Store operations whose SQL is the same in both dialects.
//
// Each backend keeps what differs: opening and configuring its database,
// its schema (the SQL of its migration steps, which storage/internal/migrate
// runs), the classification of driver errors (SQLite result codes,
// PostgreSQL SQLSTATEs), and the operations whose SQL or strategy is its
// own (SQLite's group commit and prepared token read, PostgreSQL's COPY and
// authorization ID sequence, and so on).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/core"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// BatchSize bounds the rows of one INSERT: 1000 token rows of 15 columns
// stay well under the bound parameters of one statement (SQLite 32766,
// PostgreSQL 65535).
const BatchSize = 1000

// ErrZeroTime fails an operation given the zero time as "now".
var ErrZeroTime = errors.New("zero time")

var errClosed = errors.New("store is closed")

// Check fails operation op fast, with core.ErrUnavailable, once the store
// of backend name ("sqlite", "postgres") is closed.
func Check(name string, closed bool, op string) error {
	if closed {
		return fmt.Errorf("%s: %s: %w: %w", name, op, core.ErrUnavailable, errClosed)
	}
	return nil
}

// Storable is nil when every backend can store vals as text, else an error
// wrapping core.ErrInvalidValue: text with NUL or invalid UTF-8, which
// SQLite would keep and PostgreSQL refuse (SQLSTATE 22021), is refused by
// both before it reaches the driver.
func Storable(vals ...string) error {
	for _, v := range vals {
		if !core.ValidText(v) {
			return fmt.Errorf("text column: %w", core.ErrInvalidValue)
		}
	}
	return nil
}

// Findable is nil when a row can have key, else core.ErrNotFound: a key
// no backend can store names no row, on both backends alike.
func Findable(key string) error {
	if !core.ValidText(key) {
		return core.ErrNotFound
	}
	return nil
}

// Fail maps an error of operation op of backend name to the core sentinels:
// errors wrapping one already keep it, gorm's missing row is
// core.ErrNotFound, any error of a closed store core.ErrUnavailable, and the
// rest is left to classify, the backend's reading of its driver's errors.
func Fail(name string, closed bool, op string, err error, classify func(op string, err error) error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrConflict),
		errors.Is(err, core.ErrConsumed), errors.Is(err, core.ErrUnavailable), errors.Is(err, core.ErrInvalidValue):
		return fmt.Errorf("%s: %s: %w", name, op, err)
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %s: %w", name, op, core.ErrNotFound)
	case closed:
		return fmt.Errorf("%s: %s: %w: %w", name, op, core.ErrUnavailable, err)
	}
	return classify(op, err)
}

// Backend is what the shared operations need of a store.
type Backend[T Time] struct {
	// Reader and Writer are the sessions reads and writes use (SQLite: its
	// reader pool and its one writer connection; PostgreSQL: its one pool).
	Reader, Writer *gorm.DB
	// Check and Fail are the store's: see the functions of those names.
	Check func(op string) error
	Fail  func(op string, err error) error
	// TxOptions are those of the store's transactions; nil for none.
	TxOptions *sql.TxOptions
	// Bound, if set, bounds the context of a call that writes n token rows
	// (n is 0 for every other call).
	Bound func(ctx context.Context, n int) (context.Context, context.CancelFunc)
	// Retry, if set, runs each statement or transaction, again when the
	// backend sees fit, and returns the last error.
	Retry func(fn func() error) error
	// RowLock is appended to the SELECT of a read-modify-write transaction
	// (PostgreSQL: " FOR UPDATE"; SQLite's one writer needs none).
	RowLock string
	// MergeDetails is an SQL expression of the details column with a JSON
	// object, its one parameter, merged in (see RevokedDetails).
	MergeDetails string
	// DialectsChanged, if set, runs in the transaction of every change to
	// dialect_specs (PostgreSQL bumps the shared control version there, so
	// replicas notice).
	DialectsChanged func(tx *gorm.DB) error
	// TokensChanged, if set, is told after every operation that may have
	// changed or removed stored tokens, whatever its outcome: digest names
	// the one token it touched, "" any token (SQLite's token read cache).
	TokensChanged func(digest string)
}

// Ops implements the core.Store operations whose SQL is the same in both
// dialects, and InsertTokensBulk by batched INSERTs. A backend embeds it
// and shadows those it does better: SQLite has InsertTokens and GetToken of
// its own, PostgreSQL InsertTokensBulk.
type Ops[T Time] struct{ b Backend[T] }

// NewOps returns the shared operations on b.
func NewOps[T Time](b Backend[T]) Ops[T] { return Ops[T]{b} }

// call bounds the context of a call writing n token rows.
func (o *Ops[T]) call(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	if o.b.Bound == nil {
		return ctx, func() {}
	}
	return o.b.Bound(ctx, n)
}

func (o *Ops[T]) retry(fn func() error) error {
	if o.b.Retry == nil {
		return fn()
	}
	return o.b.Retry(fn)
}

// tokensChanged tells the backend that stored tokens may have changed:
// the one with digest, or any for "".
func (o *Ops[T]) tokensChanged(digest string) {
	if o.b.TokensChanged != nil {
		o.b.TokensChanged(digest)
	}
}

// write runs one statement on the writer and reports the rows it affected.
func (o *Ops[T]) write(ctx context.Context, stmt func(db *gorm.DB) *gorm.DB) (int64, error) {
	var res *gorm.DB
	if err := o.retry(func() error { res = stmt(o.b.Writer.WithContext(ctx)); return res.Error }); err != nil {
		return 0, err
	}
	return res.RowsAffected, nil
}

// get reads the one row matching where, mapped by model.
func get[T Time, R, M any](ctx context.Context, o *Ops[T], op, where string, arg any,
	model func(*R) (*M, error)) (*M, error) {
	if err := o.b.Check(op); err != nil {
		return nil, err
	}
	if key, ok := arg.(string); ok && Findable(key) != nil {
		return nil, o.b.Fail(op, core.ErrNotFound)
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	var r R
	if err := o.retry(func() error { return o.b.Reader.WithContext(ctx).Where(where, arg).Take(&r).Error }); err != nil {
		return nil, o.b.Fail(op, err)
	}
	m, err := model(&r)
	return m, o.b.Fail(op, err)
}

// list reads the rows query selects, mapped by model.
func list[T Time, R, M any](ctx context.Context, o *Ops[T], op string, query func(q *gorm.DB) *gorm.DB,
	model func(*R) (*M, error)) ([]*M, error) {
	if err := o.b.Check(op); err != nil {
		return nil, err
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	var rows []R
	if err := o.retry(func() error { return query(o.b.Reader.WithContext(ctx)).Find(&rows).Error }); err != nil {
		return nil, o.b.Fail(op, err)
	}
	out := make([]*M, 0, len(rows))
	for i := range rows {
		m, err := model(&rows[i])
		if err != nil {
			return nil, o.b.Fail(op, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func byID(q *gorm.DB) *gorm.DB { return q.Order("id") }

// upsert inserts row, the result of mapping a model with error err, or
// replaces every column of the row with its key.
func (o *Ops[T]) upsert(ctx context.Context, op string, row any, err error) error {
	if err := o.b.Check(op); err != nil {
		return err
	}
	if err != nil {
		return o.b.Fail(op, err)
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	return o.b.Fail(op, o.retry(func() error {
		return o.b.Writer.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(row).Error
	}))
}

// deleteByID deletes the row of model with id, core.ErrNotFound when there
// was none.
func (o *Ops[T]) deleteByID(ctx context.Context, op string, model any, id any) error {
	if err := o.b.Check(op); err != nil {
		return err
	}
	if key, ok := id.(string); ok && Findable(key) != nil {
		return o.b.Fail(op, core.ErrNotFound)
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	n, err := o.write(ctx, func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", id).Delete(model) })
	if err == nil && n == 0 {
		err = core.ErrNotFound
	}
	return o.b.Fail(op, err)
}

// Clients.

func (o *Ops[T]) GetClient(ctx context.Context, id string) (*core.Client, error) {
	return get(ctx, o, "get client", "id = ?", id, (*Client[T]).Model)
}

func (o *Ops[T]) ListClients(ctx context.Context) ([]*core.Client, error) {
	return list(ctx, o, "list clients", byID, (*Client[T]).Model)
}

func (o *Ops[T]) PutClient(ctx context.Context, c *core.Client) error {
	r, err := ClientRow[T](c)
	return o.upsert(ctx, "put client", r, err)
}

func (o *Ops[T]) DeleteClient(ctx context.Context, id string) error {
	return o.deleteByID(ctx, "delete client", &Client[T]{}, id)
}

// Users.

func (o *Ops[T]) GetUser(ctx context.Context, id string) (*core.User, error) {
	return get(ctx, o, "get user", "id = ?", id, (*User[T]).Model)
}

// GetUserByUsername finds a user by exact username. The empty username
// belongs to no one.
func (o *Ops[T]) GetUserByUsername(ctx context.Context, username string) (*core.User, error) {
	const op = "get user by username"
	if username == "" {
		if err := o.b.Check(op); err != nil {
			return nil, err
		}
		return nil, o.b.Fail(op, core.ErrNotFound)
	}
	return get(ctx, o, op, "username = ?", username, (*User[T]).Model)
}

func (o *Ops[T]) ListUsers(ctx context.Context) ([]*core.User, error) {
	return list(ctx, o, "list users", byID, (*User[T]).Model)
}

// PutUser inserts or replaces a user. A non-empty username already taken by
// another user is core.ErrConflict.
func (o *Ops[T]) PutUser(ctx context.Context, u *core.User) error {
	r, err := UserRow[T](u)
	return o.upsert(ctx, "put user", r, err)
}

func (o *Ops[T]) DeleteUser(ctx context.Context, id string) error {
	return o.deleteByID(ctx, "delete user", &User[T]{}, id)
}

// Authorizations (PutAuthorization is the backends': they assign fresh IDs
// their own ways).

func (o *Ops[T]) GetAuthorization(ctx context.Context, id int64) (*core.Authorization, error) {
	return get(ctx, o, "get authorization", "id = ?", id, (*Authorization[T]).Model)
}

func (o *Ops[T]) ListAuthorizations(ctx context.Context) ([]*core.Authorization, error) {
	return list(ctx, o, "list authorizations", byID, (*Authorization[T]).Model)
}

func (o *Ops[T]) DeleteAuthorization(ctx context.Context, id int64) error {
	return o.deleteByID(ctx, "delete authorization", &Authorization[T]{}, id)
}

// Tokens (RevokeToken is the backends': SQLite's is one transaction,
// PostgreSQL's two statements).

// InsertTokens stores tokens atomically; a digest that exists already (or
// twice in tokens) fails the whole call with core.ErrConflict.
func (o *Ops[T]) InsertTokens(ctx context.Context, tokens ...*core.Token) error {
	return o.insert(ctx, "insert tokens", tokens)
}

// InsertTokensBulk inserts any number of tokens in batches of 1000 rows
// within one transaction: all or none. It is meant for preloading.
func (o *Ops[T]) InsertTokensBulk(ctx context.Context, tokens []*core.Token) error {
	return o.insert(ctx, "insert tokens bulk", tokens)
}

func (o *Ops[T]) insert(ctx context.Context, op string, tokens []*core.Token) error {
	if err := o.b.Check(op); err != nil {
		return err
	}
	if len(tokens) == 0 {
		return nil
	}
	rows, err := TokenRows[T](tokens)
	if err != nil {
		return o.b.Fail(op, err)
	}
	ctx, cancel := o.call(ctx, len(rows))
	defer cancel()
	if len(rows) <= BatchSize {
		// One INSERT statement is atomic on its own.
		return o.b.Fail(op, o.retry(func() error { return o.b.Writer.WithContext(ctx).Create(&rows).Error }))
	}
	return o.b.Fail(op, o.retry(func() error {
		return o.b.Writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return tx.CreateInBatches(&rows, BatchSize).Error
		}, o.b.TxOptions)
	}))
}

func (o *Ops[T]) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	return get(ctx, o, "get token", "digest = ?", digest, (*Token[T]).Model)
}

// Exchange marks the token consumed and inserts successors in one
// transaction. The conditional UPDATE is the whole race: SQLite's one writer
// runs exchanges one at a time, and PostgreSQL's row lock makes a concurrent
// exchange re-check the WHERE, at READ COMMITTED, against the committed row,
// so exactly one of any number of exchanges (from any number of connections
// or processes) updates a row. A token that is unknown, consumed or revoked
// fails with core.ErrConsumed; a successor whose digest exists fails with
// core.ErrConflict. Either way nothing changes.
func (o *Ops[T]) Exchange(ctx context.Context, digest string, now time.Time, successors ...*core.Token) error {
	const op = "exchange"
	if err := o.b.Check(op); err != nil {
		return err
	}
	defer o.tokensChanged(digest)
	if now.IsZero() {
		return o.b.Fail(op, ErrZeroTime)
	}
	rows, err := TokenRows[T](successors)
	if err != nil {
		return o.b.Fail(op, err)
	}
	ctx, cancel := o.call(ctx, len(rows))
	defer cancel()
	err = o.retry(func() error {
		return o.b.Writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Exec("UPDATE tokens SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL AND revoked_at IS NULL",
				EncodeTime[T](now), digest)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return core.ErrConsumed
			}
			if len(rows) == 0 {
				return nil
			}
			return tx.CreateInBatches(&rows, BatchSize).Error
		}, o.b.TxOptions)
	})
	return o.b.Fail(op, err)
}

// UpdateToken reads the live token with digest and writes back the
// UserID, AuthTime and Details that change leaves, in one transaction on the
// writer: SQLite's one writer runs such transactions one at a time, and
// PostgreSQL's row lock (RowLock) makes a concurrent update wait for this
// one and read what it wrote.
func (o *Ops[T]) UpdateToken(ctx context.Context, digest string, change func(*core.Token) error) error {
	const op = "update token"
	if err := o.b.Check(op); err != nil {
		return err
	}
	defer o.tokensChanged(digest)
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	var refused error // change's own error, returned as it is
	err := o.retry(func() error {
		refused = nil
		return o.b.Writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var rows []Token[T]
			if err := tx.Raw("SELECT * FROM tokens WHERE digest = ?"+o.b.RowLock, digest).Scan(&rows).Error; err != nil {
				return err
			}
			if len(rows) == 0 {
				return core.ErrNotFound
			}
			if rows[0].Consumed != nil || rows[0].Revoked != nil {
				return core.ErrConsumed
			}
			t, err := rows[0].Model()
			if err != nil {
				return err
			}
			if refused = change(t); refused != nil {
				return refused
			}
			details, err := DetailsJSON(&t.Details)
			if err != nil {
				return err
			}
			return tx.Exec("UPDATE tokens SET user_id = ?, auth_time = ?, details = ? WHERE digest = ?",
				t.UserID, NullTime[T](t.AuthTime), details, digest).Error
		}, o.b.TxOptions)
	})
	if refused != nil && errors.Is(err, refused) {
		return refused
	}
	return o.b.Fail(op, err)
}

// RevokedDetails is the JSON object a revocation merges into each revoked
// token's details: its cause and, for reuse, the token that came back.
func RevokedDetails(r core.Revocation) (string, error) {
	return DetailsJSON(&core.TokenDetails{RevokedReason: r.Cause, Replayed: r.Replayed})
}

// revokeWhere revokes, with one UPDATE, the live tokens (neither consumed
// nor revoked) whose column equals value. Consumed tokens are left alone so
// that a later replay of one is still told apart from a revoked token.
func (o *Ops[T]) revokeWhere(ctx context.Context, op, column, value string, r core.Revocation) (int, error) {
	if err := o.b.Check(op); err != nil {
		return 0, err
	}
	if r.At.IsZero() {
		return 0, o.b.Fail(op, ErrZeroTime)
	}
	why, err := RevokedDetails(r)
	if err != nil {
		return 0, o.b.Fail(op, err)
	}
	if value == "" || Findable(value) != nil {
		return 0, nil // tokens without a family or client belong to no group; no token has an unstorable one
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	defer o.tokensChanged("")
	n, err := o.write(ctx, func(db *gorm.DB) *gorm.DB {
		return db.Exec("UPDATE tokens SET revoked_at = ?, details = "+o.b.MergeDetails+" WHERE "+column+
			" = ? AND revoked_at IS NULL AND consumed_at IS NULL", EncodeTime[T](r.At), why, value)
	})
	return int(n), o.b.Fail(op, err)
}

// RevokeFamily revokes every live token of a family and reports how many.
func (o *Ops[T]) RevokeFamily(ctx context.Context, familyID string, r core.Revocation) (int, error) {
	return o.revokeWhere(ctx, "revoke family", "family_id", familyID, r)
}

// RevokeClientTokens revokes every live token of a client and reports how many.
func (o *Ops[T]) RevokeClientTokens(ctx context.Context, clientID string, r core.Revocation) (int, error) {
	return o.revokeWhere(ctx, "revoke client tokens", "client_id", clientID, r)
}

// ListTokens returns the tokens matching f, newest IssuedAt first, tokens
// without one last.
func (o *Ops[T]) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	const op = "list tokens"
	for _, v := range []string{f.ClientID, f.UserID, f.Dialect, string(f.Kind), f.FamilyID} {
		if Findable(v) != nil { // matches no token
			if err := o.b.Check(op); err != nil {
				return nil, err
			}
			return []*core.Token{}, nil
		}
	}
	return list(ctx, o, op, func(q *gorm.DB) *gorm.DB {
		q = q.Model(&Token[T]{})
		for _, c := range []struct{ column, value string }{
			{"client_id", f.ClientID}, {"user_id", f.UserID}, {"dialect", f.Dialect}, {"kind", string(f.Kind)},
			{"family_id", f.FamilyID},
		} {
			if c.value != "" {
				q = q.Where(c.column+" = ?", c.value)
			}
		}
		q = q.Order("issued_at DESC NULLS LAST").Order("digest")
		if f.Limit > 0 {
			q = q.Limit(f.Limit)
		}
		return q
	}, (*Token[T]).Model)
}

// DeleteExpiredTokens deletes the tokens whose ExpiresAt is before cutoff
// (compared at the precision of the store's times).
func (o *Ops[T]) DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "delete expired tokens"
	if err := o.b.Check(op); err != nil {
		return 0, err
	}
	if cutoff.IsZero() {
		return 0, nil
	}
	defer o.tokensChanged("")
	// Chunks of SweepChunk rows, each its own statement: a sweep of
	// millions of expired tokens never holds the one writer for long, so
	// issuing requests interleave with it instead of queueing behind it.
	total := 0
	for {
		cctx, cancel := o.call(ctx, 0)
		n, err := o.write(cctx, func(db *gorm.DB) *gorm.DB {
			return db.Exec("DELETE FROM tokens WHERE digest IN (SELECT digest FROM tokens WHERE expires_at < ? LIMIT ?)",
				EncodeTime[T](cutoff), SweepChunk)
		})
		cancel()
		total += int(n)
		if err != nil || n < SweepChunk {
			return total, o.b.Fail(op, err)
		}
	}
}

// SweepChunk is how many expired tokens one DELETE of a sweep removes.
const SweepChunk = 1000

func (o *Ops[T]) DeleteAllTokens(ctx context.Context) error {
	const op = "delete all tokens"
	if err := o.b.Check(op); err != nil {
		return err
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	defer o.tokensChanged("")
	_, err := o.write(ctx, func(db *gorm.DB) *gorm.DB { return db.Exec("DELETE FROM tokens") })
	return o.b.Fail(op, err)
}

// Signing keys.

// PutSigningKey inserts or replaces a key by ID.
func (o *Ops[T]) PutSigningKey(ctx context.Context, k *core.SigningKey) error {
	r, err := SigningKeyRow[T](k)
	return o.upsert(ctx, "put signing key", r, err)
}

// ListSigningKeys returns a dialect's keys, oldest CreatedAt first, keys
// without one first.
func (o *Ops[T]) ListSigningKeys(ctx context.Context, dialect string) ([]*core.SigningKey, error) {
	if Findable(dialect) != nil {
		return []*core.SigningKey{}, nil
	}
	return list(ctx, o, "list signing keys", func(q *gorm.DB) *gorm.DB {
		return q.Where("dialect = ?", dialect).Order("created_at NULLS FIRST").Order("id")
	}, (*SigningKey[T]).Model)
}

// Run-time dialects.

// InsertDialectSpec stores a new run-time dialect; a name in use is
// core.ErrConflict.
func (o *Ops[T]) InsertDialectSpec(ctx context.Context, d *core.DialectSpec) error {
	const op = "insert dialect spec"
	r, err := DialectSpecRow[T](d)
	return o.dialectsTx(ctx, op, err, func(tx *gorm.DB) error { return tx.Create(r).Error })
}

// ListDialectSpecs returns every run-time dialect, oldest first.
func (o *Ops[T]) ListDialectSpecs(ctx context.Context) ([]*core.DialectSpec, error) {
	return list(ctx, o, "list dialect specs", func(q *gorm.DB) *gorm.DB {
		return q.Order("created_at NULLS FIRST").Order("name")
	}, (*DialectSpec[T]).Model)
}

// DeleteDialectSpec deletes the run-time dialect name; none is core.ErrNotFound.
func (o *Ops[T]) DeleteDialectSpec(ctx context.Context, name string) error {
	return o.dialectsTx(ctx, "delete dialect spec", nil, func(tx *gorm.DB) error {
		res := tx.Where("name = ?", name).Delete(&DialectSpec[T]{})
		if res.Error == nil && res.RowsAffected == 0 {
			return core.ErrNotFound
		}
		return res.Error
	})
}

// dialectsTx runs change (after a mapping error err, if any) and the
// backend's DialectsChanged in one transaction.
func (o *Ops[T]) dialectsTx(ctx context.Context, op string, err error, change func(tx *gorm.DB) error) error {
	if err := o.b.Check(op); err != nil {
		return err
	}
	if err != nil {
		return o.b.Fail(op, err)
	}
	ctx, cancel := o.call(ctx, 0)
	defer cancel()
	return o.b.Fail(op, o.retry(func() error {
		return o.b.Writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := change(tx); err != nil {
				return err
			}
			if o.b.DialectsChanged != nil {
				return o.b.DialectsChanged(tx)
			}
			return nil
		}, o.b.TxOptions)
	}))
}

// ActiveAccessTokenSQL asks whether a client (first argument) holds an
// active access token (kind, the fourth) of a dialect (the second) at a
// time (the third): neither revoked nor consumed, expiring after it. The
// tokens' client_id index serves it.
const ActiveAccessTokenSQL = `SELECT EXISTS (SELECT 1 FROM tokens WHERE client_id = ? AND dialect = ? AND expires_at > ?
 AND kind = ? AND revoked_at IS NULL AND consumed_at IS NULL)`
