package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/dialects/wire"
)

// stub is a minimal dialect: one route, errors as {"stub": kind}.
type stub struct {
	name, path string
	panics     bool
}

func (s *stub) Configure(dialects.Instance) error { return nil }
func (s *stub) Owns(path string) bool             { return dialects.HasPathPrefix(path, "/"+s.name) }
func (s *stub) Mount(r dialects.Router, _ dialects.Deps) error {
	r.Add(http.MethodPost, s.path, func(c echo.Context) error {
		if s.panics {
			panic("boom: secret internal detail")
		}
		return c.String(http.StatusOK, s.name)
	})
	return nil
}
func (s *stub) Describe(_ echo.Context, e *core.Error) wire.Answer {
	status := http.StatusBadRequest
	switch {
	case e.Kind == core.KindNotFound:
		status = 404
	case e.Reason == core.ReasonNotAllowed:
		status = 405
	case e.Kind == core.KindServerError:
		status = 500
	}
	return wire.Answer{Status: status, Code: string(e.Kind)}
}
func (s *stub) WriteError(c echo.Context, a wire.Answer) error {
	return c.JSON(a.Status, map[string]string{"stub": a.Code})
}

func init() {
	dialects.Register("stub-a", func() dialects.Dialect { return &stub{name: "stub-a", path: "/stub-a/token"} })
	dialects.Register("stub-b", func() dialects.Dialect { return &stub{name: "stub-b", path: "/stub-a/token"} })
	dialects.Register("stub-panic", func() dialects.Dialect {
		return &stub{name: "stub-panic", path: "/stub-panic/token", panics: true}
	})
}

func newGateway(t *testing.T, ds map[string]config.DialectConfig) (*gateway.Gateway, error) {
	t.Helper()
	cfg := &config.Config{Listen: "127.0.0.1:0", Dialects: ds}
	cfg.Limits.MaxBodyBytes = 1024
	return gateway.New(gateway.Options{Config: cfg, Engine: core.New(core.Options{})})
}

func TestUnknownDialectAndCollisionsFailStartup(t *testing.T) {
	if _, err := newGateway(t, map[string]config.DialectConfig{"nope": {}}); err == nil || !strings.Contains(err.Error(), `dialects[nope]: unknown dialect type "nope"`) {
		t.Fatalf("unknown dialect: %v", err)
	}
	_, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}, "stub-b": {}})
	if err == nil || !strings.Contains(err.Error(), "route collision: POST /stub-a/token") {
		t.Fatalf("collision: %v", err)
	}
	// The same routes under different prefixes do not collide.
	if _, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}, "stub-b": {Prefix: "/b"}}); err != nil {
		t.Fatal(err)
	}
	// Nor on different listeners.
	if _, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}, "stub-b": {Listen: "127.0.0.1:9999"}}); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}, "stub-b": {Enabled: &off}}); err != nil {
		t.Fatal(err)
	}
}

func call(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

func TestErrorsRenderedByTheOwningDialect(t *testing.T) {
	g, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}, "stub-panic": {}})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler()
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/stub-a/token", 200, "stub-a"},
		{"GET", "/stub-a/token", 405, `{"stub":"invalid_request"}`},
		{"GET", "/stub-a/nothing", 404, `{"stub":"not_found"}`},
		{"POST", "/stub-panic/token", 500, `{"stub":"server_error"}`},
		{"GET", "/healthz", 200, `{"status":"ok"}`},
		{"GET", "/elsewhere", 404, `{"error":"not_found","error_description":"no such endpoint"}`},
	}
	for _, tc := range cases {
		status, body := call(t, h, tc.method, tc.path, "")
		if status != tc.status || strings.TrimSpace(body) != tc.body {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, status, body, tc.status, tc.body)
		}
		if strings.Contains(body, "secret internal detail") || strings.Contains(body, "Not Found") {
			t.Errorf("%s %s leaked: %s", tc.method, tc.path, body)
		}
	}
	routes := g.Routes()
	if len(routes["stub-a"]) != 1 || routes["stub-a"][0].String() != "POST /stub-a/token" {
		t.Fatalf("routes %v", routes)
	}
}

func TestPrefixMount(t *testing.T) {
	g, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {Prefix: "/v2/"}})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := call(t, g.Handler(), "POST", "/v2/stub-a/token", ""); status != 200 {
		t.Fatalf("prefixed route: %d", status)
	}
	status, body := call(t, g.Handler(), "GET", "/v2/stub-a/other", "")
	var m map[string]string
	if status != 404 || json.Unmarshal([]byte(body), &m) != nil || m["stub"] != "not_found" {
		t.Fatalf("unrouted prefixed path: %d %s", status, body)
	}
	if status, _ := call(t, g.Handler(), "POST", "/stub-a/token", ""); status != 404 {
		t.Fatalf("unprefixed route still served: %d", status)
	}
}

func TestOversizedBodyIsTheDialectsError(t *testing.T) {
	g, err := newGateway(t, map[string]config.DialectConfig{"stub-a": {}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/stub-a/token", strings.NewReader(strings.Repeat("x", 2048)))
	g.Handler().ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 400 || string(body) != "{\"stub\":\"invalid_request\"}\n" {
		t.Fatalf("oversized: %d %s", rec.Code, body)
	}
}

// A form with more parameters than limits.max_params is refused by the decoder.
func TestMaxParams(t *testing.T) {
	cfg := &config.Config{Listen: "127.0.0.1:0", Dialects: map[string]config.DialectConfig{"paramcount": {}}}
	cfg.Limits.MaxParams = 3
	g, err := gateway.New(gateway.Options{Config: cfg, Engine: core.New(core.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]int{"a=1&b=2&c=3": 200, "a=1&b=2&c=3&d=4": 400} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/paramcount", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		g.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%q: %d, want %d", body, rec.Code, want)
		}
	}
}

type paramCount struct{ stub }

func (p *paramCount) Mount(r dialects.Router, _ dialects.Deps) error {
	r.Add(http.MethodPost, "/paramcount", func(c echo.Context) error {
		if _, err := wire.Form(c); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	return nil
}

func init() {
	dialects.Register("paramcount", func() dialects.Dialect { return &paramCount{stub{name: "paramcount"}} })
}
