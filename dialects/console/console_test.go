package console

import (
	"bufio"
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
)

const testToken = "s3cret-admin-token"

// server is a console on a fake backend, with a browser-like client.
type server struct {
	t    *testing.T
	c    *Console
	b    *fakeBackend
	srv  *httptest.Server
	http *http.Client
	now  *time.Time
	mu   *sync.Mutex
}

func newServer(t *testing.T, mutate ...func(*Options)) *server {
	t.Helper()
	b := newFake()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	o := Options{Backend: b, AdminToken: testToken, Heartbeat: 20 * time.Millisecond,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	for _, m := range mutate {
		m(&o)
	}
	c := New(o)
	e := echo.New()
	c.Mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(c.Close)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &server{t: t, c: c, b: b, srv: srv, http: hc, now: &now, mu: &mu}
}

func (s *server) advance(d time.Duration) { s.mu.Lock(); *s.now = s.now.Add(d); s.mu.Unlock() }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *server) get(path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := s.http.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (s *server) post(path string, form url.Values, headers ...string) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// csrf reads the CSRF token of the form on page path.
func (s *server) csrf(path string) string {
	s.t.Helper()
	_, body := s.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func (s *server) signIn() {
	s.t.Helper()
	resp, _ := s.post(Prefix+"/login", url.Values{"csrf": {s.csrf(Prefix + "/login")}, "token": {testToken}})
	if resp.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("sign-in: %d", resp.StatusCode)
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/login", "/", "/static/console.css", "/static/console.js", "/nope"} {
		resp, _ := s.get(Prefix + path)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	if resp, _ := s.get(Prefix + "/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the static folder is listed: %d", resp.StatusCode)
	}
	resp, _ := s.get(Prefix + "/static/console.css")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("stylesheet served as %q", ct)
	}
	resp, _ = s.get(Prefix + "/static/console.js")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("script served as %q", ct)
	}
}

// No template may carry inline script or style: the CSP would block them.
func TestTemplatesHaveNoInlineScriptOrStyle(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script>|<script\s+[^>]*>[^<]|<style|\sstyle=|\son[a-z]+=`)
	for name, tpl := range parsePages() {
		for _, tt := range tpl.Templates() {
			if tt.Tree == nil {
				continue
			}
			if src := tt.Tree.Root.String(); inline.MatchString(src) {
				t.Errorf("%s/%s has inline script or style: %s", name, tt.Name(), inline.FindString(src))
			}
		}
	}
}

func TestSignInIsRequiredAndChecked(t *testing.T) {
	s := newServer(t)
	resp, _ := s.get(Prefix + "/journal?dialect=hurdlr")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), Prefix+"/login?next=") {
		t.Fatalf("unsigned GET: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := s.post(Prefix+"/faults", url.Values{"status": {"503"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned POST: %d", resp.StatusCode)
	}
	// The sign-in form's token is bound to the pre-session cookie.
	csrf := s.csrf(Prefix + "/login")
	if resp, _ := s.post(Prefix+"/login", url.Values{"token": {testToken}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without CSRF token: %d", resp.StatusCode)
	}
	other := newServer(t)
	if resp, _ := other.post(Prefix+"/login", url.Values{"csrf": {csrf}, "token": {testToken}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in with another browser's CSRF token: %d", resp.StatusCode)
	}
	if resp, body := s.post(Prefix+"/login", url.Values{"csrf": {csrf}, "token": {testToken + "x"}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "Wrong admin token") {
		t.Fatalf("wrong admin token: %d", resp.StatusCode)
	}
	resp, _ = s.post(Prefix+"/login", url.Values{"csrf": {csrf}, "token": {testToken}, "next": {Prefix + "/journal?dialect=hurdlr"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != Prefix+"/journal?dialect=hurdlr" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != Prefix || len(session.Value) < 40 {
		t.Fatalf("session cookie %+v", session)
	}
	if resp, _ := s.get(Prefix + "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	if resp, _ := s.get(Prefix + "/no-such-page"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown page: %d", resp.StatusCode)
	}
}

func TestNoAdminTokenRefusesEverySignIn(t *testing.T) {
	s := newServer(t, func(o *Options) { o.AdminToken = "" })
	_, page := s.get(Prefix + "/login")
	if !strings.Contains(page, "no admin token configured") {
		t.Fatal("the sign-in page does not say sign-in is off")
	}
	if resp, _ := s.post(Prefix+"/login", url.Values{"csrf": {s.csrf(Prefix + "/login")}, "token": {""}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("empty token against an empty admin token: %d", resp.StatusCode)
	}
}

func TestPostsNeedTheSessionsCSRFToken(t *testing.T) {
	s := newServer(t)
	s.signIn()
	form := url.Values{"route": {"hurdlr /rest/v5/accountant/token"}, "status": {"503"}, "count": {"1"}}
	for name, token := range map[string]string{"missing": "", "forged": "forged"} {
		f := url.Values{"csrf": {token}}
		for k, v := range form {
			f[k] = v
		}
		if resp, _ := s.post(Prefix+"/faults", f); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s CSRF token: %d", name, resp.StatusCode)
		}
	}
	form.Set("csrf", s.csrf(Prefix+"/faults"))
	if resp, _ := s.post(Prefix+"/faults", form, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
	if resp, _ := s.post(Prefix+"/faults", form, "Origin", "http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST from another origin: %d", resp.StatusCode)
	}
	if len(s.b.faults) != 0 {
		t.Fatal("a refused POST added a fault")
	}
	resp, _ := s.post(Prefix+"/faults", form, "Origin", "null", "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || len(s.b.faults) != 1 {
		t.Fatalf("a good POST: %d %v", resp.StatusCode, s.b.faults)
	}
	if f := s.b.faults[0]; f.Dialect != "hurdlr" || f.Route != "/rest/v5/accountant/token" || f.Status != 503 || f.Count != 1 {
		t.Fatalf("fault from the form: %+v", f)
	}
	_, page := s.get(Prefix + "/faults")
	if !strings.Contains(page, "Fault rule f1 added.") {
		t.Fatal("no flash after the redirect")
	}
	if _, page := s.get(Prefix + "/faults"); strings.Contains(page, "Fault rule f1 added.") {
		t.Fatal("the flash showed twice")
	}
	// Sign-out ends the session on the server, not only in the browser.
	if resp, _ := s.post(Prefix+"/logout", url.Values{"csrf": {s.csrf(Prefix + "/")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if s.c.sessions.len() != 0 {
		t.Fatal("the session survived sign-out")
	}
}

func TestSessionsAreBoundedAndExpire(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSessions(2, time.Hour, 3*time.Hour, func() time.Time { return now })
	a, _ := s.create()
	now = now.Add(time.Minute)
	b, _ := s.create()
	now = now.Add(time.Minute)
	if s.get(a) == nil { // a is now the most recently used
		t.Fatal("a fresh session is gone")
	}
	c, _ := s.create() // full: evicts b, idle the longest
	if s.get(b) != nil || s.get(a) == nil || s.get(c) == nil || s.len() != 2 {
		t.Fatal("a full table did not evict the session idle the longest")
	}
	now = now.Add(time.Hour)
	if s.get(a) != nil {
		t.Fatal("an idle session outlived its idle limit")
	}
	d, _ := s.create()
	for range 5 {
		now = now.Add(50 * time.Minute)
		s.get(d)
	}
	if s.get(d) != nil {
		t.Fatal("a busy session outlived its maximum age")
	}
	if s.get("") != nil || s.get("nonsense") != nil {
		t.Fatal("an unknown id found a session")
	}
}

// The console's sessions age by the wall clock it is given, never the
// gateway clock that tests move by days.
func TestSessionsIdleOutByWallClock(t *testing.T) {
	s := newServer(t)
	s.signIn()
	s.advance(13 * time.Hour)
	if resp, _ := s.get(Prefix + "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session idle for 13h still works: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		Prefix + "/journal?x=1": Prefix + "/journal?x=1", "": Prefix + "/", "https://evil.example/": Prefix + "/",
		Prefix + "//evil.example": Prefix + "/", "/_admin/clients": Prefix + "/", Prefix + "/\\evil": Prefix + "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJournalFilters(t *testing.T) {
	r := Request{Dialect: "hurdlr", ClientID: "demo-client", GrantType: "refresh_token", Status: 400, Error: "invalid_grant",
		Route: "/rest/v5/accountant/token", Params: map[string][]string{"userId": {"demo-user"}}, Headers: map[string]string{"User-Agent": "probe/1"}}
	for _, tc := range []struct {
		f    journalFilter
		want bool
	}{
		{journalFilter{}, true},
		{journalFilter{Dialect: "hurdlr", Client: "demo-client", Grant: "refresh_token", Status: "400"}, true},
		{journalFilter{Dialect: "oauth2"}, false},
		{journalFilter{Client: "other"}, false},
		{journalFilter{Grant: "client_credentials"}, false},
		{journalFilter{Status: "4xx"}, true},
		{journalFilter{Status: "5xx"}, false},
		{journalFilter{Status: "error"}, true},
		{journalFilter{Status: "200"}, false},
		{journalFilter{Status: "teapot"}, false},
		{journalFilter{Text: "INVALID_GRANT"}, true},
		{journalFilter{Text: "demo-user"}, true},
		{journalFilter{Text: "probe/1"}, true},
		{journalFilter{Text: "absent"}, false},
	} {
		if got := tc.f.match(&r); got != tc.want {
			t.Errorf("%+v matched %v", tc.f, got)
		}
	}
	if q := (journalFilter{Dialect: "hurdlr", Text: "a b"}).Query(); q != "?dialect=hurdlr&text=a+b" {
		t.Errorf("query %q", q)
	}
}

// readEvent reads one server-sent event (name and joined data).
func readEvent(t *testing.T, r *bufio.Reader) (string, string) {
	t.Helper()
	var name string
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && (name != "" || data != nil):
			return name, strings.Join(data, "\n")
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

func TestLiveJournalStreamsMatchingRows(t *testing.T) {
	s := newServer(t)
	s.signIn()
	resp, err := s.http.Get(s.srv.URL + Prefix + "/journal/events?dialect=hurdlr")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	w := s.b.currentWatch()
	w.ch <- Request{ID: "skip", Dialect: "oauth2", Status: 200}
	w.ch <- Request{ID: "abc", Dialect: "hurdlr", Status: 503, ClientID: "<demo>", Route: "/rest/v5/accountant/token", Fault: "f1"}
	r := bufio.NewReader(resp.Body)
	name, data := readEvent(t, r)
	if name != "entry" || !strings.Contains(data, `href="/_admin/ui/journal/abc"`) || !strings.Contains(data, "&lt;demo&gt;") ||
		!strings.Contains(data, "fault f1") {
		t.Fatalf("event %s: %s", name, data)
	}
	w.dropped.Store(3)
	if name, data := readEvent(t, r); name != "dropped" || data != "3" {
		t.Fatalf("event %s: %s", name, data)
	}
	s.c.Close() // gateway shutdown ends the stream
	if _, err := io.ReadAll(r); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	select {
	case <-w.closed:
	case <-time.After(time.Second):
		t.Fatal("the watch was not closed")
	}
}

func TestLiveViewsAreBounded(t *testing.T) {
	s := newServer(t, func(o *Options) { o.MaxStreams = 1 })
	s.signIn()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+Prefix+"/faults/events", nil)
	first, err := s.http.Do(req)
	if err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("first live view: %v %v", first, err)
	}
	defer first.Body.Close()
	if resp, _ := s.get(Prefix + "/faults/events"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second live view over the cap: %d", resp.StatusCode)
	}
	s.b.mu.Lock()
	s.b.busy = true
	s.b.mu.Unlock()
	cancel()
	first.Body.Close()
	deadline := time.Now().Add(2 * time.Second)
	for len(s.c.streams) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if resp, _ := s.get(Prefix + "/journal/events"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a backend at its watcher cap: %d", resp.StatusCode)
	}
}

func TestClientFormRoundTrip(t *testing.T) {
	s := newServer(t)
	s.signIn()
	csrf := s.csrf(Prefix + "/clients/new")
	// No secret: one is generated and shown once.
	resp, page := s.post(Prefix+"/clients", url.Values{"csrf": {csrf}, "client_id": {"ci"}, "grants": {"client_credentials", "refresh_token"},
		"redirect_uris": {"http://a/cb\nhttp://b/cb"}, "scopes": {"read write"}, "access_token_ttl": {"15m"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	cl := s.b.clients[1]
	if cl.ClientSecret == "" || !strings.Contains(page, cl.ClientSecret) || len(cl.RedirectURIs) != 2 || len(cl.Scopes) != 2 ||
		cl.AccessTokenTTL.String() != "15m0s" || len(cl.Grants) != 2 {
		t.Fatalf("created %+v", cl)
	}
	if _, page := s.get(Prefix + "/clients/ci"); strings.Contains(page, cl.ClientSecret) {
		t.Fatal("the edit form shows the secret")
	}
	// A taken id is a conflict shown on the form; a bad duration names its field.
	resp, page = s.post(Prefix+"/clients", url.Values{"csrf": {csrf}, "client_id": {"ci"}, "client_secret": {"x"}, "grants": {"client_credentials"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "client_id: exists") {
		t.Fatalf("duplicate: %d", resp.StatusCode)
	}
	resp, page = s.post(Prefix+"/clients/ci", url.Values{"csrf": {csrf}, "refresh_token_ttl": {"soon"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="refresh_token_ttl" name="refresh_token_ttl" placeholder="dialect default" value="soon" aria-invalid="true"`) {
		t.Fatalf("bad duration: %d %s", resp.StatusCode, page)
	}
	// Edit keeps the id from the path; an empty secret is left for the backend to keep.
	if resp, _ := s.post(Prefix+"/clients/ci", url.Values{"csrf": {csrf}, "client_id": {"other"}, "grants": {"client_credentials"}, "disabled": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	if cl := s.b.clients[1]; cl.ClientID != "ci" || !cl.Disabled || cl.ClientSecret != "" {
		t.Fatalf("edited %+v", cl)
	}
	if resp, _ := s.post(Prefix+"/clients/ci/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther || len(s.b.clients) != 1 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := s.post(Prefix+"/clients/ci/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("delete of a missing client: %d", resp.StatusCode)
	}
}

func TestFaultForm(t *testing.T) {
	for _, tc := range []struct {
		form  url.Values
		field string
		want  Fault
	}{
		{url.Values{"route": {"hurdlr /x"}, "status": {"503"}, "count": {"2"}}, "", Fault{Dialect: "hurdlr", Route: "/x", Status: 503, Count: 2}},
		{url.Values{"dialect": {"oauth2"}, "route": {"hurdlr /x"}}, "route", Fault{}},
		{url.Values{"status": {"five"}}, "status", Fault{}},
		{url.Values{"latency": {"soon"}}, "latency", Fault{}},
		{url.Values{"probability": {"half"}}, "probability", Fault{}},
		{url.Values{"status": {"503"}, "drop": {"on"}, "latency": {"1s"}}, "", Fault{Drop: true, Latency: time.Second}},
	} {
		got, err := faultFromForm(tc.form)
		_, field := problemsOf(err)
		if field != tc.field || (tc.field == "" && got != tc.want) {
			t.Errorf("%v: %+v %v", tc.form, got, err)
		}
	}
}

func TestClockPreviewListsWhatWouldExpire(t *testing.T) {
	s := newServer(t)
	now := s.b.clock.Now
	s.b.tokens = []Token{
		{ID: "soon", Kind: "access", ClientID: "demo-client", FamilyID: "f", Issued: now, Expires: now.Add(time.Hour)},
		{ID: "later", Kind: "refresh", ClientID: "demo-client", FamilyID: "f", Issued: now, Expires: now.Add(30 * 24 * time.Hour)},
	}
	s.signIn()
	_, page := s.get(Prefix + "/clock?move=advance&advance=2h")
	if !strings.Contains(page, `data-token="soon"`) || strings.Contains(page, `data-token="later"`) {
		t.Fatalf("preview of 2h: %s", page)
	}
	if _, page := s.get(Prefix + "/clock?move=advance&advance=31d"); !strings.Contains(page, `data-token="later"`) {
		t.Fatal("preview of 31 days misses the refresh token")
	}
	if resp, _ := s.get(Prefix + "/clock?move=advance&advance=soon"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad duration: %d", resp.StatusCode)
	}
	if len(s.b.moves) != 0 {
		t.Fatal("a preview moved the clock")
	}
	resp, _ := s.post(Prefix+"/clock", url.Values{"csrf": {s.csrf(Prefix + "/clock")}, "move": {"advance"}, "advance": {"2h"}})
	if resp.StatusCode != http.StatusSeeOther || len(s.b.moves) != 1 || s.b.moves[0].Advance != 2*time.Hour {
		t.Fatalf("apply: %d %+v", resp.StatusCode, s.b.moves)
	}
	for move, check := range map[string]func(ClockMove) bool{
		"freeze":   func(m ClockMove) bool { return m.Freeze != nil && *m.Freeze },
		"unfreeze": func(m ClockMove) bool { return m.Freeze != nil && !*m.Freeze },
		"reset":    func(m ClockMove) bool { return m.Reset },
	} {
		if m, problem := moveFromForm(url.Values{"move": {move}}); problem != "" || !check(m) {
			t.Errorf("%s: %+v %s", move, m, problem)
		}
	}
	if got := target(ClockState{Now: now, Offset: 3 * time.Hour}, ClockMove{Reset: true}); !got.Equal(now.Add(-3 * time.Hour)) {
		t.Errorf("reset target %v", got)
	}
}

func TestFamiliesAndTheirPicture(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	tokens := []Token{
		{ID: "a2", Kind: "access", FamilyID: "F", ClientID: "c", Issued: t1, Expires: t1.Add(time.Hour), Revoked: t2, RevokedByReuse: true, Replayed: "r1"},
		{ID: "r2", Kind: "refresh", FamilyID: "F", ClientID: "c", Issued: t1, Expires: t1.Add(time.Hour), Revoked: t2, RevokedByReuse: true, Replayed: "r1"},
		{ID: "a1", Kind: "access", FamilyID: "F", ClientID: "c", Issued: t0, Expires: t0.Add(time.Hour), Revoked: t2, RevokedByReuse: true, Replayed: "r1"},
		{ID: "r1", Kind: "refresh", FamilyID: "F", ClientID: "c", Issued: t0, Expires: t0.Add(time.Hour), Consumed: t1},
		{ID: "x", Kind: "access", FamilyID: "G", ClientID: "c", Issued: t0, Expires: t0.Add(time.Hour)},
		{ID: "y", Kind: "access", FamilyID: "H", ClientID: "c", Issued: t0, Expires: t0.Add(time.Minute)},
	}
	fams := groupFamilies(tokens, t2)
	if len(fams) != 3 || fams[0].ID != "F" {
		t.Fatalf("families %+v", fams)
	}
	states := map[string]string{}
	for _, f := range fams {
		states[f.ID] = f.State
	}
	if states["F"] != stateReuse || states["G"] != stateActive || states["H"] != stateExpired {
		t.Fatalf("states %v", states)
	}
	f := fams[0]
	if f.Tokens[0].ID != "a1" || f.Tokens[1].ID != "r1" || !f.ReuseAt.Equal(t2) || f.Replayed != "r1" {
		t.Fatalf("family F: %+v", f)
	}
	p := drawFamily(f)
	if len(p.Rows) != 2 || len(p.Boxes) != 4 || len(p.Edges) != 1 || p.Reuse == nil {
		t.Fatalf("picture %+v", p)
	}
	if e, r2 := p.Edges[0], p.Boxes[3]; e.X2 != r2.X+r2.W/2 || p.Edges[0].Label != "rotated" {
		t.Fatalf("the rotation arrow does not point at the new refresh token: %+v %+v", e, r2)
	}
	if !p.Boxes[1].Replayed || p.Boxes[0].Replayed || !strings.Contains(p.Rows[1].Label, "refresh rotated") {
		t.Fatalf("boxes %+v rows %+v", p.Boxes, p.Rows)
	}
	// Which token came back is the engine's record, however many were
	// consumed before the reuse; a plain revocation marks none.
	tokens[2].Consumed, tokens[2].Revoked = t1, time.Time{}
	if f := groupFamilies(tokens, t2)[0]; f.Replayed != "r1" || f.State != stateReuse {
		t.Fatalf("replay marked %q", f.Replayed)
	}
	plain := slices.Clone(tokens)
	for i := range plain {
		plain[i].RevokedByReuse, plain[i].Replayed = false, ""
	}
	if f := groupFamilies(plain, t2)[0]; f.Replayed != "" || f.State != stateRevoked {
		t.Fatalf("a plain revocation: state %s, replay %q", f.State, f.Replayed)
	}
	s := newServer(t)
	s.b.tokens = tokens
	s.signIn()
	if resp, page := s.get(Prefix + "/families/c/F"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-reuse="true"`) {
		t.Fatalf("family page: %d", resp.StatusCode)
	}
	if resp, _ := s.get(Prefix + "/families/c/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing family: %d", resp.StatusCode)
	}
	if _, page := s.get(Prefix + "/families?client=c"); strings.Count(page, `href="/_admin/ui/families/c/`) != 3 {
		t.Fatal("the families list does not link each family")
	}
}

// Every page renders on an empty and on a filled backend.
func TestEveryPageRenders(t *testing.T) {
	s := newServer(t)
	s.b.requests = []Request{{ID: "r1", Dialect: "hurdlr", Status: 200, Params: map[string][]string{"a": {"b"}}, Family: FamilyRef{"c", "F"}}}
	s.signIn()
	for _, p := range []string{"/", "/journal", "/journal?status=5xx", "/journal/r1", "/families", "/clients", "/clients/new",
		"/clients/demo-client", "/users", "/users/new", "/authorizations", "/authorizations/new", "/faults", "/clock", "/dialects",
		"/dialects/hurdlr", "/journal?family=F"} {
		if resp, page := s.get(Prefix + p); resp.StatusCode != http.StatusOK || !strings.Contains(page, "</html>") {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/journal/gone", "/clients/gone", "/users/gone", "/authorizations/7", "/dialects/gone"} {
		if resp, _ := s.get(Prefix + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// Ids with slashes, spaces and percent signs survive the round trip
// through links and path parameters.
func TestOddIDsInPaths(t *testing.T) {
	s := newServer(t)
	s.signIn()
	for _, id := range []string{"a/b c", "100%", "x%41"} {
		s.b.clients = append(s.b.clients, config.Client{ClientID: id, Grants: []string{"client_credentials"}})
		_, list := s.get(Prefix + "/clients")
		link := regexp.MustCompile(`href="(/_admin/ui/clients/[^"]+)">` + regexp.QuoteMeta(html.EscapeString(id)) + `<`).FindStringSubmatch(list)
		if link == nil {
			t.Fatalf("no link to %q", id)
		}
		resp, page := s.get(html.UnescapeString(link[1]))
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `value="`+html.EscapeString(id)+`" required readonly`) {
			t.Fatalf("%q: %d", id, resp.StatusCode)
		}
		if resp, _ := s.post(html.UnescapeString(link[1])+"/delete", url.Values{"csrf": {s.csrf(Prefix + "/clients")}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete %q: %d", id, resp.StatusCode)
		}
	}
	if len(s.b.clients) != 1 {
		t.Fatalf("clients left: %+v", s.b.clients)
	}
}
