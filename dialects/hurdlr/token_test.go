package hurdlr_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// seedCreatedAt is the created_at of the vendor's example response.
var seedCreatedAt = time.Unix(1599065168, 0)

// TestVendorCurlRequests sends the vendor's curl for each grant, verbatim with its
// values filled, and compares the exact response body. The clock is set to
// the vendor example's created_at and frozen, so the body is fully determined by the
// two tokens.
func TestVendorCurlRequests(t *testing.T) {
	for _, opts := range []string{"{}", "{require_bearer: true}"} {
		t.Run(opts, func(t *testing.T) {
			g := start(t, opts)
			g.Clock().Freeze(true)
			g.Clock().Set(seedCreatedAt)
			exact := func(t *testing.T, s seed) (string, string) {
				t.Helper()
				r := do(t, nil, seedRequest(t, g, s))
				if r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", s.GrantType, r.status, r.raw)
				}
				checkTokenBody(t, r)
				at, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
				want := fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"expires_in":7776000,"created_at":%d,"scope":"token"}`,
					at, rt, g.Clock().Now().Unix())
				if strings.TrimSpace(r.raw) != want {
					t.Fatalf("body\n got %s\nwant %s", r.raw, want)
				}
				if at == rt {
					t.Fatal("access and refresh token are equal")
				}
				return at, rt
			}

			at, rt := exact(t, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
			tok, err := g.App.Engine.Validate(context.Background(), nil, at)
			if err != nil || tok.UserID != "demo-user" || tok.ClientID != "demo-client" || tok.Dialect != "hurdlr" {
				t.Fatalf("client_credentials token: %+v %v", tok, err)
			}
			if got := tok.ExpiresAt.Sub(seedCreatedAt); got != 7776000*time.Second {
				t.Fatalf("access token lives %v", got)
			}

			g.Clock().Advance(time.Hour)
			at2, _ := exact(t, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
			if tok, err := g.App.Engine.Validate(context.Background(), nil, at2); err != nil || tok.UserID != "demo-user" {
				t.Fatalf("refreshed token: %+v %v", tok, err)
			}

			c := code(t, g, authorizeQuery(callback, "s1"))
			at3, _ := exact(t, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: callback})
			if tok, err := g.App.Engine.Validate(context.Background(), nil, at3); err != nil || tok.UserID != "demo-user" {
				t.Fatalf("code token: %+v %v", tok, err)
			}
		})
	}
}

// TestCreatedAtFollowsEngineClock: created_at is the engine clock's unix
// time of issue, wherever the clock has been moved.
func TestCreatedAtFollowsEngineClock(t *testing.T) {
	g := start(t, "{}")
	g.Clock().Freeze(true)
	for _, at := range []time.Time{time.Unix(1599065168, 0), time.Unix(2000000000, 0), time.Unix(1234567890, 0)} {
		g.Clock().Set(at)
		r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret",
			GrantType: "client_credentials", UserID: "demo-user"}))
		checkTokenBody(t, r)
		if r.body["created_at"] != float64(at.Unix()) {
			t.Fatalf("created_at = %v, want %d", r.body["created_at"], at.Unix())
		}
	}
}

// TestTokensAreDistinctAndWellFormed mints a few pairs and checks their
// format and that no token repeats.
func TestTokensAreDistinctAndWellFormed(t *testing.T) {
	g := start(t, "{}")
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		at, rt := tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
		for _, s := range []string{at, rt} {
			if seen[s] {
				t.Fatalf("token %s issued twice", s)
			}
			seen[s] = true
		}
	}
}

// TestRefreshRotationAndReuse: a refresh rotates both tokens; presenting the
// rotated-out refresh token again fails and revokes the whole family, so the
// new refresh and access tokens are dead too.
func TestRefreshRotationAndReuse(t *testing.T) {
	g := start(t, "{}")
	ctx := context.Background()
	cc := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	refresh := func(rt string) seed {
		return seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt}
	}
	at1, rt1 := tokens(t, g, cc)
	at2, rt2 := tokens(t, g, refresh(rt1))
	if at2 == at1 || rt2 == rt1 {
		t.Fatal("refresh did not rotate both tokens")
	}
	if _, active, _ := g.App.Engine.Introspect(ctx, nil, rt1); active {
		t.Fatal("rotated-out refresh token still active")
	}
	if _, err := g.App.Engine.Validate(ctx, nil, at1); err != nil {
		t.Fatalf("the access token issued before the refresh died: %v", err)
	}
	at3, rt3 := tokens(t, g, refresh(rt2)) // a chain of rotations works

	r := do(t, nil, seedRequest(t, g, refresh(rt1)))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
	for _, tok := range []string{rt3, at3, at2, at1} {
		if _, active, err := g.App.Engine.Introspect(ctx, nil, tok); active || err != nil {
			t.Fatalf("token of the reused family still active (err %v)", err)
		}
	}
	if _, err := g.App.Engine.Validate(ctx, nil, at3); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("Validate(newest access token) = %v, want invalid_token", err)
	}
	r = do(t, nil, seedRequest(t, g, refresh(rt3)))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")

	// Another family of the same user is untouched.
	at4, _ := tokens(t, g, cc)
	if _, err := g.App.Engine.Validate(ctx, nil, at4); err != nil {
		t.Fatalf("unrelated family affected: %v", err)
	}
}

// TestLifetimes: the access token lives 7776000 s; the refresh token (180
// days by default) still refreshes after the access token expired, and not
// after its own lifetime.
func TestLifetimes(t *testing.T) {
	g := start(t, "{}")
	ctx := context.Background()
	cc := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	at, rt := tokens(t, g, cc)
	g.Clock().Advance(7776000*time.Second - time.Second)
	if _, err := g.App.Engine.Validate(ctx, nil, at); err != nil {
		t.Fatalf("access token dead before expires_in: %v", err)
	}
	g.Clock().Advance(2 * time.Second)
	if _, err := g.App.Engine.Validate(ctx, nil, at); core.KindOf(err) != core.KindExpiredToken {
		t.Fatalf("access token after expires_in: %v", err)
	}
	_, rt2 := tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
	g.Clock().Advance(180*24*time.Hour + time.Second)
	r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt2}))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
}

// TestConfiguredLifetimes: access_token_ttl and refresh_token_ttl override
// the defaults, and expires_in follows.
func TestConfiguredLifetimes(t *testing.T) {
	g := start(t, "{access_token_ttl: 1h, refresh_token_ttl: 2h}")
	r := do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}))
	if r.status != http.StatusOK || r.body["expires_in"] != float64(3600) {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	g.Clock().Advance(2*time.Hour + time.Second)
	r = do(t, nil, seedRequest(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token",
		RefreshToken: r.body["refresh_token"].(string)}))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
}

// TestTokenErrors covers bad input on the token endpoint; every answer is
// in Hurdlr's error style and names no secret.
func TestTokenErrors(t *testing.T) {
	g := start(t, "{}")
	_, liveRefresh := tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
	ok := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	with := func(f func(*seed)) string { s := ok; f(&s); return s.body() }
	const form = "application/x-www-form-urlencoded"
	cases := []struct {
		name, body, ctype string
		status            int
		code, mention     string // mention: a word the description must contain
	}{
		{"missing grant_type", with(func(s *seed) { s.GrantType = "" }), form, 400, "invalid_request", "grant_type"},
		{"unsupported grant_type", with(func(s *seed) { s.GrantType = "password" }), form, 400, "unsupported_grant_type", ""},
		{"missing userId", with(func(s *seed) { s.UserID = "" }), form, 400, "invalid_request", "userId"},
		{"unknown userId", with(func(s *seed) { s.UserID = "nobody" }), form, 400, "invalid_grant", "userId"},
		{"missing client_id", with(func(s *seed) { s.ClientID = "" }), form, 400, "invalid_request", "client_id"},
		{"missing client_secret", with(func(s *seed) { s.ClientSecret = "" }), form, 400, "invalid_request", "client_secret"},
		{"wrong client_secret", with(func(s *seed) { s.ClientSecret = "wrong-secret" }), form, 401, "invalid_client", ""},
		{"unknown client", with(func(s *seed) { s.ClientID = "ghost" }), form, 401, "invalid_client", ""},
		{"grant not allowed", "client_id=cc-only&client_secret=cc-secret&grant_type=refresh_token&refresh_token=x&code=&userId=", form, 400, "unauthorized_client", ""},
		{"missing code", with(func(s *seed) { s.GrantType = "authorization_code"; s.UserID = "" }), form, 400, "invalid_request", "code"},
		{"unknown code", with(func(s *seed) { s.GrantType = "authorization_code"; s.Code = "nope" }), form, 400, "invalid_grant", ""},
		{"missing refresh_token", with(func(s *seed) { s.GrantType = "refresh_token" }), form, 400, "invalid_request", "refresh_token"},
		{"unknown refresh_token", with(func(s *seed) {
			s.GrantType = "refresh_token"
			s.RefreshToken = strings.Repeat("a", 64) + "." + strings.Repeat("b", 32)
		}), form, 400, "invalid_grant", ""},
		{"refresh_token of another client", "client_id=second-client&client_secret=second-secret&grant_type=refresh_token&refresh_token=" + liveRefresh + "&code=&userId=", form, 400, "invalid_grant", ""},
		{"duplicate grant_type", ok.body() + "&grant_type=client_credentials", form, 400, "invalid_request", "grant_type"},
		{"duplicate empty field", ok.body() + "&refresh_token=", form, 400, "invalid_request", "refresh_token"},
		{"duplicate client_secret", ok.body() + "&client_secret=demo-secret", form, 400, "invalid_request", "client_secret"},
		{"JSON body", `{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"client_credentials","userId":"demo-user"}`, "application/json", 400, "invalid_request", "Content-Type"},
		{"form without content type", ok.body(), "", 400, "invalid_request", "Content-Type"},
		{"text/plain", ok.body(), "text/plain", 400, "invalid_request", "Content-Type"},
		{"malformed form", "grant_type=%zz&" + ok.body(), form, 400, "invalid_request", ""},
		{"empty body", "", form, 400, "invalid_request", "grant_type"},
		{"too many parameters", ok.body() + strings.Repeat("&x=1", 200), form, 400, "invalid_request", ""},
		{"oversized body", ok.body() + "&pad=" + strings.Repeat("a", 1<<20+10), form, 413, "invalid_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := seedRequest(t, g, ok)
			req, _ = http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer <token>")
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			r := do(t, nil, req)
			checkError(t, r, tc.status, tc.code)
			if !strings.Contains(r.body["error_description"].(string), tc.mention) {
				t.Fatalf("description %q does not mention %q", r.body["error_description"], tc.mention)
			}
			for _, secret := range []string{"demo-secret", "wrong-secret", "second-secret", liveRefresh} {
				if strings.Contains(r.raw, secret) {
					t.Fatalf("error body echoes a secret: %s", r.raw)
				}
			}
		})
	}
}

// TestUnroutedPathsInHurdlrStyle: 404 and 405 below /rest/v5/accountant come
// in Hurdlr's error style, never echo's default body.
func TestUnroutedPathsInHurdlrStyle(t *testing.T) {
	g := start(t, "{}")
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, tokenPath, 405, "method_not_allowed"},
		{http.MethodPut, tokenPath, 405, "method_not_allowed"},
		{http.MethodDelete, authorizePath, 405, "method_not_allowed"},
		{http.MethodGet, "/rest/v5/accountant", 404, "not_found"},
		{http.MethodPost, "/rest/v5/accountant/", 404, "not_found"},
		{http.MethodGet, "/rest/v5/accountant/nope", 404, "not_found"},
		{http.MethodPost, tokenPath + "/extra", 404, "not_found"},
		{http.MethodPost, "/rest/v5/accountant/tokens", 404, "not_found"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, g.URL+tc.path, nil)
			r := do(t, nil, req)
			checkError(t, r, tc.status, tc.code)
			if _, ok := r.body["message"]; ok {
				t.Fatalf("echo default body leaked: %s", r.raw)
			}
			if allow := r.header.Get("Allow"); tc.status == 405 && !strings.Contains(allow, "POST") {
				t.Fatalf("405 with Allow %q", allow)
			}
		})
	}
}

// TestRequireBearer: by default the Authorization header is optional and
// ignored; with require_bearer: true a non-empty Bearer value is required
// but not checked.
func TestRequireBearer(t *testing.T) {
	ok := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	cases := []struct {
		name   string
		auth   []string
		strict int // status with require_bearer: true
		code   string
	}{
		{"vendor placeholder", []string{"Bearer <token>"}, 200, ""},
		{"hurdlr-shaped token", []string{"Bearer " + strings.Repeat("0", 64) + "." + strings.Repeat("1", 32)}, 200, ""},
		{"lower-case scheme", []string{"bearer anything"}, 200, ""},
		{"no header", nil, 401, "invalid_token"},
		{"empty bearer", []string{"Bearer "}, 401, "invalid_token"},
		{"scheme only", []string{"Bearer"}, 401, "invalid_token"},
		{"basic", []string{"Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="}, 401, "invalid_token"},
		{"two headers", []string{"Bearer a", "Bearer b"}, 400, "invalid_request"},
	}
	for _, opts := range []string{"{}", "{require_bearer: false}", "{require_bearer: true}"} {
		strict := opts == "{require_bearer: true}"
		g := start(t, opts)
		for _, tc := range cases {
			t.Run(opts+"/"+tc.name, func(t *testing.T) {
				req := seedRequest(t, g, ok)
				req.Header.Del("Authorization")
				for _, v := range tc.auth {
					req.Header.Add("Authorization", v)
				}
				r := do(t, nil, req)
				if !strict || tc.strict == 200 {
					if r.status != http.StatusOK {
						t.Fatalf("status %d: %s", r.status, r.raw)
					}
					checkTokenBody(t, r)
					return
				}
				checkError(t, r, tc.strict, tc.code)
			})
		}
	}
}

// TestTokenEndpointIgnoresQuery: parameters are read from the form body
// only; the query string does not supply or override them.
func TestTokenEndpointIgnoresQuery(t *testing.T) {
	g := start(t, "{}")
	req, _ := http.NewRequest(http.MethodPost, g.URL+tokenPath+"?grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&userId=demo-user", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	checkError(t, do(t, nil, req), 400, "invalid_request")

	s := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	req = seedRequest(t, g, s)
	req.URL.RawQuery = "userId=nobody&grant_type=password"
	r := do(t, nil, req)
	checkTokenBody(t, r)
}

// TestUnknownFieldsIgnored: fields the endpoint does not read (scope, an
// unrelated one) are ignored; fields of other grants (userId on a refresh)
// too.
func TestUnknownFieldsIgnored(t *testing.T) {
	g := start(t, "{}")
	s := seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	req := seedRequest(t, g, s)
	req, _ = http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(s.body()+"&scope=admin&foo=bar"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := do(t, nil, req)
	checkTokenBody(t, r)

	rt := r.body["refresh_token"].(string)
	at2, _ := tokens(t, g, seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt, UserID: "other-user", Code: "ignored"})
	tok, err := g.App.Engine.Validate(context.Background(), nil, at2)
	if err != nil || tok.UserID != "demo-user" {
		t.Fatalf("refresh with a stray userId changed the user: %+v %v", tok, err)
	}
}
