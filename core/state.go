package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// The engine owns every change of state: the admin API, seeding from the
// config file and reset call these operations, which keep the hot-path
// caches in step, instead of writing to the store around the engine.
// Failures are *Error values: KindNotFound for a missing record,
// KindConflict for an id or username in use and KindInvalidRequest naming
// the field (Param) for input the state refuses; store failures come as
// KindUnavailable or KindServerError.

// Seed is the state a configuration file declares, secrets already hashed.
type Seed struct {
	Clients        []*Client
	Users          []*User
	Authorizations []*Authorization
}

func notFound(what, param, id string) *Error {
	return &Error{Kind: KindNotFound, Param: param, Value: id, Description: fmt.Sprintf("no %s %q", what, id)}
}

func conflict(param, description string) *Error {
	return &Error{Kind: KindConflict, Param: param, Description: description}
}

func required(param string) *Error {
	return &Error{Kind: KindInvalidRequest, Reason: ReasonMissing, Param: param, Description: "is required"}
}

// found maps a store lookup's ErrNotFound to the typed not_found of what.
func found[V any](v V, err error, what, param, id string) (V, error) {
	if errors.Is(err, ErrNotFound) {
		return v, notFound(what, param, id)
	}
	return v, storeErrorOrNil(err)
}

// vacant fails with a conflict on param when lookup finds a record.
func vacant[V any](param, description string, lookup func() (V, error)) error {
	_, err := lookup()
	if err == nil {
		return conflict(param, description)
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return storeError(err)
}

// exists reports whether a lookup found its record; other failures are errors.
func exists[V any](_ V, err error) (bool, error) {
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, storeErrorOrNil(err)
}

// ---- clients ----

// ListClients returns every client, by id.
func (e *Engine) ListClients(ctx context.Context) ([]*Client, error) {
	list, err := e.store.ListClients(ctx)
	return list, storeErrorOrNil(err)
}

// GetClient reads a client from the store, not from the hot-path cache.
func (e *Engine) GetClient(ctx context.Context, id string) (*Client, error) {
	c, err := e.store.GetClient(ctx, id)
	return found(c, err, "client", "client_id", id)
}

// CreateClient stores a new client; an existing id is a conflict.
func (e *Engine) CreateClient(ctx context.Context, c *Client) (*Client, error) {
	if c.ID == "" {
		return nil, required("client_id")
	}
	if c.SecretHash == "" && c.HasSecret() {
		return nil, required("client_secret")
	}
	if err := vacant("client_id", "a client with this client_id exists",
		func() (*Client, error) { return e.store.GetClient(ctx, c.ID) }); err != nil {
		return nil, err
	}
	return e.putClient(ctx, *c)
}

// ReplaceClient stores c in place of the client with its id, creating it if
// there is none. An empty SecretHash keeps the stored secret; a new client
// needs one unless it authenticates without (public, private_key_jwt).
func (e *Engine) ReplaceClient(ctx context.Context, c *Client) (*Client, error) {
	if c.ID == "" {
		return nil, required("client_id")
	}
	cl := *c
	if cl.SecretHash == "" && !cl.HasSecret() {
		cl.Settings.SecretJWTKey = ""
	} else if cl.SecretHash == "" {
		old, err := e.store.GetClient(ctx, cl.ID)
		if errors.Is(err, ErrNotFound) {
			return nil, required("client_secret")
		}
		if err != nil {
			return nil, storeError(err)
		}
		cl.SecretHash = old.SecretHash
		if cl.Settings.TokenEndpointAuthMethod == AuthMethodSecretJWT {
			cl.Settings.SecretJWTKey = old.Settings.SecretJWTKey
		}
	}
	return e.putClient(ctx, cl)
}

func (e *Engine) putClient(ctx context.Context, c Client) (*Client, error) {
	c.UpdatedAt = e.clock.Now()
	err := e.store.PutClient(ctx, &c)
	e.clients.invalidate(c.ID)
	if err != nil {
		return nil, storeError(err)
	}
	return &c, nil
}

// DeleteClient deletes a client and revokes every token it holds.
func (e *Engine) DeleteClient(ctx context.Context, id string) error {
	err := e.store.DeleteClient(ctx, id)
	e.clients.invalidate(id)
	if _, err := found(0, err, "client", "client_id", id); err != nil {
		return err
	}
	_, err = e.revokeClientTokens(ctx, id, RevokeClientDeleted)
	return err
}

// RevokeClientTokens revokes every live token of a client and reports how
// many; an unknown client has none.
func (e *Engine) RevokeClientTokens(ctx context.Context, id string) (int, error) {
	return e.revokeClientTokens(ctx, id, RevokeAdmin)
}

func (e *Engine) revokeClientTokens(ctx context.Context, id string, cause RevokeCause) (int, error) {
	n, err := e.store.RevokeClientTokens(ctx, id, Revocation{At: e.clock.Now(), Cause: cause})
	if err == nil {
		e.obs.Revoked("", cause, n)
	}
	return n, storeErrorOrNil(err)
}

// ---- users ----

// ListUsers returns every user, by id.
func (e *Engine) ListUsers(ctx context.Context) ([]*User, error) {
	list, err := e.store.ListUsers(ctx)
	return list, storeErrorOrNil(err)
}

// GetUser reads a user from the store, not from the hot-path cache.
func (e *Engine) GetUser(ctx context.Context, id string) (*User, error) {
	u, err := e.store.GetUser(ctx, id)
	return found(u, err, "user", "user_id", id)
}

// CreateUser stores a new user; an existing id, or a username another user
// has, is a conflict.
func (e *Engine) CreateUser(ctx context.Context, u *User) (*User, error) {
	if u.ID == "" {
		return nil, required("user_id")
	}
	if err := vacant("user_id", "a user with this user_id exists",
		func() (*User, error) { return e.store.GetUser(ctx, u.ID) }); err != nil {
		return nil, err
	}
	return e.putUser(ctx, *u)
}

// ReplaceUser stores u in place of the user with its id, creating it if
// there is none. An empty PasswordHash keeps the stored password.
func (e *Engine) ReplaceUser(ctx context.Context, u *User) (*User, error) {
	if u.ID == "" {
		return nil, required("user_id")
	}
	nu := *u
	if nu.PasswordHash == "" {
		old, err := e.store.GetUser(ctx, nu.ID)
		switch {
		case err == nil:
			nu.PasswordHash = old.PasswordHash
		case !errors.Is(err, ErrNotFound):
			return nil, storeError(err)
		}
	}
	return e.putUser(ctx, nu)
}

func (e *Engine) putUser(ctx context.Context, u User) (*User, error) {
	usernameTaken := conflict("username", "another user has this username")
	if other, err := e.store.GetUserByUsername(ctx, u.Username); err == nil && other.ID != u.ID {
		return nil, usernameTaken
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, storeError(err)
	}
	u.UpdatedAt = e.clock.Now()
	err := e.store.PutUser(ctx, &u)
	e.InvalidateUser(u.ID)
	if errors.Is(err, ErrConflict) { // another writer took the username meanwhile
		return nil, usernameTaken.WithCause(err)
	}
	if err != nil {
		return nil, storeError(err)
	}
	return &u, nil
}

// DeleteUser deletes a user.
func (e *Engine) DeleteUser(ctx context.Context, id string) error {
	err := e.store.DeleteUser(ctx, id)
	e.InvalidateUser(id)
	_, err = found(0, err, "user", "user_id", id)
	return err
}

// ---- authorizations ----

// ListAuthorizations returns every authorization, by id.
func (e *Engine) ListAuthorizations(ctx context.Context) ([]*Authorization, error) {
	list, err := e.store.ListAuthorizations(ctx)
	return list, storeErrorOrNil(err)
}

// GetAuthorization reads an authorization from the store.
func (e *Engine) GetAuthorization(ctx context.Context, id int64) (*Authorization, error) {
	a, err := e.store.GetAuthorization(ctx, id)
	return found(a, err, "authorization", "auth_id", strconv.FormatInt(id, 10))
}

// CreateAuthorization stores a new authorization of an existing user to an
// existing client, created now; an existing id is a conflict. ID 0 asks the
// store for a fresh one.
func (e *Engine) CreateAuthorization(ctx context.Context, a *Authorization) (*Authorization, error) {
	if a.ID != 0 {
		if err := vacant("auth_id", "an authorization with this auth_id exists",
			func() (*Authorization, error) { return e.store.GetAuthorization(ctx, a.ID) }); err != nil {
			return nil, err
		}
	}
	if a.TokenDigest == "" {
		return nil, required("auth_token")
	}
	na := *a
	na.CreatedAt = e.clock.Now()
	return e.putAuthorization(ctx, na)
}

// ReplaceAuthorization stores a in place of the authorization with its id,
// creating it if there is none. An empty TokenDigest keeps the stored token
// and its CreatedAt; with a new token CreatedAt is now (a's is ignored).
func (e *Engine) ReplaceAuthorization(ctx context.Context, a *Authorization) (*Authorization, error) {
	if a.ID <= 0 {
		return nil, required("auth_id")
	}
	na := *a
	if na.TokenDigest == "" {
		old, err := e.store.GetAuthorization(ctx, na.ID)
		if errors.Is(err, ErrNotFound) {
			return nil, required("auth_token")
		}
		if err != nil {
			return nil, storeError(err)
		}
		na.TokenDigest, na.CreatedAt = old.TokenDigest, old.CreatedAt
	}
	if a.TokenDigest != "" || na.CreatedAt.IsZero() {
		na.CreatedAt = e.clock.Now()
	}
	return e.putAuthorization(ctx, na)
}

// putAuthorization checks that the user and the client exist and stores a.
func (e *Engine) putAuthorization(ctx context.Context, a Authorization) (*Authorization, error) {
	for _, ref := range []struct {
		param, what, id string
		lookup          func() (bool, error)
	}{
		{"user_id", "user", a.UserID, func() (bool, error) { return exists(e.store.GetUser(ctx, a.UserID)) }},
		{"client_id", "client", a.ClientID, func() (bool, error) { return exists(e.store.GetClient(ctx, a.ClientID)) }},
	} {
		ok, err := ref.lookup()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Kind: KindInvalidRequest, Param: ref.param, Value: ref.id,
				Description: "names no " + ref.what + " " + strconv.Quote(ref.id)}
		}
	}
	err := e.store.PutAuthorization(ctx, &a)
	e.auths.invalidate(a.ID)
	if err != nil {
		return nil, storeError(err)
	}
	return &a, nil
}

// DeleteAuthorization deletes an authorization.
func (e *Engine) DeleteAuthorization(ctx context.Context, id int64) error {
	err := e.store.DeleteAuthorization(ctx, id)
	e.auths.invalidate(id)
	_, err = found(0, err, "authorization", "auth_id", strconv.FormatInt(id, 10))
	return err
}

// ---- tokens ----

// ListTokens returns the stored tokens f selects, newest first.
func (e *Engine) ListTokens(ctx context.Context, f TokenFilter) ([]*Token, error) {
	list, err := e.store.ListTokens(ctx, f)
	return list, storeErrorOrNil(err)
}

// RevokeTokenByDigest revokes one stored token, whoever holds it; revoking a
// revoked token keeps its first revocation time.
func (e *Engine) RevokeTokenByDigest(ctx context.Context, digest string) error {
	err := e.store.RevokeToken(ctx, digest, Revocation{At: e.clock.Now(), Cause: RevokeAdmin})
	if err == nil {
		e.obs.Revoked("", RevokeAdmin, 1)
	}
	_, err = found(0, err, "token", "", "")
	return err
}

// RevokeTokenByValue revokes the token whose value is token.
func (e *Engine) RevokeTokenByValue(ctx context.Context, token string) error {
	t, err := e.getToken(ctx, token)
	if err != nil {
		_, err = found(0, err, "token", "", "")
		return err
	}
	return e.RevokeTokenByDigest(ctx, t.Digest)
}

// ---- seeding and reset ----

// Seed stores the seed's clients, users and authorizations, in that order
// so authorizations can refer to the others. The seed wins over stored
// records with the same id; other records are left alone. UpdatedAt is now,
// and so is a new authorization's CreatedAt (a stored one keeps its own).
// The seed's values are not modified.
func (e *Engine) Seed(ctx context.Context, s Seed) error {
	now := e.clock.Now()
	for _, c := range s.Clients {
		nc := *c
		nc.UpdatedAt = now
		err := e.store.PutClient(ctx, &nc)
		e.clients.invalidate(c.ID)
		if err != nil {
			return fmt.Errorf("seed client %q: %w", c.ID, storeError(err))
		}
	}
	for _, u := range s.Users {
		nu := *u
		nu.UpdatedAt = now
		err := e.store.PutUser(ctx, &nu)
		e.InvalidateUser(u.ID)
		if err != nil {
			return fmt.Errorf("seed user %q: %w", u.ID, storeError(err))
		}
	}
	for _, a := range s.Authorizations {
		na := *a
		old, err := e.store.GetAuthorization(ctx, a.ID)
		switch {
		case err == nil && !old.CreatedAt.IsZero():
			na.CreatedAt = old.CreatedAt
		case err == nil || errors.Is(err, ErrNotFound):
			na.CreatedAt = now
		default:
			return fmt.Errorf("seed authorization %d: %w", a.ID, storeError(err))
		}
		err = e.store.PutAuthorization(ctx, &na)
		e.auths.invalidate(a.ID)
		if err != nil {
			return fmt.Errorf("seed authorization %d: %w", a.ID, storeError(err))
		}
	}
	return nil
}

// Reset deletes every token and code and forgets every failed
// authentication the limiter counted. With a seed it also replaces all
// clients, users and authorizations by the seed's.
func (e *Engine) Reset(ctx context.Context, seed *Seed) error {
	e.limiter.Reset()
	if err := e.store.DeleteAllTokens(ctx); err != nil {
		return storeError(err)
	}
	if seed == nil {
		return nil
	}
	defer e.InvalidateAll()
	if err := e.deleteAllRecords(ctx); err != nil {
		return err
	}
	return e.Seed(ctx, *seed)
}

// deleteAllRecords deletes every authorization, user and client, in that
// order so no authorization is left pointing at nothing.
func (e *Engine) deleteAllRecords(ctx context.Context) error {
	if err := deleteEach(ctx, e.store.ListAuthorizations, func(a *Authorization) error {
		return e.store.DeleteAuthorization(ctx, a.ID)
	}); err != nil {
		return err
	}
	if err := deleteEach(ctx, e.store.ListUsers, func(u *User) error { return e.store.DeleteUser(ctx, u.ID) }); err != nil {
		return err
	}
	return deleteEach(ctx, e.store.ListClients, func(c *Client) error { return e.store.DeleteClient(ctx, c.ID) })
}

// deleteEach deletes every record list returns. A record already gone (a
// concurrent delete got there first) is no failure.
func deleteEach[V any](ctx context.Context, list func(context.Context) ([]V, error), del func(V) error) error {
	records, err := list(ctx)
	if err != nil {
		return storeError(err)
	}
	for _, r := range records {
		if err := del(r); err != nil && !errors.Is(err, ErrNotFound) {
			return storeError(err)
		}
	}
	return nil
}
