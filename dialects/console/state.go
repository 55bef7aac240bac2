package console

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
)

func (c *Console) mountState(g *echo.Group) {
	g.GET("/clients", c.clients)
	g.GET("/clients/new", c.clientForm)
	g.GET("/clients/:id", c.clientForm)
	g.POST("/clients", c.saveClient)
	g.POST("/clients/:id", c.saveClient)
	g.POST("/clients/:id/delete", c.deleteClient)
	g.GET("/users", c.users)
	g.GET("/users/new", c.userForm)
	g.GET("/users/:id", c.userForm)
	g.POST("/users", c.saveUser)
	g.POST("/users/:id", c.saveUser)
	g.POST("/users/:id/delete", c.deleteUser)
	g.GET("/authorizations", c.authorizations)
	g.GET("/authorizations/new", c.authorizationForm)
	g.GET("/authorizations/:id", c.authorizationForm)
	g.POST("/authorizations", c.saveAuthorization)
	g.POST("/authorizations/:id", c.saveAuthorization)
	g.POST("/authorizations/:id/delete", c.deleteAuthorization)
}

// entityForm is what every add/edit page gets: the values shown, whether
// the object exists already, and what the gateway refused.
type entityForm[T any] struct {
	Value    T
	Edit     bool
	Problems []string
	Field    string
	// Raw keeps typed text the value cannot hold (a duration that did not parse).
	Raw map[string]string
	// Choices offered by checkboxes and selects.
	Dialects []string
	Grants   []core.GrantType
	Clients  []string
	Users    []string
}

// created is shown once after an object was created with a generated
// secret: the only time the secret is ever shown.
type created struct {
	What, ID, Label, Secret, Back string
}

// generatedSecret is a fresh random secret for a form left empty.
func generatedSecret() string { return rand.Text() }

// saved finishes a save: a refused input re-renders the form with the
// problems; a generated secret is shown once; anything else redirects.
func (c *Console) saved(ec echo.Context, err error, page string, form any, title, back, flash string, gen *created) error {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		status := http.StatusBadRequest
		if ie.Conflict {
			status = http.StatusConflict
		}
		return c.render(ec, status, page, view{Title: title, Nav: navOf(back), Data: form})
	case err != nil:
		return err
	case gen != nil:
		return c.render(ec, http.StatusCreated, "created", view{Title: gen.What + " created", Nav: navOf(back), Data: gen})
	}
	return c.redirect(ec, u(back), flash)
}

func navOf(back string) string { return strings.TrimPrefix(back, "/") }

func problemsOf(err error) ([]string, string) {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Problems, ie.Field
	}
	return nil, ""
}

func (c *Console) deleted(ec echo.Context, err error, back, what string) error {
	if err != nil {
		return err
	}
	return c.redirect(ec, u(back), what+" deleted.")
}

// ---- clients ----

func (c *Console) clients(ec echo.Context) error {
	list, err := c.b.Clients(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "clients", view{Title: "Clients", Nav: "clients", Data: list})
}

// clientIDs lists the clients' ids, for selects.
func (c *Console) clientIDs(ctx context.Context) ([]string, error) {
	clients, err := c.b.Clients(ctx)
	var ids []string
	for _, cl := range clients {
		ids = append(ids, cl.ClientID)
	}
	return ids, err
}

// formProblems collects what a form's text cannot be read as; the first
// field at fault gets the focus.
type formProblems struct {
	list  []string
	field string
}

func (p *formProblems) add(field, msg string) {
	p.list = append(p.list, field+": "+msg)
	if p.field == "" {
		p.field = field
	}
}

// parse runs read on the form value of field unless it is empty; a failure
// is a problem described by msg.
func (p *formProblems) parse(form url.Values, field, msg string, read func(string) error) {
	if s := strings.TrimSpace(form.Get(field)); s != "" && read(s) != nil {
		p.add(field, msg)
	}
}

func (p *formProblems) err() error {
	if p.list == nil {
		return nil
	}
	return &InputError{Field: p.field, Problems: p.list}
}

func (c *Console) dialectNames() []string {
	var out []string
	for _, d := range c.b.Dialects() {
		out = append(out, d.Name)
	}
	return out
}

func (c *Console) clientForm(ec echo.Context) error {
	f := entityForm[config.Client]{Dialects: c.dialectNames(), Grants: core.AllGrants, Raw: map[string]string{}}
	if id := param(ec, "id"); id != "" {
		list, err := c.b.Clients(ec.Request().Context())
		if err != nil {
			return err
		}
		i := slices.IndexFunc(list, func(cl config.Client) bool { return cl.ClientID == id })
		if i < 0 {
			return ErrNotFound
		}
		f.Value, f.Edit = list[i], true
	} else {
		f.Value.Grants = []string{string(core.GrantClientCredentials)}
	}
	return c.render(ec, http.StatusOK, "client", view{Title: clientTitle(f.Edit, f.Value.ClientID), Nav: "clients", Data: f})
}

func clientTitle(edit bool, id string) string {
	if edit {
		return "Client " + id
	}
	return "Add a client"
}

func (c *Console) saveClient(ec echo.Context) error {
	id := param(ec, "id")
	form, _ := ec.FormParams()
	cl, raw, err := clientFromForm(form)
	if id != "" {
		cl.ClientID = id
	}
	var gen *created
	if err == nil && id == "" && cl.ClientSecret == "" {
		cl.ClientSecret = generatedSecret()
		gen = &created{What: "Client", ID: cl.ClientID, Label: "client secret", Secret: cl.ClientSecret, Back: u("/clients")}
	}
	if err == nil {
		err = c.b.SaveClient(ec.Request().Context(), cl, id == "")
	}
	cl.ClientSecret = "" // never echoed back into a form
	f := entityForm[config.Client]{Value: cl, Edit: id != "", Raw: raw, Dialects: c.dialectNames(), Grants: core.AllGrants}
	f.Problems, f.Field = problemsOf(err)
	return c.saved(ec, err, "client", f, clientTitle(f.Edit, cl.ClientID), "/clients", "Client "+cl.ClientID+" saved.", gen)
}

func (c *Console) deleteClient(ec echo.Context) error {
	return c.deleted(ec, c.b.DeleteClient(ec.Request().Context(), param(ec, "id")), "/clients", "Client "+param(ec, "id"))
}

// clientFromForm reads the client form. Text that cannot be parsed is an
// InputError naming the field; raw keeps it for the form shown again.
func clientFromForm(form url.Values) (config.Client, map[string]string, error) {
	cl := config.Client{ClientID: strings.TrimSpace(form.Get("client_id")), ClientSecret: form.Get("client_secret"),
		Grants: form["grants"], Dialects: form["dialects"], RedirectURIs: fields(form.Get("redirect_uris")),
		Scopes: fields(form.Get("scopes")), AllowPlainPKCE: form.Get("allow_plain_pkce") != "", Disabled: form.Get("disabled") != ""}
	raw := map[string]string{"access_token_ttl": form.Get("access_token_ttl"), "refresh_token_ttl": form.Get("refresh_token_ttl"),
		"expires_at": form.Get("expires_at")}
	var p formProblems
	for _, ttl := range []struct {
		name string
		to   *config.Duration
	}{{"access_token_ttl", &cl.AccessTokenTTL}, {"refresh_token_ttl", &cl.RefreshTokenTTL}} {
		p.parse(form, ttl.name, "must be a duration such as 15m or 2h", func(s string) error { return ttl.to.UnmarshalText([]byte(s)) })
	}
	p.parse(form, "expires_at", "must be an RFC 3339 time such as 2030-01-01T00:00:00Z", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		cl.ExpiresAt = &t
		return err
	})
	return cl, raw, p.err()
}

// fields splits text on white space (one redirect URI or scope per word).
func fields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return f
}

// ---- users ----

func (c *Console) users(ec echo.Context) error {
	list, err := c.b.Users(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "users", view{Title: "Users", Nav: "users", Data: list})
}

func (c *Console) findUser(ec echo.Context, id string) (config.User, error) {
	list, err := c.b.Users(ec.Request().Context())
	if err != nil {
		return config.User{}, err
	}
	i := slices.IndexFunc(list, func(u config.User) bool { return u.UserID == id })
	if i < 0 {
		return config.User{}, ErrNotFound
	}
	return list[i], nil
}

func userTitle(edit bool, id string) string {
	if edit {
		return "User " + id
	}
	return "Add a user"
}

func (c *Console) userForm(ec echo.Context) error {
	f := entityForm[config.User]{}
	if id := param(ec, "id"); id != "" {
		u, err := c.findUser(ec, id)
		if err != nil {
			return err
		}
		f.Value, f.Edit = u, true
	}
	return c.render(ec, http.StatusOK, "user", view{Title: userTitle(f.Edit, f.Value.UserID), Nav: "users", Data: f})
}

func (c *Console) saveUser(ec echo.Context) error {
	id := param(ec, "id")
	var u config.User
	if id != "" {
		// The form does not edit linked accounts; a replace keeps them.
		old, err := c.findUser(ec, id)
		if err != nil {
			return err
		}
		u = old
	}
	form, _ := ec.FormParams()
	if id == "" {
		u.UserID = strings.TrimSpace(form.Get("user_id"))
	}
	u.Username, u.FirstName, u.LastName = strings.TrimSpace(form.Get("username")), form.Get("first_name"), form.Get("last_name")
	u.Email, u.Password = strings.TrimSpace(form.Get("email")), form.Get("password")
	err := c.b.SaveUser(ec.Request().Context(), u, id == "")
	u.Password = ""
	f := entityForm[config.User]{Value: u, Edit: id != ""}
	f.Problems, f.Field = problemsOf(err)
	return c.saved(ec, err, "user", f, userTitle(f.Edit, u.UserID), "/users", "User "+u.UserID+" saved.", nil)
}

func (c *Console) deleteUser(ec echo.Context) error {
	return c.deleted(ec, c.b.DeleteUser(ec.Request().Context(), param(ec, "id")), "/users", "User "+param(ec, "id"))
}

// ---- authorizations ----

func (c *Console) authorizations(ec echo.Context) error {
	list, err := c.b.Authorizations(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "authorizations", view{Title: "Authorizations", Nav: "authorizations", Data: list})
}

func authTitle(edit bool, id int64) string {
	if edit {
		return "Authorization " + strconv.FormatInt(id, 10)
	}
	return "Add an authorization"
}

// authChoices fills the client and user selects.
func (c *Console) authChoices(ec echo.Context, f *entityForm[config.Authorization]) error {
	ctx := ec.Request().Context()
	var err error
	if f.Clients, err = c.clientIDs(ctx); err != nil {
		return err
	}
	users, err := c.b.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		f.Users = append(f.Users, u.UserID)
	}
	return nil
}

func (c *Console) authorizationForm(ec echo.Context) error {
	f := entityForm[config.Authorization]{}
	if id := param(ec, "id"); id != "" {
		list, err := c.b.Authorizations(ec.Request().Context())
		if err != nil {
			return err
		}
		i := slices.IndexFunc(list, func(a config.Authorization) bool { return strconv.FormatInt(a.AuthID, 10) == id })
		if i < 0 {
			return ErrNotFound
		}
		f.Value, f.Edit = list[i], true
	}
	if err := c.authChoices(ec, &f); err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "authorization", view{Title: authTitle(f.Edit, f.Value.AuthID), Nav: "authorizations", Data: f})
}

func (c *Console) saveAuthorization(ec echo.Context) error {
	form, _ := ec.FormParams()
	idText := param(ec, "id")
	if idText == "" {
		idText = strings.TrimSpace(form.Get("auth_id"))
	}
	a := config.Authorization{UserID: form.Get("user_id"), ClientID: form.Get("client_id"), AuthToken: form.Get("auth_token")}
	var err error
	a.AuthID, err = strconv.ParseInt(idText, 10, 64)
	if err != nil || a.AuthID <= 0 {
		err = &InputError{Field: "auth_id", Problems: []string{"auth_id: must be a positive integer"}}
	}
	create := param(ec, "id") == ""
	var gen *created
	if err == nil && create && a.AuthToken == "" {
		a.AuthToken = generatedSecret()
		gen = &created{What: "Authorization", ID: idText, Label: "auth token", Secret: a.AuthToken, Back: u("/authorizations")}
	}
	if err == nil {
		err = c.b.SaveAuthorization(ec.Request().Context(), a, create)
	}
	a.AuthToken = ""
	f := entityForm[config.Authorization]{Value: a, Edit: !create}
	f.Problems, f.Field = problemsOf(err)
	if cerr := c.authChoices(ec, &f); cerr != nil {
		return cerr
	}
	return c.saved(ec, err, "authorization", f, authTitle(f.Edit, a.AuthID), "/authorizations", "Authorization "+idText+" saved.", gen)
}

func (c *Console) deleteAuthorization(ec echo.Context) error {
	id, err := strconv.ParseInt(param(ec, "id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	return c.deleted(ec, c.b.DeleteAuthorization(ec.Request().Context(), id), "/authorizations", "Authorization "+param(ec, "id"))
}
