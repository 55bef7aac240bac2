package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The core.Store operations PostgreSQL does its own way; the others are
// sqlstore.Ops's, run through session, bound and retry.

// freshIDAttempts bounds the retries of PutAuthorization with ID 0 when the
// ID the sequence hands out is taken by a row put with an explicit ID.
const freshIDAttempts = 16

// readCommitted is the isolation of the store's transactions, whatever the
// server's default_transaction_isolation: every race is settled by a
// conditional UPDATE or a unique index, which need nothing stronger, and a
// stronger level would turn lost races into serialization failures.
var readCommitted = &sql.TxOptions{Isolation: sql.LevelReadCommitted}

var errNoFreeID = errors.New("no free authorization id")

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

// bound bounds a call writing n tokens (0 for any other call) by the call
// timeout for every started 1000, unless ctx has a deadline already.
func (s *Store) bound(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	return withTimeout(ctx, s.callTimeout*time.Duration(1+n/sqlstore.BatchSize))
}

// authorizationRow is sqlstore.Authorization for inserting with an explicit
// ID: gorm is not told that id is an identity column, since fresh IDs are
// drawn by PutAuthorization itself.
type authorizationRow struct {
	ID          int64      `gorm:"column:id;primaryKey;autoIncrement:false"`
	TokenDigest string     `gorm:"column:token_digest"`
	UserID      string     `gorm:"column:user_id"`
	ClientID    string     `gorm:"column:client_id"`
	Created     *time.Time `gorm:"column:created_at"`
}

func (authorizationRow) TableName() string { return "authorizations" }

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
	r, err := sqlstore.AuthorizationRow[time.Time](a)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if r.ID != 0 {
		row := authorizationRow(*r)
		err := retry(func() error {
			return s.session(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
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
	rows, err := sqlstore.TokenRows[time.Time](tokens)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.bound(ctx, len(rows))
	defer cancel()
	return s.fail(op, retry(func() error { return s.copyTokens(ctx, rows) }))
}

// tokenColumns lists the tokens columns in the order of tokenValues.
var tokenColumns = []string{"digest", "kind", "client_id", "user_id", "dialect", "scopes", "family_id",
	"issued_at", "expires_at", "auth_time", "consumed_at", "revoked_at",
	"redirect_uri", "code_challenge", "code_challenge_method", "details"}

// tokenValues returns a row's columns in tokenColumns order, for COPY.
func tokenValues(r *sqlstore.Token[time.Time]) []any {
	return []any{r.Digest, r.Kind, r.ClientID, r.UserID, r.Dialect, r.Scopes, r.FamilyID,
		timeValue(r.Issued), timeValue(r.Expires), timeValue(r.AuthTime), timeValue(r.Consumed), timeValue(r.Revoked),
		r.RedirectURI, r.CodeChallenge, r.CodeChallengeMethod, r.Details}
}

// timeValue is a nullable time as a COPY value: nil is NULL.
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// copyTokens inserts rows with COPY FROM STDIN on one pooled connection.
func (s *Store) copyTokens(ctx context.Context, rows []sqlstore.Token[time.Time]) error {
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
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return tokenValues(&rows[i]), nil }))
		return err
	})
}

// mergeDetails merges a JSON object into the details column (kept as text).
const mergeDetails = "(details::jsonb || ?::jsonb)::text"

// RevokeToken marks one token revoked at r.At, with one UPDATE and, when it
// changed nothing, one count to tell a revoked token from a missing one.
// Revoking a revoked token keeps its first revocation time and cause; an
// unknown digest is core.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, digest string, r core.Revocation) error {
	const op = "revoke token"
	if err := s.check(op); err != nil {
		return err
	}
	if r.At.IsZero() {
		return s.fail(op, sqlstore.ErrZeroTime)
	}
	if err := sqlstore.Findable(digest); err != nil {
		return s.fail(op, err)
	}
	why, err := sqlstore.RevokedDetails(r)
	if err != nil {
		return s.fail(op, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	var res *gorm.DB
	if err := retry(func() error {
		res = s.session(ctx).Exec("UPDATE tokens SET revoked_at = ?, details = "+mergeDetails+" WHERE digest = ? AND revoked_at IS NULL",
			r.At.UTC(), why, digest)
		return res.Error
	}); err != nil {
		return s.fail(op, err)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var n int64
	if err := retry(func() error {
		return s.session(ctx).Model(&sqlstore.Token[time.Time]{}).Where("digest = ?", digest).Count(&n).Error
	}); err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return s.fail(op, core.ErrNotFound)
	}
	return nil
}

// activeTokenLockClass is the first key of the transaction-scoped advisory
// locks InsertTokensIfNoActive takes (two-key locks share no space with the
// migration runner's one-key lock).
const activeTokenLockClass = 0x746b6761

// InsertTokensIfNoActive inserts tokens unless the client holds an active
// access token of the dialect at now, in one READ COMMITTED transaction. Its
// first statement takes an advisory lock on (client, dialect), held to the
// end of the transaction: a concurrent call from any replica waits there,
// and its check, a statement started after the lock is granted, sees
// the rows the previous holder committed.
func (s *Store) InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*core.Token) error {
	const op = "insert tokens if no active"
	if err := s.check(op); err != nil {
		return err
	}
	if now.IsZero() {
		return s.fail(op, sqlstore.ErrZeroTime)
	}
	rows, err := sqlstore.TokenRows[time.Time](tokens)
	if err != nil {
		return s.fail(op, err)
	}
	h := fnv.New32a()
	h.Write([]byte(clientID + "\x00" + dialect))
	key := int32(h.Sum32())
	ctx, cancel := s.bound(ctx, len(rows))
	defer cancel()
	return s.fail(op, retry(func() error {
		return s.session(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?, ?)", activeTokenLockClass, key).Error; err != nil {
				return err
			}
			var active bool
			if err := tx.Raw(sqlstore.ActiveAccessTokenSQL, clientID, dialect, now.UTC(), string(core.TokenAccess)).
				Scan(&active).Error; err != nil {
				return err
			}
			if active {
				return core.ErrActiveToken
			}
			if len(rows) == 0 {
				return nil
			}
			return tx.CreateInBatches(&rows, sqlstore.BatchSize).Error
		}, readCommitted)
	}))
}
