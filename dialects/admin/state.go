package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
)

// ---- clients ----

func (a *API) listClients(c echo.Context) error {
	list, err := a.engine.Store().ListClients(c.Request().Context())
	if err != nil {
		return storeFailed(c, err)
	}
	out := make([]config.Client, 0, len(list))
	for _, cl := range list {
		out = append(out, config.ClientFromCore(cl))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getClient(c echo.Context) error {
	cl, err := a.engine.Store().GetClient(c.Request().Context(), c.Param("id"))
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "client", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, config.ClientFromCore(cl))
}

func (a *API) createClient(c echo.Context) error { return a.saveClient(c, "", http.StatusCreated) }

func (a *API) putClient(c echo.Context) error { return a.saveClient(c, c.Param("id"), http.StatusOK) }

// saveClient creates (id == "") or replaces a client. A PUT without
// client_secret keeps the stored secret.
func (a *API) saveClient(c echo.Context, id string, status int) error {
	var in config.Client
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	ctx := c.Request().Context()
	if id != "" {
		if in.ClientID == "" {
			in.ClientID = id
		}
		if in.ClientID != id {
			return invalid(c, "client_id", "must match the client id in the path")
		}
	}
	var keep *core.Client
	if id != "" && in.ClientSecret == "" {
		old, err := a.engine.Store().GetClient(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return invalid(c, "client_secret", "is required")
		}
		if err != nil {
			return storeFailed(c, err)
		}
		keep, in.ClientSecret = old, "unchanged"
	}
	if err := a.cfg.ValidateClient(&in, dialects.Catalog()); err != nil {
		return a.validationFailed(c, err)
	}
	if id == "" {
		if _, err := a.engine.Store().GetClient(ctx, in.ClientID); err == nil {
			return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: "client_id", Message: "a client with this client_id exists; use PUT to replace it"})
		}
	}
	cl, err := in.ToCore()
	if err != nil {
		return storeFailed(c, err)
	}
	if keep != nil {
		cl.SecretHash = keep.SecretHash
	}
	cl.UpdatedAt = a.clock.Now()
	if err := a.engine.Store().PutClient(ctx, cl); err != nil {
		return storeFailed(c, err)
	}
	a.engine.InvalidateClient(cl.ID)
	return c.JSON(status, config.ClientFromCore(cl))
}

func (a *API) deleteClient(c echo.Context) error {
	ctx := c.Request().Context()
	err := a.engine.Store().DeleteClient(ctx, c.Param("id"))
	a.engine.InvalidateClient(c.Param("id"))
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "client", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	if _, err := a.engine.Store().RevokeClientTokens(ctx, c.Param("id"), a.clock.Now()); err != nil {
		return storeFailed(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) revokeClientTokens(c echo.Context) error {
	n, err := a.engine.Store().RevokeClientTokens(c.Request().Context(), c.Param("id"), a.clock.Now())
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

// ---- users ----

func (a *API) listUsers(c echo.Context) error {
	list, err := a.engine.Store().ListUsers(c.Request().Context())
	if err != nil {
		return storeFailed(c, err)
	}
	out := make([]config.User, 0, len(list))
	for _, u := range list {
		out = append(out, config.UserFromCore(u))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.engine.Store().GetUser(c.Request().Context(), c.Param("id"))
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "user", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, config.UserFromCore(u))
}

func (a *API) createUser(c echo.Context) error { return a.saveUser(c, "", http.StatusCreated) }

func (a *API) putUser(c echo.Context) error { return a.saveUser(c, c.Param("id"), http.StatusOK) }

// saveUser creates or replaces a user; a PUT without password keeps the
// stored one.
func (a *API) saveUser(c echo.Context, id string, status int) error {
	var in config.User
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	ctx := c.Request().Context()
	if id != "" {
		if in.UserID == "" {
			in.UserID = id
		}
		if in.UserID != id {
			return invalid(c, "user_id", "must match the user id in the path")
		}
	}
	if err := config.ValidateUser(&in); err != nil {
		return a.validationFailed(c, err)
	}
	var old *core.User
	if o, err := a.engine.Store().GetUser(ctx, in.UserID); err == nil {
		if id == "" {
			return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: "user_id", Message: "a user with this user_id exists; use PUT to replace it"})
		}
		old = o
	} else if !errors.Is(err, core.ErrNotFound) {
		return storeFailed(c, err)
	}
	if other, err := a.engine.Store().GetUserByUsername(ctx, in.Username); err == nil && other.ID != in.UserID {
		return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: "username", Message: "another user has this username"})
	}
	u, err := in.ToCore()
	if err != nil {
		return storeFailed(c, err)
	}
	if in.Password == "" && old != nil {
		u.PasswordHash = old.PasswordHash
	}
	u.UpdatedAt = a.clock.Now()
	if err := a.engine.Store().PutUser(ctx, u); err != nil {
		return storeFailed(c, err)
	}
	a.engine.InvalidateUser(u.ID)
	return c.JSON(status, config.UserFromCore(u))
}

func (a *API) deleteUser(c echo.Context) error {
	err := a.engine.Store().DeleteUser(c.Request().Context(), c.Param("id"))
	a.engine.InvalidateUser(c.Param("id"))
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "user", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- authorizations ----

func (a *API) listAuthorizations(c echo.Context) error {
	list, err := a.engine.Store().ListAuthorizations(c.Request().Context())
	if err != nil {
		return storeFailed(c, err)
	}
	out := make([]config.Authorization, 0, len(list))
	for _, x := range list {
		out = append(out, config.AuthorizationFromCore(x))
	}
	return c.JSON(http.StatusOK, out)
}

func authID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

func (a *API) getAuthorization(c echo.Context) error {
	id, ok := authID(c)
	if !ok {
		return invalid(c, "auth_id", "must be a positive integer")
	}
	x, err := a.engine.Store().GetAuthorization(c.Request().Context(), id)
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "authorization", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, config.AuthorizationFromCore(x))
}

func (a *API) createAuthorization(c echo.Context) error {
	return a.saveAuthorization(c, 0, http.StatusCreated)
}

func (a *API) putAuthorization(c echo.Context) error {
	id, ok := authID(c)
	if !ok {
		return invalid(c, "auth_id", "must be a positive integer")
	}
	return a.saveAuthorization(c, id, http.StatusOK)
}

// saveAuthorization creates or replaces an authorization; a PUT without
// auth_token keeps the stored one. The user and client must exist.
func (a *API) saveAuthorization(c echo.Context, id int64, status int) error {
	var in config.Authorization
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	ctx := c.Request().Context()
	if id != 0 {
		if in.AuthID == 0 {
			in.AuthID = id
		}
		if in.AuthID != id {
			return invalid(c, "auth_id", "must match the auth id in the path")
		}
	}
	old, err := a.engine.Store().GetAuthorization(ctx, in.AuthID)
	switch {
	case err == nil && id == 0:
		return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: "auth_id", Message: "an authorization with this auth_id exists; use PUT to replace it"})
	case err != nil && !errors.Is(err, core.ErrNotFound):
		return storeFailed(c, err)
	}
	keep := in.AuthToken == "" && old != nil
	if keep {
		in.AuthToken = "unchanged"
	}
	if err := config.ValidateAuthorization(&in); err != nil {
		return a.validationFailed(c, err)
	}
	if err := a.mustExist(ctx, in); err != nil {
		return invalid(c, err.field, err.msg)
	}
	x := in.ToCore()
	if keep {
		x.TokenDigest, x.CreatedAt = old.TokenDigest, old.CreatedAt
	}
	if x.CreatedAt.IsZero() {
		x.CreatedAt = a.clock.Now()
	}
	if err := a.engine.Store().PutAuthorization(ctx, x); err != nil {
		return storeFailed(c, err)
	}
	a.engine.InvalidateAuthorization(x.ID)
	return c.JSON(status, config.AuthorizationFromCore(x))
}

type fieldErr struct{ field, msg string }

func (a *API) mustExist(ctx context.Context, in config.Authorization) *fieldErr {
	if _, err := a.engine.Store().GetUser(ctx, in.UserID); err != nil {
		return &fieldErr{"user_id", "names no user " + strconv.Quote(in.UserID)}
	}
	if _, err := a.engine.Store().GetClient(ctx, in.ClientID); err != nil {
		return &fieldErr{"client_id", "names no client " + strconv.Quote(in.ClientID)}
	}
	return nil
}

func (a *API) deleteAuthorization(c echo.Context) error {
	id, ok := authID(c)
	if !ok {
		return invalid(c, "auth_id", "must be a positive integer")
	}
	err := a.engine.Store().DeleteAuthorization(c.Request().Context(), id)
	a.engine.InvalidateAuthorization(id)
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "authorization", c.Param("id"))
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- tokens ----

// TokenInfo is a token's metadata; the token itself is never stored, so it
// can never be returned. ID is the SHA-256 digest, usable to revoke it.
type TokenInfo struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	ClientID  string     `json:"client_id"`
	UserID    string     `json:"user_id,omitempty"`
	Dialect   string     `json:"dialect"`
	Scopes    []string   `json:"scopes,omitempty"`
	Issued    time.Time  `json:"issued"`
	Expires   time.Time  `json:"expires"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Consumed  bool       `json:"consumed"`
	Active    bool       `json:"active"`
}

func (a *API) listTokens(c echo.Context) error {
	q := c.QueryParams()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := core.TokenFilter{ClientID: q.Get("client_id"), UserID: q.Get("user_id"), Dialect: q.Get("dialect"),
		Kind: core.TokenKind(q.Get("kind")), Limit: limit}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	list, err := a.engine.Store().ListTokens(c.Request().Context(), f)
	if err != nil {
		return storeFailed(c, err)
	}
	now := a.clock.Now()
	out := make([]TokenInfo, 0, len(list))
	for _, t := range list {
		ti := TokenInfo{ID: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID, Dialect: t.Dialect,
			Scopes: t.Scopes, Issued: t.IssuedAt, Expires: t.ExpiresAt, Revoked: !t.RevokedAt.IsZero(),
			Consumed: !t.ConsumedAt.IsZero(), Active: t.Active(now)}
		if ti.Revoked {
			r := t.RevokedAt
			ti.RevokedAt = &r
		}
		out = append(out, ti)
	}
	return c.JSON(http.StatusOK, out)
}

// revokeToken revokes by token value ({"token": "..."}) or every token of a
// client ({"client_id": "..."}).
func (a *API) revokeToken(c echo.Context) error {
	var in struct {
		Token    string `json:"token"`
		ClientID string `json:"client_id"`
	}
	if err := decode(c, &in); err != nil {
		return invalid(c, "", err.Error())
	}
	ctx := c.Request().Context()
	switch {
	case in.Token != "" && in.ClientID != "":
		return invalid(c, "token", "give token or client_id, not both")
	case in.ClientID != "":
		n, err := a.engine.Store().RevokeClientTokens(ctx, in.ClientID, a.clock.Now())
		if err != nil {
			return storeFailed(c, err)
		}
		return c.JSON(http.StatusOK, map[string]int{"revoked": n})
	case in.Token != "":
		return a.revokeDigest(c, core.Digest(in.Token))
	}
	return invalid(c, "token", "is required (or client_id)")
}

func (a *API) revokeTokenByID(c echo.Context) error { return a.revokeDigest(c, c.Param("id")) }

func (a *API) revokeDigest(c echo.Context, digest string) error {
	err := a.engine.Store().RevokeToken(c.Request().Context(), digest, a.clock.Now())
	if errors.Is(err, core.ErrNotFound) {
		return notFound(c, "token", "")
	}
	if err != nil {
		return storeFailed(c, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": 1})
}

// reset wipes tokens, codes, the journal and faults; with {"to": "config"}
// it also restores clients, users and authorizations to the config.
func (a *API) reset(c echo.Context) error {
	var in struct {
		To string `json:"to" validate:"omitempty,oneof=config"`
	}
	if c.Request().ContentLength != 0 {
		if err := decode(c, &in); err != nil {
			return invalid(c, "", err.Error())
		}
	}
	if err := a.validate.Struct(in); err != nil {
		return a.validationFailed(c, err)
	}
	ctx := c.Request().Context()
	s := a.engine.Store()
	if err := s.DeleteAllTokens(ctx); err != nil {
		return storeFailed(c, err)
	}
	a.plane.Journal.Clear()
	a.plane.Faults.Clear()
	if err := a.plane.PublishFaults(ctx, true); err != nil {
		return storeFailed(c, err)
	}
	if in.To == "config" {
		err := a.restoreConfig(ctx)
		a.engine.InvalidateAll()
		if err != nil {
			return storeFailed(c, err)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"reset": true, "to": in.To})
}

func (a *API) restoreConfig(ctx context.Context) error {
	s := a.engine.Store()
	auths, err := s.ListAuthorizations(ctx)
	if err != nil {
		return err
	}
	for _, x := range auths {
		if err := s.DeleteAuthorization(ctx, x.ID); err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := s.DeleteUser(ctx, u.ID); err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
	}
	clients, err := s.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, cl := range clients {
		if err := s.DeleteClient(ctx, cl.ID); err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
	}
	return a.cfg.Seed(ctx, s)
}
