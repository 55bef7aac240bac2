package sqlite

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/core"
)

// The gorm row types below are the schema. Field names avoid CreatedAt and
// UpdatedAt so gorm never stamps times of its own: the store keeps exactly
// what the caller put.

type clientRow struct {
	ID             string `gorm:"column:id;primaryKey"`
	SecretHash     string `gorm:"column:secret_hash;not null"`
	Grants         string `gorm:"column:grants;type:text;not null"`        // JSON []GrantType
	Dialects       string `gorm:"column:dialects;type:text;not null"`      // JSON []string
	RedirectURIs   string `gorm:"column:redirect_uris;type:text;not null"` // JSON []string
	Scopes         string `gorm:"column:scopes;type:text;not null"`        // JSON []string
	AccessTTL      int64  `gorm:"column:access_ttl;not null"`              // nanoseconds
	RefreshTTL     int64  `gorm:"column:refresh_ttl;not null"`             // nanoseconds
	AllowPlainPKCE bool   `gorm:"column:allow_plain_pkce;not null"`
	Disabled       bool   `gorm:"column:disabled;not null"`
	Expires        *int64 `gorm:"column:expires_at"`
	Updated        *int64 `gorm:"column:updated_at"`
}

func (clientRow) TableName() string { return "clients" }

type userRow struct {
	ID           string `gorm:"column:id;primaryKey"`
	Username     string `gorm:"column:username;not null;uniqueIndex:idx_users_username,where:username <> ''"`
	FirstName    string `gorm:"column:first_name;not null"`
	LastName     string `gorm:"column:last_name;not null"`
	Email        string `gorm:"column:email;not null"`
	PasswordHash string `gorm:"column:password_hash;not null"`
	Linked       string `gorm:"column:linked;type:text;not null"` // JSON map[Provider]LinkedAccount
	Updated      *int64 `gorm:"column:updated_at"`
}

func (userRow) TableName() string { return "users" }

type authorizationRow struct {
	ID          int64  `gorm:"column:id;primaryKey;autoIncrement"`
	TokenDigest string `gorm:"column:token_digest;not null"`
	UserID      string `gorm:"column:user_id;not null"`
	ClientID    string `gorm:"column:client_id;not null"`
	Created     *int64 `gorm:"column:created_at"`
}

func (authorizationRow) TableName() string { return "authorizations" }

type tokenRow struct {
	Digest              string `gorm:"column:digest;primaryKey"`
	Kind                string `gorm:"column:kind;not null"`
	ClientID            string `gorm:"column:client_id;not null;index:idx_tokens_client_id"`
	UserID              string `gorm:"column:user_id;not null"`
	Dialect             string `gorm:"column:dialect;not null"`
	Scopes              string `gorm:"column:scopes;type:text;not null"` // JSON []string
	FamilyID            string `gorm:"column:family_id;not null;index:idx_tokens_family_id"`
	Issued              *int64 `gorm:"column:issued_at"`
	Expires             *int64 `gorm:"column:expires_at;index:idx_tokens_expires_at"`
	AuthTime            *int64 `gorm:"column:auth_time"`
	Consumed            *int64 `gorm:"column:consumed_at"`
	Revoked             *int64 `gorm:"column:revoked_at"`
	RedirectURI         string `gorm:"column:redirect_uri;not null"`
	CodeChallenge       string `gorm:"column:code_challenge;not null"`
	CodeChallengeMethod string `gorm:"column:code_challenge_method;not null"`
}

func (tokenRow) TableName() string { return "tokens" }

type signingKeyRow struct {
	ID          string `gorm:"column:id;primaryKey"`
	Dialect     string `gorm:"column:dialect;not null;index:idx_signing_keys_dialect"`
	Algorithm   string `gorm:"column:algorithm;not null"`
	PEM         []byte `gorm:"column:pem"`
	Created     *int64 `gorm:"column:created_at"`
	Retired     *int64 `gorm:"column:retired_at"`
	VerifyUntil *int64 `gorm:"column:verify_until"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

// schemaVersionRow records which schema the database holds.
type schemaVersionRow struct {
	Version int    `gorm:"column:version;primaryKey;autoIncrement:false"`
	Applied *int64 `gorm:"column:applied_at"`
}

func (schemaVersionRow) TableName() string { return "schema_version" }

// schemaVersion is the version this package writes and reads.
const schemaVersion = 1

var errNilModel = errors.New("sqlite: nil model")

// toNanos maps the zero time to NULL and any other time to UTC unix
// nanoseconds (which covers the years 1678 to 2262).
func toNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode column: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sqlite: decode column: %w", err)
	}
	return nil
}

func clientToRow(c *core.Client) (*clientRow, error) {
	if c == nil {
		return nil, errNilModel
	}
	r := &clientRow{ID: c.ID, SecretHash: c.SecretHash, AccessTTL: int64(c.AccessTTL), RefreshTTL: int64(c.RefreshTTL),
		AllowPlainPKCE: c.AllowPlainPKCE, Disabled: c.Disabled, Expires: toNanos(c.ExpiresAt), Updated: toNanos(c.UpdatedAt)}
	var err error
	if r.Grants, err = toJSON(c.Grants); err != nil {
		return nil, err
	}
	if r.Dialects, err = toJSON(c.Dialects); err != nil {
		return nil, err
	}
	if r.RedirectURIs, err = toJSON(c.RedirectURIs); err != nil {
		return nil, err
	}
	if r.Scopes, err = toJSON(c.Scopes); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *clientRow) model() (*core.Client, error) {
	c := &core.Client{ID: r.ID, SecretHash: r.SecretHash, AccessTTL: time.Duration(r.AccessTTL),
		RefreshTTL: time.Duration(r.RefreshTTL), AllowPlainPKCE: r.AllowPlainPKCE, Disabled: r.Disabled,
		ExpiresAt: fromNanos(r.Expires), UpdatedAt: fromNanos(r.Updated)}
	for _, f := range []struct {
		s string
		v any
	}{{r.Grants, &c.Grants}, {r.Dialects, &c.Dialects}, {r.RedirectURIs, &c.RedirectURIs}, {r.Scopes, &c.Scopes}} {
		if err := fromJSON(f.s, f.v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func userToRow(u *core.User) (*userRow, error) {
	if u == nil {
		return nil, errNilModel
	}
	linked, err := toJSON(u.Linked)
	if err != nil {
		return nil, err
	}
	return &userRow{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		PasswordHash: u.PasswordHash, Linked: linked, Updated: toNanos(u.UpdatedAt)}, nil
}

func (r *userRow) model() (*core.User, error) {
	u := &core.User{ID: r.ID, Username: r.Username, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email,
		PasswordHash: r.PasswordHash, UpdatedAt: fromNanos(r.Updated)}
	if err := fromJSON(r.Linked, &u.Linked); err != nil {
		return nil, err
	}
	return u, nil
}

func authorizationToRow(a *core.Authorization) (*authorizationRow, error) {
	if a == nil {
		return nil, errNilModel
	}
	return &authorizationRow{ID: a.ID, TokenDigest: a.TokenDigest, UserID: a.UserID, ClientID: a.ClientID,
		Created: toNanos(a.CreatedAt)}, nil
}

func (r *authorizationRow) model() *core.Authorization {
	return &core.Authorization{ID: r.ID, TokenDigest: r.TokenDigest, UserID: r.UserID, ClientID: r.ClientID,
		CreatedAt: fromNanos(r.Created)}
}

func tokenToRow(t *core.Token) (tokenRow, error) {
	if t == nil {
		return tokenRow{}, errNilModel
	}
	scopes, err := toJSON(t.Scopes)
	if err != nil {
		return tokenRow{}, err
	}
	return tokenRow{Digest: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID, Dialect: t.Dialect,
		Scopes: scopes, FamilyID: t.FamilyID, Issued: toNanos(t.IssuedAt), Expires: toNanos(t.ExpiresAt),
		AuthTime: toNanos(t.AuthTime), Consumed: toNanos(t.ConsumedAt), Revoked: toNanos(t.RevokedAt),
		RedirectURI: t.RedirectURI, CodeChallenge: t.CodeChallenge, CodeChallengeMethod: t.CodeChallengeMethod}, nil
}

func tokensToRows(ts []*core.Token) ([]tokenRow, error) {
	rows := make([]tokenRow, len(ts))
	for i, t := range ts {
		r, err := tokenToRow(t)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

func (r *tokenRow) model() (*core.Token, error) {
	t := &core.Token{Digest: r.Digest, Kind: core.TokenKind(r.Kind), ClientID: r.ClientID, UserID: r.UserID,
		Dialect: r.Dialect, FamilyID: r.FamilyID, IssuedAt: fromNanos(r.Issued), ExpiresAt: fromNanos(r.Expires),
		AuthTime: fromNanos(r.AuthTime), ConsumedAt: fromNanos(r.Consumed), RevokedAt: fromNanos(r.Revoked),
		RedirectURI: r.RedirectURI, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod}
	if err := fromJSON(r.Scopes, &t.Scopes); err != nil {
		return nil, err
	}
	return t, nil
}

func signingKeyToRow(k *core.SigningKey) (*signingKeyRow, error) {
	if k == nil {
		return nil, errNilModel
	}
	return &signingKeyRow{ID: k.ID, Dialect: k.Dialect, Algorithm: k.Algorithm, PEM: k.PEM,
		Created: toNanos(k.CreatedAt), Retired: toNanos(k.RetiredAt), VerifyUntil: toNanos(k.VerifyUntil)}, nil
}

func (r *signingKeyRow) model() *core.SigningKey {
	return &core.SigningKey{ID: r.ID, Dialect: r.Dialect, Algorithm: r.Algorithm, PEM: r.PEM,
		CreatedAt: fromNanos(r.Created), RetiredAt: fromNanos(r.Retired), VerifyUntil: fromNanos(r.VerifyUntil)}
}
