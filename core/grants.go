package core

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
)

// The grants beyond RFC 6749's core three, each offered by an instance
// through Profile.ExtraGrants and allowed per client: the resource owner
// password grant (RFC 6749 §4.3), the device authorization grant (RFC 8628,
// device.go), token exchange (RFC 8693, exchange.go) and the JWT bearer
// grant (RFC 7523 §2.1).

// grantAliases are the short names of the extension grants' URNs, which
// configuration files and fault rules accept.
var grantAliases = map[string]GrantType{
	"device_code":    GrantDeviceCode,
	"token_exchange": GrantTokenExchange,
	"jwt_bearer":     GrantJWTBearer,
}

// ShortName is the short name of an extension grant's URN (device_code,
// token_exchange, jwt_bearer), else the grant as it is.
func (g GrantType) ShortName() string {
	for name, urn := range grantAliases {
		if urn == g {
			return name
		}
	}
	return string(g)
}

// GrantNamed is the grant a name stands for: a short name's URN, else the
// name itself.
func GrantNamed(name string) GrantType {
	if g, ok := grantAliases[name]; ok {
		return g
	}
	return GrantType(name)
}

func (e *Engine) extensionGrant(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	switch req.GrantType {
	case GrantPassword:
		return e.passwordGrant(ctx, p, client, req)
	case GrantDeviceCode:
		return e.deviceGrant(ctx, p, client, req)
	case GrantTokenExchange:
		return e.tokenExchange(ctx, p, client, req)
	case GrantJWTBearer:
		return e.jwtBearerGrant(ctx, p, client, req)
	}
	return nil, &Error{Kind: KindUnsupportedGrantType, Param: "grant_type", Value: string(req.GrantType),
		Description: "unsupported grant_type"}
}

// issueNew mints and stores the tokens of a grant that starts a new
// family; a client_credentials grant of a profile with one active access
// token per client is refused while the client holds one.
func (e *Engine) issueNew(ctx context.Context, p *Profile, gt GrantType, g grant) (*TokenResult, error) {
	now := e.clock.Now()
	family, err := NewFamilyID(e.rand, now)
	if err != nil {
		return nil, Internal(err)
	}
	g.family = family
	if g.authTime.IsZero() {
		g.authTime = now
	}
	res, tokens, err := e.mint(ctx, p, gt, g, now)
	if err != nil {
		return nil, err
	}
	if p.OneActiveAccessToken && gt == GrantClientCredentials {
		err = e.store.InsertTokensIfNoActive(ctx, g.client.ID, p.Dialect, now, tokens...)
		if errors.Is(err, ErrActiveToken) {
			return nil, &Error{Kind: KindConflict, Reason: ReasonActiveToken,
				Description: "the client already holds an active access token"}
		}
	} else {
		err = e.store.InsertTokens(ctx, tokens...)
	}
	if err != nil {
		return nil, storeError(err)
	}
	e.issued(ctx, p, tokens)
	return res, nil
}

// parseAssertion splits a client-signed JWT and reads its claims, not yet
// verified; what fails is described for the client.
func parseAssertion(s string) (*parsedJWS, *assertionClaims, string) {
	jws, err := parseJWS(s)
	if err != nil {
		return nil, nil, "the assertion is not a usable JWT: " + err.Error()
	}
	var c assertionClaims
	if err := json.Unmarshal(jws.payload, &c); err != nil {
		return nil, nil, "the assertion's claims do not parse"
	}
	return jws, &c, ""
}

// passwordGrant is the resource owner password grant (RFC 6749 §4.3): a
// wrong username or password is invalid_grant (§5.2).
func (e *Engine) passwordGrant(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	switch {
	case req.Username == "":
		return nil, MissingParam("username")
	case req.Password == "":
		return nil, MissingParam("password")
	}
	user, err := e.Login(ctx, req.Username, req.Password)
	if KindOf(err) == KindAccessDenied {
		return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonBadCredentials, Description: "wrong username or password"}
	}
	if err != nil {
		return nil, err
	}
	scopes, err := grantedScopes(p, client, req.Scopes)
	if err != nil {
		return nil, err
	}
	return e.issueNew(ctx, p, GrantPassword, grant{client: client, userID: user.ID, scopes: scopes, issuer: req.Issuer})
}

// jwtBearerGrant exchanges an assertion for tokens (RFC 7523 §2.1, §3): a
// key configured for the client signed it, its iss is the client (or one of
// its assertion_issuers), its sub a user (id or username), its aud this
// server, and its jti is used once.
func (e *Engine) jwtBearerGrant(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	if req.Assertion == "" {
		return nil, MissingParam("assertion")
	}
	invalid := func(d string) *Error { return &Error{Kind: KindInvalidGrant, Description: d} }
	jws, c, bad := parseAssertion(req.Assertion)
	if bad != "" {
		return nil, invalid(bad)
	}
	if c.Iss != client.ID && !slices.Contains(client.Settings.AssertionIssuers, c.Iss) {
		return nil, invalid("the assertion's iss is neither the client nor one of its assertion issuers")
	}
	ok, err := e.verifyClientJWS(ctx, client, jws)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid("the assertion's signature does not verify with the client's keys")
	}
	if c.Sub == "" {
		return nil, invalid("the assertion has no sub")
	}
	user, err := e.userByIDOrName(ctx, c.Sub)
	if err != nil {
		return nil, err
	}
	if err := e.useAssertion(ctx, p, KindInvalidGrant, client.ID, "grant", c, audiences(req.Issuer, req.TokenEndpoint)); err != nil {
		return nil, err
	}
	scopes, err := grantedScopes(p, client, req.Scopes)
	if err != nil {
		return nil, err
	}
	return e.issueNew(ctx, p, GrantJWTBearer, grant{client: client, userID: user.ID, scopes: scopes, issuer: req.Issuer})
}

// userByIDOrName finds the user an assertion's sub names: a user id, else
// a username. Nobody is invalid_grant/unknown_user.
func (e *Engine) userByIDOrName(ctx context.Context, sub string) (*User, error) {
	u, err := e.users.get(ctx, sub)
	if errors.Is(err, ErrNotFound) {
		u, err = e.logins.get(ctx, sub)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonUnknownUser, Description: "the assertion's sub names no user"}
	}
	if err != nil {
		return nil, storeError(err)
	}
	return u, nil
}
