package core_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/core"
)

func TestMain(m *testing.M) {
	core.SetKDFCost(bcrypt.MinCost) // the fixtures hash secrets
	m.Run()
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fixture struct {
	eng   *core.Engine
	clock *core.FakeClock
	store *memStore
	p     *core.Profile
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	store := newMemStore()
	hash, _ := core.HashSecret("s3cret")
	pw, _ := core.HashSecret("pw")
	must(t, store.PutClient(ctx, &core.Client{ID: "app", SecretHash: hash, Grants: core.AllGrants,
		RedirectURIs: []string{"https://app.example/cb"}}))
	must(t, store.PutClient(ctx, &core.Client{ID: "other", SecretHash: hash, Grants: core.AllGrants,
		RedirectURIs: []string{"https://other.example/cb"}}))
	must(t, store.PutClient(ctx, &core.Client{ID: "ccOnly", SecretHash: hash, Grants: []core.GrantType{core.GrantClientCredentials}}))
	must(t, store.PutClient(ctx, &core.Client{ID: "off", SecretHash: hash, Grants: core.AllGrants, Disabled: true}))
	must(t, store.PutClient(ctx, &core.Client{ID: "old", SecretHash: hash, Grants: core.AllGrants, ExpiresAt: t0.Add(time.Hour)}))
	must(t, store.PutClient(ctx, &core.Client{ID: "plain", SecretHash: hash, Grants: core.AllGrants, AllowPlainPKCE: true,
		RedirectURIs: []string{"https://plain.example/cb"}}))
	must(t, store.PutUser(ctx, &core.User{ID: "u1", Username: "alice", PasswordHash: pw}))
	clock := core.NewFakeClock(t0)
	return &fixture{eng: core.New(core.Options{Store: store, Clock: clock}), clock: clock, store: store,
		p: &core.Profile{Dialect: "test", AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour,
			RefreshGrants: []core.GrantType{core.GrantAuthorizationCode, core.GrantRefreshToken, core.GrantClientCredentials}}}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, kind core.Kind, reason core.Reason) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *core.Error of kind %s", err, kind)
	}
	if ce.Kind != kind || (reason != "" && ce.Reason != reason) {
		t.Fatalf("got %s/%s, want %s/%s", ce.Kind, ce.Reason, kind, reason)
	}
}

func (f *fixture) cc(t *testing.T, client string) *core.TokenResult {
	t.Helper()
	res, err := f.eng.Token(context.Background(), f.p, core.TokenRequest{GrantType: core.GrantClientCredentials,
		ClientID: client, ClientSecret: "s3cret"})
	must(t, err)
	return res
}

func TestClientCredentialsErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		req    core.TokenRequest
		kind   core.Kind
		reason core.Reason
	}{
		{"missing grant", core.TokenRequest{ClientID: "app", ClientSecret: "s3cret"}, core.KindInvalidRequest, core.ReasonMissing},
		{"unsupported grant", core.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: "s3cret"}, core.KindUnsupportedGrantType, ""},
		{"missing client", core.TokenRequest{GrantType: core.GrantClientCredentials}, core.KindInvalidRequest, core.ReasonMissing},
		{"missing secret", core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app"}, core.KindInvalidRequest, core.ReasonMissing},
		{"wrong secret", core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "x"}, core.KindInvalidClient, core.ReasonBadCredentials},
		{"unknown client", core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "ghost", ClientSecret: "s3cret"}, core.KindInvalidClient, core.ReasonBadCredentials},
		{"disabled client", core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "off", ClientSecret: "s3cret"}, core.KindInvalidClient, core.ReasonClientDisabled},
		{"grant not allowed", core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "ccOnly", ClientSecret: "s3cret", RefreshToken: "x"}, core.KindUnauthorizedClient, ""},
		{"unknown user", core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "app", ClientSecret: "s3cret", UserID: "nobody"}, core.KindInvalidGrant, core.ReasonUnknownUser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.eng.Token(ctx, f.p, tc.req)
			wantKind(t, err, tc.kind, tc.reason)
		})
	}
}

func TestExpiredClientAndTokenExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.cc(t, "old") // valid for one more hour
	if res.ExpiresIn != 3600 || !res.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lifetime: %d %v", res.ExpiresIn, res.ExpiresAt)
	}
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	_, err := f.eng.Validate(ctx, f.p, res.AccessToken)
	wantKind(t, err, core.KindExpiredToken, "")
	_, err = f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantClientCredentials, ClientID: "old", ClientSecret: "s3cret"})
	wantKind(t, err, core.KindInvalidClient, core.ReasonClientExpired)
	_, err = f.eng.Validate(ctx, f.p, "no-such-token")
	wantKind(t, err, core.KindInvalidToken, "")
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.cc(t, "app")
	refresh := func(client, token string) (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: client,
			ClientSecret: "s3cret", RefreshToken: token})
	}
	_, err := refresh("other", first.RefreshToken)
	wantKind(t, err, core.KindInvalidGrant, core.ReasonWrongClient)
	second, err := refresh("app", first.RefreshToken)
	must(t, err)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("no rotation")
	}
	_, err = refresh("app", first.RefreshToken) // reuse
	wantKind(t, err, core.KindInvalidGrant, core.ReasonRefreshReuse)
	for _, tok := range []string{second.AccessToken, first.AccessToken} {
		if _, err := f.eng.Validate(ctx, f.p, tok); core.KindOf(err) != core.KindInvalidToken {
			t.Fatalf("family token still valid after reuse: %v", err)
		}
	}
	_, err = refresh("app", second.RefreshToken)
	wantKind(t, err, core.KindInvalidGrant, "")

	third := f.cc(t, "app")
	f.clock.Advance(25 * time.Hour)
	_, err = refresh("app", third.RefreshToken)
	wantKind(t, err, core.KindInvalidGrant, "")
}

func TestConcurrentRefreshSucceedsOnce(t *testing.T) {
	f := newFixture(t)
	res := f.cc(t, "app")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, reuse := 0, 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.eng.Token(context.Background(), f.p, core.TokenRequest{GrantType: core.GrantRefreshToken,
				ClientID: "app", ClientSecret: "s3cret", RefreshToken: res.RefreshToken})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if core.KindOf(err) == core.KindInvalidGrant {
				reuse++
			}
		}()
	}
	wg.Wait()
	if wins != 1 || reuse != 19 {
		t.Fatalf("wins=%d invalid_grant=%d, want 1 and 19", wins, reuse)
	}
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorizationCode(t *testing.T) {
	verifier := strings.Repeat("v", 50)
	ctx := context.Background()
	issue := func(t *testing.T, f *fixture, client string, req core.AuthorizeRequest) string {
		t.Helper()
		req.ClientID, req.ResponseType = client, "code"
		c, err := f.eng.CheckAuthorizeClient(ctx, f.p, &req)
		must(t, err)
		must(t, f.eng.CheckAuthorizeParams(c, req))
		u, err := f.eng.Login(ctx, "alice", "pw")
		must(t, err)
		code, err := f.eng.IssueCode(ctx, f.p, c, u, req)
		must(t, err)
		return code
	}
	exchange := func(f *fixture, client, code, redirect, verifier string) (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantAuthorizationCode, ClientID: client,
			ClientSecret: "s3cret", Code: code, RedirectURI: redirect, CodeVerifier: verifier})
	}
	cases := []struct {
		name     string
		client   string
		req      core.AuthorizeRequest
		exClient string
		redirect string
		verifier string
		advance  time.Duration
		kind     core.Kind
		reason   core.Reason
	}{
		{"ok S256", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb", CodeChallenge: s256(verifier), CodeChallengeMethod: "S256"}, "app", "https://app.example/cb", verifier, 0, "", ""},
		{"ok plain where allowed", "plain", core.AuthorizeRequest{RedirectURI: "https://plain.example/cb", CodeChallenge: verifier, CodeChallengeMethod: "plain"}, "plain", "https://plain.example/cb", verifier, 0, "", ""},
		{"PKCE mismatch", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb", CodeChallenge: s256(verifier), CodeChallengeMethod: "S256"}, "app", "https://app.example/cb", strings.Repeat("w", 50), 0, core.KindInvalidGrant, core.ReasonPKCE},
		{"PKCE downgrade", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb", CodeChallenge: s256(verifier), CodeChallengeMethod: "S256"}, "app", "https://app.example/cb", "", 0, core.KindInvalidRequest, core.ReasonMissing},
		{"verifier without challenge", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb"}, "app", "https://app.example/cb", verifier, 0, core.KindInvalidGrant, core.ReasonPKCE},
		{"wrong client", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb"}, "other", "https://app.example/cb", "", 0, core.KindInvalidGrant, core.ReasonWrongClient},
		{"redirect mismatch", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb"}, "app", "https://app.example/other", "", 0, core.KindInvalidGrant, core.ReasonRedirectURI},
		{"expired code", "app", core.AuthorizeRequest{RedirectURI: "https://app.example/cb"}, "app", "https://app.example/cb", "", 10 * time.Minute, core.KindInvalidGrant, ""},
		// RFC 6749 §3.1.2.3, §4.1.3: left out at authorize with one registered URI, not required at the exchange.
		{"redirect omitted", "app", core.AuthorizeRequest{}, "app", "", "", 0, "", ""},
		{"redirect omitted, registered one sent", "app", core.AuthorizeRequest{}, "app", "https://app.example/cb", "", 0, "", ""},
		{"redirect omitted, another sent", "app", core.AuthorizeRequest{}, "app", "https://app.example/other", "", 0, core.KindInvalidGrant, core.ReasonRedirectURI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			code := issue(t, f, tc.client, tc.req)
			f.clock.Advance(tc.advance)
			res, err := exchange(f, tc.exClient, code, tc.redirect, tc.verifier)
			if tc.kind != "" {
				wantKind(t, err, tc.kind, tc.reason)
				return
			}
			must(t, err)
			if res.UserID != "u1" || res.RefreshToken == "" {
				t.Fatalf("result %+v", res)
			}
			// Replay: fails and revokes what the first redemption issued.
			_, err = exchange(f, tc.exClient, code, tc.redirect, tc.verifier)
			wantKind(t, err, core.KindInvalidGrant, core.ReasonCodeReplay)
			if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); core.KindOf(err) != core.KindInvalidToken {
				t.Fatalf("access token survived a code replay: %v", err)
			}
		})
	}
}

func TestAuthorizeChecks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: "app", RedirectURI: "https://app.example/cb/x"})
	wantKind(t, err, core.KindInvalidRequest, core.ReasonRedirectURI)
	// redirect_uri may be left out only by a client with exactly one registered.
	_, err = f.eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: "ccOnly"})
	wantKind(t, err, core.KindInvalidRequest, core.ReasonMissing)
	omitted := core.AuthorizeRequest{ClientID: "app"}
	_, err = f.eng.CheckAuthorizeClient(ctx, f.p, &omitted)
	must(t, err)
	if omitted.RedirectURI != "https://app.example/cb" || !omitted.RedirectURIOmitted {
		t.Fatalf("omitted redirect_uri completed as %+v", omitted)
	}
	c, err := f.eng.CheckAuthorizeClient(ctx, f.p, &core.AuthorizeRequest{ClientID: "app", RedirectURI: "https://app.example/cb"})
	must(t, err)
	err = f.eng.CheckAuthorizeParams(c, core.AuthorizeRequest{ResponseType: "code", CodeChallenge: strings.Repeat("a", 43), CodeChallengeMethod: "plain"})
	wantKind(t, err, core.KindInvalidRequest, "")
	_, err = f.eng.Login(ctx, "alice", "wrong")
	wantKind(t, err, core.KindAccessDenied, core.ReasonBadCredentials)
	_, err = f.eng.Login(ctx, "nobody", "pw")
	wantKind(t, err, core.KindAccessDenied, core.ReasonBadCredentials)
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.cc(t, "app")
	other, _ := f.store.GetClient(ctx, "other")
	app, _ := f.store.GetClient(ctx, "app")
	must(t, f.eng.Revoke(ctx, f.p, other, res.AccessToken)) // ignored: not its token
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); err != nil {
		t.Fatal("another client revoked the token")
	}
	must(t, f.eng.Revoke(ctx, f.p, app, res.RefreshToken)) // takes the family
	if _, err := f.eng.Validate(ctx, f.p, res.AccessToken); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("access token survived revoking its refresh token: %v", err)
	}
}

func TestAdjustableClock(t *testing.T) {
	base := core.NewFakeClock(t0)
	c := core.NewAdjustableClock(base)
	c.Advance(time.Hour)
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatal("advance")
	}
	c.Freeze(true)
	base.Advance(time.Minute)
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatal("frozen clock moved")
	}
	c.Set(t0.Add(-time.Hour))
	c.Freeze(false)
	base.Advance(time.Minute)
	if !c.Now().Equal(t0.Add(-time.Hour + time.Minute)) {
		t.Fatalf("unfrozen clock reads %v", c.Now())
	}
	c.Reset()
	if !c.Now().Equal(base.Now()) {
		t.Fatal("reset")
	}
}

func TestCredentialCacheFollowsSecretChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.cc(t, "app") // warms the cache
	hash, _ := core.HashSecret("rotated")
	c, _ := f.store.GetClient(ctx, "app")
	c.SecretHash = hash
	must(t, f.store.PutClient(ctx, c))
	f.eng.InvalidateClient("app") // as the admin API does after a change
	_, err := f.eng.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindInvalidClient, "")
	if _, err := f.eng.AuthenticateClient(ctx, f.p, "app", "rotated"); err != nil {
		t.Fatal(err)
	}
}

// A second engine on the same store (another replica) sees a client change
// once its cached copy is older than the TTL.
func TestClientCacheTTLAcrossEngines(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	wall := core.NewFakeClock(t0)
	replica := core.New(core.Options{Store: f.store, Clock: f.clock, ClientCacheTTL: time.Second, CacheClock: wall})
	if _, err := replica.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.GetClient(ctx, "app")
	c.Disabled = true
	must(t, f.store.PutClient(ctx, c))
	f.eng.InvalidateClient("app")
	_, err := f.eng.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindInvalidClient, core.ReasonClientDisabled)
	wall.Advance(999 * time.Millisecond)
	if _, err := replica.AuthenticateClient(ctx, f.p, "app", "s3cret"); err != nil {
		t.Fatalf("within the TTL the cached copy serves: %v", err)
	}
	wall.Advance(2 * time.Millisecond)
	_, err = replica.AuthenticateClient(ctx, f.p, "app", "s3cret")
	wantKind(t, err, core.KindInvalidClient, core.ReasonClientDisabled)
}

// TestRefreshWithoutRotation: with KeepRefreshToken a refresh issues a new
// access token and keeps the refresh token usable, in the same family,
// until it expires or is revoked.
func TestRefreshWithoutRotation(t *testing.T) {
	f := newFixture(t)
	f.p.KeepRefreshToken = true
	ctx := context.Background()
	first := f.cc(t, "app")
	refresh := func() (*core.TokenResult, error) {
		return f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
			ClientSecret: "s3cret", RefreshToken: first.RefreshToken})
	}
	var last *core.TokenResult
	for range 3 {
		res, err := refresh()
		must(t, err)
		if res.RefreshToken != first.RefreshToken || res.AccessToken == first.AccessToken {
			t.Fatalf("refresh rotated or reissued: %+v", res)
		}
		last = res
	}
	for _, tok := range []string{first.AccessToken, last.AccessToken, first.RefreshToken} {
		if _, active, err := f.eng.Introspect(ctx, f.p, tok); err != nil || !active {
			t.Fatalf("token inactive after refreshes without rotation: %v", err)
		}
	}
	first1, _ := f.store.GetToken(ctx, core.TokenKey(first.AccessToken))
	next, _ := f.store.GetToken(ctx, core.TokenKey(last.AccessToken))
	if first1.FamilyID != next.FamilyID {
		t.Fatal("the refreshed access token left the family")
	}
	must(t, f.eng.RevokeTokenByValue(ctx, first.RefreshToken))
	_, err := refresh()
	wantKind(t, err, core.KindInvalidGrant, "")
	second := f.cc(t, "app") // expires with its lifetime, as a rotating one does
	f.clock.Advance(25 * time.Hour)
	_, err = f.eng.Token(ctx, f.p, core.TokenRequest{GrantType: core.GrantRefreshToken, ClientID: "app",
		ClientSecret: "s3cret", RefreshToken: second.RefreshToken})
	wantKind(t, err, core.KindInvalidGrant, "")
}
