package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// TestTokensAreScopedToTheirInstance: a token or code issued through one
// dialect instance is unknown through another, in every lookup; the
// control plane's view (a nil profile) sees it.
func TestTokensAreScopedToTheirInstance(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := *f.p
	a.Dialect, a.Type = "std-a", "oauth2"
	b := a
	b.Dialect = "std-b"
	cc := core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret"}
	res, err := f.eng.Token(ctx, &a, cc)
	must(t, err)

	if _, err := f.eng.Validate(ctx, &b, res.AccessToken); core.KindOf(err) != core.KindInvalidToken {
		t.Errorf("Validate through another instance: %v", err)
	}
	for _, tok := range []string{res.AccessToken, res.RefreshToken} {
		if it, active, err := f.eng.Introspect(ctx, &b, tok); it != nil || active || err != nil {
			t.Errorf("Introspect through another instance: %+v %v %v", it, active, err)
		}
	}
	refresh := core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app", ClientSecret: "s3cret", RefreshToken: res.RefreshToken}
	_, err = f.eng.Token(ctx, &b, refresh)
	wantKind(t, err, core.KindInvalidGrant, "")
	client, err := f.eng.Client(ctx, "app")
	must(t, err)
	must(t, f.eng.Revoke(ctx, &b, client, res.AccessToken)) // ignored: not this instance's token
	if _, err := f.eng.Validate(ctx, &a, res.AccessToken); err != nil {
		t.Fatalf("the issuing instance: %v", err)
	}
	if _, err := f.eng.Validate(ctx, nil, res.AccessToken); err != nil {
		t.Fatalf("the control plane's view: %v", err)
	}
	if _, err := f.eng.Token(ctx, &a, refresh); err != nil { // not consumed by the foreign attempt
		t.Fatalf("refresh through the issuing instance: %v", err)
	}

	req := core.AuthorizeRequest{ClientID: "app", RedirectURI: "https://app.example/cb", ResponseType: "code",
		CodeChallenge: s256(strings.Repeat("v", 50)), CodeChallengeMethod: "S256"}
	u, err := f.eng.Login(ctx, "alice", "pw")
	must(t, err)
	code, err := f.eng.IssueCode(ctx, &a, client, u, req)
	must(t, err)
	exchange := core.TokenRequest{GrantType: core.GrantAuthorizationCode, ClientID: "app", ClientSecret: "s3cret", Code: code,
		RedirectURI: req.RedirectURI, CodeVerifier: strings.Repeat("v", 50)}
	_, err = f.eng.Token(ctx, &b, exchange)
	wantKind(t, err, core.KindInvalidGrant, "")
	if _, err := f.eng.Token(ctx, &a, exchange); err != nil {
		t.Fatalf("code exchange through the issuing instance: %v", err)
	}
}

// TestClientDialectsNameInstancesOrTypes: a client limited to a type may
// use every instance of it; one limited to an instance only that one.
func TestClientDialectsNameInstancesOrTypes(t *testing.T) {
	a := &core.Profile{Dialect: "std-a", Type: "oauth2"}
	b := &core.Profile{Dialect: "std-b", Type: "oauth2"}
	h := &core.Profile{Dialect: "hurdlr", Type: "hurdlr"}
	for _, tc := range []struct {
		dialects []string
		want     [3]bool
	}{
		{nil, [3]bool{true, true, true}},
		{[]string{"oauth2"}, [3]bool{true, true, false}},
		{[]string{"std-a"}, [3]bool{true, false, false}},
		{[]string{"std-b", "hurdlr"}, [3]bool{false, true, true}},
	} {
		c := &core.Client{Dialects: tc.dialects}
		for i, p := range []*core.Profile{a, b, h} {
			if got := c.AllowsDialect(p.Dialect, p.Type); got != tc.want[i] {
				t.Errorf("client %v through %s (%s): %v", tc.dialects, p.Dialect, p.Type, got)
			}
		}
	}
}
