package core

import (
	"context"
	"errors"
	"net/url"
	"slices"
)

// Token exchange (RFC 8693): a client trades a token this gateway issued
// (the subject, and optionally an actor's) for a new access token, opaque
// or JWT, with the audience and resource it names recorded on it. A token
// of another instance (another issuer) is refused unless the client trusts
// that instance.

// Token type identifiers (RFC 8693 §3).
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// ExchangeSubjectTypes are the subject and actor token types accepted.
var ExchangeSubjectTypes = []string{TokenTypeAccessToken, TokenTypeRefreshToken, TokenTypeJWT}

// ExchangeIssuedTypes are the requested_token_type values accepted.
var ExchangeIssuedTypes = []string{TokenTypeAccessToken, TokenTypeJWT}

func (e *Engine) tokenExchange(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	subject, err := e.exchangeInput(ctx, p, client, "subject_token", req.SubjectToken, req.SubjectTokenType)
	if err != nil {
		return nil, err
	}
	var actor *Token
	if req.ActorToken != "" || req.ActorTokenType != "" {
		if actor, err = e.exchangeInput(ctx, p, client, "actor_token", req.ActorToken, req.ActorTokenType); err != nil {
			return nil, err
		}
	}
	issued := req.RequestedTokenType
	switch {
	case issued == "":
		issued = TokenTypeAccessToken
	case !slices.Contains(ExchangeIssuedTypes, issued):
		return nil, InvalidParam("requested_token_type", issued, "requested_token_type must be an access token or a JWT")
	case issued == TokenTypeJWT && p.Keys == nil:
		return nil, InvalidParam("requested_token_type", issued, "this instance issues no JWTs")
	}
	for _, r := range req.Resource {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, &Error{Kind: KindInvalidRequest, Reason: ReasonInvalidTarget, Param: "resource", Value: r,
				Description: "resource must be an absolute URI without a fragment"}
		}
	}
	scopes, err := narrowScopes(subject.Scopes, req.Scopes, "scope not granted to the subject token")
	if err != nil {
		return nil, err
	}
	g := grant{client: client, userID: subject.UserID, scopes: scopes, authTime: subject.AuthTime, issuer: req.Issuer,
		jwt: issued == TokenTypeJWT, details: TokenDetails{Audience: req.Audience, Resource: req.Resource}}
	if subject.UserID == "" {
		g.details.Subject = subject.Subject()
	}
	if actor != nil {
		g.details.Actor = actor.Subject()
	}
	res, err := e.issueNew(ctx, p, GrantTokenExchange, g)
	if err != nil {
		return nil, err
	}
	res.IssuedTokenType = issued
	return res, nil
}

// exchangeInput finds a subject or actor token (param names which): one
// this gateway issued, active, of the type given, from the client's own
// instance or one it trusts. Anything else is invalid_request (RFC 8693
// §2.2.2).
func (e *Engine) exchangeInput(ctx context.Context, p *Profile, client *Client, param, value, typ string) (*Token, error) {
	typeParam := param + "_type"
	switch {
	case value == "":
		return nil, MissingParam(param)
	case typ == "":
		return nil, MissingParam(typeParam)
	case !slices.Contains(ExchangeSubjectTypes, typ):
		return nil, InvalidParam(typeParam, typ, typeParam+" must be an access token, refresh token or JWT issued here")
	}
	bad := func(d string) *Error { return &Error{Kind: KindInvalidRequest, Param: param, Description: d} }
	t, err := e.getToken(ctx, value)
	if errors.Is(err, ErrNotFound) {
		return nil, bad(param + " is unknown")
	}
	if err != nil {
		return nil, storeError(err)
	}
	kind := TokenAccess
	if typ == TokenTypeRefreshToken {
		kind = TokenRefresh
	}
	switch {
	case t.Kind != kind || (typ == TokenTypeJWT && t.Details.Format != FormatJWT):
		return nil, bad(param + " is not a token of " + typeParam)
	case t.Dialect != p.Dialect && !client.trusts(t.Dialect):
		return nil, bad(param + " was issued by another issuer, which this client does not trust")
	case !t.Active(e.clock.Now()):
		return nil, bad(param + " is not active")
	}
	return t, nil
}
