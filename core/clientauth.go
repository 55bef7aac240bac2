package core

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Client authentication beyond the secret: public clients (none) and JWT
// assertions (client_secret_jwt, private_key_jwt: RFC 7523 §2.2 and §3,
// OpenID Connect Core §9).

// ClientAssertionType is the one client_assertion_type (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// JWKSFetcher is the port through which the engine reads the JWK Set a
// client publishes at its jwks_uri (core makes no HTTP requests). An
// implementation bounds the time and size of a fetch and caches the
// answer; fresh asks it to bypass the cache because a key was not found
// (it may still answer from the cache if it refetched very recently).
type JWKSFetcher interface {
	Fetch(ctx context.Context, uri string, fresh bool) ([]byte, error)
}

// ClientAuth is a client's authentication as presented at an endpoint.
type ClientAuth struct {
	ID     string
	Secret string
	// Alt is another reading of the same presented credentials (HTTP Basic
	// as sent, where its form-decoded reading differs); nil: none.
	Alt *Credentials
	// Method is how Secret came: client_secret_basic or client_secret_post.
	Method string
	// AssertionType and Assertion are a JWT client authentication.
	AssertionType, Assertion string
	// Audiences are the values an assertion's aud may name: the issuer and
	// the token endpoint's URL.
	Audiences []string
}

func (r *TokenRequest) clientAuth() ClientAuth {
	return ClientAuth{ID: r.ClientID, Secret: r.ClientSecret, Alt: r.ClientAlt, Method: r.ClientAuthMethod,
		AssertionType: r.ClientAssertionType, Assertion: r.ClientAssertion, Audiences: audiences(r.Issuer, r.TokenEndpoint)}
}

func audiences(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// readings lists the credential readings, preferred first.
func (a ClientAuth) readings() []Credentials {
	out := []Credentials{{a.ID, a.Secret}}
	if a.Alt != nil {
		out = append(out, *a.Alt)
	}
	return out
}

// AuthenticateClientAuth authenticates a client by whichever method it
// presents — a secret, a JWT assertion, or only its id for a public client
// — and checks that the client is registered for that method and may be
// used through p's instance now. alt reports that the secret matched its
// Alt reading.
func (e *Engine) AuthenticateClientAuth(ctx context.Context, p *Profile, a ClientAuth) (client *Client, alt bool, err error) {
	return e.authenticate(ctx, p, a)
}

func (e *Engine) authenticate(ctx context.Context, p *Profile, a ClientAuth) (*Client, bool, error) {
	if a.Assertion != "" || a.AssertionType != "" {
		client, err := e.authenticateAssertion(ctx, p, a)
		return client, false, err
	}
	if a.Secret == "" && a.ID != "" {
		client, err := e.clients.get(ctx, a.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, false, storeError(err)
		}
		if client != nil && client.Public() {
			return client, false, e.CheckClientUsable(client, p)
		}
	}
	client, reading, err := e.AuthenticateClientAny(ctx, p, a.readings()...)
	if err != nil {
		return nil, false, err
	}
	// A client registered for one secret method may not use the other;
	// one registered for none (the default) may use either, and so may any
	// client of a dialect that does not say how the secret came.
	if m := client.Settings.TokenEndpointAuthMethod; m != "" && a.Method != "" && m != a.Method {
		return nil, false, wrongMethod(m)
	}
	return client, reading > 0, nil
}

func wrongMethod(registered string) *Error {
	return &Error{Kind: KindInvalidClient, Description: "the client must authenticate with " + registered}
}

// authenticateAssertion checks a client assertion: its iss and sub are the
// client's id, a key configured for the client signed it, its aud names
// this server, it has not expired and its jti was not used before.
func (e *Engine) authenticateAssertion(ctx context.Context, p *Profile, a ClientAuth) (*Client, error) {
	switch {
	case a.AssertionType == "":
		return nil, MissingParam("client_assertion_type")
	case a.AssertionType != ClientAssertionType:
		return nil, InvalidParam("client_assertion_type", a.AssertionType, "client_assertion_type must be "+ClientAssertionType)
	case a.Assertion == "":
		return nil, MissingParam("client_assertion")
	case a.Secret != "":
		return nil, &Error{Kind: KindInvalidRequest, Reason: ReasonDuplicate,
			Description: "use one client authentication method, not several"}
	}
	bad := func(d string) *Error {
		return &Error{Kind: KindInvalidClient, Reason: ReasonBadCredentials, Description: d}
	}
	jws, c, why := parseAssertion(a.Assertion)
	if why != "" {
		return nil, bad("client assertion: " + why)
	}
	id := c.Sub
	if id == "" || c.Iss != id {
		return nil, bad("the client assertion's iss and sub must both be the client_id")
	}
	if a.ID != "" && a.ID != id {
		return nil, bad("client_id does not match the client assertion")
	}
	src := sourceOf(ctx)
	if wait, blocked := e.limiter.Blocked("client", id, src); blocked {
		return nil, rateLimited(wait)
	}
	client, err := e.clients.get(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, storeError(err)
	}
	if client == nil || !client.usesJWTAuth() {
		e.limiter.Fail("client", id, src)
		return nil, bad("client authentication failed")
	}
	ok, err := e.verifyClientJWS(ctx, client, jws)
	if err != nil {
		return nil, err
	}
	// private_key_jwt signs with a private key, client_secret_jwt with the
	// secret: neither may use the other's kind of algorithm.
	hmacAlg := assertionAlgs[jws.alg].kind == "HMAC"
	if !ok || hmacAlg != (client.Settings.TokenEndpointAuthMethod == AuthMethodSecretJWT) {
		e.limiter.Fail("client", id, src)
		return nil, bad("the client assertion's signature does not verify with the client's keys")
	}
	if err := e.useAssertion(ctx, p, KindInvalidClient, id, "client", c, a.Audiences); err != nil {
		return nil, err
	}
	return client, e.CheckClientUsable(client, p)
}

// verifyClientJWS reports whether a key configured for the client signed
// jws: its secret for an HMAC (client_secret_jwt), else its JWK Set, inline
// or fetched from its jwks_uri (again, bypassing the cache, when no key
// matches: the client may have rotated).
func (e *Engine) verifyClientJWS(ctx context.Context, client *Client, jws *parsedJWS) (bool, error) {
	if assertionAlgs[jws.alg].kind == "HMAC" {
		return jws.verifySecret(client.Settings.SecretJWTKey), nil
	}
	keys, err := e.clientKeys(ctx, client, false)
	if err != nil || jws.verifyKeys(keys) || client.Settings.JWKSURI == "" {
		return err == nil && jws.verifyKeys(keys), err
	}
	if keys, err = e.clientKeys(ctx, client, true); err != nil {
		return false, err
	}
	return jws.verifyKeys(keys), nil
}

// clientKeys are the client's public keys.
func (e *Engine) clientKeys(ctx context.Context, client *Client, fresh bool) ([]PublicKey, error) {
	s := client.Settings
	data := []byte(s.JWKS)
	if s.JWKS == "" {
		if s.JWKSURI == "" {
			return nil, nil
		}
		if e.jwks == nil {
			return nil, Unavailable(errors.New("no JWKS fetcher: a jwks_uri cannot be read"))
		}
		var err error
		if data, err = e.jwks.Fetch(ctx, s.JWKSURI, fresh); err != nil {
			return nil, &Error{Kind: KindInvalidClient, Description: "the client's jwks_uri could not be read", Cause: err}
		}
	}
	keys, err := ParseJWKS(data)
	if err != nil {
		return nil, &Error{Kind: KindInvalidClient, Description: "the client's JWK Set is unusable", Cause: err}
	}
	return keys, nil
}

// useAssertion checks an assertion's time and audience claims and uses up
// its jti (single use: RFC 7523 §3 item 7), answering errors of kind. The
// jti is remembered for clientID under use ("client" authentication or
// "grant"), with the assertion's issuer, until the assertion expires.
func (e *Engine) useAssertion(ctx context.Context, p *Profile, kind Kind, clientID, use string, c *assertionClaims, auds []string) error {
	now := e.clock.Now()
	fail := func(r Reason, d string) error { return &Error{Kind: kind, Reason: r, Description: d} }
	switch {
	case c.Exp == nil:
		return fail(ReasonMissing, "the assertion has no exp")
	case !now.Before(c.Exp.Time):
		return fail(ReasonNone, "the assertion has expired")
	case c.Exp.Sub(now) > maxAssertionLife:
		return fail(ReasonMalformed, "the assertion expires too far in the future")
	case c.Nbf != nil && c.Nbf.After(now.Add(clockSkew)):
		return fail(ReasonMalformed, "the assertion is not valid yet")
	case c.Iat != nil && c.Iat.After(now.Add(clockSkew)):
		return fail(ReasonMalformed, "the assertion was issued in the future")
	case c.Jti == "":
		return fail(ReasonMissing, "the assertion has no jti")
	case !audienceMatches(c.Aud, auds):
		return fail(ReasonMalformed, "the assertion's aud does not name this server ("+strings.Join(auds, " or ")+")")
	}
	used := &Token{Digest: Digest("assertion\x00" + use + "\x00" + c.Iss + "\x00" + c.Jti), Kind: TokenAssertion,
		ClientID: clientID, Dialect: p.Dialect, IssuedAt: now, ExpiresAt: c.Exp.Time}
	err := e.store.InsertTokens(ctx, used)
	if errors.Is(err, ErrConflict) {
		return fail(ReasonReplay, "the assertion's jti was used before")
	}
	return storeErrorOrNil(err)
}

// audienceMatches reports whether one of aud is one of want (a trailing
// slash aside).
func audienceMatches(aud Audience, want []string) bool {
	for _, a := range aud {
		a = strings.TrimSuffix(a, "/")
		if slices.ContainsFunc(want, func(w string) bool { return strings.TrimSuffix(w, "/") == a }) {
			return true
		}
	}
	return false
}
