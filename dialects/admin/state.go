package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
)

// ---- clients ----

func (a *API) listClients(c echo.Context) error {
	list, err := a.engine.ListClients(c.Request().Context())
	if err != nil {
		return failed(c, err, "", "")
	}
	out := make([]config.Client, 0, len(list))
	for _, cl := range list {
		out = append(out, config.ClientFromCore(cl))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getClient(c echo.Context) error {
	cl, err := a.engine.GetClient(c.Request().Context(), c.Param("id"))
	if err != nil {
		return failed(c, err, "client", c.Param("id"))
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
	if id != "" {
		if in.ClientID == "" {
			in.ClientID = id
		}
		if in.ClientID != id {
			return invalid(c, "client_id", "must match the client id in the path")
		}
	}
	keep := id != "" && in.ClientSecret == "" && in.NeedsSecret()
	if keep {
		in.ClientSecret = "unchanged" // validated as present; the engine keeps the stored one
	}
	if err := a.withRuntimeDialects(c.Request().Context()).ValidateClient(&in, dialects.Catalog()); err != nil {
		return a.validationFailed(c, err)
	}
	if keep {
		in.ClientSecret = ""
	}
	cl, err := in.ToCore()
	if err != nil {
		return storeFailed(c, err)
	}
	ctx := c.Request().Context()
	if id == "" {
		cl, err = a.engine.CreateClient(ctx, cl)
	} else {
		cl, err = a.engine.ReplaceClient(ctx, cl)
	}
	if err != nil {
		return failed(c, err, "client", in.ClientID)
	}
	return c.JSON(status, config.ClientFromCore(cl))
}

func (a *API) deleteClient(c echo.Context) error {
	if err := a.engine.DeleteClient(c.Request().Context(), c.Param("id")); err != nil {
		return failed(c, err, "client", c.Param("id"))
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) revokeClientTokens(c echo.Context) error {
	n, err := a.engine.RevokeClientTokens(c.Request().Context(), c.Param("id"))
	if err != nil {
		return failed(c, err, "", "")
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

// ---- users ----

func (a *API) listUsers(c echo.Context) error {
	list, err := a.engine.ListUsers(c.Request().Context())
	if err != nil {
		return failed(c, err, "", "")
	}
	out := make([]config.User, 0, len(list))
	for _, u := range list {
		out = append(out, config.UserFromCore(u))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.engine.GetUser(c.Request().Context(), c.Param("id"))
	if err != nil {
		return failed(c, err, "user", c.Param("id"))
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
	u, err := in.ToCore()
	if err != nil {
		return storeFailed(c, err)
	}
	ctx := c.Request().Context()
	if id == "" {
		u, err = a.engine.CreateUser(ctx, u)
	} else {
		u, err = a.engine.ReplaceUser(ctx, u)
	}
	if err != nil {
		return failed(c, err, "user", in.UserID)
	}
	return c.JSON(status, config.UserFromCore(u))
}

func (a *API) deleteUser(c echo.Context) error {
	if err := a.engine.DeleteUser(c.Request().Context(), c.Param("id")); err != nil {
		return failed(c, err, "user", c.Param("id"))
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- authorizations ----

func (a *API) listAuthorizations(c echo.Context) error {
	list, err := a.engine.ListAuthorizations(c.Request().Context())
	if err != nil {
		return failed(c, err, "", "")
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
	x, err := a.engine.GetAuthorization(c.Request().Context(), id)
	if err != nil {
		return failed(c, err, "authorization", c.Param("id"))
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
	if id != 0 {
		if in.AuthID == 0 {
			in.AuthID = id
		}
		if in.AuthID != id {
			return invalid(c, "auth_id", "must match the auth id in the path")
		}
	}
	keep := id != 0 && in.AuthToken == ""
	if keep {
		in.AuthToken = "unchanged" // validated as present; the engine keeps the stored one
	}
	if err := config.ValidateAuthorization(&in); err != nil {
		return a.validationFailed(c, err)
	}
	if keep {
		in.AuthToken = ""
	}
	x := in.ToCore()
	var err error
	ctx := c.Request().Context()
	if id == 0 {
		x, err = a.engine.CreateAuthorization(ctx, x)
	} else {
		x, err = a.engine.ReplaceAuthorization(ctx, x)
	}
	if e := (*core.Error)(nil); errors.As(err, &e) && e.Kind == core.KindInvalidRequest && e.Reason == core.ReasonMissing {
		// A PUT of a new authorization without auth_token: answered as the
		// validator words a missing field.
		return a.validationFailed(c, &config.ValidationError{Problems: []string{e.Param + ": " + e.Description}})
	}
	if err != nil {
		return failed(c, err, "authorization", strconv.FormatInt(in.AuthID, 10))
	}
	return c.JSON(status, config.AuthorizationFromCore(x))
}

func (a *API) deleteAuthorization(c echo.Context) error {
	id, ok := authID(c)
	if !ok {
		return invalid(c, "auth_id", "must be a positive integer")
	}
	if err := a.engine.DeleteAuthorization(c.Request().Context(), id); err != nil {
		return failed(c, err, "authorization", c.Param("id"))
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
	Family    string     `json:"family,omitempty"`
	Issued    time.Time  `json:"issued"`
	Expires   time.Time  `json:"expires"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// RevokedReason is why: reuse, requested, admin or client_deleted
	// (empty for a token revoked before causes were recorded); Replayed,
	// after reuse, the digest of the consumed token that came back.
	RevokedReason string `json:"revoked_reason,omitempty"`
	Replayed      string `json:"replayed,omitempty"`
	Consumed      bool   `json:"consumed"`
	Active        bool   `json:"active"`
}

func (a *API) listTokens(c echo.Context) error {
	q := c.QueryParams()
	f := core.TokenFilter{ClientID: q.Get("client_id"), UserID: q.Get("user_id"), Dialect: q.Get("dialect"),
		Kind: core.TokenKind(q.Get("kind")), FamilyID: q.Get("family"), Limit: 1000}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return invalid(c, "limit", "must be a non-negative integer")
		}
		if n > 0 {
			f.Limit = n
		}
	}
	list, err := a.engine.ListTokens(c.Request().Context(), f)
	if err != nil {
		return failed(c, err, "", "")
	}
	now := a.clock.Now()
	out := make([]TokenInfo, 0, len(list))
	for _, t := range list {
		// Times JSON cannot write (stored by an older build's clock) are
		// shown at the nearest it can, rather than failing the listing.
		ti := TokenInfo{ID: t.Digest, Kind: string(t.Kind), ClientID: t.ClientID, UserID: t.UserID, Dialect: t.Dialect,
			Scopes: t.Scopes, Family: t.FamilyID, Issued: control.JSONTime(t.IssuedAt), Expires: control.JSONTime(t.ExpiresAt),
			Revoked: !t.RevokedAt.IsZero(), RevokedReason: string(t.Details.RevokedReason), Replayed: t.Details.Replayed,
			Consumed: !t.ConsumedAt.IsZero(), Active: t.Active(now)}
		if ti.Revoked {
			r := control.JSONTime(t.RevokedAt)
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
		n, err := a.engine.RevokeClientTokens(ctx, in.ClientID)
		if err != nil {
			return failed(c, err, "", "")
		}
		return c.JSON(http.StatusOK, map[string]int{"revoked": n})
	case in.Token != "":
		return a.revoked(c, a.engine.RevokeTokenByValue(ctx, in.Token))
	}
	return invalid(c, "token", "is required (or client_id)")
}

func (a *API) revokeTokenByID(c echo.Context) error {
	return a.revoked(c, a.engine.RevokeTokenByDigest(c.Request().Context(), c.Param("id")))
}

// revoked answers the revocation of one token.
func (a *API) revoked(c echo.Context, err error) error {
	if err != nil {
		return failed(c, err, "token", "")
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": 1})
}

// reset wipes tokens, codes, the journal and faults; with {"to": "config"}
// it also restores clients, users and authorizations to the config.
func (a *API) reset(c echo.Context) error {
	var in ResetRequest
	if c.Request().ContentLength != 0 {
		if err := decode(c, &in); err != nil {
			return invalid(c, "", err.Error())
		}
	}
	if err := a.validate.Struct(in); err != nil {
		return a.validationFailed(c, err)
	}
	var seed *core.Seed
	if in.To == "config" {
		sd, err := a.cfg.Seed()
		if err != nil {
			return storeFailed(c, err)
		}
		seed = &sd
	}
	ctx := c.Request().Context()
	if err := a.engine.Reset(ctx, seed); err != nil {
		return failed(c, err, "", "")
	}
	a.plane.Journal.Clear()
	a.plane.Faults.Clear()
	if err := a.plane.PublishFaults(ctx, true); err != nil {
		return storeFailed(c, err)
	}
	out := ResetAnswer{Reset: true, To: in.To,
		Cleared: []string{"tokens", "authorization codes", "request journal", "fault rules", "failure limiter"}}
	if seed != nil {
		out.Cleared = append(out.Cleared, "clients, users and authorizations (restored to the config)")
	}
	// A reset gives the next test a fresh gateway, so the clock goes back
	// to real time too unless the caller keeps it.
	if !in.KeepClock {
		a.clock.Reset()
		if err := a.plane.PublishClock(ctx); err != nil {
			return storeFailed(c, err)
		}
		out.Cleared = append(out.Cleared, "clock")
		out.ClockReset = true
	}
	return c.JSON(http.StatusOK, out)
}

// ResetRequest is the body of POST /_admin/reset (all fields optional).
type ResetRequest struct {
	// To "config" also restores clients, users and authorizations to the config.
	To string `json:"to,omitempty" validate:"omitempty,oneof=config"`
	// KeepClock leaves the gateway clock where it is (by default a reset
	// returns it to real time, running).
	KeepClock bool `json:"keep_clock,omitempty"`
}

// ResetAnswer says what a reset cleared.
type ResetAnswer struct {
	Reset      bool     `json:"reset"`
	To         string   `json:"to"`
	Cleared    []string `json:"cleared"`
	ClockReset bool     `json:"clock_reset"`
}
