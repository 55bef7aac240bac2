package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/core"
)

// The gorm row types below map the tables that the migrations in migrate.go
// create; gorm never creates or alters tables itself. Field names avoid
// CreatedAt and UpdatedAt so gorm never stamps times of its own: the store
// keeps exactly what the caller put.

type clientRow struct {
	ID             string     `gorm:"column:id;primaryKey"`
	SecretHash     string     `gorm:"column:secret_hash"`
	Grants         string     `gorm:"column:grants"`        // JSON []GrantType
	Dialects       string     `gorm:"column:dialects"`      // JSON []string
	RedirectURIs   string     `gorm:"column:redirect_uris"` // JSON []string
	Scopes         string     `gorm:"column:scopes"`        // JSON []string
	AccessTTL      int64      `gorm:"column:access_ttl"`    // nanoseconds
	RefreshTTL     int64      `gorm:"column:refresh_ttl"`   // nanoseconds
	AllowPlainPKCE bool       `gorm:"column:allow_plain_pkce"`
	Disabled       bool       `gorm:"column:disabled"`
	Expires        *time.Time `gorm:"column:expires_at"`
	Updated        *time.Time `gorm:"column:updated_at"`
}

func (clientRow) TableName() string { return "clients" }

type userRow struct {
	ID           string     `gorm:"column:id;primaryKey"`
	Username     string     `gorm:"column:username"`
	FirstName    string     `gorm:"column:first_name"`
	LastName     string     `gorm:"column:last_name"`
	Email        string     `gorm:"column:email"`
	PasswordHash string     `gorm:"column:password_hash"`
	Linked       string     `gorm:"column:linked"` // JSON map[Provider]LinkedAccount
	Updated      *time.Time `gorm:"column:updated_at"`
}

func (userRow) TableName() string { return "users" }

type authorizationRow struct {
	ID          int64      `gorm:"column:id;primaryKey;autoIncrement:false"`
	TokenDigest string     `gorm:"column:token_digest"`
	UserID      string     `gorm:"column:user_id"`
	ClientID    string     `gorm:"column:client_id"`
	Created     *time.Time `gorm:"column:created_at"`
}

func (authorizationRow) TableName() string { return "authorizations" }

type tokenRow struct {
	Digest              string     `gorm:"column:digest;primaryKey"`
	Kind                string     `gorm:"column:kind"`
	ClientID            string     `gorm:"column:client_id"`
	UserID              string     `gorm:"column:user_id"`
	Dialect             string     `gorm:"column:dialect"`
	Scopes              string     `gorm:"column:scopes"` // JSON []string
	FamilyID            string     `gorm:"column:family_id"`
	Issued              *time.Time `gorm:"column:issued_at"`
	Expires             *time.Time `gorm:"column:expires_at"`
	AuthTime            *time.Time `gorm:"column:auth_time"`
	Consumed            *time.Time `gorm:"column:consumed_at"`
	Revoked             *time.Time `gorm:"column:revoked_at"`
	RedirectURI         string     `gorm:"column:redirect_uri"`
	CodeChallenge       string     `gorm:"column:code_challenge"`
	CodeChallengeMethod string     `gorm:"column:code_challenge_method"`
}

func (tokenRow) TableName() string { return "tokens" }

// tokenColumns lists the tokens columns in the order of tokenRow.values.
var tokenColumns = []string{"digest", "kind", "client_id", "user_id", "dialect", "scopes", "family_id",
	"issued_at", "expires_at", "auth_time", "consumed_at", "revoked_at",
	"redirect_uri", "code_challenge", "code_challenge_method"}

// values returns the row's columns in tokenColumns order, for COPY.
func (r *tokenRow) values() []any {
	return []any{r.Digest, r.Kind, r.ClientID, r.UserID, r.Dialect, r.Scopes, r.FamilyID,
		timeValue(r.Issued), timeValue(r.Expires), timeValue(r.AuthTime), timeValue(r.Consumed), timeValue(r.Revoked),
		r.RedirectURI, r.CodeChallenge, r.CodeChallengeMethod}
}

type signingKeyRow struct {
	ID          string     `gorm:"column:id;primaryKey"`
	Dialect     string     `gorm:"column:dialect"`
	Algorithm   string     `gorm:"column:algorithm"`
	PEM         []byte     `gorm:"column:pem"`
	Created     *time.Time `gorm:"column:created_at"`
	Retired     *time.Time `gorm:"column:retired_at"`
	VerifyUntil *time.Time `gorm:"column:verify_until"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

var errNilModel = errors.New("postgres: nil model")

// toTime maps the zero time to NULL. PostgreSQL's timestamptz keeps the
// instant to the microsecond; finer digits are truncated by the driver.
func toTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func fromTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// timeValue is a nullable time as a COPY value: nil is NULL.
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("postgres: encode column: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("postgres: decode column: %w", err)
	}
	return nil
}

func clientToRow(c *core.Client) (*clientRow, error) {
	if c == nil {
		return nil, errNilModel
	}
	r := &clientRow{ID: c.ID, SecretHash: c.SecretHash, AccessTTL: int64(c.AccessTTL), RefreshTTL: int64(c.RefreshTTL),
		AllowPlainPKCE: c.AllowPlainPKCE, Disabled: c.Disabled, Expires: toTime(c.ExpiresAt), Updated: toTime(c.UpdatedAt)}
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
		ExpiresAt: fromTime(r.Expires), UpdatedAt: fromTime(r.Updated)}
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
		PasswordHash: u.PasswordHash, Linked: linked, Updated: toTime(u.UpdatedAt)}, nil
}

func (r *userRow) model() (*core.User, error) {
	u := &core.User{ID: r.ID, Username: r.Username, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email,
		PasswordHash: r.PasswordHash, UpdatedAt: fromTime(r.Updated)}
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
		Created: toTime(a.CreatedAt)}, nil
}

func (r *authorizationRow) model() *core.Authorization {
	return &core.Authorization{ID: r.ID, TokenDigest: r.TokenDigest, UserID: r.UserID, ClientID: r.ClientID,
		CreatedAt: fromTime(r.Created)}
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
		Scopes: scopes, FamilyID: t.FamilyID, Issued: toTime(t.IssuedAt), Expires: toTime(t.ExpiresAt),
		AuthTime: toTime(t.AuthTime), Consumed: toTime(t.ConsumedAt), Revoked: toTime(t.RevokedAt),
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
		Dialect: r.Dialect, FamilyID: r.FamilyID, IssuedAt: fromTime(r.Issued), ExpiresAt: fromTime(r.Expires),
		AuthTime: fromTime(r.AuthTime), ConsumedAt: fromTime(r.Consumed), RevokedAt: fromTime(r.Revoked),
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
		Created: toTime(k.CreatedAt), Retired: toTime(k.RetiredAt), VerifyUntil: toTime(k.VerifyUntil)}, nil
}

func (r *signingKeyRow) model() *core.SigningKey {
	return &core.SigningKey{ID: r.ID, Dialect: r.Dialect, Algorithm: r.Algorithm, PEM: r.PEM,
		CreatedAt: fromTime(r.Created), RetiredAt: fromTime(r.Retired), VerifyUntil: fromTime(r.VerifyUntil)}
}
