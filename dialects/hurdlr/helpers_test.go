package hurdlr_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const (
	callback      = "http://localhost:8081/callback"
	otherCallback = "http://localhost:8081/other"
	tokenPath     = "/rest/v5/accountant/token"
	authorizePath = "/rest/v5/accountant/authorize"
)

// gatewayConfig returns a gateway config enabling only hurdlr with dialectYAML as
// its settings (e.g. "{}" or "{require_bearer: true}").
func gatewayConfig(dialectYAML string) string {
	return `
dialects:
  hurdlr: ` + dialectYAML + `
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["` + callback + `", "` + otherCallback + `"]
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
}

func start(t testing.TB, dialectYAML string) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: gatewayConfig(dialectYAML)})
}

// tokenPattern is Hurdlr's documented token shape.
var tokenPattern = regexp.MustCompile(`^[0-9a-f]{64}\.[0-9a-f]{32}$`)

// seed holds the six --data fields of the vendor's curl, in its order.
type seed struct {
	ClientID, ClientSecret, GrantType, RefreshToken, Code, UserID string
	// extra fields a curl user would add with --data-urlencode
	RedirectURI, CodeVerifier string
}

// body is the request body curl builds from the vendor curl's --data flags: each
// field as given (curl --data does not encode), joined with '&'.
func (s seed) body() string {
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
func seedRequest(t testing.TB, g *tokengatetest.Gateway, s seed) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+tokenPath, strings.NewReader(s.body()))
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
func tokens(t testing.TB, g *tokengatetest.Gateway, s seed) (access, refresh string) {
	t.Helper()
	r := do(t, nil, seedRequest(t, g, s))
	if r.status != http.StatusOK {
		t.Fatalf("token request answered %d: %s", r.status, r.raw)
	}
	checkTokenBody(t, r)
	return r.body["access_token"].(string), r.body["refresh_token"].(string)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkTokenBody checks a success response: headers, exact key set, token
// format, documented expires_in and scope.
func checkTokenBody(t testing.TB, r response) {
	t.Helper()
	if got := strings.Join(keys(r.body), ","); got != "access_token,created_at,expires_in,refresh_token,scope" {
		t.Fatalf("token body keys = %s\n%s", got, r.raw)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if s, _ := r.body[k].(string); !tokenPattern.MatchString(s) {
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
	if !isErrorStyle(r.header, r.raw) {
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

// isErrorStyle reports whether a response is {"error": "...",
// "error_description": "..."} and nothing else.
func isErrorStyle(h http.Header, raw string) bool {
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
	g      *tokengatetest.Gateway
	client *http.Client
}

func newBrowser(t testing.TB, g *tokengatetest.Gateway) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, g: g, client: noRedirect(jar)}
}

func authorizeURL(g *tokengatetest.Gateway, q url.Values) string {
	return g.URL + authorizePath + "?" + q.Encode()
}

func authorizeQuery(redirect, state string) url.Values {
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
func code(t testing.TB, g *tokengatetest.Gateway, q url.Values) string {
	t.Helper()
	back := newBrowser(t, g).login(q, "johndoe", "demo-password")
	if back.Get("state") != q.Get("state") || back.Get("code") == "" {
		t.Fatalf("redirect query %v", back)
	}
	return back.Get("code")
}

func jsonDecode(raw string, v any) error { return json.Unmarshal([]byte(raw), v) }
