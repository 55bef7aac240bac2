package gateway_test

import (
	"context"
	"errors"
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

// late is a dialect added at run time: GET on a path stub-a serves POST on.
type late struct{ stub }

func (l *late) Mount(r dialects.Router, _ dialects.Deps) error {
	r.Add(http.MethodGet, "/stub-a/token", func(c echo.Context) error {
		return c.String(http.StatusOK, "late:"+wire.RequestOf(c).Instance)
	})
	r.Add(http.MethodGet, "/late/only", func(c echo.Context) error { return c.String(http.StatusOK, "only") })
	return nil
}

// TestRunTimeRoutes: an instance added at run time is served before echo's
// router, through the route middleware; methods on a path it shares with a
// config instance go to whichever serves them; other methods are a 405 in
// its style listing both; removing it restores the router's answers.
func TestRunTimeRoutes(t *testing.T) {
	cfg := &config.Config{Listen: "127.0.0.1:0", Dialects: map[string]config.DialectConfig{"stub-a": {}}}
	routeMW, syncs := 0, 0
	g, err := gateway.New(gateway.Options{Config: cfg, Engine: core.New(core.Options{}),
		Middleware: []echo.MiddlewareFunc{func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error { routeMW++; return next(c) }
		}},
		Sync: func(echo.Context) error { syncs++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		g.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	if rec := serve(http.MethodGet, "/stub-a/token"); rec.Code != 405 || rec.Body.String() != `{"stub":"invalid_request"}`+"\n" {
		t.Fatalf("before: %d %s", rec.Code, rec.Body)
	}
	l := &late{stub{name: "late"}}
	if err := g.AddInstance(context.Background(), dialects.Provide(dialects.Instance{Name: "late", Type: "late"}, l, "", "")); err != nil {
		t.Fatal(err)
	}
	routeMW, syncs = 0, 0
	for _, tc := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{http.MethodGet, "/stub-a/token", 200, "late:late", ""},
		{http.MethodHead, "/stub-a/token", 200, "late:late", ""},
		{http.MethodGet, "/late/only", 200, "only", ""},
		{http.MethodPost, "/stub-a/token", 200, "stub-a", ""},
		{http.MethodPut, "/stub-a/token", 405, `{"stub":"invalid_request"}` + "\n", "OPTIONS, GET, HEAD, POST"},
		{http.MethodOptions, "/stub-a/token", 204, "", "OPTIONS, GET, HEAD, POST"},
		{http.MethodPost, "/late/only", 405, `{"stub":"invalid_request"}` + "\n", "OPTIONS, GET, HEAD"},
		{http.MethodGet, "/late/nope", 404, `{"stub":"not_found"}` + "\n", ""},
	} {
		rec := serve(tc.method, tc.path)
		if rec.Code != tc.status || rec.Body.String() != tc.body || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %q Allow %q", tc.method, tc.path, rec.Code, rec.Body, rec.Header().Get("Allow"))
		}
	}
	if routeMW != 4 || syncs != 8 {
		t.Errorf("route middleware ran %d times (want 4, the served routes), sync %d (want 8)", routeMW, syncs)
	}
	serve(http.MethodGet, "/healthz")
	if syncs != 8 {
		t.Error("/healthz synced")
	}
	if got := g.Routes()["late"]; len(got) != 2 {
		t.Errorf("routes %v", got)
	}

	var ce *dialects.CollisionError
	again := dialects.Provide(dialects.Instance{Name: "late2", Type: "late"}, &late{stub{name: "late2"}}, "", "")
	if err := g.AddInstance(context.Background(), again); !errors.As(err, &ce) || !strings.Contains(err.Error(), "claimed by dialects late and late2") {
		t.Fatalf("collision: %v", err)
	}
	if err := g.RemoveInstance("stub-a"); core.KindOf(err) != core.KindConflict {
		t.Fatalf("removing a config instance: %v", err)
	}
	if err := g.RemoveInstance("late"); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveInstance("late"); core.KindOf(err) != core.KindNotFound {
		t.Fatalf("second removal: %v", err)
	}
	if rec := serve(http.MethodGet, "/stub-a/token"); rec.Code != 405 || rec.Header().Get("Allow") != "OPTIONS, POST" {
		t.Fatalf("after removal: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if rec := serve(http.MethodGet, "/late/only"); rec.Code != 404 {
		t.Fatalf("after removal: %d %s", rec.Code, rec.Body)
	}
	// Its routes are free again.
	if err := g.AddInstance(context.Background(), again); err != nil {
		t.Fatal(err)
	}
}
