// Package hurdlrsuite is Hurdlr's wire tests (the accountant token
// endpoint with its three grants, the login page, the <64 hex>.<32 hex>
// tokens, the error style), run against the built-in hurdlr dialect and
// the same API declared in a spec (see package paritytest).
package hurdlrsuite

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/internal/paritytest"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Run runs every test of the suite against tg, one subtest each. The
// instance is named hurdlr; tg.Instance knows the variants
// "require_bearer" (the token endpoint refuses requests without a
// non-empty Bearer header) and "require_bearer_off" (that option set to
// false: the default behaviour), or skips the test saying why not.
func Run(t *testing.T, tg paritytest.Target) {
	tg.Run(t, []paritytest.Test{
		{Name: "VendorCurlRequests", Run: testVendorCurlRequests},
		{Name: "CreatedAtFollowsEngineClock", Run: testCreatedAtFollowsEngineClock},
		{Name: "TokensAreDistinctAndWellFormed", Run: testTokensAreDistinctAndWellFormed},
		{Name: "RefreshRotationAndReuse", Run: testRefreshRotationAndReuse},
		{Name: "Lifetimes", Run: testLifetimes},
		{Name: "ConfiguredLifetimes", Run: testConfiguredLifetimes},
		{Name: "TokenErrors", Run: testTokenErrors},
		{Name: "UnroutedPathsInHurdlrStyle", Run: testUnroutedPathsInHurdlrStyle},
		{Name: "RequireBearer", Run: testRequireBearer},
		{Name: "TokenEndpointIgnoresQuery", Run: testTokenEndpointIgnoresQuery},
		{Name: "UnknownFieldsIgnored", Run: testUnknownFieldsIgnored},
		{Name: "AuthorizationCodeFlow", Run: testAuthorizationCodeFlow},
		{Name: "CodeReplay", Run: testCodeReplay},
		{Name: "RedirectURITampering", Run: testRedirectURITampering},
		{Name: "CSRF", Run: testCSRF},
		{Name: "WrongPassword", Run: testWrongPassword},
		{Name: "AuthorizeMethodNotAllowed", Run: testAuthorizeMethodNotAllowed},
		{Name: "RenderErrorTable", Run: testRenderErrorTable},
		{Name: "InjectedFaults", Run: testInjectedFaults},
		{Name: "DocumentAuthorizationCodeExchange", Run: testDocumentAuthorizationCodeExchange},
		{Name: "UnknownCodeWording", Run: testUnknownCodeWording},
		{Name: "ErrorTextUnescaped", Run: testErrorTextUnescaped},
	})
}

// Callback is demo-client's first registered redirect URI.
const Callback = "http://localhost:8081/callback"

const (
	otherCallback = "http://localhost:8081/other"
	tokenPath     = "/rest/v5/accountant/token"
	authorizePath = "/rest/v5/accountant/authorize"
)

// Rest is the config besides the dialect: the clients and users every test
// of the suite has.
const Rest = `
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["` + Callback + `", "` + otherCallback + `"]
  - client_id: second-client
    client_secret: second-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:9090/cb"]
  - client_id: cc-only
    client_secret: cc-secret
    grants: [client_credentials]
users:
  - {user_id: demo-user, username: johndoe, first_name: John, last_name: Doe, email: john.doe@example.com, password: demo-password}
  - {user_id: other-user, username: janedoe, password: other-password}
`

// start starts a gateway serving the dialect under test as instance
// hurdlr, in variant ("" or "require_bearer"), with extra instance keys.
func start(t testing.TB, tg paritytest.Target, variant, keys string) *paritytest.Gateway {
	t.Helper()
	return tg.Gateway(t, "hurdlr", variant, keys, Rest, false)
}

// TokenPattern is Hurdlr's documented token shape.
var TokenPattern = regexp.MustCompile(`^[0-9a-f]{64}\.[0-9a-f]{32}$`)

// Seed holds the six --data fields of the vendor's curl, in its order.
type Seed struct {
	ClientID, ClientSecret, GrantType, RefreshToken, Code, UserID string
	// extra fields a curl user would add with --data-urlencode
	RedirectURI, CodeVerifier string
}

// Body is the request body curl builds from the vendor curl's --data flags: each
// field as given (curl --data does not encode), joined with '&'.
func (s Seed) Body() string {
	b := "client_id=" + s.ClientID + "&client_secret=" + s.ClientSecret + "&grant_type=" + s.GrantType +
		"&refresh_token=" + s.RefreshToken + "&code=" + s.Code + "&userId=" + s.UserID
	if s.RedirectURI != "" {
		b += "&redirect_uri=" + url.QueryEscape(s.RedirectURI)
	}
	if s.CodeVerifier != "" {
		b += "&code_verifier=" + url.QueryEscape(s.CodeVerifier)
	}
	return b
}

// seedRequest is the vendor's curl: POST, Authorization: Bearer <token>,
// form content type, the six fields.
func seedRequest(t testing.TB, g *paritytest.Gateway, s Seed) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+tokenPath, strings.NewReader(s.Body()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer <token>")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func do(t testing.TB, client *http.Client, req *http.Request) response {
	t.Helper()
	if client == nil {
		client = noRedirect(nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("JSON body does not decode: %v\n%s", err, raw)
		}
	}
	return r
}

func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// tokens posts the vendor's request and requires a 200 token answer.
func tokens(t testing.TB, g *paritytest.Gateway, s Seed) (access, refresh string) {
	t.Helper()
	r := do(t, nil, seedRequest(t, g, s))
	if r.status != http.StatusOK {
		t.Fatalf("token request answered %d: %s", r.status, r.raw)
	}
	checkTokenBody(t, r)
	return r.body["access_token"].(string), r.body["refresh_token"].(string)
}

// checkTokenBody checks a success response: headers, exact key set, token
// format, documented expires_in and scope.
func checkTokenBody(t testing.TB, r response) {
	t.Helper()
	if got := strings.Join(paritytest.Keys(r.body), ","); got != "access_token,created_at,expires_in,refresh_token,scope" {
		t.Fatalf("token body keys = %s\n%s", got, r.raw)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if s, _ := r.body[k].(string); !TokenPattern.MatchString(s) {
			t.Fatalf("%s %q does not look like <64 hex>.<32 hex>", k, s)
		}
	}
	if r.body["expires_in"] != float64(7776000) || r.body["scope"] != "token" {
		t.Fatalf("expires_in/scope: %s", r.raw)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Fatalf("token response cacheable: %v", r.header)
	}
}

// checkError checks Hurdlr's error style: JSON, exactly error and
// error_description, the expected status and code.
func checkError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.raw)
	}
	if !IsErrorStyle(r.header, r.raw) {
		t.Fatalf("body not in Hurdlr's error style: %q (Content-Type %q)", r.raw, r.header.Get("Content-Type"))
	}
	if r.body["error"] != code {
		t.Fatalf("error = %v, want %s", r.body["error"], code)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("error response without Cache-Control: no-store")
	}
	if status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") != `Bearer realm="Hurdlr"` {
		t.Fatalf("401 WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
}

// IsErrorStyle reports whether a response is {"error": "...",
// "error_description": "..."} and nothing else.
func IsErrorStyle(h http.Header, raw string) bool {
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		return false
	}
	var m map[string]any
	if json.Unmarshal([]byte(raw), &m) != nil || len(m) != 2 {
		return false
	}
	e, ok1 := m["error"].(string)
	d, ok2 := m["error_description"].(string)
	return ok1 && ok2 && e != "" && d != ""
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t      testing.TB
	g      *paritytest.Gateway
	client *http.Client
}

func newBrowser(t testing.TB, g *paritytest.Gateway) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, g: g, client: noRedirect(jar)}
}

func authorizeURL(g *paritytest.Gateway, q url.Values) string {
	return g.URL + authorizePath + "?" + q.Encode()
}

// AuthorizeQuery is demo-client's authorization request.
func AuthorizeQuery(redirect, state string) url.Values {
	return url.Values{"client_id": {"demo-client"}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {state}}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return do(b.t, b.client, req)
}

func (b *browser) post(form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.g.URL+authorizePath, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(b.t, b.client, req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hiddenFields parses the login form's hidden inputs.
func hiddenFields(page string) url.Values {
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return form
}

// loginPage GETs the authorize page and requires the login form.
func (b *browser) loginPage(q url.Values) url.Values {
	b.t.Helper()
	r := b.get(authorizeURL(b.g, q))
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		b.t.Fatalf("authorize page answered %d %q: %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	form := hiddenFields(r.raw)
	if form.Get("csrf_token") == "" {
		b.t.Fatalf("login page without csrf_token:\n%s", r.raw)
	}
	return form
}

// login drives the whole form and returns the redirect's query.
func (b *browser) login(q url.Values, username, password string) url.Values {
	b.t.Helper()
	form := b.loginPage(q)
	form.Set("username", username)
	form.Set("password", password)
	form.Set("decision", "allow")
	r := b.post(form)
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("login POST answered %d: %s", r.status, r.raw)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != q.Get("redirect_uri") {
		b.t.Fatalf("redirected to %s, want %s", got, q.Get("redirect_uri"))
	}
	return loc.Query()
}

// code runs a login as johndoe and returns the authorization code.
func code(t testing.TB, g *paritytest.Gateway, q url.Values) string {
	t.Helper()
	back := newBrowser(t, g).login(q, "johndoe", "demo-password")
	if back.Get("state") != q.Get("state") || back.Get("code") == "" {
		t.Fatalf("redirect query %v", back)
	}
	return back.Get("code")
}

func jsonDecode(raw string, v any) error { return json.Unmarshal([]byte(raw), v) }

// seedCreatedAt is the created_at of the vendor's example response.
var seedCreatedAt = time.Unix(1599065168, 0)

// testVendorCurlRequests sends the vendor's curl for each grant, verbatim with its
// values filled, and compares the exact response body. The clock is set to
// the vendor example's created_at and frozen, so the body is fully determined by the
// two tokens.
func testVendorCurlRequests(t *testing.T, tg paritytest.Target) {
	for _, variant := range []string{"", "require_bearer"} {
		t.Run("variant "+variant, func(t *testing.T) {
			g := start(t, tg, variant, "")
			g.Clock.Freeze(true)
			g.Clock.Set(seedCreatedAt)
			exact := func(t *testing.T, s Seed) (string, string) {
				t.Helper()
				r := do(t, nil, seedRequest(t, g, s))
				if r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", s.GrantType, r.status, r.raw)
				}
				checkTokenBody(t, r)
				at, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
				want := fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"expires_in":7776000,"created_at":%d,"scope":"token"}`,
					at, rt, g.Clock.Now().Unix())
				if strings.TrimSpace(r.raw) != want {
					t.Fatalf("body\n got %s\nwant %s", r.raw, want)
				}
				if at == rt {
					t.Fatal("access and refresh token are equal")
				}
				return at, rt
			}

			at, rt := exact(t, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
			tok, err := g.Engine.Validate(context.Background(), nil, at)
			if err != nil || tok.UserID != "demo-user" || tok.ClientID != "demo-client" || tok.Dialect != "hurdlr" {
				t.Fatalf("client_credentials token: %+v %v", tok, err)
			}
			if got := tok.ExpiresAt.Sub(seedCreatedAt); got != 7776000*time.Second {
				t.Fatalf("access token lives %v", got)
			}

			g.Clock.Advance(time.Hour)
			at2, _ := exact(t, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
			if tok, err := g.Engine.Validate(context.Background(), nil, at2); err != nil || tok.UserID != "demo-user" {
				t.Fatalf("refreshed token: %+v %v", tok, err)
			}

			c := code(t, g, AuthorizeQuery(Callback, "s1"))
			at3, _ := exact(t, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: Callback})
			if tok, err := g.Engine.Validate(context.Background(), nil, at3); err != nil || tok.UserID != "demo-user" {
				t.Fatalf("code token: %+v %v", tok, err)
			}
		})
	}
}

// testCreatedAtFollowsEngineClock: created_at is the engine clock's unix
// time of issue, wherever the clock has been moved.
func testCreatedAtFollowsEngineClock(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	g.Clock.Freeze(true)
	for _, at := range []time.Time{time.Unix(1599065168, 0), time.Unix(2000000000, 0), time.Unix(1234567890, 0)} {
		g.Clock.Set(at)
		r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret",
			GrantType: "client_credentials", UserID: "demo-user"}))
		checkTokenBody(t, r)
		if r.body["created_at"] != float64(at.Unix()) {
			t.Fatalf("created_at = %v, want %d", r.body["created_at"], at.Unix())
		}
	}
}

// testTokensAreDistinctAndWellFormed mints a few pairs and checks their
// format and that no token repeats.
func testTokensAreDistinctAndWellFormed(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		at, rt := tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
		for _, s := range []string{at, rt} {
			if seen[s] {
				t.Fatalf("token %s issued twice", s)
			}
			seen[s] = true
		}
	}
}

// testRefreshRotationAndReuse: a refresh rotates both tokens; presenting the
// rotated-out refresh token again fails and revokes the whole family, so the
// new refresh and access tokens are dead too.
func testRefreshRotationAndReuse(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ctx := context.Background()
	cc := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	refresh := func(rt string) Seed {
		return Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt}
	}
	at1, rt1 := tokens(t, g, cc)
	at2, rt2 := tokens(t, g, refresh(rt1))
	if at2 == at1 || rt2 == rt1 {
		t.Fatal("refresh did not rotate both tokens")
	}
	if _, active, _ := g.Engine.Introspect(ctx, nil, rt1); active {
		t.Fatal("rotated-out refresh token still active")
	}
	if _, err := g.Engine.Validate(ctx, nil, at1); err != nil {
		t.Fatalf("the access token issued before the refresh died: %v", err)
	}
	at3, rt3 := tokens(t, g, refresh(rt2)) // a chain of rotations works

	r := do(t, nil, seedRequest(t, g, refresh(rt1)))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
	for _, tok := range []string{rt3, at3, at2, at1} {
		if _, active, err := g.Engine.Introspect(ctx, nil, tok); active || err != nil {
			t.Fatalf("token of the reused family still active (err %v)", err)
		}
	}
	if _, err := g.Engine.Validate(ctx, nil, at3); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("Validate(newest access token) = %v, want invalid_token", err)
	}
	r = do(t, nil, seedRequest(t, g, refresh(rt3)))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")

	// Another family of the same user is untouched.
	at4, _ := tokens(t, g, cc)
	if _, err := g.Engine.Validate(ctx, nil, at4); err != nil {
		t.Fatalf("unrelated family affected: %v", err)
	}
}

// testLifetimes: the access token lives 7776000 s; the refresh token (180
// days by default) still refreshes after the access token expired, and not
// after its own lifetime.
func testLifetimes(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ctx := context.Background()
	cc := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	at, rt := tokens(t, g, cc)
	g.Clock.Advance(7776000*time.Second - time.Second)
	if _, err := g.Engine.Validate(ctx, nil, at); err != nil {
		t.Fatalf("access token dead before expires_in: %v", err)
	}
	g.Clock.Advance(2 * time.Second)
	if _, err := g.Engine.Validate(ctx, nil, at); core.KindOf(err) != core.KindExpiredToken {
		t.Fatalf("access token after expires_in: %v", err)
	}
	_, rt2 := tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
	g.Clock.Advance(180*24*time.Hour + time.Second)
	r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt2}))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
}

// testConfiguredLifetimes: access_token_ttl and refresh_token_ttl override
// the defaults, and expires_in follows.
func testConfiguredLifetimes(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "access_token_ttl: 1h, refresh_token_ttl: 2h")
	r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}))
	if r.status != http.StatusOK || r.body["expires_in"] != float64(3600) {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	g.Clock.Advance(2*time.Hour + time.Second)
	r = do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token",
		RefreshToken: r.body["refresh_token"].(string)}))
	checkError(t, r, http.StatusBadRequest, "invalid_grant")
}

// testTokenErrors covers bad input on the token endpoint; every answer is
// in Hurdlr's error style and names no secret.
func testTokenErrors(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	_, liveRefresh := tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
	ok := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	with := func(f func(*Seed)) string { s := ok; f(&s); return s.Body() }
	const form = "application/x-www-form-urlencoded"
	cases := []struct {
		name, body, ctype string
		status            int
		code, mention     string // mention: a word the description must contain
	}{
		{"missing grant_type", with(func(s *Seed) { s.GrantType = "" }), form, 400, "invalid_request", "grant_type"},
		{"unsupported grant_type", with(func(s *Seed) { s.GrantType = "password" }), form, 400, "unsupported_grant_type", ""},
		{"missing userId", with(func(s *Seed) { s.UserID = "" }), form, 400, "invalid_request", "userId"},
		{"unknown userId", with(func(s *Seed) { s.UserID = "nobody" }), form, 400, "invalid_grant", "userId"},
		{"missing client_id", with(func(s *Seed) { s.ClientID = "" }), form, 400, "invalid_request", "client_id"},
		{"missing client_secret", with(func(s *Seed) { s.ClientSecret = "" }), form, 400, "invalid_request", "client_secret"},
		{"wrong client_secret", with(func(s *Seed) { s.ClientSecret = "wrong-secret" }), form, 401, "invalid_client", ""},
		{"unknown client", with(func(s *Seed) { s.ClientID = "ghost" }), form, 401, "invalid_client", ""},
		{"grant not allowed", "client_id=cc-only&client_secret=cc-secret&grant_type=refresh_token&refresh_token=x&code=&userId=", form, 400, "unauthorized_client", ""},
		{"missing code", with(func(s *Seed) { s.GrantType = "authorization_code"; s.UserID = "" }), form, 400, "invalid_request", "code"},
		{"unknown code", with(func(s *Seed) { s.GrantType = "authorization_code"; s.Code = "nope" }), form, 400, "invalid_grant", ""},
		{"missing refresh_token", with(func(s *Seed) { s.GrantType = "refresh_token" }), form, 400, "invalid_request", "refresh_token"},
		{"unknown refresh_token", with(func(s *Seed) {
			s.GrantType = "refresh_token"
			s.RefreshToken = strings.Repeat("a", 64) + "." + strings.Repeat("b", 32)
		}), form, 400, "invalid_grant", ""},
		{"refresh_token of another client", "client_id=second-client&client_secret=second-secret&grant_type=refresh_token&refresh_token=" + liveRefresh + "&code=&userId=", form, 400, "invalid_grant", ""},
		{"duplicate grant_type", ok.Body() + "&grant_type=client_credentials", form, 400, "invalid_request", "grant_type"},
		{"duplicate empty field", ok.Body() + "&refresh_token=", form, 400, "invalid_request", "refresh_token"},
		{"duplicate client_secret", ok.Body() + "&client_secret=demo-secret", form, 400, "invalid_request", "client_secret"},
		{"JSON body", `{"client_id":"demo-client","client_secret":"demo-secret","grant_type":"client_credentials","userId":"demo-user"}`, "application/json", 400, "invalid_request", "Content-Type"},
		{"form without content type", ok.Body(), "", 400, "invalid_request", "Content-Type"},
		{"text/plain", ok.Body(), "text/plain", 400, "invalid_request", "Content-Type"},
		{"malformed form", "grant_type=%zz&" + ok.Body(), form, 400, "invalid_request", ""},
		{"empty body", "", form, 400, "invalid_request", "grant_type"},
		{"too many parameters", ok.Body() + strings.Repeat("&x=1", 200), form, 400, "invalid_request", ""},
		{"oversized body", ok.Body() + "&pad=" + strings.Repeat("a", 1<<20+10), form, 413, "invalid_request", ""},
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

// testUnroutedPathsInHurdlrStyle: 404 and 405 below /rest/v5/accountant come
// in Hurdlr's error style, never echo's default body.
func testUnroutedPathsInHurdlrStyle(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
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

// testRequireBearer: by default the Authorization header is optional and
// ignored; with require_bearer: true a non-empty Bearer value is required
// but not checked.
func testRequireBearer(t *testing.T, tg paritytest.Target) {
	ok := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
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
	for _, variant := range []string{"", "require_bearer_off", "require_bearer"} {
		strict := variant == "require_bearer"
		t.Run("variant "+variant, func(t *testing.T) {
			g := start(t, tg, variant, "")
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
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
		})
	}
}

// testTokenEndpointIgnoresQuery: parameters are read from the form body
// only; the query string does not supply or override them.
func testTokenEndpointIgnoresQuery(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	req, _ := http.NewRequest(http.MethodPost, g.URL+tokenPath+"?grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&userId=demo-user", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	checkError(t, do(t, nil, req), 400, "invalid_request")

	s := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	req = seedRequest(t, g, s)
	req.URL.RawQuery = "userId=nobody&grant_type=password"
	r := do(t, nil, req)
	checkTokenBody(t, r)
}

// testUnknownFieldsIgnored: fields the endpoint does not read (scope, an
// unrelated one) are ignored; fields of other grants (userId on a refresh)
// too.
func testUnknownFieldsIgnored(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	s := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	req := seedRequest(t, g, s)
	req, _ = http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(s.Body()+"&scope=admin&foo=bar"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := do(t, nil, req)
	checkTokenBody(t, r)

	rt := r.body["refresh_token"].(string)
	at2, _ := tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt, UserID: "other-user", Code: "ignored"})
	tok, err := g.Engine.Validate(context.Background(), nil, at2)
	if err != nil || tok.UserID != "demo-user" {
		t.Fatalf("refresh with a stray userId changed the user: %+v %v", tok, err)
	}
}

// codesIssued counts the authorization codes in the store.
func codesIssued(t *testing.T, g *paritytest.Gateway) int {
	t.Helper()
	list, err := g.Store.ListTokens(context.Background(), core.TokenFilter{Kind: core.TokenCode})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// checkErrorPage checks an HTML error page: status, HTML, the security
// headers, no redirect.
func checkErrorPage(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.raw)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("error page Content-Type = %q", r.header.Get("Content-Type"))
	}
	if loc := r.header.Get("Location"); loc != "" {
		t.Fatalf("error page redirects to %s", loc)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.raw, `class="error"`) || !strings.Contains(r.raw, "Hurdlr") {
		t.Fatalf("not the Hurdlr error page: %v\n%s", r.header, r.raw)
	}
}

// testAuthorizationCodeFlow drives the accountant login page like a browser,
// then exchanges the code with the vendor's curl; with and without PKCE.
func testAuthorizationCodeFlow(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ctx := context.Background()
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-hurdlr"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	t.Run("page", func(t *testing.T) {
		b := newBrowser(t, g)
		r := b.get(authorizeURL(g, AuthorizeQuery(Callback, "st")))
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %v", r.status, r.header)
		}
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "form-action 'self' http://localhost:8081;") || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("security headers: %v", h)
		}
		var csrf *http.Cookie
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == "tg_csrf" {
				csrf = c
			}
		}
		if csrf == nil || !csrf.HttpOnly || csrf.Path != authorizePath {
			t.Fatalf("CSRF cookie: %+v", csrf)
		}
		for _, want := range []string{"Hurdlr", "Accountant sign in", "#00a86b", `action="` + authorizePath + `"`,
			`name="username"`, `name="password"`, "demo-client"} {
			if !strings.Contains(r.raw, want) {
				t.Fatalf("page lacks %q:\n%s", want, r.raw)
			}
		}
		f := hiddenFields(r.raw)
		if f.Get("csrf_token") == "" || f.Get("redirect_uri") != Callback || f.Get("state") != "st" || f.Get("client_id") != "demo-client" {
			t.Fatalf("hidden fields %v", f)
		}
	})

	t.Run("plain", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(Callback, "xyz"))
		at, rt := tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: Callback})
		tok, err := g.Engine.Validate(ctx, nil, at)
		if err != nil || tok.UserID != "demo-user" || tok.ClientID != "demo-client" {
			t.Fatalf("%+v %v", tok, err)
		}
		// The code's refresh token works like any other.
		tokens(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "refresh_token", RefreshToken: rt})
	})

	t.Run("missing redirect_uri at exchange", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(Callback, "xyz"))
		r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c}))
		checkError(t, r, 400, "invalid_request")
	})

	t.Run("S256", func(t *testing.T) {
		q := AuthorizeQuery(Callback, "pkce-state")
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
		c := code(t, g, q)
		base := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: Callback}
		r := do(t, nil, seedRequest(t, g, base))
		checkError(t, r, 400, "invalid_request") // no verifier: no downgrade
		wrong := base
		wrong.CodeVerifier = strings.Repeat("x", 50)
		checkError(t, do(t, nil, seedRequest(t, g, wrong)), 400, "invalid_grant")
		right := base
		right.CodeVerifier = verifier
		at, _ := tokens(t, g, right)
		if _, err := g.Engine.Validate(ctx, nil, at); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("verifier for a code without challenge", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(Callback, "s"))
		r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code",
			Code: c, RedirectURI: Callback, CodeVerifier: verifier}))
		checkError(t, r, 400, "invalid_grant")
	})

	t.Run("plain PKCE refused", func(t *testing.T) {
		q := AuthorizeQuery(Callback, "s")
		q.Set("code_challenge", verifier)
		q.Set("code_challenge_method", "plain")
		r := newBrowser(t, g).get(authorizeURL(g, q))
		if r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" || loc.Query().Get("code") != "" {
			t.Fatalf("Location %s", loc)
		}
	})

	t.Run("deny", func(t *testing.T) {
		b := newBrowser(t, g)
		form := b.loginPage(AuthorizeQuery(Callback, "d"))
		form.Set("decision", "deny")
		r := b.post(form)
		loc, _ := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
			t.Fatalf("%d %s", r.status, loc)
		}
	})

	t.Run("code of another client", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(Callback, "s"))
		r := do(t, nil, seedRequest(t, g, Seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "authorization_code",
			Code: c, RedirectURI: Callback}))
		checkError(t, r, 400, "invalid_grant")
	})
}

// testCodeReplay: a code redeemed twice fails the second time and revokes
// everything the first exchange issued (RFC 9700 §4.14).
func testCodeReplay(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ctx := context.Background()
	c := code(t, g, AuthorizeQuery(Callback, "r"))
	s := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: Callback}
	at, rt := tokens(t, g, s)
	if _, err := g.Engine.Validate(ctx, nil, at); err != nil {
		t.Fatalf("fresh access token invalid: %v", err)
	}
	checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
	if _, err := g.Engine.Validate(ctx, nil, at); core.KindOf(err) != core.KindInvalidToken {
		t.Fatalf("first access token after replay: %v, want invalid_token", err)
	}
	if _, active, _ := g.Engine.Introspect(ctx, nil, rt); active {
		t.Fatal("first refresh token still active after replay")
	}
	checkError(t, do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret",
		GrantType: "refresh_token", RefreshToken: rt})), 400, "invalid_grant")
}

// testRedirectURITampering: an unregistered or missing redirect_uri is an
// error page, never a redirect; a code exchanged with another redirect_uri
// than it was issued for fails.
func testRedirectURITampering(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	for _, tc := range []struct {
		name   string
		q      url.Values
		status int
	}{
		{"unregistered", AuthorizeQuery("http://evil.example/callback", "s"), 400},
		{"registered prefix", AuthorizeQuery(Callback+"/../evil", "s"), 400},
		{"with extra query", AuthorizeQuery(Callback+"?x=1", "s"), 400},
		{"missing", url.Values{"client_id": {"demo-client"}, "response_type": {"code"}, "state": {"s"}}, 400},
		{"another client's uri", AuthorizeQuery("http://localhost:9090/cb", "s"), 400},
		{"unknown client", url.Values{"client_id": {"ghost"}, "redirect_uri": {Callback}, "response_type": {"code"}}, 401},
		{"missing client", url.Values{"redirect_uri": {Callback}, "response_type": {"code"}}, 400},
		{"duplicate redirect_uri", url.Values{"client_id": {"demo-client"}, "redirect_uri": {Callback, "http://evil.example/"}, "response_type": {"code"}}, 400},
	} {
		t.Run("GET "+tc.name, func(t *testing.T) {
			checkErrorPage(t, newBrowser(t, g).get(authorizeURL(g, tc.q)), tc.status)
		})
	}

	t.Run("POST with a swapped redirect_uri", func(t *testing.T) {
		b := newBrowser(t, g)
		form := b.loginPage(AuthorizeQuery(Callback, "s"))
		form.Set("redirect_uri", "http://evil.example/callback")
		form.Set("username", "johndoe")
		form.Set("password", "demo-password")
		checkErrorPage(t, b.post(form), 400)
		if n := codesIssued(t, g); n != 0 {
			t.Fatalf("%d codes issued", n)
		}
	})

	t.Run("exchange with another registered redirect_uri", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(Callback, "s"))
		s := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: otherCallback}
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
		s.RedirectURI = "http://evil.example/callback"
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
	})

	t.Run("code bound to the other registered uri", func(t *testing.T) {
		c := code(t, g, AuthorizeQuery(otherCallback, "s"))
		s := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: c, RedirectURI: Callback}
		checkError(t, do(t, nil, seedRequest(t, g, s)), 400, "invalid_grant")
		s.RedirectURI = otherCallback
		tokens(t, g, s)
	})
}

// testCSRF: a form post without the CSRF token, with a wrong one, or
// without the cookie it is bound to gets the error page and no code.
func testCSRF(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	for _, tc := range []struct {
		name   string
		mangle func(b *browser, form url.Values) *browser
	}{
		{"missing token", func(b *browser, f url.Values) *browser { f.Del("csrf_token"); return b }},
		{"empty token", func(b *browser, f url.Values) *browser { f.Set("csrf_token", ""); return b }},
		{"wrong token", func(b *browser, f url.Values) *browser {
			f.Set("csrf_token", base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
			return b
		}},
		{"not base64", func(b *browser, f url.Values) *browser { f.Set("csrf_token", "%%%"); return b }},
		{"token of another page", func(b *browser, f url.Values) *browser {
			other := newBrowser(b.t, b.g).loginPage(AuthorizeQuery(Callback, "s"))
			f.Set("csrf_token", other.Get("csrf_token"))
			return b
		}},
		{"no cookie", func(b *browser, f url.Values) *browser { return newBrowser(b.t, b.g) }},
		{"duplicate token", func(b *browser, f url.Values) *browser { f.Add("csrf_token", f.Get("csrf_token")); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, g)
			form := b.loginPage(AuthorizeQuery(Callback, "s"))
			form.Set("username", "johndoe")
			form.Set("password", "demo-password")
			form.Set("decision", "allow")
			b = tc.mangle(b, form)
			r := b.post(form)
			checkErrorPage(t, r, http.StatusForbidden)
			if n := codesIssued(t, g); n != 0 {
				t.Fatalf("%d codes issued", n)
			}
		})
	}
}

// testWrongPassword: the page comes back with an error, no redirect and no
// code; the re-rendered form then works with the right password.
func testWrongPassword(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	for _, creds := range [][2]string{{"johndoe", "wrong-password"}, {"nobody", "demo-password"}, {"johndoe", ""}} {
		before := codesIssued(t, g)
		b := newBrowser(t, g)
		form := b.loginPage(AuthorizeQuery(Callback, "s"))
		form.Set("username", creds[0])
		form.Set("password", creds[1])
		r := b.post(form)
		if r.status != http.StatusOK || r.header.Get("Location") != "" ||
			!strings.Contains(r.raw, "Wrong username or password.") || !strings.Contains(r.raw, `name="password"`) {
			t.Fatalf("%v: %d %v\n%s", creds, r.status, r.header, r.raw)
		}
		if strings.Contains(r.raw, "wrong-password") || strings.Contains(r.raw, "demo-password") {
			t.Fatal("the page echoes the password")
		}
		if n := codesIssued(t, g); n != before {
			t.Fatalf("%d codes issued", n-before)
		}
		again := hiddenFields(r.raw)
		again.Set("username", "johndoe")
		again.Set("password", "demo-password")
		r = b.post(again)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), Callback+"?") {
			t.Fatalf("retry: %d %v", r.status, r.header)
		}
	}
}

// testAuthorizeMethodNotAllowed: other methods on the authorize path get a
// JSON 405 in Hurdlr's style.
func testAuthorizeMethodNotAllowed(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	req, _ := http.NewRequest(http.MethodPut, g.URL+authorizePath, nil)
	checkError(t, do(t, nil, req), 405, "method_not_allowed")
}

// testRenderErrorTable renders every kind of failure, including those only
// middleware produces (429, 503) and non-core errors (500), and checks the
// status, code and that no cause leaks.
func testRenderErrorTable(t *testing.T, tg paritytest.Target) {
	d := tg.Dialect(t)
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{core.MissingParam("userId"), 400, "invalid_request"},
		{core.DuplicateParam("code"), 400, "invalid_request"},
		{&core.Error{Kind: core.KindInvalidClient}, 401, "invalid_client"},
		{&core.Error{Kind: core.KindInvalidGrant, Reason: core.ReasonUnknownUser, Param: "user_id", Value: "x"}, 400, "invalid_grant"},
		{&core.Error{Kind: core.KindUnauthorizedClient}, 400, "unauthorized_client"},
		{&core.Error{Kind: core.KindUnsupportedGrantType}, 400, "unsupported_grant_type"},
		{&core.Error{Kind: core.KindInvalidScope}, 400, "invalid_scope"},
		{&core.Error{Kind: core.KindInvalidToken}, 401, "invalid_token"},
		{&core.Error{Kind: core.KindExpiredToken}, 401, "invalid_token"},
		{&core.Error{Kind: core.KindAccessDenied}, 403, "access_denied"},
		{&core.Error{Kind: core.KindNotFound}, 404, "not_found"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonNotAllowed}, 405, "method_not_allowed"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTimeout}, 408, "invalid_request"},
		{&core.Error{Kind: core.KindConflict}, 409, "conflict"},
		{&core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonTooLarge}, 413, "invalid_request"},
		{&core.Error{Kind: core.KindRateLimited, Description: "slow down"}, 429, "rate_limited"},
		{core.Internal(errors.New("database exploded")), 500, "server_error"},
		{errors.New("database exploded"), 500, "server_error"},
		{&wire.ForcedAnswer{Status: 502, Text: "injected"}, 502, "temporarily_unavailable"},
		{&wire.ForcedAnswer{Status: 401, Code: "custom_code", Text: "injected"}, 401, "custom_code"},
		{&wire.ForcedAnswer{Status: 418, Text: "injected"}, 418, "invalid_request"},
		{core.Unavailable(errors.New("database exploded")), 503, "temporarily_unavailable"},
		{&core.Error{Kind: "made_up"}, 500, "server_error"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/rest/v5/accountant/token", nil), rec)
			if err := dialects.RenderError(d, c, tc.err); err != nil {
				t.Fatal(err)
			}
			r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			if err := jsonDecode(r.raw, &r.body); err != nil {
				t.Fatal(err)
			}
			checkError(t, r, tc.status, tc.code)
			if strings.Contains(r.raw, "exploded") || strings.Contains(r.raw, `"x"`) {
				t.Fatalf("cause or value leaked: %s", r.raw)
			}
		})
	}
}

// testInjectedFaults: 429, 500 and 503 faults from the admin API come in
// Hurdlr's error style, and the client's next request succeeds again.
func testInjectedFaults(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	ok := Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"}
	for _, tc := range []struct {
		rule   control.Rule
		status int
		code   string
	}{
		{control.Rule{Dialect: "hurdlr", Status: 429, Count: 1}, 429, "rate_limited"},
		{control.Rule{Dialect: "hurdlr", Status: 500, Count: 1}, 500, "server_error"},
		{control.Rule{Dialect: "hurdlr", ClientID: "demo-client", GrantType: "client_credentials", Status: 503, Count: 1}, 503, "temporarily_unavailable"},
		{control.Rule{Dialect: "hurdlr", Status: 400, Code: "invalid_grant", Text: "made up", Count: 1}, 400, "invalid_grant"},
	} {
		if _, err := g.Admin.AddFault(tc.rule); err != nil {
			t.Fatal(err)
		}
		checkError(t, do(t, nil, seedRequest(t, g, ok)), tc.status, tc.code)
		tokens(t, g, ok)
	}
}

// testDocumentAuthorizationCodeExchange: the accountant logs in at the
// authorize page without a redirect_uri (the document names none), and the
// code is exchanged with exactly the document's fields — client_id,
// client_secret, grant_type, refresh_token, code, userId, most of them
// empty, no redirect_uri — for a client with one registered redirect URI
// (RFC 6749 §3.1.2.3, §4.1.3). An undocumented scope on the authorize URL
// does not replace the documented constant "token".
func testDocumentAuthorizationCodeExchange(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	b := newBrowser(t, g)
	form := b.loginPage(url.Values{"client_id": {"second-client"}, "response_type": {"code"}, "state": {"s1"}, "scope": {"admin"}})
	if form.Has("redirect_uri") {
		t.Fatalf("the form carries a redirect_uri the request did not: %v", form)
	}
	form.Set("username", "johndoe")
	form.Set("password", "demo-password")
	form.Set("decision", "allow")
	r := b.post(form)
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "http://localhost:9090/cb" {
		t.Fatalf("login answered %d, Location %q", r.status, r.header.Get("Location"))
	}
	body := "client_id=second-client&client_secret=second-secret&grant_type=authorization_code&refresh_token=&code=" +
		loc.Query().Get("code") + "&userId="
	req, _ := http.NewRequest(http.MethodPost, g.URL+tokenPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer <token>")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := do(t, nil, req)
	if res.status != 200 {
		t.Fatalf("the document's exchange answered %d: %s", res.status, res.raw)
	}
	checkTokenBody(t, res)
	if res.body["scope"] != "token" {
		t.Fatalf("scope %v, want the documented constant", res.body["scope"])
	}
	// The refresh keeps the constant too.
	_, refresh := tokens(t, g, Seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "client_credentials", UserID: "demo-user"})
	again := do(t, nil, seedRequest(t, g, Seed{ClientID: "second-client", ClientSecret: "second-secret", GrantType: "refresh_token", RefreshToken: refresh}))
	if again.status != 200 || again.body["scope"] != "token" {
		t.Fatalf("refresh: %d %s", again.status, again.raw)
	}
}

// testUnknownCodeWording: the description of an unknown code reads naturally.
func testUnknownCodeWording(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "", "")
	r := do(t, nil, seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "authorization_code", Code: "nope"}))
	if r.status != 400 || r.body["error"] != "invalid_grant" || r.body["error_description"] != "unknown authorization code" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// testErrorTextUnescaped: JSON error text is written as is, not
// HTML-escaped (\u003ctoken\u003e).
func testErrorTextUnescaped(t *testing.T, tg paritytest.Target) {
	g := start(t, tg, "require_bearer", "")
	req := seedRequest(t, g, Seed{ClientID: "demo-client", ClientSecret: "demo-secret", GrantType: "client_credentials", UserID: "demo-user"})
	req.Header.Set("Authorization", "Basic abc")
	r := do(t, nil, req)
	if r.status != 401 || !strings.Contains(r.raw, "Bearer <token>") {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}
