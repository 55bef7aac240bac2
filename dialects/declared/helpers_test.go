package declared_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

const callback = "http://localhost:8081/callback"

// reply is an answer as the tests look at it.
type reply struct {
	status int
	header http.Header
	raw    string
	json   map[string]any // when the body is JSON
}

// send makes one request; header holds extra headers ("Accept": ...).
func send(t testing.TB, client *http.Client, method, u, contentType, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			t.Fatalf("%s %s: JSON body does not decode: %v\n%s", method, u, err, raw)
		}
	}
	return r
}

func postForm(t testing.TB, u string, form url.Values, header map[string]string) reply {
	t.Helper()
	return send(t, nil, http.MethodPost, u, "application/x-www-form-urlencoded", form.Encode(), header)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// login signs johndoe in on a declared authorize page at authorizeURL (with
// its query) and returns the code the redirect carries.
func login(t testing.TB, authorizeURL string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := send(t, b, http.MethodGet, authorizeURL, "", "", nil)
	if page.status != http.StatusOK || !strings.Contains(page.raw, `name="password"`) {
		t.Fatalf("authorize page: %d %s", page.status, page.raw)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.raw, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", "johndoe")
	form.Set("password", "demo-password")
	form.Set("decision", "allow")
	action, _ := url.Parse(authorizeURL)
	r := send(t, b, http.MethodPost, action.Scheme+"://"+action.Host+action.Path, "application/x-www-form-urlencoded", form.Encode(), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login: %d %v %s", r.status, r.header, r.raw)
	}
	return loc.Query().Get("code")
}

// authorizeQuery is demo-client's authorization request.
func authorizeQuery(state string) string {
	return url.Values{"client_id": {"demo-client"}, "redirect_uri": {callback}, "response_type": {"code"},
		"state": {state}}.Encode()
}

// startYAML starts a gateway on a config whose relative spec paths are read
// from testdata.
func startYAML(t testing.TB, yaml string) *tokengatetest.Gateway {
	t.Helper()
	return tokengatetest.Start(t, tokengatetest.Options{YAML: yaml, Dir: "testdata"})
}

const demoClients = `
clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - {user_id: demo-user, username: johndoe, first_name: John, last_name: Doe, email: john.doe@example.com, password: demo-password}
`

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
