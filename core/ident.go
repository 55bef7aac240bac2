package core

import (
	"context"
	"time"
	"unicode/utf8"
)

// MaxIdentifierBytes bounds client ids, user ids and usernames.
const MaxIdentifierBytes = 256

// ValidIdentifier reports whether s can name a client or a user: at most
// MaxIdentifierBytes of valid UTF-8 without control characters (C0, DEL,
// C1). No record has any other id, so anything else is unknown without a
// store lookup; SQLite and PostgreSQL would otherwise disagree about it
// (PostgreSQL's text cannot hold NUL or invalid UTF-8).
func ValidIdentifier(s string) bool {
	if len(s) > MaxIdentifierBytes || !ValidText(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// ValidText reports whether every backend can store s as text: valid
// UTF-8 without NUL.
func ValidText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// guarded is the engine's view of its store, the one place identifiers are
// checked before storage: a lookup by an identifier no record can have (see
// ValidIdentifier) is not found without a query, and a record whose text a
// backend cannot hold is refused as invalid_request naming the field. So
// hostile input gets the same answer on every backend.
type guarded struct{ Store }

func invalidField(param string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonMalformed, Param: param,
		Description: "must be valid UTF-8 without control characters, at most 256 bytes"}
}

func (g guarded) GetClient(ctx context.Context, id string) (*Client, error) {
	if !ValidIdentifier(id) {
		return nil, ErrNotFound
	}
	return g.Store.GetClient(ctx, id)
}

func (g guarded) DeleteClient(ctx context.Context, id string) error {
	if !ValidIdentifier(id) {
		return ErrNotFound
	}
	return g.Store.DeleteClient(ctx, id)
}

func (g guarded) GetUser(ctx context.Context, id string) (*User, error) {
	if !ValidIdentifier(id) {
		return nil, ErrNotFound
	}
	return g.Store.GetUser(ctx, id)
}

func (g guarded) GetUserByUsername(ctx context.Context, username string) (*User, error) {
	if !ValidIdentifier(username) {
		return nil, ErrNotFound
	}
	return g.Store.GetUserByUsername(ctx, username)
}

func (g guarded) DeleteUser(ctx context.Context, id string) error {
	if !ValidIdentifier(id) {
		return ErrNotFound
	}
	return g.Store.DeleteUser(ctx, id)
}

func (g guarded) RevokeToken(ctx context.Context, digest string, r Revocation) error {
	if !ValidIdentifier(digest) {
		return ErrNotFound
	}
	return g.Store.RevokeToken(ctx, digest, r)
}

func (g guarded) RevokeClientTokens(ctx context.Context, clientID string, r Revocation) (int, error) {
	if !ValidIdentifier(clientID) {
		return 0, nil // an unknown client holds no tokens
	}
	return g.Store.RevokeClientTokens(ctx, clientID, r)
}

func (g guarded) ListTokens(ctx context.Context, f TokenFilter) ([]*Token, error) {
	for _, c := range []struct{ param, value string }{
		{"client_id", f.ClientID}, {"user_id", f.UserID}, {"dialect", f.Dialect}, {"kind", string(f.Kind)},
		{"family_id", f.FamilyID},
	} {
		if !ValidIdentifier(c.value) {
			return nil, invalidField(c.param)
		}
	}
	return g.Store.ListTokens(ctx, f)
}

func (g guarded) PutClient(ctx context.Context, c *Client) error {
	if !ValidIdentifier(c.ID) {
		return invalidField("client_id")
	}
	if !allText(c.RedirectURIs...) {
		return invalidField("redirect_uris")
	}
	return g.Store.PutClient(ctx, c)
}

func (g guarded) PutUser(ctx context.Context, u *User) error {
	for _, f := range []struct {
		param, value string
		ok           func(string) bool
	}{
		{"user_id", u.ID, ValidIdentifier}, {"username", u.Username, ValidIdentifier},
		{"first_name", u.FirstName, ValidText}, {"last_name", u.LastName, ValidText}, {"email", u.Email, ValidText},
	} {
		if !f.ok(f.value) {
			return invalidField(f.param)
		}
	}
	for _, a := range u.Linked {
		if !allText(a.ID, a.Username, a.FirstName, a.LastName, a.Name, a.Email, a.Locale) {
			return invalidField("linked_accounts")
		}
	}
	return g.Store.PutUser(ctx, u)
}

func (g guarded) PutAuthorization(ctx context.Context, a *Authorization) error {
	if !ValidIdentifier(a.UserID) {
		return invalidField("user_id")
	}
	if !ValidIdentifier(a.ClientID) {
		return invalidField("client_id")
	}
	return g.Store.PutAuthorization(ctx, a)
}

func (g guarded) InsertTokens(ctx context.Context, tokens ...*Token) error {
	if err := tokensText(tokens); err != nil {
		return err
	}
	return g.Store.InsertTokens(ctx, tokens...)
}

func (g guarded) InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*Token) error {
	if err := tokensText(tokens); err != nil {
		return err
	}
	return g.Store.InsertTokensIfNoActive(ctx, clientID, dialect, now, tokens...)
}

func (g guarded) Exchange(ctx context.Context, digest string, now time.Time, successors ...*Token) error {
	if err := tokensText(successors); err != nil {
		return err
	}
	return g.Store.Exchange(ctx, digest, now, successors...)
}

// tokensText checks the text of new tokens that came from a request rather
// than from a stored record: the PKCE challenge, the scopes, and what a
// request put in the details (nonce, claims, audience, resource).
func tokensText(tokens []*Token) error {
	for _, t := range tokens {
		if !ValidText(t.CodeChallenge) {
			return invalidField("code_challenge")
		}
		if !allText(t.Scopes...) {
			return invalidField("scope")
		}
		switch d := &t.Details; {
		case !ValidText(d.Nonce):
			return invalidField("nonce")
		case !allText(d.IDTokenClaims...) || !allText(d.UserInfoClaims...):
			return invalidField("claims")
		case !allText(d.Audience...):
			return invalidField("audience")
		case !allText(d.Resource...):
			return invalidField("resource")
		}
	}
	return nil
}

func allText(vals ...string) bool {
	for _, v := range vals {
		if !ValidText(v) {
			return false
		}
	}
	return true
}
