package accounda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
)

// Accounda's verbatim error messages (its user API document), the long one on one line.
const (
	msgMissingCreds   = "Missing client credentials"
	msgInvalidCreds   = "Invalid client credentials"
	msgHeaders        = "Authorization and Client-ID headers are required"
	msgInvalidToken   = "Invalid access token"
	msgExpiredToken   = "Access token has expired"
	msgInvalidClient  = "Invalid client ID"
	msgInvalidAuth    = "Invalid auth ID or token"
	msgInvalidAuthID  = "Invalid auth ID"
	msgAppExpired     = "The application associated with the provided client_id has expired. Please renew your access or contact support."
	msgMissingAccess  = "Missing access token"
	msgGrant          = "Client is not authorized to use this grant type"
	msgNeedsUserData  = "Linked account data requires the user_data parameter"
	msgBadUserData    = "Invalid value for user_data: use 1 or 0"
	msgContentType    = "Content-Type must be application/x-www-form-urlencoded"
	msgMalformed      = "Malformed request"
	msgTooLarge       = "Request body too large"
	msgNotFound       = "Not found"
	msgMethodNotAllow = "Method not allowed"
)

func flagMsg(p string) string { return "Invalid value for " + p + ": use 1 (optional) or 8 (required)" }

// vendorUserSample is the 200 body of both user endpoints in Accounda's user API document, verbatim.
const vendorUserSample = `{
"data": {
"username": "johndoe",
"first_name": "John",
"last_name": "Doe",
"email": "john.doe@example.com",
"google": {
"username": "john_google",
"first_name": "John",
"last_name": "Doe",
"email": "google.johndoe@example.com",
"id": "1122334455"
},
"microsoft": {
"username": "john_microsoft",
"first_name": "John",
"last_name": "Doe",
"email": "microsoft.johndoe@example.com",
"id": "0987654321"
},
"discord": {
"username": "john_discord",
"locale": "en-US",
"email": "discord.johndoe@example.com",
"id": "1234567890"
},
"github": {
"name": "John Github",
"email": "github.johndoe@example.com",
"id": "3254567890"
}
}
}`

// The vendor's sample request lines, placeholders replaced by real values
// (auth_id 1) and µsoft=1 restored to &microsoft=1.
const (
	validateSampleQuery    = "/v1/user/validate/?auth_id=1&user_data=1&discord=1&microsoft=1&google=1&github=1"
	informationSampleQuery = "/v1/user/information/?auth_id=1&discord=1&microsoft=1&google=1&github=1"
)

func testConfig(extraDialect string) string {
	expiring := time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	return `
dialects:
  accounda: {` + extraDialect + `}
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
  - {client_id: your_client_id, client_secret: your_client_secret, grants: [client_credentials]}
  - {client_id: other-client, client_secret: other-secret, grants: [client_credentials, refresh_token]}
  - {client_id: refreshonly-client, client_secret: refreshonly-secret, grants: [refresh_token]}
  - {client_id: oauth2only-client, client_secret: oauth2only-secret, grants: [client_credentials], dialects: [oauth2]}
  - {client_id: expiring-client, client_secret: expiring-secret, grants: [client_credentials, refresh_token], expires_at: ` + expiring + `}
  - {client_id: expired-client, client_secret: expired-secret, grants: [client_credentials], expires_at: 2020-01-01T00:00:00Z}
users:
  - user_id: demo-user
    username: johndoe
    first_name: John
    last_name: Doe
    email: john.doe@example.com
    password: demo-password
    linked_accounts:
      google:    {id: "1122334455", username: john_google, first_name: John, last_name: Doe, email: google.johndoe@example.com}
      microsoft: {id: "0987654321", username: john_microsoft, first_name: John, last_name: Doe, email: microsoft.johndoe@example.com}
      discord:   {id: "1234567890", username: john_discord, locale: en-US, email: discord.johndoe@example.com}
      github:    {id: "3254567890", name: John Github, email: github.johndoe@example.com}
  - user_id: plain-user
    username: janeroe
    first_name: Jane
    last_name: Roe
    email: jane.roe@example.com
    linked_accounts:
      discord: {id: "5550001111", username: jane_discord, locale: de-DE, email: discord.jane@example.com}
authorizations:
  - {auth_id: 1, auth_token: demo-auth-token, user_id: demo-user, client_id: demo-client}
  - {auth_id: 2, auth_token: plain-auth-token, user_id: plain-user, client_id: demo-client}
  - {auth_id: 3, auth_token: other-auth-token, user_id: demo-user, client_id: other-client}
`
}

func start(t *testing.T, extraDialect string) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: testConfig(extraDialect)})
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send issues one request; headers may repeat a name to send it twice.
func send(t *testing.T, g *tokengatetest.Gateway, method, target string, headers [][2]string, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

var formCT = [2]string{"Content-Type", "application/x-www-form-urlencoded"}

func postForm(t *testing.T, g *tokengatetest.Gateway, path, body string) response {
	t.Helper()
	return send(t, g, http.MethodPost, path, [][2]string{formCT}, body)
}

// wantError checks status, JSON content type and that the body is exactly
// {"error": msg}.
func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	if want := map[string]any{"error": msg}; !jsonEqual(got, want) {
		t.Errorf("body %s, want {\"error\": %q}", r.body, msg)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// token gets an access token for a client through /v1/token/.
func token(t *testing.T, g *tokengatetest.Gateway, id, secret string) string {
	t.Helper()
	r := postForm(t, g, "/v1/token/", url.Values{"client_id": {id}, "client_secret": {secret}}.Encode())
	return tokenFrom(t, r, 3600)
}

// tokenFrom checks a 200 token response and returns its access token.
func tokenFrom(t *testing.T, r response, expiresIn float64) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token: status %d, body %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("token body %q: %v", r.body, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"access_token", "expires_in", "token_type"}; !slices.Equal(keys, want) {
		t.Errorf("token keys %v, want %v", keys, want)
	}
	if m["token_type"] != "Bearer" || m["expires_in"] != expiresIn {
		t.Errorf("token_type %v expires_in %v, want Bearer %v", m["token_type"], m["expires_in"], expiresIn)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("token response lacks no-store headers: %v", r.header)
	}
	s, _ := m["access_token"].(string)
	if len(s) < 32 {
		t.Fatalf("access_token %q too short", s)
	}
	return s
}

// userHeaders are the sample request's headers with real values.
func userHeaders(tok, clientID, authToken string) [][2]string {
	h := [][2]string{{"Host", "api.accounda.com"}, {"Authorization", "Bearer " + tok}, {"Client-ID", clientID},
		{"Content-Type", "application/json"}}
	if authToken != "" {
		h = append(h, [2]string{"Auth-Token", authToken})
	}
	return h
}

func TestTokenSampleRequests(t *testing.T) {
	g := start(t, "")
	sample := "client_id=your_client_id&client_secret=your_client_secret"
	cases := []struct {
		name    string
		headers [][2]string
		body    string
	}{
		// Both Accounda documents' "Sample Request", verbatim.
		{"vendor sample", [][2]string{formCT}, sample},
		// The curl example: two -d flags joined with &, curl's headers.
		{"curl example", [][2]string{{"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}, formCT}, sample},
		{"demo client", [][2]string{formCT}, "client_id=demo-client&client_secret=demo-secret"},
		{"charset parameter", [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, sample},
		{"extra parameters ignored", [][2]string{formCT}, sample + "&grant_type=client_credentials&scope=x"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tokenFrom(t, send(t, g, http.MethodPost, "/v1/token/", tc.headers, tc.body), 3600)
			if seen[tok] {
				t.Errorf("token issued twice")
			}
			seen[tok] = true
		})
	}
}

func TestTokenErrors(t *testing.T) {
	g := start(t, "")
	big := "client_id=demo-client&client_secret=demo-secret&pad=" + strings.Repeat("a", 1<<20)
	many := strings.Repeat("x=1&", 150) + "client_id=demo-client&client_secret=demo-secret"
	cases := []struct {
		name    string
		method  string
		path    string
		headers [][2]string
		body    string
		status  int
		msg     string
	}{
		{"empty body", "POST", "/v1/token/", [][2]string{formCT}, "", 400, msgMissingCreds},
		{"no body no content type", "POST", "/v1/token/", nil, "", 400, msgMissingCreds},
		{"missing client_id", "POST", "/v1/token/", [][2]string{formCT}, "client_secret=demo-secret", 400, msgMissingCreds},
		{"missing client_secret", "POST", "/v1/token/", [][2]string{formCT}, "client_id=demo-client", 400, msgMissingCreds},
		{"empty values", "POST", "/v1/token/", [][2]string{formCT}, "client_id=&client_secret=", 400, msgMissingCreds},
		{"credentials in query only", "POST", "/v1/token/?client_id=demo-client&client_secret=demo-secret", [][2]string{formCT}, "", 400, msgMissingCreds},
		{"basic auth only", "POST", "/v1/token/", [][2]string{formCT, {"Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="}}, "", 400, msgMissingCreds},
		{"unknown client", "POST", "/v1/token/", [][2]string{formCT}, "client_id=nobody&client_secret=demo-secret", 400, msgInvalidCreds},
		{"wrong secret", "POST", "/v1/token/", [][2]string{formCT}, "client_id=demo-client&client_secret=wrong", 400, msgInvalidCreds},
		{"client of another dialect", "POST", "/v1/token/", [][2]string{formCT}, "client_id=oauth2only-client&client_secret=oauth2only-secret", 400, msgInvalidCreds},
		{"client without client_credentials", "POST", "/v1/token/", [][2]string{formCT}, "client_id=refreshonly-client&client_secret=refreshonly-secret", 400, msgGrant},
		// The token document lists 400 answers only.
		{"expired application", "POST", "/v1/token/", [][2]string{formCT}, "client_id=expired-client&client_secret=expired-secret", 400, msgAppExpired},
		{"expired application wrong secret", "POST", "/v1/token/", [][2]string{formCT}, "client_id=expired-client&client_secret=nope", 400, msgInvalidCreds},
		{"duplicate client_id", "POST", "/v1/token/", [][2]string{formCT}, "client_id=demo-client&client_id=demo-client&client_secret=demo-secret", 400, "Duplicate parameter: client_id"},
		{"duplicate client_secret", "POST", "/v1/token/", [][2]string{formCT}, "client_id=demo-client&client_secret=demo-secret&client_secret=x", 400, "Duplicate parameter: client_secret"},
		{"json body", "POST", "/v1/token/", [][2]string{{"Content-Type", "application/json"}}, `{"client_id":"demo-client","client_secret":"demo-secret"}`, 400, msgContentType},
		{"text body", "POST", "/v1/token/", [][2]string{{"Content-Type", "text/plain"}}, "client_id=demo-client&client_secret=demo-secret", 400, msgContentType},
		{"body without content type", "POST", "/v1/token/", nil, "client_id=demo-client&client_secret=demo-secret", 400, msgContentType},
		{"malformed form", "POST", "/v1/token/", [][2]string{formCT}, "client_id=%zz&client_secret=demo-secret", 400, msgMalformed},
		{"too many parameters", "POST", "/v1/token/", [][2]string{formCT}, many, 400, msgMalformed},
		{"oversized body", "POST", "/v1/token/", [][2]string{formCT}, big, 413, msgTooLarge},
		{"GET token", "GET", "/v1/token/", nil, "", 405, msgMethodNotAllow},
		{"PUT token", "PUT", "/v1/token/", [][2]string{formCT}, "client_id=demo-client", 405, msgMethodNotAllow},
		{"no trailing slash", "POST", "/v1/token", [][2]string{formCT}, "client_id=demo-client&client_secret=demo-secret", 404, msgNotFound},
		{"unknown path under token", "POST", "/v1/token/nope/", [][2]string{formCT}, "", 404, msgNotFound},
		{"unknown path under user", "GET", "/v1/user/", nil, "", 404, msgNotFound},
		{"unknown user endpoint", "GET", "/v1/user/delete/", nil, "", 404, msgNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, tc.method, tc.path, tc.headers, tc.body)
			wantError(t, r, tc.status, tc.msg)
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("error without Cache-Control: no-store")
			}
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow header")
			}
			if bytes.Contains(r.body, []byte("demo-secret")) || bytes.Contains(r.body, []byte("oauth2only-secret")) {
				t.Errorf("error body echoes a secret: %s", r.body)
			}
		})
	}
}

func TestUserSampleRequests(t *testing.T) {
	g := start(t, "")
	tok := token(t, g, "demo-client", "demo-secret")
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(vendorUserSample)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		target  string
		headers [][2]string
	}{
		{"validate sample", validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token")},
		{"information sample", informationSampleQuery, userHeaders(tok, "demo-client", "")},
		{"validate flags in another order", "/v1/user/validate/?github=1&google=1&microsoft=1&discord=1&user_data=1&auth_id=1", userHeaders(tok, "demo-client", "demo-auth-token")},
		{"validate all required", "/v1/user/validate/?auth_id=1&user_data=true&discord=8&microsoft=8&google=8&github=8", userHeaders(tok, "demo-client", "demo-auth-token")},
		{"information sends Auth-Token anyway", informationSampleQuery, userHeaders(tok, "demo-client", "not-checked-here")},
		{"lower-case bearer scheme", validateSampleQuery, [][2]string{{"Authorization", "bearer " + tok}, {"Client-ID", "demo-client"}, {"Auth-Token", "demo-auth-token"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, http.MethodGet, tc.target, tc.headers, "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			if got := bytes.TrimSpace(r.body); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("body\n%s\nwant the vendor's sample\n%s", got, want.Bytes())
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("user data without Cache-Control: no-store")
			}
		})
	}

	// The sample line exactly as the vendor page renders it, with the HTML
	// entity damage (µsoft=1): discord's value becomes "1µsoft=1". Still a
	// 400, with a message that names the damage and the fix.
	t.Run("mangled sample line", func(t *testing.T) {
		r := send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=1&user_data=1&discord=1µsoft=1&google=1&github=1",
			userHeaders(tok, "demo-client", "demo-auth-token"), "")
		wantError(t, r, 400, `Malformed parameter "µsoft" in the value of discord: probably "&microsoft=1" with "&micro" turned into "µ" by an HTML entity; send &microsoft=1`)
	})
}

// dataOf decodes a 200 user response.
func dataOf(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || len(m) != 1 || m["data"] == nil {
		t.Fatalf("body %s is not {\"data\": {...}} (%v)", r.body, err)
	}
	return m["data"]
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestUserData(t *testing.T) {
	g := start(t, "")
	tok := token(t, g, "demo-client", "demo-secret")
	userKeys := []string{"email", "first_name", "last_name", "username"}
	cases := []struct {
		name   string
		target string
		auth   string
		keys   []string
	}{
		{"validate without user_data", "/v1/user/validate/?auth_id=1", "demo-auth-token", []string{}},
		{"validate user_data=0", "/v1/user/validate/?auth_id=1&user_data=0", "demo-auth-token", []string{}},
		{"validate user_data=false", "/v1/user/validate/?auth_id=1&user_data=false", "demo-auth-token", []string{}},
		{"validate user_data only", "/v1/user/validate/?auth_id=1&user_data=1", "demo-auth-token", userKeys},
		{"validate one flag", "/v1/user/validate/?auth_id=1&user_data=1&github=1", "demo-auth-token", []string{"email", "first_name", "github", "last_name", "username"}},
		{"information without flags", "/v1/user/information/?auth_id=1", "", userKeys},
		{"information ignores user_data", "/v1/user/information/?auth_id=1&user_data=whatever&user_data=x", "", userKeys},
		{"information one flag", "/v1/user/information/?auth_id=1&google=8", "", []string{"email", "first_name", "google", "last_name", "username"}},
		{"optional flag, account missing", "/v1/user/validate/?auth_id=2&user_data=1&google=1&microsoft=1&github=1", "plain-auth-token", userKeys},
		{"required flag, account present", "/v1/user/validate/?auth_id=2&user_data=1&discord=8", "plain-auth-token", []string{"discord", "email", "first_name", "last_name", "username"}},
		{"unknown query parameters ignored", "/v1/user/information/?auth_id=1&foo=bar", "", userKeys},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, http.MethodGet, tc.target, userHeaders(tok, "demo-client", tc.auth), "")
			d := dataOf(t, r)
			if got := keysOf(d); !slices.Equal(got, tc.keys) {
				t.Errorf("data keys %v, want %v", got, tc.keys)
			}
		})
	}
	t.Run("empty data is an object", func(t *testing.T) {
		r := send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=1", userHeaders(tok, "demo-client", "demo-auth-token"), "")
		if got := string(bytes.TrimSpace(r.body)); got != `{"data":{}}` {
			t.Errorf("body %s, want {\"data\":{}}", got)
		}
	})
	t.Run("plain user's discord account", func(t *testing.T) {
		r := send(t, g, http.MethodGet, "/v1/user/information/?auth_id=2&discord=1", userHeaders(tok, "demo-client", ""), "")
		want := `{"data":{"username":"janeroe","first_name":"Jane","last_name":"Roe","email":"jane.roe@example.com",` +
			`"discord":{"username":"jane_discord","locale":"de-DE","email":"discord.jane@example.com","id":"5550001111"}}}`
		if got := string(bytes.TrimSpace(r.body)); got != want {
			t.Errorf("body %s\nwant %s", got, want)
		}
	})
}

func TestUserErrors(t *testing.T) {
	g := start(t, "")
	demo := token(t, g, "demo-client", "demo-secret")
	other := token(t, g, "other-client", "other-secret")
	// A live token the oauth2 dialect issued to demo-client: not Accounda's.
	foreign := "foreign-dialect-token-0123456789abcdef"
	now := g.Clock().Now()
	if err := g.App.Store.InsertTokens(context.Background(), &core.Token{Digest: core.Digest(foreign), Kind: core.TokenAccess,
		ClientID: "demo-client", Dialect: "oauth2", FamilyID: "f", IssuedAt: now, ExpiresAt: now.Add(time.Hour), AuthTime: now}); err != nil {
		t.Fatal(err)
	}
	const v, info = "/v1/user/validate/", "/v1/user/information/"
	ok := "?auth_id=1&user_data=1&google=1"
	type hdrs = [][2]string
	cases := []struct {
		name    string
		method  string
		target  string
		headers hdrs
		status  int
		msg     string
	}{
		{"no headers", "GET", v + ok, nil, 400, msgHeaders},
		{"no headers (information)", "GET", info + "?auth_id=1", nil, 400, msgHeaders},
		{"only Authorization", "GET", v + ok, hdrs{{"Authorization", "Bearer " + demo}, {"Auth-Token", "demo-auth-token"}}, 400, msgHeaders},
		{"only Client-ID", "GET", v + ok, hdrs{{"Client-ID", "demo-client"}, {"Auth-Token", "demo-auth-token"}}, 400, msgHeaders},
		{"empty Client-ID", "GET", v + ok, userHeaders(demo, "", "demo-auth-token"), 400, msgHeaders},
		{"Basic instead of Bearer", "GET", v + ok, hdrs{{"Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="}, {"Client-ID", "demo-client"}}, 400, msgHeaders},
		{"bare token", "GET", v + ok, hdrs{{"Authorization", demo}, {"Client-ID", "demo-client"}}, 400, msgHeaders},
		{"empty bearer", "GET", v + ok, hdrs{{"Authorization", "Bearer "}, {"Client-ID", "demo-client"}}, 400, msgHeaders},
		{"two Client-ID headers", "GET", v + ok, append(userHeaders(demo, "demo-client", "demo-auth-token"), [2]string{"Client-ID", "demo-client"}), 400, msgHeaders},
		{"two Authorization headers", "GET", v + ok, append(userHeaders(demo, "demo-client", "demo-auth-token"), [2]string{"Authorization", "Bearer " + demo}), 400, msgHeaders},
		{"unknown token", "GET", v + ok, userHeaders("not-a-token", "demo-client", "demo-auth-token"), 401, msgInvalidToken},
		{"unknown token (information)", "GET", info + "?auth_id=1", userHeaders("not-a-token", "demo-client", ""), 401, msgInvalidToken},
		{"other dialect's token", "GET", v + ok, userHeaders(foreign, "demo-client", "demo-auth-token"), 401, msgInvalidToken},
		{"other client's token", "GET", v + ok, userHeaders(other, "demo-client", "demo-auth-token"), 403, msgInvalidClient},
		{"token with other Client-ID", "GET", v + ok, userHeaders(demo, "other-client", "other-auth-token"), 403, msgInvalidClient},
		{"token with unknown Client-ID", "GET", info + "?auth_id=1", userHeaders(demo, "nobody", ""), 403, msgInvalidClient},
		{"missing auth_id", "GET", v + "?user_data=1", userHeaders(demo, "demo-client", "demo-auth-token"), 403, msgInvalidAuth},
		{"non-numeric auth_id", "GET", v + "?auth_id=abc", userHeaders(demo, "demo-client", "demo-auth-token"), 403, msgInvalidAuth},
		{"zero auth_id", "GET", v + "?auth_id=0", userHeaders(demo, "demo-client", "demo-auth-token"), 403, msgInvalidAuth},
		{"signed auth_id", "GET", v + "?auth_id=%2B1", userHeaders(demo, "demo-client", "demo-auth-token"), 403, msgInvalidAuth},
		{"unknown auth_id", "GET", v + "?auth_id=999", userHeaders(demo, "demo-client", "demo-auth-token"), 403, msgInvalidAuth},
		{"other client's auth_id", "GET", v + "?auth_id=3", userHeaders(demo, "demo-client", "other-auth-token"), 403, msgInvalidAuth},
		{"wrong Auth-Token", "GET", v + ok, userHeaders(demo, "demo-client", "plain-auth-token"), 403, msgInvalidAuth},
		{"missing Auth-Token", "GET", v + ok, userHeaders(demo, "demo-client", ""), 403, msgInvalidAuth},
		{"two Auth-Token headers", "GET", v + ok, append(userHeaders(demo, "demo-client", "demo-auth-token"), [2]string{"Auth-Token", "demo-auth-token"}), 403, msgInvalidAuth},
		{"information missing auth_id", "GET", info, userHeaders(demo, "demo-client", ""), 403, msgInvalidAuthID},
		{"information unknown auth_id", "GET", info + "?auth_id=999", userHeaders(demo, "demo-client", ""), 403, msgInvalidAuthID},
		{"information other client's auth_id", "GET", info + "?auth_id=3", userHeaders(demo, "demo-client", ""), 403, msgInvalidAuthID},
		{"information other client's auth_id (other)", "GET", info + "?auth_id=1", userHeaders(other, "other-client", ""), 403, msgInvalidAuthID},
		{"flag 2", "GET", v + "?auth_id=1&user_data=1&google=2", userHeaders(demo, "demo-client", "demo-auth-token"), 400, flagMsg("google")},
		{"flag 0", "GET", info + "?auth_id=1&microsoft=0", userHeaders(demo, "demo-client", ""), 400, flagMsg("microsoft")},
		{"empty flag", "GET", info + "?auth_id=1&github=", userHeaders(demo, "demo-client", ""), 400, flagMsg("github")},
		{"flag true", "GET", info + "?auth_id=1&discord=true", userHeaders(demo, "demo-client", ""), 400, flagMsg("discord")},
		{"duplicate flag", "GET", v + "?auth_id=1&user_data=1&google=1&google=1", userHeaders(demo, "demo-client", "demo-auth-token"), 400, "Duplicate parameter: google"},
		{"duplicate auth_id", "GET", info + "?auth_id=1&auth_id=1", userHeaders(demo, "demo-client", ""), 400, "Duplicate parameter: auth_id"},
		{"duplicate user_data", "GET", v + "?auth_id=1&user_data=1&user_data=1", userHeaders(demo, "demo-client", "demo-auth-token"), 400, "Duplicate parameter: user_data"},
		{"flags without user_data", "GET", v + "?auth_id=1&google=1", userHeaders(demo, "demo-client", "demo-auth-token"), 400, msgNeedsUserData},
		{"flags with user_data=0", "GET", v + "?auth_id=1&user_data=0&github=8", userHeaders(demo, "demo-client", "demo-auth-token"), 400, msgNeedsUserData},
		{"bad user_data", "GET", v + "?auth_id=1&user_data=yes", userHeaders(demo, "demo-client", "demo-auth-token"), 400, msgBadUserData},
		{"malformed query", "GET", v + "?auth_id=1&user_data=%zz", userHeaders(demo, "demo-client", "demo-auth-token"), 400, msgMalformed},
		{"required account missing", "GET", v + "?auth_id=2&user_data=1&google=8", userHeaders(demo, "demo-client", "plain-auth-token"), 403, "Required linked account missing: google"},
		{"required accounts missing", "GET", v + "?auth_id=2&user_data=1&github=8&discord=8&google=8&microsoft=1", userHeaders(demo, "demo-client", "plain-auth-token"), 403, "Required linked account missing: google, github"},
		{"required account missing (information)", "GET", info + "?auth_id=2&microsoft=8", userHeaders(demo, "demo-client", ""), 403, "Required linked account missing: microsoft"},
		{"POST validate", "POST", v + ok, userHeaders(demo, "demo-client", "demo-auth-token"), 405, msgMethodNotAllow},
		{"DELETE information", "DELETE", info, nil, 405, msgMethodNotAllow},
		{"no trailing slash", "GET", "/v1/user/validate" + ok, userHeaders(demo, "demo-client", "demo-auth-token"), 404, msgNotFound},
		// Header problems are reported before token problems, token before client, client before query.
		{"headers before token", "GET", v + "?google=9", hdrs{{"Authorization", "Bearer nope"}}, 400, msgHeaders},
		{"token before client", "GET", v + "?google=9", userHeaders("nope", "nobody", ""), 401, msgInvalidToken},
		{"client before query", "GET", v + "?google=9", userHeaders(demo, "nobody", ""), 403, msgInvalidClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, tc.method, tc.target, tc.headers, "")
			wantError(t, r, tc.status, tc.msg)
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	logs := g.Logs.String()
	for _, secret := range []string{demo, other, foreign, "demo-auth-token", "plain-auth-token", "demo-secret", "other-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret or token: %q", secret)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	g := start(t, "")
	g.Clock().Freeze(true)
	tok := token(t, g, "demo-client", "demo-secret")
	validate := func() response {
		return send(t, g, http.MethodGet, validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token"), "")
	}
	information := func() response {
		return send(t, g, http.MethodGet, informationSampleQuery, userHeaders(tok, "demo-client", ""), "")
	}
	g.Clock().Advance(3599 * time.Second)
	dataOf(t, validate())
	dataOf(t, information())
	g.Clock().Advance(time.Second) // exactly expires_in after issue
	wantError(t, validate(), 401, msgExpiredToken)
	wantError(t, information(), 401, msgExpiredToken)
	g.Clock().Advance(48 * time.Hour)
	wantError(t, validate(), 401, msgExpiredToken)
}

func TestExpiredApplication(t *testing.T) {
	g := start(t, "")
	// expiring-client's expires_at is 10 minutes after the test started.
	tok := token(t, g, "expiring-client", "expiring-secret")
	r := send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=1", userHeaders(tok, "expiring-client", "demo-auth-token"), "")
	wantError(t, r, 403, msgInvalidAuth) // the client is fine; auth 1 is demo-client's
	g.Clock().Advance(11 * time.Minute)  // the token (1 h) lives on, the application does not
	for _, target := range []string{validateSampleQuery, informationSampleQuery} {
		r := send(t, g, http.MethodGet, target, userHeaders(tok, "expiring-client", "demo-auth-token"), "")
		wantError(t, r, 403, msgAppExpired)
	}
	// The token endpoints answer 400, the only status of the token document.
	wantError(t, postForm(t, g, "/v1/token/", "client_id=expiring-client&client_secret=expiring-secret"), 400, msgAppExpired)
	wantError(t, postForm(t, g, "/v1/token/refresh/", "client_id=expiring-client&client_secret=expiring-secret&access_token="+tok), 400, msgAppExpired)

	// A disabled (inactive) application gets the same answer.
	demo := token(t, g, "demo-client", "demo-secret")
	ctx := context.Background()
	c, err := g.App.Store.GetClient(ctx, "demo-client")
	if err != nil {
		t.Fatal(err)
	}
	c.Disabled = true
	if err := g.App.Store.PutClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	g.App.Engine.InvalidateClient("demo-client") // as the admin API does after a change
	wantError(t, send(t, g, http.MethodGet, validateSampleQuery, userHeaders(demo, "demo-client", "demo-auth-token"), ""), 403, msgAppExpired)
	wantError(t, postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret"), 400, msgAppExpired)
}

func TestCrossClientToken(t *testing.T) {
	g := start(t, "")
	demo := token(t, g, "demo-client", "demo-secret")
	other := token(t, g, "other-client", "other-secret")
	// Each token works with its own Client-ID ...
	dataOf(t, send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=3&user_data=1", userHeaders(other, "other-client", "other-auth-token"), ""))
	dataOf(t, send(t, g, http.MethodGet, validateSampleQuery, userHeaders(demo, "demo-client", "demo-auth-token"), ""))
	// ... and with no other, whatever the auth_id.
	for _, tc := range []struct{ tok, client, auth, target string }{
		{other, "demo-client", "demo-auth-token", validateSampleQuery},
		{other, "demo-client", "", informationSampleQuery},
		{demo, "other-client", "other-auth-token", "/v1/user/validate/?auth_id=3&user_data=1"},
		{demo, "other-client", "", "/v1/user/information/?auth_id=3"},
	} {
		wantError(t, send(t, g, http.MethodGet, tc.target, userHeaders(tc.tok, tc.client, tc.auth), ""), 403, msgInvalidClient)
	}
}

func refreshForm(id, secret, tok string) string {
	return url.Values{"client_id": {id}, "client_secret": {secret}, "access_token": {tok}}.Encode()
}

func TestRefresh(t *testing.T) {
	g := start(t, "")
	g.Clock().Freeze(true)
	validate := func(tok string) response {
		return send(t, g, http.MethodGet, validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token"), "")
	}
	t1 := token(t, g, "demo-client", "demo-secret")
	g.Clock().Advance(2 * time.Hour)
	wantError(t, validate(t1), 401, msgExpiredToken)

	// An expired token is refreshed into a new one with the token endpoint's shape.
	t2 := tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", t1)), 3600)
	if t2 == t1 {
		t.Fatal("refresh returned the same token")
	}
	dataOf(t, validate(t2))
	wantError(t, validate(t1), 401, msgInvalidToken) // the old token is dead

	// A live token can be refreshed too; the chain goes on.
	t3 := tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", t2)), 3600)
	wantError(t, validate(t2), 401, msgInvalidToken)
	dataOf(t, validate(t3))

	// Presenting an already-refreshed token again is reuse: the chain dies.
	wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", t1)), 400, msgInvalidToken)
	wantError(t, validate(t3), 401, msgInvalidToken)
	wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", t3)), 400, msgInvalidToken)

	// Another chain is untouched by that revocation.
	u1 := token(t, g, "demo-client", "demo-secret")
	u2 := tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", u1)), 3600)
	dataOf(t, validate(u2))
}

func TestRefreshWindow(t *testing.T) {
	g := start(t, "")
	g.Clock().Freeze(true)
	a := token(t, g, "demo-client", "demo-secret")
	b := token(t, g, "demo-client", "demo-secret")
	g.Clock().Advance(24*time.Hour - time.Second)
	// The sweeper keeps expired tokens 24 h, so a token stays refreshable for the whole default window.
	if _, err := g.App.Engine.SweepExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", a)), 3600)
	g.Clock().Advance(time.Second)
	wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", b)), 400, msgInvalidToken)
}

func TestRefreshErrors(t *testing.T) {
	g := start(t, "")
	demo := token(t, g, "demo-client", "demo-secret")
	other := token(t, g, "other-client", "other-secret")
	cases := []struct {
		name    string
		method  string
		headers [][2]string
		body    string
		status  int
		msg     string
	}{
		{"empty body", "POST", [][2]string{formCT}, "", 400, msgMissingCreds},
		{"token only", "POST", [][2]string{formCT}, "access_token=" + demo, 400, msgMissingCreds},
		{"missing secret", "POST", [][2]string{formCT}, "client_id=demo-client&access_token=" + demo, 400, msgMissingCreds},
		{"wrong secret", "POST", [][2]string{formCT}, refreshForm("demo-client", "wrong", demo), 400, msgInvalidCreds},
		{"unknown client", "POST", [][2]string{formCT}, refreshForm("nobody", "x", demo), 400, msgInvalidCreds},
		{"missing access_token", "POST", [][2]string{formCT}, "client_id=demo-client&client_secret=demo-secret", 400, msgMissingAccess},
		{"missing access_token, wrong secret", "POST", [][2]string{formCT}, "client_id=demo-client&client_secret=bad", 400, msgInvalidCreds},
		{"unknown access_token", "POST", [][2]string{formCT}, refreshForm("demo-client", "demo-secret", "not-a-token"), 400, msgInvalidToken},
		{"other client's token", "POST", [][2]string{formCT}, refreshForm("demo-client", "demo-secret", other), 400, msgInvalidToken},
		{"client without refresh_token grant", "POST", [][2]string{formCT}, refreshForm("your_client_id", "your_client_secret", demo), 400, msgGrant},
		{"expired application", "POST", [][2]string{formCT}, refreshForm("expired-client", "expired-secret", demo), 400, msgAppExpired},
		{"duplicate access_token", "POST", [][2]string{formCT}, refreshForm("demo-client", "demo-secret", demo) + "&access_token=x", 400, "Duplicate parameter: access_token"},
		{"json body", "POST", [][2]string{{"Content-Type", "application/json"}}, `{"client_id":"demo-client"}`, 400, msgContentType},
		{"malformed", "POST", [][2]string{formCT}, "access_token=%", 400, msgMalformed},
		{"GET", "GET", nil, "", 405, msgMethodNotAllow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, g, tc.method, "/v1/token/refresh/", tc.headers, tc.body)
			wantError(t, r, tc.status, tc.msg)
			if bytes.Contains(r.body, []byte(demo)) || bytes.Contains(r.body, []byte(other)) {
				t.Errorf("error body echoes a token")
			}
		})
	}
	// None of the failures above consumed demo's token.
	tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", demo)), 3600)
	if logs := g.Logs.String(); strings.Contains(logs, demo) || strings.Contains(logs, "demo-secret") {
		t.Errorf("logs contain a token or secret")
	}
}

func TestOptions(t *testing.T) {
	t.Run("lifetimes", func(t *testing.T) {
		g := start(t, "access_token_ttl: 10m, refresh_token_ttl: 2h")
		g.Clock().Freeze(true)
		r := postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret")
		a := tokenFrom(t, r, 600)
		b := token2(t, g, 600)
		g.Clock().Advance(10 * time.Minute)
		wantError(t, send(t, g, http.MethodGet, informationSampleQuery, userHeaders(a, "demo-client", ""), ""), 401, msgExpiredToken)
		tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", a)), 600)
		g.Clock().Advance(110 * time.Minute) // 2 h after issue
		wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", b)), 400, msgInvalidToken)
	})
	t.Run("long refresh window is honoured past sweeps", func(t *testing.T) {
		g := start(t, "refresh_token_ttl: 720h")
		if strings.Contains(g.Logs.String(), "refresh_token_ttl exceeds") {
			t.Errorf("warning although the gateway keeps tokens for the whole window")
		}
		if got := g.App.Engine.SweepRetention(); got < 720*time.Hour {
			t.Fatalf("sweep retention %v is shorter than the 720h window", got)
		}
		tok := token(t, g, "demo-client", "demo-secret")
		g.Clock().Advance(700 * time.Hour)
		if _, err := g.App.Engine.SweepExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		tokenFrom(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", tok)), 3600)
	})
	t.Run("disable_refresh", func(t *testing.T) {
		g := start(t, "disable_refresh: true")
		tok := token(t, g, "demo-client", "demo-secret")
		wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", tok)), 404, msgNotFound)
		dataOf(t, send(t, g, http.MethodGet, validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token"), ""))
	})
	t.Run("prefix", func(t *testing.T) {
		g := start(t, "prefix: /accounda")
		r := postForm(t, g, "/accounda/v1/token/", "client_id=demo-client&client_secret=demo-secret")
		tok := tokenFrom(t, r, 3600)
		dataOf(t, send(t, g, http.MethodGet, "/accounda"+validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token"), ""))
		if r := postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret"); r.status != 404 {
			t.Errorf("unprefixed path: status %d, want 404", r.status)
		}
		wantError(t, send(t, g, http.MethodGet, "/accounda/v1/user/nope/", nil, ""), 404, msgNotFound)
	})
}

// token2 gets a demo-client token and checks its lifetime.
func token2(t *testing.T, g *tokengatetest.Gateway, expiresIn float64) string {
	t.Helper()
	return tokenFrom(t, postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret"), expiresIn)
}
