package oauth2

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// The issuer is the URL of the listener a request arrived on: each local
// address keeps its own (remembered after the first request), a listener
// that is not TCP gives its address as it is, and without a local address
// the Host header stands in.
func TestIssuerFollowsTheLocalAddress(t *testing.T) {
	d := &Dialect{prefix: "/std"}
	e := echo.New()
	at := func(local net.Addr) string {
		req := httptest.NewRequest(http.MethodPost, "/std/oauth2/token", nil)
		req.Host = "forged.example"
		if local != nil {
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
		}
		return d.issuer(e.NewContext(req, httptest.NewRecorder()))
	}
	a := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	b := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}
	for range 2 { // the second round is answered from what the first remembered
		for _, c := range []struct {
			local net.Addr
			want  string
		}{
			{a, "http://127.0.0.1:8080/std"},
			{b, "http://127.0.0.1:9090/std"},
			{&net.UnixAddr{Name: "/run/tg.sock", Net: "unix"}, "http:///run/tg.sock/std"},
			{nil, "http://forged.example/std"},
		} {
			if got := at(c.local); got != c.want {
				t.Errorf("local address %v: issuer %q, want %q", c.local, got, c.want)
			}
		}
	}
	if n := len(d.issuers.byAddr); n != 2 {
		t.Errorf("%d issuers remembered, want 2 (the TCP addresses)", n)
	}
}
