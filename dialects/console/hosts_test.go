package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// DNS rebinding: a page that rebinds its own name to 127.0.0.1 reaches the
// console's listener, but the console answers only a Host that names this
// machine, on the main listener and on a separate admin listener alike.
func TestConsoleRefusesARebindingHost(t *testing.T) {
	for _, adminListen := range []string{"", "localhost:0"} {
		t.Run("admin_listen="+adminListen, func(t *testing.T) {
			yaml := "admin_token: test-admin-token\ndialects: {oauth2: {}}\n"
			if adminListen != "" {
				yaml += "admin_listen: " + adminListen + "\n"
			}
			g := tokengatetest.Start(t, tokengatetest.Options{YAML: yaml})
			base := g.URL
			if adminListen != "" {
				base = "http://" + g.App.Addr(adminListen)
				if st := hostCall(t, g.URL, "localhost", http.MethodGet, "/_admin/ui/"); st != http.StatusNotFound {
					t.Fatalf("the console on the main listener: %d, want 404 (it is on admin_listen)", st)
				}
			}
			for _, host := range []string{"attacker.example", "attacker.example:80", "127.0.0.1.nip.io", "localhost.attacker.example"} {
				for _, path := range []string{"/_admin/ui/", "/_admin/ui/login", "/_admin/ui/static/console.js", "/_admin/ui/journal/events"} {
					if st := hostCall(t, base, host, http.MethodGet, path); st != http.StatusForbidden {
						t.Errorf("Host %s, GET %s: %d, want 403", host, path, st)
					}
				}
				if st := hostCall(t, base, host, http.MethodPost, "/_admin/ui/login"); st != http.StatusForbidden {
					t.Errorf("Host %s, POST /_admin/ui/login: %d, want 403", host, st)
				}
			}
			if st := hostCall(t, base, "localhost", http.MethodGet, "/_admin/ui/login"); st != http.StatusOK {
				t.Errorf("Host localhost: %d, want 200", st)
			}
		})
	}
}

func hostCall(t *testing.T, base, host, method, path string) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(url.Values{"token": {"test-admin-token"}}.Encode()))
	req.Host = host
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// console.enabled: false serves no console, and the journal feeds no live
// view (nothing is offered to one on the request path).
func TestConsoleCanBeTurnedOff(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "admin_token: test-admin-token\nconsole: {enabled: false}\ndialects: {oauth2: {}}\n"})
	// What is left is the admin API, which wants its bearer token.
	if st := hostCall(t, g.URL, "localhost", http.MethodGet, "/_admin/ui/login"); st != http.StatusUnauthorized {
		t.Fatalf("a disabled console answered %d", st)
	}
	if g.App.Console != nil || g.App.ConsoleBackend != nil || g.App.Plane.Live != nil {
		t.Fatal("a disabled console was built")
	}
	if _, err := g.Admin.Clients(); err != nil {
		t.Fatalf("the admin API without the console: %v", err)
	}
}
