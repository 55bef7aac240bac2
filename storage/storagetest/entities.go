package storagetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// fullClient sets every field of a client to a non-zero value.
func fullClient(id string) *core.Client {
	return &core.Client{
		ID:             id,
		SecretHash:     "$2a$04$" + id + "-hash",
		Grants:         []core.GrantType{core.GrantRefreshToken, core.GrantClientCredentials, core.GrantAuthorizationCode},
		Dialects:       []string{"zeta", "alpha"},
		RedirectURIs:   []string{"https://app.example/cb?x=1&y=2", "http://127.0.0.1:8080/callback"},
		Scopes:         []string{"write", "read", "ünïcode scope"},
		AccessTTL:      90*time.Minute + 1500*time.Millisecond,
		RefreshTTL:     45 * 24 * time.Hour,
		AllowPlainPKCE: true,
		Disabled:       true,
		ExpiresAt:      at(365 * 24 * time.Hour),
		UpdatedAt:      at(-time.Hour),
	}
}

func putClient(t *testing.T, s core.Store, c *core.Client) {
	t.Helper()
	if err := s.PutClient(ctxFor(t), c); err != nil {
		t.Fatalf("PutClient(%q): %v", c.ID, err)
	}
}

func getClient(t *testing.T, s core.Store, id string) *core.Client {
	t.Helper()
	c, err := s.GetClient(ctxFor(t), id)
	if err != nil {
		t.Fatalf("GetClient(%q): %v", id, err)
	}
	if c == nil {
		t.Fatalf("GetClient(%q) returned nil and no error", id)
	}
	return c
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, core.ErrNotFound) {
		t.Errorf("%s: got error %v, want core.ErrNotFound", what, err)
	}
}

func testClientRoundTrip(t *testing.T, s core.Store) {
	want := fullClient("client-a")
	putClient(t, s, want)
	clientDiff(want, getClient(t, s, "client-a")).report(t, "GetClient")

	_, err := s.GetClient(ctxFor(t), "client-b")
	wantNotFound(t, "GetClient of a missing client", err)
}

func testClientReplace(t *testing.T, s core.Store) {
	putClient(t, s, fullClient("c"))
	// Replacing must overwrite every column, including with zero values.
	want := &core.Client{ID: "c", SecretHash: "other", Grants: []core.GrantType{core.GrantClientCredentials},
		AccessTTL: time.Second, UpdatedAt: at(time.Hour)}
	putClient(t, s, want)
	clientDiff(want, getClient(t, s, "c")).report(t, "GetClient after replace")

	list, err := s.ListClients(ctxFor(t))
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("ListClients after replacing: %d clients, want 1", len(list))
	}
}

func testClientZeroValues(t *testing.T, s core.Store) {
	want := &core.Client{ID: "bare"}
	putClient(t, s, want)
	got := getClient(t, s, "bare")
	clientDiff(want, got).report(t, "GetClient of a bare client")
	if !got.ExpiresAt.IsZero() || !got.UpdatedAt.IsZero() {
		t.Errorf("zero times came back non-zero: ExpiresAt %v, UpdatedAt %v", got.ExpiresAt, got.UpdatedAt)
	}
}

func testClientNotAliased(t *testing.T, s core.Store) {
	in := fullClient("c")
	putClient(t, s, in)
	in.Scopes[0] = "mutated"
	in.SecretHash = "mutated"
	got := getClient(t, s, "c")
	clientDiff(fullClient("c"), got).report(t, "GetClient after mutating the value put")
	got.RedirectURIs[0] = "mutated"
	got.Disabled = false
	clientDiff(fullClient("c"), getClient(t, s, "c")).report(t, "GetClient after mutating a value got")
}

func testClientListAndDelete(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListClients of an empty store: %d clients, %v", len(list), err)
	}
	for _, id := range []string{"m", "z", "a"} {
		putClient(t, s, fullClient(id))
	}
	list, err = s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	if ids := clientIDs(list); !equal(ids, []string{"a", "m", "z"}) {
		t.Fatalf("ListClients: %v, want [a m z]", ids)
	}
	for _, c := range list {
		clientDiff(fullClient(c.ID), c).report(t, "ListClients["+c.ID+"]")
	}

	if err := s.DeleteClient(ctx, "m"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err = s.GetClient(ctx, "m")
	wantNotFound(t, "GetClient after DeleteClient", err)
	wantNotFound(t, "DeleteClient of a deleted client", s.DeleteClient(ctx, "m"))
	wantNotFound(t, "DeleteClient of a missing client", s.DeleteClient(ctx, "never"))
	list, err = s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	if ids := clientIDs(list); !equal(ids, []string{"a", "z"}) {
		t.Errorf("ListClients after delete: %v, want [a z]", ids)
	}
}

func clientIDs(cs []*core.Client) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fullUser sets every field of a user, with an account at every provider.
func fullUser(id, username string) *core.User {
	return &core.User{
		ID:           id,
		Username:     username,
		FirstName:    "Ada",
		LastName:     "Lovelace-" + id,
		Email:        username + "@example.test",
		PasswordHash: "$2a$04$" + id,
		Linked: map[core.Provider]core.LinkedAccount{
			core.ProviderGoogle:    {ID: "g-" + id, Email: "ada@gmail.example", FirstName: "Ada", LastName: "L"},
			core.ProviderMicrosoft: {ID: "m-" + id, Username: "ada@contoso.example", Name: "Ada L"},
			core.ProviderDiscord:   {ID: "1234567890123", Username: "ada#0001", Locale: "en-GB"},
			core.ProviderGitHub: {ID: "42", Username: "ada", FirstName: "A", LastName: "B", Name: "Ada B",
				Email: "ada@github.example", Locale: "fr"},
		},
		UpdatedAt: at(-2 * time.Hour),
	}
}

func putUser(t *testing.T, s core.Store, u *core.User) {
	t.Helper()
	if err := s.PutUser(ctxFor(t), u); err != nil {
		t.Fatalf("PutUser(%q): %v", u.ID, err)
	}
}

func getUser(t *testing.T, s core.Store, id string) *core.User {
	t.Helper()
	u, err := s.GetUser(ctxFor(t), id)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", id, err)
	}
	if u == nil {
		t.Fatalf("GetUser(%q) returned nil and no error", id)
	}
	return u
}

func testUserRoundTrip(t *testing.T, s core.Store) {
	want := fullUser("u1", "ada")
	putUser(t, s, want)
	userDiff(want, getUser(t, s, "u1")).report(t, "GetUser")

	bare := &core.User{ID: "u2", Username: "bare"}
	putUser(t, s, bare)
	got := getUser(t, s, "u2")
	userDiff(bare, got).report(t, "GetUser of a bare user")
	if !got.UpdatedAt.IsZero() {
		t.Errorf("zero UpdatedAt came back as %v", got.UpdatedAt)
	}

	_, err := s.GetUser(ctxFor(t), "u3")
	wantNotFound(t, "GetUser of a missing user", err)
}

func testUserReplace(t *testing.T, s core.Store) {
	putUser(t, s, fullUser("u1", "ada"))
	want := &core.User{ID: "u1", Username: "ada", Email: "new@example.test",
		Linked: map[core.Provider]core.LinkedAccount{core.ProviderGitHub: {ID: "7"}}}
	putUser(t, s, want)
	userDiff(want, getUser(t, s, "u1")).report(t, "GetUser after replace")

	in := fullUser("u2", "bob")
	putUser(t, s, in)
	in.Linked[core.ProviderGoogle] = core.LinkedAccount{ID: "mutated"}
	delete(in.Linked, core.ProviderGitHub)
	userDiff(fullUser("u2", "bob"), getUser(t, s, "u2")).report(t, "GetUser after mutating the value put")
}

func testUserByUsername(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	putUser(t, s, fullUser("u1", "ada"))
	putUser(t, s, fullUser("u2", "bob"))
	putUser(t, s, &core.User{ID: "u3"}) // no username: cannot log in

	for _, tc := range []struct{ username, id string }{{"ada", "u1"}, {"bob", "u2"}} {
		u, err := s.GetUserByUsername(ctx, tc.username)
		if err != nil {
			t.Fatalf("GetUserByUsername(%q): %v", tc.username, err)
		}
		userDiff(fullUser(tc.id, tc.username), u).report(t, "GetUserByUsername("+tc.username+")")
	}
	for _, name := range []string{"carol", "", "ad", "u1"} {
		_, err := s.GetUserByUsername(ctx, name)
		wantNotFound(t, "GetUserByUsername("+name+")", err)
	}

	// Renaming frees the old username.
	putUser(t, s, fullUser("u1", "ada2"))
	_, err := s.GetUserByUsername(ctx, "ada")
	wantNotFound(t, "GetUserByUsername of a renamed user's old name", err)
	u, err := s.GetUserByUsername(ctx, "ada2")
	if err != nil || u.ID != "u1" {
		t.Errorf("GetUserByUsername(ada2) = %v, %v; want u1", u, err)
	}
}

func testUserUsernameConflict(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	putUser(t, s, fullUser("u1", "ada"))
	err := s.PutUser(ctx, fullUser("u2", "ada"))
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("PutUser of a taken username: %v, want core.ErrConflict", err)
	}
	_, err = s.GetUser(ctx, "u2")
	wantNotFound(t, "GetUser of a user refused for its username", err)
	u, err := s.GetUserByUsername(ctx, "ada")
	if err != nil || u.ID != "u1" {
		t.Errorf("GetUserByUsername(ada) after the conflict = %v, %v; want u1", u, err)
	}
	// Users without a username never conflict.
	putUser(t, s, &core.User{ID: "x1"})
	putUser(t, s, &core.User{ID: "x2"})
}

func testUserListAndDelete(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	for _, id := range []string{"u3", "u1", "u2"} {
		putUser(t, s, fullUser(id, "name-"+id))
	}
	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var ids []string
	for _, u := range list {
		ids = append(ids, u.ID)
		userDiff(fullUser(u.ID, "name-"+u.ID), u).report(t, "ListUsers["+u.ID+"]")
	}
	if !equal(ids, []string{"u1", "u2", "u3"}) {
		t.Fatalf("ListUsers: %v, want [u1 u2 u3]", ids)
	}
	if err := s.DeleteUser(ctx, "u2"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = s.GetUser(ctx, "u2")
	wantNotFound(t, "GetUser after DeleteUser", err)
	_, err = s.GetUserByUsername(ctx, "name-u2")
	wantNotFound(t, "GetUserByUsername after DeleteUser", err)
	wantNotFound(t, "DeleteUser of a deleted user", s.DeleteUser(ctx, "u2"))
	list, err = s.ListUsers(ctx)
	if err != nil || len(list) != 2 {
		t.Errorf("ListUsers after delete: %d users, %v; want 2", len(list), err)
	}
	// The username of a deleted user is free again.
	putUser(t, s, fullUser("u4", "name-u2"))
}

// fullAuthorization sets every field of an authorization.
func fullAuthorization() *core.Authorization {
	return &core.Authorization{ID: math.MaxInt64 - 1, TokenDigest: digest("auth-big"), UserID: "u2", ClientID: "c2",
		CreatedAt: at(time.Minute)}
}

func testAuthorizationCRUD(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	auths := []*core.Authorization{
		fullAuthorization(),
		{ID: 7, TokenDigest: digest("auth-7"), UserID: "u1", ClientID: "c1", CreatedAt: at(0)},
		{ID: 3, TokenDigest: digest("auth-3"), UserID: "u1", ClientID: "c2"},
	}
	for _, a := range auths {
		if err := s.PutAuthorization(ctx, a); err != nil {
			t.Fatalf("PutAuthorization(%d): %v", a.ID, err)
		}
	}
	for _, want := range auths {
		got, err := s.GetAuthorization(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetAuthorization(%d): %v", want.ID, err)
		}
		authorizationDiff(want, got).report(t, "GetAuthorization")
	}
	list, err := s.ListAuthorizations(ctx)
	if err != nil {
		t.Fatalf("ListAuthorizations: %v", err)
	}
	var ids []int64
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	if !equal(ids, []int64{3, 7, math.MaxInt64 - 1}) {
		t.Fatalf("ListAuthorizations: %v, want [3 7 %d]", ids, int64(math.MaxInt64-1))
	}

	// Replace.
	repl := &core.Authorization{ID: 7, TokenDigest: digest("auth-7b"), UserID: "u9", ClientID: "c9"}
	if err := s.PutAuthorization(ctx, repl); err != nil {
		t.Fatalf("PutAuthorization (replace): %v", err)
	}
	got, err := s.GetAuthorization(ctx, 7)
	if err != nil {
		t.Fatalf("GetAuthorization(7): %v", err)
	}
	authorizationDiff(&core.Authorization{ID: 7, TokenDigest: digest("auth-7b"), UserID: "u9", ClientID: "c9"}, got).
		report(t, "GetAuthorization after replace")

	_, err = s.GetAuthorization(ctx, 8)
	wantNotFound(t, "GetAuthorization of a missing id", err)
	if err := s.DeleteAuthorization(ctx, 7); err != nil {
		t.Fatalf("DeleteAuthorization: %v", err)
	}
	_, err = s.GetAuthorization(ctx, 7)
	wantNotFound(t, "GetAuthorization after delete", err)
	wantNotFound(t, "DeleteAuthorization of a deleted id", s.DeleteAuthorization(ctx, 7))
	if _, err := s.GetAuthorization(ctx, 3); err != nil {
		t.Errorf("GetAuthorization(3) after deleting 7: %v", err)
	}
}

func testAuthorizationAssignsID(t *testing.T, s core.Store) {
	ctx := ctxFor(t)
	if err := s.PutAuthorization(ctx, &core.Authorization{ID: 5, TokenDigest: digest("five"), UserID: "u", ClientID: "c"}); err != nil {
		t.Fatalf("PutAuthorization(5): %v", err)
	}
	seen := map[int64]bool{5: true}
	for i := range 3 {
		a := &core.Authorization{TokenDigest: digest("fresh" + string(rune('a'+i))), UserID: "u", ClientID: "c", CreatedAt: at(0)}
		if err := s.PutAuthorization(ctx, a); err != nil {
			t.Fatalf("PutAuthorization with ID 0: %v", err)
		}
		if a.ID <= 0 || seen[a.ID] {
			t.Fatalf("PutAuthorization with ID 0 assigned ID %d (seen: %v)", a.ID, seen)
		}
		seen[a.ID] = true
		got, err := s.GetAuthorization(ctx, a.ID)
		if err != nil {
			t.Fatalf("GetAuthorization(%d): %v", a.ID, err)
		}
		authorizationDiff(a, got).report(t, "GetAuthorization of an assigned ID")
	}
	list, err := s.ListAuthorizations(ctx)
	if err != nil || len(list) != 4 {
		t.Errorf("ListAuthorizations: %d, %v; want 4", len(list), err)
	}
}
