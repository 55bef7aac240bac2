package tokengatetest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

// ExampleNew arranges a fault, moves the clock and reads what the client
// sent. In a test, tokengatetest.Start(t, opts) does the same and closes the
// gateway at t.Cleanup.
func ExampleNew() {
	g, err := tokengatetest.New(tokengatetest.Options{YAML: `
dialects:
  oauth2: {}
clients:
  - client_id: ci-client
    client_secret: ci-secret
    grants: [client_credentials]
`})
	if err != nil {
		panic(err)
	}
	defer g.Close()

	// The next request of ci-client fails with 503, the one after succeeds.
	if _, err := g.Admin.AddFault(control.Rule{ClientID: "ci-client", Status: 503, Count: 1}); err != nil {
		panic(err)
	}
	post := func() int {
		body := url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci-client"}, "client_secret": {"ci-secret"}}
		resp, err := http.Post(g.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(post(), post())

	// Move time instead of sleeping.
	if _, err := g.Admin.AdvanceClock(2 * time.Hour); err != nil {
		panic(err)
	}

	// Check what the client sent; secrets are redacted.
	sent, err := g.Admin.Requests(control.Filter{ClientID: "ci-client", Limit: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(sent[0].Status, sent[0].GrantType, sent[0].Params["client_secret"])
	// Output:
	// 503 200
	// 200 client_credentials [[redacted]]
}

// ExampleBrowser_Login signs a user in on the login page without reading
// HTML, as an OpenID Connect client test needs; a second authorization in
// the same browser rides on the login session.
func ExampleBrowser_Login() {
	g, err := tokengatetest.New(tokengatetest.Options{YAML: `
dialects:
  oauth2: {}
clients:
  - client_id: app
    client_secret: app-secret
    grants: [authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - {user_id: u1, username: jane, password: jane-password}
`})
	if err != nil {
		panic(err)
	}
	defer g.Close()
	auth := g.URL + "/oauth2/authorize?" + url.Values{"client_id": {"app"}, "response_type": {"code"},
		"redirect_uri": {"http://localhost:8081/callback"}, "scope": {"openid"}, "state": {"s1"}}.Encode()

	b := g.Browser()
	loc, err := b.Login(auth, "jane", "jane-password")
	if err != nil {
		panic(err)
	}
	fmt.Println(loc.Host+loc.Path, loc.Query().Get("state"), loc.Query().Get("code") != "")

	loc, err = b.Authorize(auth + "&prompt=none")
	if err != nil {
		panic(err)
	}
	fmt.Println(loc.Query().Get("code") != "")
	// Output:
	// localhost:8081/callback s1 true
	// true
}
