package tokengatetest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

func TestMyClient(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{}) // embedded demo config, fresh database

	// Your client, pointed at the gateway: only the base URL differs.
	getToken := func() int {
		resp, err := http.PostForm(g.URL+"/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"},
			"client_secret": {"demo-secret"}, "grant_type": {"client_credentials"}, "userId": {"demo-user"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// The next call fails with 503, the one after succeeds.
	if _, err := g.Admin.AddFault(control.Rule{Dialect: "hurdlr", Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if first, second := getToken(), getToken(); first != 503 || second != 200 {
		t.Fatalf("got %d then %d", first, second)
	}

	// Tokens expire without sleeping.
	if _, err := g.Admin.AdvanceClock(2 * time.Hour); err != nil {
		t.Fatal(err)
	}

	// What the client sent, secrets redacted.
	sent, err := g.Admin.Requests(control.Filter{Dialect: "hurdlr"})
	if err != nil || len(sent) != 2 || sent[0].Params["client_secret"][0] != control.Redacted {
		t.Fatalf("journal: %+v %v", sent, err)
	}
}
