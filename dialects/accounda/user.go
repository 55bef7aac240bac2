package accounda

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Request headers of the user endpoints, spelled as the vendor documents them.
const (
	headerAuthorization = "Authorization"
	headerClientID      = "Client-ID"
	headerAuthToken     = "Auth-Token"
)

// Linked-account flag values (Accounda's user API document: "1: optional; 8: required").
const (
	flagOptional = "1"
	flagRequired = "8"
)

// userParams is the decoded query of a user endpoint.
type userParams struct {
	authID   int64
	userData bool
	flags    map[core.Provider]string // flagOptional or flagRequired; absent: not requested
}

// user serves GET /v1/user/validate/ and GET /v1/user/information/. The
// checks run in this order: headers (400), bearer token (401), client (403),
// query (400), authorization (403), required linked accounts (403).
func (d *Dialect) user(ep endpoint) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		hdr := c.Request().Header
		bearer, clientID, err := requiredHeaders(hdr)
		if err != nil {
			return err
		}
		wire.NoteClient(c, clientID, "")

		// A token issued through another dialect instance is unknown here.
		t, err := d.engine.Validate(ctx, d.profile, bearer)
		if err != nil {
			return err
		}
		if t.ClientID != clientID {
			return &core.Error{Kind: core.KindInvalidClient, Reason: core.ReasonWrongClient, Param: headerClientID,
				Description: "the access token was issued to another client"}
		}
		client, err := d.engine.Client(ctx, clientID) // the engine's short-lived client cache, as at /v1/token/
		if errors.Is(err, core.ErrNotFound) {
			return &core.Error{Kind: core.KindInvalidClient, Param: headerClientID, Description: "unknown client"}
		}
		if err != nil {
			return core.AsError(err)
		}
		if err := d.engine.CheckClientUsable(client, d.profile); err != nil {
			return err
		}

		q, err := wire.Query(c)
		if err != nil {
			return err
		}
		if err := paramsInBody(c, q); err != nil {
			return err
		}
		p, err := parseUserParams(q, ep)
		if err != nil {
			return err
		}
		authToken := ""
		if ep == epValidate {
			vals := hdr.Values(headerAuthToken)
			if len(vals) != 1 || vals[0] == "" {
				return &core.Error{Kind: core.KindAccessDenied, Reason: core.ReasonMissing, Param: headerAuthToken,
					Description: "missing or repeated Auth-Token header"}
			}
			authToken = vals[0]
		}
		_, u, err := d.engine.CheckAuthorization(ctx, p.authID, clientID, authToken, ep == epValidate)
		if err != nil {
			return err
		}
		var missing []string
		for _, pr := range core.Providers {
			if _, has := u.Linked[pr]; p.flags[pr] == flagRequired && !has {
				missing = append(missing, string(pr))
			}
		}
		if len(missing) > 0 {
			return &core.Error{Kind: core.KindAccessDenied, Param: missing[0], Value: strings.Join(missing, ", "),
				Description: "the user lacks a required linked account"}
		}
		wire.NoStore(c)
		if ep == epValidate && !p.userData {
			return wire.JSON(c, http.StatusOK, dataResponse{Data: struct{}{}})
		}
		return wire.JSON(c, http.StatusOK, dataResponse{Data: payload(u, p.flags)})
	}
}

// requiredHeaders reads the bearer token and Client-ID. Missing, repeated,
// empty or non-Bearer values are all the documented "Missing or Invalid
// Headers" case.
func requiredHeaders(h http.Header) (bearer, clientID string, err error) {
	auth := h.Values(headerAuthorization)
	if len(auth) != 1 {
		return "", "", core.MissingParam(headerAuthorization)
	}
	scheme, rest, found := strings.Cut(auth[0], " ")
	bearer = strings.TrimSpace(rest)
	if !found || !strings.EqualFold(scheme, "Bearer") || bearer == "" {
		return "", "", core.InvalidParam(headerAuthorization, "", "Authorization must be Bearer <access token>")
	}
	ids := h.Values(headerClientID)
	if len(ids) != 1 || strings.TrimSpace(ids[0]) == "" {
		return "", "", core.MissingParam(headerClientID)
	}
	return bearer, strings.TrimSpace(ids[0]), nil
}

// Pseudo-parameter names for errors that concern no single parameter.
const (
	paramBody             = "(body)" // parameters sent in a GET body
	paramMangledMicrosoft = "µsoft"  // "&microsoft=1" as the vendor's page renders it
)

// paramsInBody refuses a GET whose parameters came in a body (the document
// lists them under "Content-Type: application/json") while the query lacks
// auth_id: the body is not read, and "Invalid auth ID" would mislead. A
// body beside a complete query, and the sample's Content-Type without a
// body, are fine.
func paramsInBody(c echo.Context, q url.Values) error {
	if _, ok := q["auth_id"]; ok {
		return nil
	}
	body, err := wire.ReadBody(c)
	if err != nil || len(strings.TrimSpace(string(body))) == 0 {
		return err
	}
	return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Param: paramBody,
		Description: "parameters sent in the body of a GET"}
}

// mangled finds the document's sample-line damage: a value holding
// "µsoft=" (see MsgMangledMicrosoft). It names the parameter it is in.
func mangled(q url.Values) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[name] {
			if strings.Contains(v, "\u00b5soft=") {
				return &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMalformed, Param: paramMangledMicrosoft,
					Value: name, Description: `"&microsoft=1" mangled into "µsoft=1"`}
			}
		}
	}
	return nil
}

// parseUserParams decodes auth_id, user_data (validate only) and the four
// linked-account flags. Other query parameters are ignored.
func parseUserParams(q url.Values, ep endpoint) (userParams, error) {
	if err := mangled(q); err != nil {
		return userParams{}, err
	}
	names := []string{"auth_id"}
	if ep == epValidate {
		names = append(names, "user_data") // information ignores user_data
	}
	for _, pr := range core.Providers {
		names = append(names, string(pr))
	}
	v, err := wire.Singles(q, names...)
	if err != nil {
		return userParams{}, err
	}
	p := userParams{flags: map[core.Provider]string{}}
	for _, pr := range core.Providers {
		raw, sent := q[string(pr)]
		if !sent {
			continue
		}
		if raw[0] != flagOptional && raw[0] != flagRequired {
			return userParams{}, core.InvalidParam(string(pr), "", "linked-account flags are 1 (optional) or 8 (required)")
		}
		p.flags[pr] = raw[0]
	}
	if ep == epValidate {
		if _, sent := q["user_data"]; sent {
			// "If provided, user data is returned": a bare user_data (or
			// user_data=) is provided.
			switch strings.ToLower(v["user_data"]) {
			case "", "1", "true":
				p.userData = true
			case "0", "false":
			default:
				return userParams{}, core.InvalidParam("user_data", "", "user_data is 1 (true) or 0 (false)")
			}
		}
		if len(p.flags) > 0 && !p.userData {
			return userParams{}, &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonMissing, Param: "user_data",
				Description: "linked-account flags require user_data"}
		}
	}
	p.authID, err = parseAuthID(v["auth_id"])
	return p, err
}

// parseAuthID reads a positive decimal auth_id. Anything else is the same
// answer as an unknown one.
func parseAuthID(s string) (int64, error) {
	bad := &core.Error{Kind: core.KindAccessDenied, Reason: core.ReasonMalformed, Param: "auth_id",
		Description: "auth_id must be a positive integer"}
	if s == "" || len(s) > 18 || strings.Trim(s, "0123456789") != "" {
		return 0, bad
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, bad
	}
	return id, nil
}

// dataResponse is the 200 body of the user endpoints.
type dataResponse struct {
	Data any `json:"data"`
}

// userPayload lists the fields in the order of the vendor's sample.
type userPayload struct {
	Username  string          `json:"username"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Email     string          `json:"email"`
	Google    *personAccount  `json:"google,omitempty"`
	Microsoft *personAccount  `json:"microsoft,omitempty"`
	Discord   *discordAccount `json:"discord,omitempty"`
	GitHub    *githubAccount  `json:"github,omitempty"`
}

// personAccount is a Google or Microsoft account.
type personAccount struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	ID        string `json:"id"`
}

type discordAccount struct {
	Username string `json:"username"`
	Locale   string `json:"locale"`
	Email    string `json:"email"`
	ID       string `json:"id"`
}

type githubAccount struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	ID    string `json:"id"`
}

// payload is the user with each requested linked account the user has.
func payload(u *core.User, flags map[core.Provider]string) userPayload {
	out := userPayload{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
	linked := func(pr core.Provider) (core.LinkedAccount, bool) {
		if flags[pr] == "" {
			return core.LinkedAccount{}, false
		}
		a, ok := u.Linked[pr]
		return a, ok
	}
	if a, ok := linked(core.ProviderGoogle); ok {
		out.Google = &personAccount{Username: a.Username, FirstName: a.FirstName, LastName: a.LastName, Email: a.Email, ID: a.ID}
	}
	if a, ok := linked(core.ProviderMicrosoft); ok {
		out.Microsoft = &personAccount{Username: a.Username, FirstName: a.FirstName, LastName: a.LastName, Email: a.Email, ID: a.ID}
	}
	if a, ok := linked(core.ProviderDiscord); ok {
		out.Discord = &discordAccount{Username: a.Username, Locale: a.Locale, Email: a.Email, ID: a.ID}
	}
	if a, ok := linked(core.ProviderGitHub); ok {
		out.GitHub = &githubAccount{Name: a.Name, Email: a.Email, ID: a.ID}
	}
	return out
}
