package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// pgText fails, as PostgreSQL does (SQLSTATE 22021), every call whose text
// a text column cannot hold: the engine must answer such input as SQLite
// does, never with a server error.
type pgText struct{ *memStore }

var errPGText = errors.New(`ERROR: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)`)

func pgRefuses(vals ...string) error {
	for _, v := range vals {
		if !core.ValidText(v) {
			return errPGText
		}
	}
	return nil
}

func (s pgText) GetClient(ctx context.Context, id string) (*core.Client, error) {
	if err := pgRefuses(id); err != nil {
		return nil, err
	}
	return s.memStore.GetClient(ctx, id)
}

func (s pgText) GetUser(ctx context.Context, id string) (*core.User, error) {
	if err := pgRefuses(id); err != nil {
		return nil, err
	}
	return s.memStore.GetUser(ctx, id)
}

func (s pgText) GetUserByUsername(ctx context.Context, name string) (*core.User, error) {
	if err := pgRefuses(name); err != nil {
		return nil, err
	}
	return s.memStore.GetUserByUsername(ctx, name)
}

func (s pgText) DeleteClient(ctx context.Context, id string) error {
	if err := pgRefuses(id); err != nil {
		return err
	}
	return s.memStore.DeleteClient(ctx, id)
}

func (s pgText) RevokeToken(ctx context.Context, digest string, r core.Revocation) error {
	if err := pgRefuses(digest); err != nil {
		return err
	}
	return s.memStore.RevokeToken(ctx, digest, r)
}

func (s pgText) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	if err := pgRefuses(f.ClientID, f.UserID); err != nil {
		return nil, err
	}
	return s.memStore.ListTokens(ctx, f)
}

func (s pgText) PutUser(ctx context.Context, u *core.User) error {
	if err := pgRefuses(u.ID, u.Username, u.FirstName); err != nil {
		return err
	}
	return s.memStore.PutUser(ctx, u)
}

func (s pgText) InsertTokens(ctx context.Context, ts ...*core.Token) error {
	for _, t := range ts {
		if err := pgRefuses(t.CodeChallenge); err != nil {
			return err
		}
	}
	return s.memStore.InsertTokens(ctx, ts...)
}

// hostileIDs are identifiers no record can have: NUL, invalid UTF-8, a
// control character, and more than MaxIdentifierBytes.
var hostileIDs = []string{"demo\x00client", "\xff\xfe", "tab\tid", strings.Repeat("x", core.MaxIdentifierBytes+1)}

func TestHostileIdentifiersAreUnknown(t *testing.T) {
	f := newFixture(t)
	eng := core.New(core.Options{Store: pgText{f.store}, Clock: f.clock})
	ctx := context.Background()
	for _, id := range hostileIDs {
		_, err := eng.AuthenticateClient(ctx, f.p, id, "s3cret")
		wantKind(t, err, core.KindInvalidClient, "")
		_, err = eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: id, RedirectURI: "https://app.example/cb"})
		wantKind(t, err, core.KindInvalidClient, "")
		_, err = eng.Login(ctx, id, "pw")
		wantKind(t, err, core.KindAccessDenied, "")
		_, err = eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app",
			ClientSecret: "s3cret", UserID: id})
		wantKind(t, err, core.KindInvalidGrant, core.ReasonUnknownUser)
		_, err = eng.GetClient(ctx, id)
		wantKind(t, err, core.KindNotFound, "")
		wantKind(t, eng.DeleteClient(ctx, id), core.KindNotFound, "")
		wantKind(t, eng.RevokeTokenByDigest(ctx, id), core.KindNotFound, "")
		_, err = eng.ListTokens(ctx, core.TokenFilter{ClientID: id})
		wantParam(t, err, core.KindInvalidRequest, "client_id")
		_, err = eng.CreateClient(ctx, &core.Client{ID: id, SecretHash: "h", Grants: core.AllGrants})
		wantParam(t, err, core.KindInvalidRequest, "client_id")
		_, err = eng.CreateUser(ctx, &core.User{ID: "u9", Username: id})
		wantParam(t, err, core.KindInvalidRequest, "username")
	}
	_, err := eng.CreateUser(ctx, &core.User{ID: "u9", Username: "nine", FirstName: "N\x00ne"})
	wantParam(t, err, core.KindInvalidRequest, "first_name")
	client, err := eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: "app", RedirectURI: "https://app.example/cb"})
	must(t, err)
	user, err := eng.Login(ctx, "alice", "pw")
	must(t, err)
	_, err = eng.IssueCode(ctx, f.p, client, user, core.AuthorizeRequest{RedirectURI: "https://app.example/cb",
		CodeChallenge: strings.Repeat("\x00", 43), CodeChallengeMethod: "S256"})
	wantParam(t, err, core.KindInvalidRequest, "code_challenge")
}

func TestValidIdentifier(t *testing.T) {
	for _, ok := range []string{"", "demo-client", "jöhn dœ", "a@b.example", strings.Repeat("x", core.MaxIdentifierBytes)} {
		if !core.ValidIdentifier(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range append(hostileIDs, "\x7f", "\u0085", "a\nb") {
		if core.ValidIdentifier(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if core.ValidText("a\x00") || core.ValidText("\xc3") || !core.ValidText("tab\tok") {
		t.Error("ValidText")
	}
}
