package core_test

import (
	"context"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// TestClientAltReading: a token request whose credentials authenticate only
// in their alternative reading (HTTP Basic sent raw, not form-decoded)
// succeeds and says so; a wrong secret in both readings is one failure for
// the limiter, not two.
func TestClientAltReading(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithSource(context.Background(), "203.0.113.9")
	hash, _ := core.HashSecret("a+b%41:c")
	must(t, f.store.PutClient(ctx, &core.Client{ID: "odd", SecretHash: hash, Grants: core.AllGrants}))

	// The form-decoded reading of "a+b%41:c" is "a bA:c"; the raw one is right.
	req := core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "odd", ClientSecret: "a bA:c",
		ClientAlt: &core.Credentials{ID: "odd", Secret: "a+b%41:c"}}
	res, err := f.eng.Token(ctx, f.p, req)
	must(t, err)
	if !res.ClientAlt {
		t.Fatal("the result does not say that the alternative reading authenticated")
	}
	// The preferred reading right: it wins.
	req.ClientSecret, req.ClientAlt = "a+b%41:c", &core.Credentials{ID: "odd", Secret: "something else"}
	if res, err := f.eng.Token(ctx, f.p, req); err != nil || res.ClientAlt {
		t.Fatalf("preferred reading: %+v %v", res, err)
	}

	lim := core.NewFailureLimiter(core.LimiterOptions{Burst: 2, PerMinute: 6}).WithClock(core.NewFakeClock(t0))
	eng := core.New(core.Options{Store: f.store, Clock: f.clock, FailureLimiter: lim})
	wrong := []core.Credentials{{ID: "odd", Secret: "x y"}, {ID: "odd", Secret: "x+y"}}
	_, _, err = eng.AuthenticateClientAny(ctx, f.p, wrong...)
	wantKind(t, err, core.KindInvalidClient, core.ReasonBadCredentials)
	_, _, err = eng.AuthenticateClientAny(ctx, f.p, wrong...)
	wantKind(t, err, core.KindInvalidClient, core.ReasonBadCredentials) // a burst of 2: two requests, not one
	_, _, err = eng.AuthenticateClientAny(ctx, f.p, wrong...)
	wantKind(t, err, core.KindRateLimited, "")
}

// TestFixedScopes: a profile with fixed scopes grants its default whatever
// the authorize or token request asks for (Hurdlr's constant "token").
func TestFixedScopes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := *f.p
	p.DefaultScopes, p.FixedScopes = []string{"token"}, true
	req := core.AuthorizeRequest{ClientID: "app", ResponseType: "code", Scopes: []string{"admin"}}
	client, err := f.eng.CheckAuthorizeClient(ctx, &p, &req)
	must(t, err)
	must(t, f.eng.CheckAuthorizeParams(client, req))
	u, err := f.eng.Login(ctx, "alice", "pw")
	must(t, err)
	code, err := f.eng.IssueCode(ctx, &p, client, u, req)
	must(t, err)
	res, err := f.eng.Token(ctx, &p, core.TokenRequest{GrantType: core.GrantAuthorizationCode, ClientID: "app",
		ClientSecret: "s3cret", Code: code})
	must(t, err)
	if len(res.Scopes) != 1 || res.Scopes[0] != "token" {
		t.Fatalf("code exchange granted %v", res.Scopes)
	}
	res, err = f.eng.Token(ctx, &p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app",
		ClientSecret: "s3cret", Scopes: []string{"admin"}})
	must(t, err)
	if len(res.Scopes) != 1 || res.Scopes[0] != "token" {
		t.Fatalf("client credentials granted %v", res.Scopes)
	}
}

// TestUnknownTokenWording: an unknown code reads "unknown authorization
// code", not "unknown code token".
func TestUnknownTokenWording(t *testing.T) {
	f := newFixture(t)
	_, err := f.eng.Token(context.Background(), f.p, core.TokenRequest{GrantType: core.GrantAuthorizationCode,
		ClientID: "app", ClientSecret: "s3cret", Code: "nope"})
	wantKind(t, err, core.KindInvalidGrant, "")
	if d := err.(*core.Error).Description; d != "unknown authorization code" {
		t.Fatalf("description %q", d)
	}
}
