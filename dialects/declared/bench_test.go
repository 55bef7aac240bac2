package declared_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// BenchmarkToken compares errorId's token request served by the built-in
// dialect and by the errorId spec, in process (the handler chain only, no
// network): the declared dialect's cost per request next to the Go one's.
func BenchmarkToken(b *testing.B) {
	g := tokengatetest.Start(b, tokengatetest.Options{Dir: "testdata", YAML: `
dialects:
  errorid: {}
  declared: {type: declared, spec: errorid.yaml, prefix: /declared}
limits: {auth_failures: {disabled: true}}
log_level: warn
` + demoClients})
	h := g.App.Gateway.Handler()
	for _, bc := range []struct{ name, path string }{{"go", "/v1/oauth/token"}, {"declared", "/declared/v1/oauth/token"}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bc.path, strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
