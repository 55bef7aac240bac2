package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The core.Store operations SQLite does its own way; the others, and
// InsertTokensBulk, are sqlstore.Ops's.

// PutAuthorization inserts or replaces an authorization. An ID of 0 asks for
// a fresh ID (the column is AUTOINCREMENT), which is written back to a.ID.
func (s *Store) PutAuthorization(ctx context.Context, a *core.Authorization) error {
	const op = "put authorization"
	if err := s.check(op); err != nil {
		return err
	}
	r, err := sqlstore.AuthorizationRow[int64](a)
	if err != nil {
		return s.fail(op, err)
	}
	if err := s.w.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(r).Error; err != nil {
		return s.fail(op, err)
	}
	if r.ID == 0 {
		return s.fail(op, errors.New("no id assigned"))
	}
	a.ID = r.ID
	return nil
}

// InsertTokens stores tokens atomically through the group committer
// (hotpath.go); a digest that exists already (or twice in tokens) fails the
// whole call with core.ErrConflict.
func (s *Store) InsertTokens(ctx context.Context, tokens ...*core.Token) error {
	const op = "insert tokens"
	if err := s.check(op); err != nil {
		return err
	}
	if len(tokens) == 0 {
		return nil
	}
	rows, err := sqlstore.TokenRows[int64](tokens)
	if err != nil {
		return s.fail(op, err)
	}
	at := s.cache.stamp()
	if err := s.committer.insert(ctx, rows); err != nil {
		return s.fail(op, err)
	}
	s.cacheWritten(rows, at)
	return nil
}

// cacheWritten keeps rows, just committed by a write that began at stamp
// at, in the token read cache: a token is often read right after it was
// issued (validated, or a refresh token rotated).
func (s *Store) cacheWritten(rows []tokenRow, at stamp) {
	for i := range rows {
		s.cache.put(rows[i].Digest, encodeToken(&rows[i]), at)
	}
}

// InsertTokensIfNoActive inserts tokens unless the client holds an active
// access token of the dialect at now. The check and the insert run in one
// transaction of the group committer's single writer (hotpath.go), which
// orders every write: nothing can come between them.
func (s *Store) InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*core.Token) error {
	return s.commitAt("insert tokens if no active", now, tokens, func(now int64, rows []tokenRow) error {
		return s.committer.insertUnlessActive(ctx, activeGuard{clientID, dialect}, now, rows)
	})
}

// Exchange consumes a live token and inserts its successors in one
// transaction through the group committer (hotpath.go): of concurrent
// exchanges of one token exactly one succeeds; the others get
// core.ErrConsumed and write nothing.
func (s *Store) Exchange(ctx context.Context, digest string, now time.Time, successors ...*core.Token) error {
	defer s.tokensChanged(digest)
	return s.commitAt("exchange", now, successors, func(now int64, rows []tokenRow) error {
		return s.committer.exchange(ctx, digest, now, rows)
	})
}

// commitAt runs write, a group-commit write of tokens at now (unix
// nanoseconds), as operation op.
func (s *Store) commitAt(op string, now time.Time, tokens []*core.Token, write func(now int64, rows []tokenRow) error) error {
	if err := s.check(op); err != nil {
		return err
	}
	if now.IsZero() {
		return s.fail(op, sqlstore.ErrZeroTime)
	}
	rows, err := sqlstore.TokenRows[int64](tokens)
	if err != nil {
		return s.fail(op, err)
	}
	at := s.cache.stamp()
	if err := write(now.UnixNano(), rows); err != nil {
		return s.fail(op, err)
	}
	s.cacheWritten(rows, at)
	return nil
}

// GetToken reads a token from the token read cache (tokencache.go), else
// with a prepared statement on a connection of its own (reads.go).
func (s *Store) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	const op = "get token"
	if err := s.check(op); err != nil {
		return nil, err
	}
	if err := sqlstore.Findable(digest); err != nil {
		return nil, s.fail(op, err)
	}
	t, err := s.getTokenFast(ctx, digest)
	return t, s.fail(op, err)
}

// mergeDetails merges a JSON object into the details column (RFC 7396).
const mergeDetails = "json_patch(details, ?)"

// RevokeToken marks one token revoked at r.At, in one write transaction.
// Revoking a revoked token keeps its first revocation time and cause; an
// unknown digest is core.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, digest string, r core.Revocation) error {
	const op = "revoke token"
	if err := s.check(op); err != nil {
		return err
	}
	defer s.tokensChanged(digest)
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
	err = s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE tokens SET revoked_at = ?, details = "+mergeDetails+" WHERE digest = ? AND revoked_at IS NULL",
			r.At.UnixNano(), why, digest)
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
