package core_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tokengate/tokengate/core"
)

// traced runs fn with a fresh trace in its context and returns the trace.
func traced(fn func(ctx context.Context)) core.Trace {
	var tr core.Trace
	fn(core.WithTrace(context.Background(), &tr))
	return tr
}

func TestTraceRecordsTheFamilyARequestTouched(t *testing.T) {
	f := newFixture(t)
	refresh := func(ctx context.Context, rt string) error {
		_, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
			ClientSecret: "s3cret", RefreshToken: rt})
		return err
	}
	var first *core.TokenResult
	issued := traced(func(ctx context.Context) {
		var err error
		first, err = f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret"})
		must(t, err)
	})
	tok, err := f.store.GetToken(context.Background(), core.TokenKey(first.AccessToken))
	must(t, err)
	if issued.FamilyID != tok.FamilyID || issued.ClientID != "app" || issued.Did != core.FamilyIssued ||
		!slices.Equal(issued.Kinds.List(), []core.TokenKind{core.TokenAccess, core.TokenRefresh}) {
		t.Fatalf("client_credentials traced %+v (kinds %v), want family %s issued with access and refresh", issued, issued.Kinds.List(), tok.FamilyID)
	}
	rotated := traced(func(ctx context.Context) { must(t, refresh(ctx, first.RefreshToken)) })
	if rotated.FamilyID != tok.FamilyID || !rotated.Did.Has(core.FamilyIssued|core.FamilyConsumed) || rotated.Did.Has(core.FamilyReuse) {
		t.Fatalf("a rotation traced %+v", rotated)
	}
	reused := traced(func(ctx context.Context) {
		wantKind(t, refresh(ctx, first.RefreshToken), core.KindInvalidGrant, core.ReasonRefreshReuse)
	})
	if reused.FamilyID != tok.FamilyID || reused.Did != core.FamilyRevoked|core.FamilyReuse || reused.Kinds != 0 {
		t.Fatalf("a reuse traced %+v", reused)
	}
	if failed := traced(func(ctx context.Context) { _ = refresh(ctx, "no such token") }); failed != (core.Trace{}) {
		t.Fatalf("a request that touched no family traced %+v", failed)
	}
	// Without a trace the engine records nothing and does not fail.
	f.cc(t, "app")
}

func TestRevocationsRecordTheirCause(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	get := func(token string) *core.Token {
		t.Helper()
		tok, err := f.store.GetToken(ctx, core.TokenKey(token))
		must(t, err)
		return tok
	}
	// Reuse: every live token of the family, naming the token that came back.
	first := f.cc(t, "app")
	second, err := f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
		ClientSecret: "s3cret", RefreshToken: first.RefreshToken})
	must(t, err)
	_, err = f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
		ClientSecret: "s3cret", RefreshToken: first.RefreshToken})
	wantKind(t, err, core.KindInvalidGrant, core.ReasonRefreshReuse)
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if d := get(tok).Details; d.RevokedReason != core.RevokeReuse || d.Replayed != core.TokenKey(first.RefreshToken) {
			t.Errorf("a token revoked by reuse detection has details %+v", d)
		}
	}
	if d := get(first.RefreshToken).Details; d.RevokedReason != "" {
		t.Errorf("the consumed token that came back was marked revoked: %+v", d)
	}
	// A client's revocation (RFC 7009), the admin's, a deleted client's.
	app, err := f.eng.GetClient(ctx, "app")
	must(t, err)
	byClient := f.cc(t, "app")
	must(t, f.eng.Revoke(ctx, f.p, app, byClient.RefreshToken))
	byAdmin := f.cc(t, "app")
	must(t, f.eng.RevokeTokenByValue(ctx, byAdmin.AccessToken))
	deleted := f.cc(t, "other")
	must(t, f.eng.DeleteClient(ctx, "other"))
	for _, c := range []struct {
		token string
		want  core.RevokeCause
	}{
		{byClient.AccessToken, core.RevokeRequested}, {byAdmin.AccessToken, core.RevokeAdmin},
		{deleted.AccessToken, core.RevokeClientDeleted}, {deleted.RefreshToken, core.RevokeClientDeleted},
	} {
		if d := get(c.token).Details; d.RevokedReason != c.want || d.Replayed != "" {
			t.Errorf("want cause %s, details %+v", c.want, d)
		}
	}
	// A second revocation keeps the first cause.
	must(t, f.eng.RevokeTokenByValue(ctx, byClient.AccessToken))
	if d := get(byClient.AccessToken).Details; d.RevokedReason != core.RevokeRequested {
		t.Errorf("revoking again changed the cause: %+v", d)
	}
}
