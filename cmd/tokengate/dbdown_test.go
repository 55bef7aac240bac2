package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the locking connection of TestDatabaseLocked

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/gateway"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// flakyStore is a core.Store whose every call fails with an error wrapping
// core.ErrUnavailable while it is down, or for the next n calls after
// failNext(n): the storage outage as the engine sees it.
type flakyStore struct {
	core.Store
	down   atomic.Bool
	budget atomic.Int64 // calls still to fail after failNext
	failed atomic.Int64 // calls failed so far
}

var errInjectedOutage = fmt.Errorf("flaky store: injected outage: %w", core.ErrUnavailable)

func (s *flakyStore) failNext(n int64) { s.budget.Store(n) }

func (s *flakyStore) err() error {
	if s.down.Load() || s.budget.Add(-1) >= 0 {
		s.failed.Add(1)
		return errInjectedOutage
	}
	return nil
}

func (s *flakyStore) GetClient(ctx context.Context, id string) (*core.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetClient(ctx, id)
}

func (s *flakyStore) ListClients(ctx context.Context) ([]*core.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ListClients(ctx)
}

func (s *flakyStore) PutClient(ctx context.Context, c *core.Client) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.PutClient(ctx, c)
}

func (s *flakyStore) DeleteClient(ctx context.Context, id string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteClient(ctx, id)
}

func (s *flakyStore) GetUser(ctx context.Context, id string) (*core.User, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetUser(ctx, id)
}

func (s *flakyStore) GetUserByUsername(ctx context.Context, username string) (*core.User, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetUserByUsername(ctx, username)
}

func (s *flakyStore) ListUsers(ctx context.Context) ([]*core.User, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ListUsers(ctx)
}

func (s *flakyStore) PutUser(ctx context.Context, u *core.User) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.PutUser(ctx, u)
}

func (s *flakyStore) DeleteUser(ctx context.Context, id string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteUser(ctx, id)
}

func (s *flakyStore) GetAuthorization(ctx context.Context, id int64) (*core.Authorization, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetAuthorization(ctx, id)
}

func (s *flakyStore) ListAuthorizations(ctx context.Context) ([]*core.Authorization, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ListAuthorizations(ctx)
}

func (s *flakyStore) PutAuthorization(ctx context.Context, a *core.Authorization) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.PutAuthorization(ctx, a)
}

func (s *flakyStore) DeleteAuthorization(ctx context.Context, id int64) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteAuthorization(ctx, id)
}

func (s *flakyStore) InsertTokens(ctx context.Context, tokens ...*core.Token) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.InsertTokens(ctx, tokens...)
}

func (s *flakyStore) InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*core.Token) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.InsertTokensIfNoActive(ctx, clientID, dialect, now, tokens...)
}

func (s *flakyStore) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetToken(ctx, digest)
}

func (s *flakyStore) Exchange(ctx context.Context, digest string, now time.Time, successors ...*core.Token) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Exchange(ctx, digest, now, successors...)
}

func (s *flakyStore) RevokeToken(ctx context.Context, digest string, r core.Revocation) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.RevokeToken(ctx, digest, r)
}

func (s *flakyStore) RevokeFamily(ctx context.Context, familyID string, r core.Revocation) (int, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.RevokeFamily(ctx, familyID, r)
}

func (s *flakyStore) RevokeClientTokens(ctx context.Context, clientID string, r core.Revocation) (int, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.RevokeClientTokens(ctx, clientID, r)
}

func (s *flakyStore) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ListTokens(ctx, f)
}

func (s *flakyStore) DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.DeleteExpiredTokens(ctx, cutoff)
}

func (s *flakyStore) DeleteAllTokens(ctx context.Context) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.DeleteAllTokens(ctx)
}

func (s *flakyStore) PutSigningKey(ctx context.Context, k *core.SigningKey) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.PutSigningKey(ctx, k)
}

func (s *flakyStore) ListSigningKeys(ctx context.Context, dialect string) ([]*core.SigningKey, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ListSigningKeys(ctx, dialect)
}

var _ core.Store = (*flakyStore)(nil)

// flakyGateway wires the default (all dialects, demo credentials) config the
// way app.New does, but on a flakyStore over a file database.
func flakyGateway(t *testing.T) (*flakyStore, *httptest.Server, *tokengatetest.LogBuffer) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Default(dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Limits.AuthFailures.Disabled = true
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flaky.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	fs := &flakyStore{Store: inner}
	eng := core.New(core.Options{Store: fs, Clock: core.NewAdjustableClock(core.SystemClock{})})
	seed, err := cfg.Seed()
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Seed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	logs := &tokengatetest.LogBuffer{}
	g, err := gateway.New(gateway.Options{Config: cfg, Engine: eng,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return fs, srv, logs
}

// tokenCall is one dialect's token request, its error style and its 503.
type tokenCall struct {
	dialect string
	ctype   string // the content type of a body, for raw requests
	build   func(base string) *http.Request
	// style says what is wrong with an error body of status, "" if it is
	// in the dialect's own style (docs/dialects/*.md).
	style func(status int, body map[string]any) string
	// check503 says what is wrong with a 503 body for a storage outage.
	check503 func(body map[string]any) string
}

func formRequest(u, auth string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func wantKeys(body map[string]any, keys ...string) string {
	if len(body) != len(keys) {
		return fmt.Sprintf("keys %v, want exactly %v", mapKeys(body), keys)
	}
	for _, k := range keys {
		if _, ok := body[k]; !ok {
			return fmt.Sprintf("keys %v, want exactly %v", mapKeys(body), keys)
		}
	}
	return ""
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// oauthStyle is RFC 6749 §5.2: {"error", "error_description"} (the
// description may be omitted), error a non-empty string.
func oauthStyle(status int, b map[string]any) string {
	if s, _ := b["error"].(string); s == "" {
		return "no error code"
	}
	if _, ok := b["error_description"]; ok {
		return wantKeys(b, "error", "error_description")
	}
	return wantKeys(b, "error")
}

// tokenCalls are the five dialects' token endpoints, called as their docs
// show, with the error style and the 503 body each documents.
var tokenCalls = []tokenCall{
	{"oauth2", "application/x-www-form-urlencoded", func(base string) *http.Request {
		return formRequest(base+"/oauth2/token", basicAuth("demo-client", "demo-secret"), url.Values{"grant_type": {"client_credentials"}})
	}, oauthStyle, func(b map[string]any) string {
		if b["error"] != "temporarily_unavailable" {
			return fmt.Sprintf("error %v, want temporarily_unavailable", b["error"])
		}
		return wantKeys(b, "error", "error_description")
	}},
	{"accounda", "application/x-www-form-urlencoded", func(base string) *http.Request {
		return formRequest(base+"/v1/token/", "", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
	}, func(status int, b map[string]any) string {
		if s, _ := b["error"].(string); s == "" {
			return "no error message"
		}
		return wantKeys(b, "error")
	}, func(b map[string]any) string {
		if b["error"] != "Service temporarily unavailable" {
			return fmt.Sprintf("error %v, want Service temporarily unavailable", b["error"])
		}
		return wantKeys(b, "error")
	}},
	{"errorid", "application/json", func(base string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/oauth/token",
			strings.NewReader(`{"client_id": "demo-client", "client_secret": "demo-secret"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}, func(status int, b map[string]any) string {
		if id, _ := b["errorId"].(string); len(id) != 36 {
			return fmt.Sprintf("errorId %v", b["errorId"])
		}
		if c, _ := b["code"].(string); c == "" || strings.ToUpper(c) != c {
			return fmt.Sprintf("code %v", b["code"])
		}
		return wantKeys(b, "errorId", "code", "text", "parameter_name", "parameter_value")
	}, func(b map[string]any) string {
		if b["code"] != "SERVICE_UNAVAILABLE" || b["parameter_name"] != nil || b["parameter_value"] != nil {
			return fmt.Sprintf("code %v params %v/%v, want SERVICE_UNAVAILABLE and nulls", b["code"], b["parameter_name"], b["parameter_value"])
		}
		return ""
	}},
	{"acceleration", "application/x-www-form-urlencoded", func(base string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=demo-user", nil)
		req.Header.Set("Authorization", basicAuth("demo-client", "demo-secret"))
		req.Header.Set("Accept", "application/json")
		return req
	}, func(status int, b map[string]any) string {
		if b["code"] != float64(status) || b["data"] != nil {
			return fmt.Sprintf("envelope %v for status %d", b, status)
		}
		if m, _ := b["errorMessage"].(string); m == "" {
			return "no errorMessage"
		}
		return wantKeys(b, "code", "errorMessage", "error", "data")
	}, func(b map[string]any) string {
		if b["code"] != float64(503) || b["errorMessage"] != "service temporarily unavailable" || b["error"] != nil {
			return fmt.Sprintf("body %v, want code 503, errorMessage service temporarily unavailable", b)
		}
		return ""
	}},
	{"hurdlr", "application/x-www-form-urlencoded", func(base string) *http.Request {
		return formRequest(base+"/rest/v5/accountant/token", "", url.Values{"client_id": {"demo-client"},
			"client_secret": {"demo-secret"}, "grant_type": {"client_credentials"}, "userId": {"demo-user"}})
	}, func(status int, b map[string]any) string {
		if s, _ := b["error"].(string); s == "" {
			return "no error code"
		}
		return wantKeys(b, "error", "error_description")
	}, func(b map[string]any) string {
		if b["error"] != "temporarily_unavailable" {
			return fmt.Sprintf("error %v, want temporarily_unavailable", b["error"])
		}
		return ""
	}},
}

// do sends req and returns the status and the JSON body (nil if not JSON).
func do(t *testing.T, hc *http.Client, req *http.Request) (int, http.Header, map[string]any, string) {
	t.Helper()
	st, h, body, raw, err := send(hc, req)
	if err != nil {
		t.Fatal(err)
	}
	return st, h, body, raw
}

// send is do for goroutines: it returns the transport error.
func send(hc *http.Client, req *http.Request) (int, http.Header, map[string]any, string, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, "", fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, "", fmt.Errorf("%s %s: reading the body: %w", req.Method, req.URL.Path, err)
	}
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		body = nil
	}
	return resp.StatusCode, resp.Header, body, string(raw), nil
}

// TestStorageUnavailable takes the store down under a full gateway: every
// dialect's token endpoint (and oauth2's introspection and login page)
// answers 503 in its own error style, never 500 and never a panic, and
// answers 200 again as soon as the store is back, without a restart.
func TestStorageUnavailable(t *testing.T) {
	fs, srv, logs := flakyGateway(t)
	hc := srv.Client()

	// A token to introspect later, issued while the store is up.
	st, _, body, raw := do(t, hc, tokenCalls[0].build(srv.URL))
	if st != 200 {
		t.Fatalf("oauth2 token while up: %d %s", st, raw)
	}
	tok, _ := body["access_token"].(string)

	fs.down.Store(true)
	for _, tc := range tokenCalls {
		st, h, body, raw := do(t, hc, tc.build(srv.URL))
		if st != http.StatusServiceUnavailable {
			t.Errorf("%s: store down: status %d, want 503: %s", tc.dialect, st, raw)
			continue
		}
		if body == nil {
			t.Errorf("%s: 503 body is not JSON: %q", tc.dialect, raw)
			continue
		}
		if problem := tc.style(st, body) + tc.check503(body); problem != "" {
			t.Errorf("%s: 503 body not in the dialect's style: %s: %s", tc.dialect, problem, raw)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: 503 without Cache-Control: no-store", tc.dialect)
		}
	}
	intro := formRequest(srv.URL+"/oauth2/introspect", basicAuth("demo-client", "demo-secret"), url.Values{"token": {tok}})
	if st, _, body, raw := do(t, hc, intro); st != 503 || body["error"] != "temporarily_unavailable" {
		t.Errorf("introspect, store down: %d %s", st, raw)
	}
	// The login page of a client nothing has read yet: the engine's
	// short-lived cache would show a page for one just read.
	page, _ := http.NewRequest(http.MethodGet, srv.URL+"/oauth2/authorize?"+url.Values{"client_id": {"demo-public"},
		"redirect_uri": {"http://localhost:8081/callback"}, "response_type": {"code"}, "state": {"s"}}.Encode(), nil)
	if st, h, _, raw := do(t, hc, page); st != 503 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		h.Get("X-Frame-Options") != "DENY" || strings.Contains(raw, "flaky store") {
		t.Errorf("login page, store down: %d %s %q", st, h.Get("Content-Type"), raw)
	}
	if fs.failed.Load() == 0 {
		t.Fatal("the store was never asked")
	}

	fs.down.Store(false)
	for _, tc := range tokenCalls {
		if st, _, body, raw := do(t, hc, tc.build(srv.URL)); st != 200 || body["access_token"] == nil {
			t.Errorf("%s: store back: status %d, want 200 with a token: %s", tc.dialect, st, raw)
		}
	}
	if st, _, body, raw := do(t, hc, formRequest(srv.URL+"/oauth2/introspect", basicAuth("demo-client", "demo-secret"),
		url.Values{"token": {tok}})); st != 200 || body["active"] != true {
		t.Errorf("introspect, store back: %d %s", st, raw)
	}

	// A brief outage: the next few store calls fail, then it recovers by itself.
	fs.failNext(3)
	saw503 := false
	for i := 0; ; i++ {
		st, _, _, raw := do(t, hc, tokenCalls[4].build(srv.URL))
		if st == 200 {
			break
		}
		if st != 503 {
			t.Fatalf("hurdlr during a brief outage: %d %s", st, raw)
		}
		saw503 = true
		if i > 10 {
			t.Fatal("no recovery after the outage ended")
		}
	}
	if !saw503 {
		t.Error("the brief outage was not seen")
	}

	l := logs.String()
	if strings.Contains(l, "panic") {
		t.Errorf("a handler panicked:\n%s", l)
	}
	if !strings.Contains(l, `"error":"unavailable"`) || !strings.Contains(l, "injected outage") {
		t.Errorf("the access log does not record the outage and its cause:\n%.2000s", l)
	}
}

// TestDatabaseLocked makes the real SQLite file unwritable for the gateway
// — another process holds its write lock — and checks that token requests
// fail with 503 once the busy timeout (5 s) has passed, all of them within
// about one timeout rather than one timeout each, while reads keep working;
// and that the gateway recovers the moment the lock goes.
func TestDatabaseLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out SQLite's 5 s busy timeout; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "locked.db")
	g := tokengatetest.Start(t, tokengatetest.Options{DB: path, YAML: "dialects:\n  oauth2: {}\n  hurdlr: {}\n" + demoClientYAML})
	hc := &http.Client{Timeout: 30 * time.Second}
	st, _, body, raw := do(t, hc, tokenCalls[0].build(g.URL))
	if st != 200 {
		t.Fatalf("token before the lock: %d %s", st, raw)
	}
	tok, _ := body["access_token"].(string)

	locker, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	ctx := context.Background()
	conn, err := locker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			conn.ExecContext(ctx, "ROLLBACK")
		}
	}()

	// Reads still work: a WAL reader is not blocked by the writer's lock.
	intro := formRequest(g.URL+"/oauth2/introspect", basicAuth("demo-client", "demo-secret"), url.Values{"token": {tok}})
	if st, _, body, raw := do(t, hc, intro); st != 200 || body["active"] != true {
		t.Errorf("introspect while locked: %d %s", st, raw)
	}

	// Concurrent writers: one batch of the group committer waits out the
	// busy timeout, requests arriving meanwhile form the next batch. Each
	// must get its 503 within about two busy timeouts — well inside
	// write_timeout (15 s), past which the client would get no answer at all.
	const concurrent = 6
	type answer struct {
		dialect string
		status  int
		body    map[string]any
		raw     string
		err     error
		took    time.Duration
	}
	answers := make(chan answer, concurrent)
	var wg sync.WaitGroup
	for i := 0; i < concurrent; i++ {
		tc := tokenCalls[0]
		if i%2 == 1 {
			tc = tokenCalls[4]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			st, _, body, raw, err := send(hc, tc.build(g.URL))
			answers <- answer{tc.dialect, st, body, raw, err, time.Since(t0)}
		}()
	}
	wg.Wait()
	close(answers)
	var slowest time.Duration
	for a := range answers {
		slowest = max(slowest, a.took)
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.body["error"] != "temporarily_unavailable" {
			t.Errorf("%s while locked, after %v: %d %s %v", a.dialect, a.took, a.status, a.raw, a.err)
		}
	}
	t.Logf("%d concurrent token requests on a locked database: 503 within %v", concurrent, slowest)
	if slowest > 14*time.Second { // two busy timeouts plus scheduling slack on a loaded machine, still inside write_timeout
		t.Errorf("a request on the locked database waited %v: want at most about two busy timeouts (5 s each), however many requests queue", slowest)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	locked = false
	for _, tc := range []tokenCall{tokenCalls[0], tokenCalls[4]} {
		if st, _, _, raw := do(t, hc, tc.build(g.URL)); st != 200 {
			t.Errorf("%s after the lock went: %d %s", tc.dialect, st, raw)
		}
	}
	if strings.Contains(g.Logs.String(), "panic") {
		t.Errorf("a handler panicked:\n%s", g.Logs.String())
	}
}

const demoClientYAML = `clients:
  - client_id: demo-client
    client_secret: demo-secret
    grants: [client_credentials, refresh_token, authorization_code]
    redirect_uris: ["http://localhost:8081/callback"]
users:
  - {user_id: demo-user, username: johndoe, password: demo-password}
`

// TestDatabaseFileMadeReadOnly takes write permission away from the
// database file, its WAL and its directory while the gateway runs. SQLite
// keeps writing through the descriptors it already holds (and root ignores
// permission bits altogether), so the gateway keeps issuing tokens: the
// test pins down that this is a 200 or, where the OS does refuse, a 503 —
// never a 500 — and that tokens work again once the permissions are back.
// TestStorageUnavailable and TestDatabaseLocked are the proof of the 503.
func TestDatabaseFileMadeReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.db")
	g := tokengatetest.Start(t, tokengatetest.Options{DB: path, YAML: "dialects:\n  oauth2: {}\n" + demoClientYAML})
	hc := &http.Client{Timeout: 30 * time.Second}
	if st, _, _, raw := do(t, hc, tokenCalls[0].build(g.URL)); st != 200 {
		t.Fatalf("before: %d %s", st, raw)
	}
	files := []string{path, path + "-wal", path + "-shm"}
	for _, f := range files {
		if err := os.Chmod(f, 0o444); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		os.Chmod(dir, 0o755)
		for _, f := range files {
			os.Chmod(f, 0o644)
		}
	}
	defer restore()
	st, _, _, raw := do(t, hc, tokenCalls[0].build(g.URL))
	switch st {
	case 200:
		t.Logf("read-only file: SQLite kept writing through its open descriptors (euid %d): 200", os.Geteuid())
	case 503:
		t.Logf("read-only file: 503 %s", raw)
	default:
		t.Errorf("read-only file: %d, want 200 or 503: %s", st, raw)
	}
	restore()
	if st, _, _, raw := do(t, hc, tokenCalls[0].build(g.URL)); st != 200 {
		t.Errorf("permissions back: %d %s", st, raw)
	}
}
