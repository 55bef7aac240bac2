package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// stateFixture is a fixture whose hot-path caches never expire on their
// own (their wall clock stands still): whatever the hot path sees after a
// change, the engine's invalidation made it see.
func stateFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.eng = core.New(core.Options{Store: f.store, Clock: f.clock, ClientCacheTTL: time.Hour,
		CacheClock: core.NewFakeClock(t0)})
	return f
}

func wantParam(t *testing.T, err error, kind core.Kind, param string) {
	t.Helper()
	wantKind(t, err, kind, "")
	if p := core.AsError(err).Param; p != param {
		t.Fatalf("%v: param %q, want %q", err, p, param)
	}
}

func mustHash(t *testing.T, secret string) string {
	t.Helper()
	h, err := core.HashSecret(secret)
	must(t, err)
	return h
}

func TestClientOperations(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	f.cc(t, "app") // the hot path has the client cached now

	_, err := f.eng.CreateClient(ctx, &core.Client{ID: "app", SecretHash: mustHash(t, "x"), Grants: core.AllGrants})
	wantParam(t, err, core.KindConflict, "client_id")
	_, err = f.eng.CreateClient(ctx, &core.Client{ID: "new", Grants: core.AllGrants})
	wantParam(t, err, core.KindInvalidRequest, "client_secret")
	f.clock.Advance(time.Minute)
	created, err := f.eng.CreateClient(ctx, &core.Client{ID: "new", SecretHash: mustHash(t, "pw"), Grants: core.AllGrants})
	must(t, err)
	if !created.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("UpdatedAt %v, want the engine clock's now", created.UpdatedAt)
	}
	if _, err := f.eng.AuthenticateClient(ctx, f.p, "new", "pw"); err != nil {
		t.Fatal(err)
	}

	// A replace without a secret keeps it, and the hot path sees the change at once.
	in := &core.Client{ID: "app", Grants: core.AllGrants, Disabled: true}
	replaced, err := f.eng.ReplaceClient(ctx, in)
	must(t, err)
	if in.SecretHash != "" || !core.CheckSecret(replaced.SecretHash, "s3cret") {
		t.Fatalf("secret not kept (or the argument was modified): %+v", replaced)
	}
	_, err = f.eng.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindInvalidClient, core.ReasonClientDisabled)
	_, err = f.eng.ReplaceClient(ctx, &core.Client{ID: "ghost", Grants: core.AllGrants})
	wantParam(t, err, core.KindInvalidRequest, "client_secret")
	if _, err := f.eng.ReplaceClient(ctx, &core.Client{ID: "ghost", SecretHash: mustHash(t, "g"), Grants: core.AllGrants}); err != nil {
		t.Fatalf("replace creates: %v", err)
	}

	got, err := f.eng.GetClient(ctx, "app")
	if err != nil || !got.Disabled {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := f.eng.ListClients(ctx)
	if err != nil || len(list) != 8 {
		t.Fatalf("list: %d clients, %v", len(list), err)
	}

	// Delete revokes the client's tokens.
	tok := f.cc(t, "other")
	must(t, f.eng.DeleteClient(ctx, "other"))
	if _, err := f.eng.Validate(ctx, f.p, tok.AccessToken); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("a deleted client's token still validates: %v", err)
	}
	_, err = f.eng.AuthenticateClient(ctx, f.p, "other", "s3cret")
	wantKind(t, err, core.KindInvalidClient, core.ReasonBadCredentials)
	wantParam(t, f.eng.DeleteClient(ctx, "other"), core.KindNotFound, "client_id")
	_, err = f.eng.GetClient(ctx, "other")
	wantParam(t, err, core.KindNotFound, "client_id")
}

func TestUserOperations(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	must(t, f.store.PutAuthorization(ctx, &core.Authorization{ID: 7, TokenDigest: core.Digest("at"), UserID: "u1", ClientID: "app"}))
	if _, _, err := f.eng.CheckAuthorization(ctx, 7, "app", "at", true); err != nil { // caches u1
		t.Fatal(err)
	}

	_, err := f.eng.CreateUser(ctx, &core.User{ID: "u1", Username: "x"})
	wantParam(t, err, core.KindConflict, "user_id")
	_, err = f.eng.CreateUser(ctx, &core.User{ID: "u2", Username: "alice"})
	wantParam(t, err, core.KindConflict, "username")
	u2, err := f.eng.CreateUser(ctx, &core.User{ID: "u2", Username: "bob", PasswordHash: mustHash(t, "pw2")})
	must(t, err)
	if !u2.UpdatedAt.Equal(t0) {
		t.Errorf("UpdatedAt %v", u2.UpdatedAt)
	}
	_, err = f.eng.ReplaceUser(ctx, &core.User{ID: "u2", Username: "alice"})
	wantParam(t, err, core.KindConflict, "username")

	// A replace without a password keeps it.
	if _, err := f.eng.ReplaceUser(ctx, &core.User{ID: "u1", Username: "alice2", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Login(ctx, "alice2", "pw"); err != nil {
		t.Fatalf("password not kept: %v", err)
	}
	if _, u, err := f.eng.CheckAuthorization(ctx, 7, "app", "at", true); err != nil || u.Email != "a@example.com" {
		t.Fatalf("the hot path kept the old user: %+v %v", u, err)
	}
	must(t, f.eng.DeleteUser(ctx, "u1"))
	_, _, err = f.eng.CheckAuthorization(ctx, 7, "app", "at", true)
	wantKind(t, err, core.KindAccessDenied, "")
	wantParam(t, f.eng.DeleteUser(ctx, "u1"), core.KindNotFound, "user_id")
	_, err = f.eng.GetUser(ctx, "u1")
	wantParam(t, err, core.KindNotFound, "user_id")
	if list, err := f.eng.ListUsers(ctx); err != nil || len(list) != 1 || list[0].ID != "u2" {
		t.Fatalf("list: %+v %v", list, err)
	}
}

func TestAuthorizationOperations(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	_, err := f.eng.CreateAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: core.Digest("t"), UserID: "ghost", ClientID: "app"})
	wantParam(t, err, core.KindInvalidRequest, "user_id")
	if d := core.AsError(err).Description; d != `names no user "ghost"` {
		t.Errorf("description %q", d)
	}
	_, err = f.eng.CreateAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: core.Digest("t"), UserID: "u1", ClientID: "ghost"})
	wantParam(t, err, core.KindInvalidRequest, "client_id")
	_, err = f.eng.CreateAuthorization(ctx, &core.Authorization{ID: 1, UserID: "u1", ClientID: "app"})
	wantParam(t, err, core.KindInvalidRequest, "auth_token")
	a, err := f.eng.CreateAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: core.Digest("t"), UserID: "u1", ClientID: "app"})
	must(t, err)
	if !a.CreatedAt.Equal(t0) {
		t.Errorf("CreatedAt %v", a.CreatedAt)
	}
	_, err = f.eng.CreateAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: core.Digest("t"), UserID: "u1", ClientID: "app"})
	wantParam(t, err, core.KindConflict, "auth_id")
	if _, _, err := f.eng.CheckAuthorization(ctx, 1, "app", "t", true); err != nil { // cached now
		t.Fatal(err)
	}

	// A replace without a token keeps the token and CreatedAt; moving the
	// authorization to another client shows at once.
	f.clock.Advance(time.Hour)
	kept, err := f.eng.ReplaceAuthorization(ctx, &core.Authorization{ID: 1, UserID: "u1", ClientID: "other"})
	must(t, err)
	if kept.TokenDigest != core.Digest("t") || !kept.CreatedAt.Equal(t0) {
		t.Fatalf("kept %+v", kept)
	}
	_, _, err = f.eng.CheckAuthorization(ctx, 1, "app", "t", true)
	wantKind(t, err, core.KindAccessDenied, "")
	// A new token starts a new CreatedAt and the old token stops working.
	renewed, err := f.eng.ReplaceAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: core.Digest("t2"), UserID: "u1", ClientID: "other"})
	must(t, err)
	if !renewed.CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("CreatedAt %v after a new token", renewed.CreatedAt)
	}
	_, _, err = f.eng.CheckAuthorization(ctx, 1, "other", "t", true)
	wantKind(t, err, core.KindAccessDenied, "")
	_, err = f.eng.ReplaceAuthorization(ctx, &core.Authorization{ID: 9, UserID: "u1", ClientID: "app"})
	wantParam(t, err, core.KindInvalidRequest, "auth_token")

	must(t, f.eng.DeleteAuthorization(ctx, 1))
	_, _, err = f.eng.CheckAuthorization(ctx, 1, "other", "t2", true)
	wantKind(t, err, core.KindAccessDenied, "")
	wantParam(t, f.eng.DeleteAuthorization(ctx, 1), core.KindNotFound, "auth_id")
	_, err = f.eng.GetAuthorization(ctx, 1)
	wantParam(t, err, core.KindNotFound, "auth_id")
}

func TestTokenOperations(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	a, b, c := f.cc(t, "app"), f.cc(t, "app"), f.cc(t, "other")
	list, err := f.eng.ListTokens(ctx, core.TokenFilter{ClientID: "app", Kind: core.TokenAccess})
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	must(t, f.eng.RevokeTokenByValue(ctx, a.AccessToken))
	must(t, f.eng.RevokeTokenByDigest(ctx, core.TokenKey(b.AccessToken)))
	for _, tok := range []string{a.AccessToken, b.AccessToken} {
		if _, err := f.eng.Validate(ctx, f.p, tok); core.KindOf(err) != core.KindInvalidToken {
			t.Fatalf("revoked token validates: %v", err)
		}
	}
	wantKind(t, f.eng.RevokeTokenByValue(ctx, "no such token"), core.KindNotFound, "")
	n, err := f.eng.RevokeClientTokens(ctx, "other")
	if err != nil || n != 2 {
		t.Fatalf("revoked %d %v, want the access and the refresh token", n, err)
	}
	if _, err := f.eng.Validate(ctx, f.p, c.AccessToken); core.KindOf(err) != core.KindInvalidToken {
		t.Fatal("client revocation missed a token")
	}
}

func TestSeedAndReset(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	created := t0.Add(-time.Hour)
	must(t, f.store.PutAuthorization(ctx, &core.Authorization{ID: 1, TokenDigest: "stale", UserID: "u1", ClientID: "other", CreatedAt: created}))
	f.cc(t, "app") // caches app
	seed := core.Seed{
		Clients:        []*core.Client{{ID: "app", SecretHash: mustHash(t, "seeded"), Grants: core.AllGrants}},
		Users:          []*core.User{{ID: "u1", Username: "alice", PasswordHash: mustHash(t, "pw")}, {ID: "u9", Username: "zed"}},
		Authorizations: []*core.Authorization{{ID: 1, TokenDigest: core.Digest("t"), UserID: "u1", ClientID: "app"}, {ID: 2, UserID: "u9", ClientID: "app"}},
	}
	f.clock.Advance(time.Minute)
	must(t, f.eng.Seed(ctx, seed))
	if !seed.Clients[0].UpdatedAt.IsZero() || !seed.Authorizations[0].CreatedAt.IsZero() {
		t.Fatal("Seed modified its argument")
	}
	if _, err := f.eng.AuthenticateClient(ctx, f.p, "app", "seeded"); err != nil {
		t.Fatalf("the hot path kept the unseeded client: %v", err)
	}
	a1, _ := f.store.GetAuthorization(ctx, 1)
	a2, _ := f.store.GetAuthorization(ctx, 2)
	if a1.ClientID != "app" || !a1.CreatedAt.Equal(created) || !a2.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("authorizations %+v %+v: a stored one keeps CreatedAt, a new one is created now", a1, a2)
	}
	if c, _ := f.store.GetClient(ctx, "app"); !c.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("UpdatedAt %v", c.UpdatedAt)
	}
	if _, err := f.store.GetClient(ctx, "other"); err != nil {
		t.Fatal("Seed deleted a client it does not name")
	}

	// Reset without a seed wipes the tokens only.
	tok := f.cc(t, "other")
	must(t, f.eng.Reset(ctx, nil))
	if _, err := f.store.GetToken(ctx, core.TokenKey(tok.AccessToken)); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("token survived a reset: %v", err)
	}
	if list, _ := f.eng.ListClients(ctx); len(list) != 6 {
		t.Fatalf("reset without a seed left %d clients", len(list))
	}
	// With a seed, the records become the seed's.
	f.cc(t, "other") // caches other
	must(t, f.eng.Reset(ctx, &seed))
	clients, _ := f.eng.ListClients(ctx)
	users, _ := f.eng.ListUsers(ctx)
	auths, _ := f.eng.ListAuthorizations(ctx)
	if len(clients) != 1 || len(users) != 2 || len(auths) != 2 {
		t.Fatalf("after reset to the seed: %d clients, %d users, %d authorizations", len(clients), len(users), len(auths))
	}
	_, err := f.eng.AuthenticateClient(ctx, f.p, "other", "s3cret")
	wantKind(t, err, core.KindInvalidClient, core.ReasonBadCredentials)

	f.store.setDown(true)
	wantKind(t, f.eng.Reset(ctx, &seed), core.KindUnavailable, "")
	wantKind(t, f.eng.Seed(ctx, seed), core.KindUnavailable, "")
	_, err = f.eng.ListClients(ctx)
	wantKind(t, err, core.KindUnavailable, "")
	_, err = f.eng.CreateClient(ctx, &core.Client{ID: "x", SecretHash: "h"})
	wantKind(t, err, core.KindUnavailable, "")
}

// Under OneActiveAccessToken a client holds at most one active access token
// of the dialect, also when asking concurrently.
func TestOneActiveAccessToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := *f.p
	p.OneActiveAccessToken, p.RefreshGrants = true, nil
	cc := func(secret string) (*core.TokenResult, error) {
		return f.eng.Token(ctx, &p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: secret})
	}
	first, err := cc("s3cret")
	must(t, err)
	_, err = cc("s3cret")
	wantKind(t, err, core.KindConflict, core.ReasonActiveToken)
	_, err = cc("wrong")
	wantKind(t, err, core.KindInvalidClient, "") // authentication comes first
	f.cc(t, "other")                             // other clients, and other profiles, are free
	if _, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret"}); err != nil {
		t.Fatal(err)
	}

	f.clock.Advance(time.Hour) // the first token expires
	must(t, f.eng.RevokeTokenByValue(ctx, first.AccessToken))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := cc("s3cret")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		if err == nil {
			wins++
		} else if e := core.AsError(err); e.Kind != core.KindConflict || e.Reason != core.ReasonActiveToken {
			t.Fatalf("got %v, want the active-token conflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of 20 concurrent requests got a token, want 1", wins)
	}
}

// The authorize endpoint reads its client through the engine's cache, as the
// token endpoint does: the engine's own changes are seen at once, a change
// made in the store behind its back once the client is invalidated.
func TestAuthorizeClientSeesClientChanges(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	check := func(redirect string) error {
		_, err := f.eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: "app", RedirectURI: redirect})
		return err
	}
	must(t, check("https://app.example/cb")) // cached now

	_, err := f.eng.ReplaceClient(ctx, &core.Client{ID: "app", Grants: core.AllGrants, RedirectURIs: []string{"https://app.example/new"}})
	must(t, err)
	wantKind(t, check("https://app.example/cb"), core.KindInvalidRequest, core.ReasonRedirectURI)
	must(t, check("https://app.example/new"))

	behind, err := f.store.GetClient(ctx, "app")
	must(t, err)
	behind.Disabled = true
	must(t, f.store.PutClient(ctx, behind))
	must(t, check("https://app.example/new")) // the cached copy, until invalidated
	f.eng.InvalidateClient("app")
	wantKind(t, check("https://app.example/new"), core.KindInvalidClient, core.ReasonClientDisabled)

	must(t, f.eng.DeleteClient(ctx, "app"))
	wantKind(t, check("https://app.example/new"), core.KindInvalidClient, "")
}

// Login reads users by username through the engine's cache: a rename, a new
// password or a deletion through the engine is seen at once, a change made
// in the store behind its back once the user is invalidated.
func TestLoginSeesUserChanges(t *testing.T) {
	f := stateFixture(t)
	ctx := context.Background()
	login := func(username, password string) error {
		_, err := f.eng.Login(ctx, username, password)
		return err
	}
	must(t, login("alice", "pw")) // cached now

	_, err := f.eng.ReplaceUser(ctx, &core.User{ID: "u1", Username: "alicia", PasswordHash: mustHash(t, "new")})
	must(t, err)
	wantKind(t, login("alice", "pw"), core.KindAccessDenied, core.ReasonBadCredentials)
	wantKind(t, login("alicia", "pw"), core.KindAccessDenied, core.ReasonBadCredentials)
	must(t, login("alicia", "new"))

	behind, err := f.store.GetUser(ctx, "u1")
	must(t, err)
	behind.PasswordHash = mustHash(t, "behind")
	must(t, f.store.PutUser(ctx, behind))
	must(t, login("alicia", "new")) // the cached copy, until invalidated
	f.eng.InvalidateUser("u1")
	wantKind(t, login("alicia", "new"), core.KindAccessDenied, core.ReasonBadCredentials)
	must(t, login("alicia", "behind"))

	must(t, f.eng.DeleteUser(ctx, "u1"))
	wantKind(t, login("alicia", "behind"), core.KindAccessDenied, core.ReasonBadCredentials)
}
