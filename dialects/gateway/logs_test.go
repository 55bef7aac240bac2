package gateway_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/dialects/wire"
)

// noisy notes whatever client id and grant a request presents and refuses it.
type noisy struct{ stub }

func (n *noisy) Mount(r dialects.Router, _ dialects.Deps) error {
	r.Add(http.MethodPost, "/noisy/token", func(c echo.Context) error {
		form, err := wire.Form(c)
		if err != nil {
			return err
		}
		wire.NoteClient(c, form.Get("client_id"), form.Get("grant_type"))
		return &core.Error{Kind: core.KindInvalidClient, Description: "client authentication failed"}
	})
	return nil
}

func init() {
	dialects.Register("noisy", func() dialects.Dialect { return &noisy{stub{name: "noisy"}} })
}

// The log flood: one source sending 1 MB client ids (1,000 of them
// here; it wrote 2.75 GB in 20 s). Every logged value is cut to
// LogValueBytes and repeated lines of one kind from one source are held
// back after LogBurst, so the log stays small.
func TestLogFloodIsBounded(t *testing.T) {
	var logs bytes.Buffer
	cfg := &config.Config{Listen: "127.0.0.1:0", Dialects: map[string]config.DialectConfig{"noisy": {}}}
	cfg.Limits.MaxBodyBytes = 1 << 20
	wall := core.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	g, err := gateway.New(gateway.Options{Config: cfg, Engine: core.New(core.Options{}),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), LogClock: wall})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat(rand.Text(), (128<<10)/26)
	for i := range 1000 {
		body := url.Values{"client_id": {big + string(rune('a'+i%26))}, "grant_type": {big}}.Encode()
		req := httptest.NewRequest("POST", "/noisy/token?"+big[:2000], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		g.Handler().ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body.String())
		}
	}
	// A second later, one more line says how many were held back.
	wall.Advance(time.Second)
	req := httptest.NewRequest("POST", "/noisy/token", strings.NewReader("client_id=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	g.Handler().ServeHTTP(httptest.NewRecorder(), req)
	// Another source is logged still.
	req = httptest.NewRequest("POST", "/unrouted/"+big[:4000], nil)
	req.RemoteAddr = "198.51.100.7:4444"
	g.Handler().ServeHTTP(httptest.NewRecorder(), req)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	t.Logf("1,001 requests with 128 KB ids: %d log lines, %d bytes", len(lines), logs.Len())
	if len(lines) != gateway.LogBurst+3 || logs.Len() > 32<<10 {
		t.Fatalf("%d lines, %d bytes of log for 1,001 requests:\n%s", len(lines), logs.Len(), logs.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"client_id", "grant_type", "route"} {
			if v, _ := m[k].(string); len(v) > gateway.LogValueBytes {
				t.Fatalf("%s logged with %d bytes: %s", k, len(v), l)
			}
		}
	}
	if !strings.Contains(lines[gateway.LogBurst], `"msg":"suppressed similar log lines"`) ||
		!strings.Contains(lines[gateway.LogBurst], fmt.Sprintf(`"count":%d`, 1000-gateway.LogBurst)) {
		t.Fatalf("no count of the lines held back: %s", lines[gateway.LogBurst])
	}
	if !strings.Contains(lines[len(lines)-1], `"route":"/unrouted/`) {
		t.Fatalf("the other source's request is not logged: %s", lines[len(lines)-1])
	}
}

// Every listener answers /healthz: the main one, a dialect's own, and one
// with no dialect at all (the admin listener).
func TestHealthzOnEveryListener(t *testing.T) {
	cfg := &config.Config{Listen: "127.0.0.1:0", Dialects: map[string]config.DialectConfig{
		"stub-a": {}, "stub-b": {Listen: "127.0.0.1:9999"}}}
	g, err := gateway.New(gateway.Options{Config: cfg, Engine: core.New(core.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	g.Listener("127.0.0.1:9998")
	for addr, h := range g.Listeners() {
		if st, body := call(t, h, "GET", "/healthz", ""); st != 200 || !strings.Contains(body, `"ok"`) {
			t.Errorf("%s: /healthz %d %s", addr, st, body)
		}
	}
	if len(g.Listeners()) != 3 {
		t.Fatalf("%d listeners", len(g.Listeners()))
	}
}
