package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokengate/tokengate/core"
)

// Time is the Go type of a time column: int64 UTC unix nanoseconds in
// SQLite (which covers the years 1678 to 2262), time.Time in PostgreSQL's
// timestamptz (exact to the microsecond; the driver truncates finer digits).
// Either way NULL is the zero time.
type Time interface{ int64 | time.Time }

// EncodeTime is t as a column value.
func EncodeTime[T Time](t time.Time) T {
	var v T
	switch p := any(&v).(type) {
	case *int64:
		*p = t.UnixNano()
	case *time.Time:
		*p = t.UTC()
	}
	return v
}

// NullTime is t as a nullable column value: nil for the zero time.
func NullTime[T Time](t time.Time) *T {
	if t.IsZero() {
		return nil
	}
	v := EncodeTime[T](t)
	return &v
}

// DecodeTime is the time in a nullable column, in UTC.
func DecodeTime[T Time](v *T) time.Time {
	if v == nil {
		return time.Time{}
	}
	switch v := any(*v).(type) {
	case int64:
		return time.Unix(0, v).UTC()
	case time.Time:
		return v.UTC()
	}
	panic("sqlstore: unknown time column type")
}

// The gorm row types below are the tables. Their tags name the columns and
// primary keys, all gorm needs: the tables themselves are made by each
// backend's migrations (storage/sqlite, storage/postgres), and the parity
// test in storage/postgres checks the two schemas agree. Field names avoid
// CreatedAt and UpdatedAt so gorm never stamps times of its own: the store
// keeps exactly what the caller put. Slices and maps are JSON text,
// durations nanoseconds.

// Client is a row of clients.
type Client[T Time] struct {
	ID             string `gorm:"column:id;primaryKey"`
	SecretHash     string `gorm:"column:secret_hash"`
	Grants         string `gorm:"column:grants"`        // JSON []GrantType
	Dialects       string `gorm:"column:dialects"`      // JSON []string
	RedirectURIs   string `gorm:"column:redirect_uris"` // JSON []string
	Scopes         string `gorm:"column:scopes"`        // JSON []string
	AccessTTL      int64  `gorm:"column:access_ttl"`    // nanoseconds
	RefreshTTL     int64  `gorm:"column:refresh_ttl"`   // nanoseconds
	AllowPlainPKCE bool   `gorm:"column:allow_plain_pkce"`
	Disabled       bool   `gorm:"column:disabled"`
	Expires        *T     `gorm:"column:expires_at"`
	Updated        *T     `gorm:"column:updated_at"`
	Settings       string `gorm:"column:settings"` // JSON core.ClientSettings
}

func (Client[T]) TableName() string { return "clients" }

// User is a row of users.
type User[T Time] struct {
	ID           string `gorm:"column:id;primaryKey"`
	Username     string `gorm:"column:username"`
	FirstName    string `gorm:"column:first_name"`
	LastName     string `gorm:"column:last_name"`
	Email        string `gorm:"column:email"`
	PasswordHash string `gorm:"column:password_hash"`
	Linked       string `gorm:"column:linked"` // JSON map[Provider]LinkedAccount
	Updated      *T     `gorm:"column:updated_at"`
}

func (User[T]) TableName() string { return "users" }

// Authorization is a row of authorizations. PostgreSQL inserts it through a
// type of its own whose ID gorm does not take for an autoincrement column.
type Authorization[T Time] struct {
	ID          int64  `gorm:"column:id;primaryKey;autoIncrement"`
	TokenDigest string `gorm:"column:token_digest"`
	UserID      string `gorm:"column:user_id"`
	ClientID    string `gorm:"column:client_id"`
	Created     *T     `gorm:"column:created_at"`
}

func (Authorization[T]) TableName() string { return "authorizations" }

// Token is a row of tokens.
type Token[T Time] struct {
	Digest              string `gorm:"column:digest;primaryKey"`
	Kind                string `gorm:"column:kind"`
	ClientID            string `gorm:"column:client_id"`
	UserID              string `gorm:"column:user_id"`
	Dialect             string `gorm:"column:dialect"`
	Scopes              string `gorm:"column:scopes"` // JSON []string
	FamilyID            string `gorm:"column:family_id"`
	Issued              *T     `gorm:"column:issued_at"`
	Expires             *T     `gorm:"column:expires_at"`
	AuthTime            *T     `gorm:"column:auth_time"`
	Consumed            *T     `gorm:"column:consumed_at"`
	Revoked             *T     `gorm:"column:revoked_at"`
	RedirectURI         string `gorm:"column:redirect_uri"`
	CodeChallenge       string `gorm:"column:code_challenge"`
	CodeChallengeMethod string `gorm:"column:code_challenge_method"`
	Details             string `gorm:"column:details"` // JSON core.TokenDetails
}

func (Token[T]) TableName() string { return "tokens" }

// SigningKey is a row of signing_keys.
type SigningKey[T Time] struct {
	ID          string `gorm:"column:id;primaryKey"`
	Dialect     string `gorm:"column:dialect"`
	Algorithm   string `gorm:"column:algorithm"`
	PEM         []byte `gorm:"column:pem"`
	Created     *T     `gorm:"column:created_at"`
	Retired     *T     `gorm:"column:retired_at"`
	VerifyUntil *T     `gorm:"column:verify_until"`
}

func (SigningKey[T]) TableName() string { return "signing_keys" }

// DialectSpec is a row of dialect_specs.
type DialectSpec[T Time] struct {
	Name    string `gorm:"column:name;primaryKey"`
	Type    string `gorm:"column:type"`
	Prefix  string `gorm:"column:prefix"`
	Listen  string `gorm:"column:listen"`
	Spec    string `gorm:"column:spec"`
	Created *T     `gorm:"column:created_at"`
}

func (DialectSpec[T]) TableName() string { return "dialect_specs" }

var errNilModel = errors.New("nil model")

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode column: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode column: %w", err)
	}
	return nil
}

// scopesFromJSON decodes a scopes column as fromJSON does, the usual shapes
// (null, [], plain strings) without encoding/json, which cost more than the
// rest of a token read; anything with an escape, a stray quote, a control
// character or invalid UTF-8 takes the full decoder.
func scopesFromJSON(s string, dst *[]string) error {
	switch s {
	case "", "null":
		return nil
	case "[]":
		*dst = []string{}
		return nil
	}
	if len(s) < 4 || s[:2] != `["` || s[len(s)-2:] != `"]` {
		return fromJSON(s, dst)
	}
	parts := strings.Split(s[2:len(s)-2], `","`)
	for _, p := range parts {
		if !utf8.ValidString(p) { // encoding/json would replace the bad bytes
			return fromJSON(s, dst)
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; c == '"' || c == '\\' || c < 0x20 {
				return fromJSON(s, dst)
			}
		}
	}
	*dst = parts
	return nil
}

// ClientRow maps a client to its row.
func ClientRow[T Time](c *core.Client) (*Client[T], error) {
	if c == nil {
		return nil, errNilModel
	}
	if err := Storable(c.ID, c.SecretHash); err != nil {
		return nil, err
	}
	r := &Client[T]{ID: c.ID, SecretHash: c.SecretHash, AccessTTL: int64(c.AccessTTL), RefreshTTL: int64(c.RefreshTTL),
		AllowPlainPKCE: c.AllowPlainPKCE, Disabled: c.Disabled, Expires: NullTime[T](c.ExpiresAt),
		Updated: NullTime[T](c.UpdatedAt)}
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
	if r.Settings, err = toJSON(c.Settings); err != nil {
		return nil, err
	}
	return r, nil
}

// Model maps the row to its client.
func (r *Client[T]) Model() (*core.Client, error) {
	c := &core.Client{ID: r.ID, SecretHash: r.SecretHash, AccessTTL: time.Duration(r.AccessTTL),
		RefreshTTL: time.Duration(r.RefreshTTL), AllowPlainPKCE: r.AllowPlainPKCE, Disabled: r.Disabled,
		ExpiresAt: DecodeTime(r.Expires), UpdatedAt: DecodeTime(r.Updated)}
	for _, f := range []struct {
		s string
		v any
	}{{r.Grants, &c.Grants}, {r.Dialects, &c.Dialects}, {r.RedirectURIs, &c.RedirectURIs}, {r.Scopes, &c.Scopes},
		{r.Settings, &c.Settings}} {
		if err := fromJSON(f.s, f.v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// UserRow maps a user to its row.
func UserRow[T Time](u *core.User) (*User[T], error) {
	if u == nil {
		return nil, errNilModel
	}
	if err := Storable(u.ID, u.Username, u.FirstName, u.LastName, u.Email, u.PasswordHash); err != nil {
		return nil, err
	}
	linked, err := toJSON(u.Linked)
	if err != nil {
		return nil, err
	}
	return &User[T]{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		PasswordHash: u.PasswordHash, Linked: linked, Updated: NullTime[T](u.UpdatedAt)}, nil
}

// Model maps the row to its user.
func (r *User[T]) Model() (*core.User, error) {
	u := &core.User{ID: r.ID, Username: r.Username, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email,
		PasswordHash: r.PasswordHash, UpdatedAt: DecodeTime(r.Updated)}
	if err := fromJSON(r.Linked, &u.Linked); err != nil {
		return nil, err
	}
	return u, nil
}

// AuthorizationRow maps an authorization to its row.
func AuthorizationRow[T Time](a *core.Authorization) (*Authorization[T], error) {
	if a == nil {
		return nil, errNilModel
	}
	if err := Storable(a.TokenDigest, a.UserID, a.ClientID); err != nil {
		return nil, err
	}
	return &Authorization[T]{ID: a.ID, TokenDigest: a.TokenDigest, UserID: a.UserID, ClientID: a.ClientID,
		Created: NullTime[T](a.CreatedAt)}, nil
}

// Model maps the row to its authorization; it never fails.
func (r *Authorization[T]) Model() (*core.Authorization, error) {
	return &core.Authorization{ID: r.ID, TokenDigest: r.TokenDigest, UserID: r.UserID, ClientID: r.ClientID,
		CreatedAt: DecodeTime(r.Created)}, nil
}

// TokenRow maps a token to its row.
func TokenRow[T Time](t *core.Token) (Token[T], error) {
	if t == nil {
		return Token[T]{}, errNilModel
	}
	if err := Storable(t.Digest, string(t.Kind), t.ClientID, t.UserID, t.Dialect, t.FamilyID, t.RedirectURI,
		t.CodeChallenge, t.CodeChallengeMethod); err != nil {
		return Token[T]{}, err
	}
	scopes, err := toJSON(t.Scopes)
	if err != nil {
		return Token[T]{}, err
	}
	details, err := DetailsJSON(&t.Details)
	if err != nil {
		return Token[T]{}, err
	}
	return Token[T]{Digest: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID, Dialect: t.Dialect,
		Scopes: scopes, FamilyID: t.FamilyID, Issued: NullTime[T](t.IssuedAt), Expires: NullTime[T](t.ExpiresAt),
		AuthTime: NullTime[T](t.AuthTime), Consumed: NullTime[T](t.ConsumedAt), Revoked: NullTime[T](t.RevokedAt),
		RedirectURI: t.RedirectURI, CodeChallenge: t.CodeChallenge, CodeChallengeMethod: t.CodeChallengeMethod,
		Details: details}, nil
}

// EmptyDetails is the details column of most tokens.
const EmptyDetails = "{}"

// DetailsJSON is the details column of a token: most have none, and skip
// the encoding.
func DetailsJSON(d *core.TokenDetails) (string, error) {
	if d.IsZero() {
		return EmptyDetails, nil
	}
	return toJSON(d)
}

// TokenRows maps tokens to their rows.
func TokenRows[T Time](ts []*core.Token) ([]Token[T], error) {
	rows := make([]Token[T], len(ts))
	for i, t := range ts {
		r, err := TokenRow[T](t)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// Model maps the row to its token.
func (r *Token[T]) Model() (*core.Token, error) {
	t := &core.Token{Digest: r.Digest, Kind: core.TokenKind(r.Kind), ClientID: r.ClientID, UserID: r.UserID,
		Dialect: r.Dialect, FamilyID: r.FamilyID, IssuedAt: DecodeTime(r.Issued), ExpiresAt: DecodeTime(r.Expires),
		AuthTime: DecodeTime(r.AuthTime), ConsumedAt: DecodeTime(r.Consumed), RevokedAt: DecodeTime(r.Revoked),
		RedirectURI: r.RedirectURI, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod}
	if err := scopesFromJSON(r.Scopes, &t.Scopes); err != nil {
		return nil, err
	}
	if r.Details != EmptyDetails {
		if err := fromJSON(r.Details, &t.Details); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// SigningKeyRow maps a signing key to its row.
func SigningKeyRow[T Time](k *core.SigningKey) (*SigningKey[T], error) {
	if k == nil {
		return nil, errNilModel
	}
	if err := Storable(k.ID, k.Dialect, k.Algorithm); err != nil {
		return nil, err
	}
	return &SigningKey[T]{ID: k.ID, Dialect: k.Dialect, Algorithm: k.Algorithm, PEM: k.PEM,
		Created: NullTime[T](k.CreatedAt), Retired: NullTime[T](k.RetiredAt), VerifyUntil: NullTime[T](k.VerifyUntil)}, nil
}

// Model maps the row to its signing key; it never fails.
func (r *SigningKey[T]) Model() (*core.SigningKey, error) {
	return &core.SigningKey{ID: r.ID, Dialect: r.Dialect, Algorithm: r.Algorithm, PEM: r.PEM,
		CreatedAt: DecodeTime(r.Created), RetiredAt: DecodeTime(r.Retired), VerifyUntil: DecodeTime(r.VerifyUntil)}, nil
}

// DialectSpecRow maps a run-time dialect to its row.
func DialectSpecRow[T Time](d *core.DialectSpec) (*DialectSpec[T], error) {
	if d == nil {
		return nil, errNilModel
	}
	return &DialectSpec[T]{Name: d.Name, Type: d.Type, Prefix: d.Prefix, Listen: d.Listen, Spec: d.Spec,
		Created: NullTime[T](d.CreatedAt)}, nil
}

// Model maps the row to its run-time dialect; it never fails.
func (r *DialectSpec[T]) Model() (*core.DialectSpec, error) {
	return &core.DialectSpec{Name: r.Name, Type: r.Type, Prefix: r.Prefix, Listen: r.Listen, Spec: r.Spec,
		CreatedAt: DecodeTime(r.Created)}, nil
}
