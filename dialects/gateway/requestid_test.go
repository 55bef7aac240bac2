package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/gateway"
)

// TestRequestIDs: a sane X-Request-Id is kept, anything else replaced by a
// fresh id; either way it is echoed and appears in the access log and the
// journal entry.
func TestRequestIDs(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	send := func(id string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", "demo-secret")
		if id != "" {
			req.Header.Set(gateway.HeaderRequestID, id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get(gateway.HeaderRequestID)
	}
	const mine = "3f2c9a1e-7b4d-4e2a-9c1f-0123456789ab"
	if got := send(mine); got != mine {
		t.Errorf("a UUID request id came back as %q", got)
	}
	seen := map[string]bool{}
	for _, bad := range []string{"", "has space", "quote\"", strings.Repeat("a", 129), "emoji😀", "tab\there", "semi;colon"} {
		got := send(bad)
		if got == "" || got == bad || seen[got] || strings.ContainsAny(got, " \"\t;") {
			t.Errorf("request id %q came back as %q", bad, got)
		}
		seen[got] = true
	}
	if got := send(strings.Repeat("a", 128)); got != strings.Repeat("a", 128) {
		t.Errorf("a 128-character id was replaced by %q", got)
	}

	if !strings.Contains(g.Logs.String(), `"request_id":"`+mine+`"`) {
		t.Errorf("the access log lacks the request id:\n%s", g.Logs.String())
	}
	entries, err := g.Admin.Requests(control.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 9 || entries[len(entries)-1].RequestID != mine {
		t.Fatalf("journal: %d entries, oldest request id %q", len(entries), entries[len(entries)-1].RequestID)
	}
	for _, e := range entries[:len(entries)-1] {
		if e.RequestID == "" || e.RequestID == mine {
			t.Errorf("journal entry with request id %q", e.RequestID)
		}
	}
}
