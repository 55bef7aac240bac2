package console_test

// Browser tests: a real headless Chromium against a gateway started in the
// test. One browser serves the package; each test opens its own tab in its
// own browser context (cookie jar). They skip, with one line, when no
// Chromium is installed, unless TOKENGATE_REQUIRE_BROWSER=1.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/console/internal/clienttest"
	"github.com/tokengate/tokengate/dialects/control"
)

var (
	browser     context.Context // a chromedp context whose browser runs; nil: no browser
	browserSkip string
)

// findChromium looks for the browser: TOKENGATE_CHROMIUM, then the usual names.
func findChromium() string {
	if p := os.Getenv("TOKENGATE_CHROMIUM"); p != "" {
		p, _ = exec.LookPath(p)
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	os.Exit(runWithBrowser(m))
}

func runWithBrowser(m *testing.M) int {
	path := findChromium()
	if path == "" {
		browserSkip = "no Chromium found"
		if os.Getenv("TOKENGATE_REQUIRE_BROWSER") != "1" {
			fmt.Println("console: browser tests skipped: no Chromium found (run `make browser` as root, or set TOKENGATE_CHROMIUM)")
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tokengate-chromium-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(dir))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		fmt.Println("console: starting Chromium failed:", err)
		return 1
	}
	browser = ctx
	return m.Run()
}

// tab is one browser tab with its own cookie jar, on one gateway.
type tab struct {
	t    *testing.T
	ctx  context.Context
	g    *tokengatetest.Gateway
	base string // the console's URL
}

func newTab(t *testing.T) *tab { return newTabOn(t, tokengatetest.Options{}) }

// newTabOn is newTab on a gateway started with o.
func newTabOn(t *testing.T, o tokengatetest.Options) *tab {
	t.Helper()
	if browser == nil {
		if os.Getenv("TOKENGATE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("TOKENGATE_REQUIRE_BROWSER=1 but %s", browserSkip)
		}
		t.SkipNow()
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancelTimeout)
	tb := &tab{t: t, ctx: ctx}
	tb.use(tokengatetest.Start(t, o))
	tb.do(chromedp.EmulateViewport(1280, 900))
	return tb
}

// use points the tab at gateway g.
func (b *tab) use(g *tokengatetest.Gateway) { b.g, b.base = g, g.URL+"/_admin/ui" }

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// open loads a console page and returns its HTTP status.
func (b *tab) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.Status
}

// submit clicks a form's button and returns the status of the page it leads to.
func (b *tab) submit(button string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.Status
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *tab) eval(js string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript predicate for up to d.
func (b *tab) waitFor(js string, d time.Duration) error {
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(d)))
	return err
}

func (b *tab) signIn() {
	b.t.Helper()
	if st := b.open("/"); st != http.StatusOK || b.text("h1") != "Sign in" {
		b.t.Fatalf("an unsigned browser was not sent to the sign-in page: %d %q", st, b.text("h1"))
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), b.g.App.Config.AdminToken))
	if st := b.submit(`form button[type=submit]`); st != http.StatusOK || b.text("h1") != "Overview" {
		b.t.Fatalf("sign-in: %d %q", st, b.text("h1"))
	}
}

func TestBrowserSignInAndRefusals(t *testing.T) {
	b := newTab(t)
	// A wrong admin token is refused.
	b.open("/login")
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), "not-the-admin-token"))
	if st := b.submit(`form button[type=submit]`); st != http.StatusForbidden || !strings.Contains(b.text("main"), "Wrong admin token") {
		t.Fatalf("wrong admin token: %d %q", st, b.text("main"))
	}
	// The sign-in form without its CSRF token is refused.
	b.open("/login")
	b.eval(`document.querySelector('input[name=csrf]').remove()`)
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), b.g.App.Config.AdminToken))
	if st := b.submit(`form button[type=submit]`); st != http.StatusForbidden {
		t.Fatalf("sign-in without CSRF token: %d", st)
	}
	b.signIn()
	cookies := b.eval(`document.cookie`)
	if cookies != "" {
		t.Fatalf("the session cookie is readable from script: %q", cookies)
	}
	// A state-changing form without its CSRF token is refused.
	b.open("/clients/new")
	b.do(chromedp.SendKeys(chromedp.CSS("#client_id"), "csrf-probe"))
	b.eval(`document.querySelector('form.form input[name=csrf]').remove()`)
	if st := b.submit(`form.form button[type=submit]`); st != http.StatusForbidden || !strings.Contains(b.text("main"), "CSRF") {
		t.Fatalf("form without CSRF token: %d %q", st, b.text("main"))
	}
	// ... and a wrong one.
	b.open("/clients/new")
	b.do(chromedp.SendKeys(chromedp.CSS("#client_id"), "csrf-probe"))
	b.eval(`document.querySelector('form.form input[name=csrf]').value = 'forged'`)
	if st := b.submit(`form.form button[type=submit]`); st != http.StatusForbidden {
		t.Fatalf("form with a forged CSRF token: %d", st)
	}
	if _, err := b.g.Admin.GetClient("csrf-probe"); err == nil {
		t.Fatal("a refused form created the client")
	}
	// Signed out, the console asks for the token again.
	b.open("/")
	b.submit(`form.signout button`)
	if b.text("h1") != "Sign in" {
		t.Fatalf("after sign-out: %q", b.text("h1"))
	}
	if b.open("/clients"); b.text("h1") != "Sign in" {
		t.Fatal("the session outlived sign-out")
	}
}

func TestBrowserLiveJournal(t *testing.T) {
	b := newTab(t)
	b.signIn()
	b.open("/journal")
	if err := b.waitFor(`document.body.dataset.live === "open"`, 5*time.Second); err != nil {
		t.Fatalf("the live journal did not connect: %v", err)
	}
	b.eval(`window.notReloaded = true`)
	start := time.Now()
	clienttest.Issue(t, b.g.URL)
	if err := b.waitFor(`document.querySelector("#journal-rows tr.new") !== null`, time.Second); err != nil {
		t.Fatalf("the request did not appear within one second: %v", err)
	}
	t.Logf("request shown %v after it was sent", time.Since(start).Round(time.Millisecond))
	row := b.text("#journal-rows tr.new")
	for _, want := range []string{"hurdlr", "/rest/v5/accountant/token", "demo-client", "client_credentials", "200"} {
		if !strings.Contains(row, want) {
			t.Errorf("live row %q lacks %q", row, want)
		}
	}
	if b.eval(`window.notReloaded === true`) != true {
		t.Fatal("the page reloaded")
	}
	// The row leads to the request's detail and on to its token family.
	b.submit("#journal-rows tr.new a")
	main := b.text("main")
	if !strings.Contains(main, "Token family") || !strings.Contains(main, "userId") || !strings.Contains(main, "[redacted]") {
		t.Fatalf("detail view: %q", main)
	}
	if strings.Contains(main, "demo-secret") {
		t.Fatal("the detail view shows the client secret")
	}
	b.submit(`a[href*="/families/demo-client/"]`)
	if !strings.HasPrefix(b.text("h1"), "Token family") {
		t.Fatalf("family link: %q", b.text("h1"))
	}
}

func TestBrowserFaultFromForm(t *testing.T) {
	b := newTab(t)
	b.signIn()
	b.open("/faults")
	b.do(chromedp.SetValue(chromedp.CSS("#route"), "hurdlr /rest/v5/accountant/token"),
		chromedp.SetValue(chromedp.CSS("#status"), "503"), chromedp.SetValue(chromedp.CSS("#count"), "1"),
		chromedp.SendKeys(chromedp.CSS("#text"), "maintenance window"))
	if st := b.submit(`form.form button[type=submit]`); st != http.StatusOK || !strings.Contains(b.text(".notice"), "added") {
		t.Fatalf("adding a fault: %d %q", st, b.text("main"))
	}
	if err := b.waitFor(`document.body.dataset.live === "open"`, 5*time.Second); err != nil {
		t.Fatalf("the hit counts did not go live: %v", err)
	}
	st, body := clienttest.Token(t, b.g.URL, url.Values{"grant_type": {"client_credentials"}, "userId": {"demo-user"}})
	if st != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body), "maintenance window") {
		t.Fatalf("the next request after the fault: %d %v", st, body)
	}
	if st, _ := clienttest.Token(t, b.g.URL, url.Values{"grant_type": {"client_credentials"}, "userId": {"demo-user"}}); st != http.StatusOK {
		t.Fatalf("a count-1 fault fired twice: %d", st)
	}
	if err := b.waitFor(`document.querySelector("td[data-hits]").textContent === "1"`, 3*time.Second); err != nil {
		t.Fatalf("the hit count did not update live: %v (%q)", err, b.text("td[data-hits]"))
	}
	b.submit(`table.faults button`)
	if rules, err := b.g.Admin.Faults(); err != nil || len(rules) != 0 {
		t.Fatalf("removing the rule: %v %v", rules, err)
	}
}

func TestBrowserClockExpiresToken(t *testing.T) {
	b := newTab(t)
	tok := clienttest.Issue(t, b.g.URL)
	access := core.TokenKey(tok["access_token"].(string))
	b.signIn()
	b.open("/clock")
	b.do(chromedp.SendKeys(chromedp.CSS("#advance"), fmt.Sprintf("%ds", int(tok["expires_in"].(float64))+60)))
	b.submit(`form[aria-labelledby=advance-h] button`)
	if n := b.eval(fmt.Sprintf(`document.querySelectorAll('.preview tr[data-token=%q]').length`, access)); n != float64(1) {
		t.Fatalf("the preview does not list the token that would expire: %q", b.text("main"))
	}
	if _, err := b.g.Admin.Clock(); err != nil {
		t.Fatal(err)
	}
	if off, _ := b.g.Clock().Offset(); off != 0 {
		t.Fatal("the preview moved the clock")
	}
	b.submit("#apply")
	if off, _ := b.g.Clock().Offset(); off < time.Hour {
		t.Fatalf("apply did not move the clock: %v", off)
	}
	b.open("/families?client=demo-client")
	b.submit(`tbody a[href*="/families/demo-client/"]`)
	state := b.eval(fmt.Sprintf(`document.querySelector('tr[data-token=%q]').dataset.state`, access))
	if state != "expired" {
		t.Fatalf("the access token is shown as %v after the clock passed its expiry", state)
	}
}

// Reuse drawn from what the engine recorded on the tokens: the same after
// the gateway restarts with an empty journal.
func TestBrowserRefreshReuseDrawn(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tokengate.db")
	b := newTabOn(t, tokengatetest.Options{DB: db})
	rt := clienttest.Issue(t, b.g.URL)["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if st, body := clienttest.Token(t, b.g.URL, refresh); st != http.StatusOK {
		t.Fatalf("first refresh: %d %v", st, body)
	}
	if st, body := clienttest.Token(t, b.g.URL, refresh); st != http.StatusBadRequest {
		t.Fatalf("reused refresh token: %d %v", st, body)
	}
	b.signIn()
	// The journal marks the request that replayed the token, and links it
	// to the family it took down.
	b.open("/journal")
	if n := b.eval(`document.querySelectorAll('#journal-rows tr .state-reuse-detected').length`); n != float64(1) {
		t.Fatalf("want one journal row marked reuse, got %v", n)
	}
	b.submit(`#journal-rows tr:first-child a`)
	if !strings.Contains(b.text("main"), "reuse detected") {
		t.Fatalf("the request's detail: %q", b.text("main"))
	}
	b.submit(`a[href*="/families/demo-client/"]`)
	family := b.eval(`location.pathname`)
	drawn := func(when string) {
		t.Helper()
		if b.eval(`document.querySelectorAll('svg.family-svg [data-reuse]').length`) != float64(1) {
			t.Fatalf("%s: the family picture does not mark the reuse", when)
		}
		replayed := b.eval(`Array.from(document.querySelectorAll('svg.family-svg g.replayed .kind')).map(e => e.textContent).join()`)
		if !strings.HasPrefix(fmt.Sprint(replayed), "refresh …"+core.TokenKey(rt)[len(core.TokenKey(rt))-8:]) {
			t.Fatalf("%s: the replayed token is not the reused refresh token: %q", when, replayed)
		}
		if n := b.eval(`document.querySelectorAll('svg.family-svg line.edge').length`); n != float64(1) {
			t.Fatalf("%s: want one rotation arrow, got %v", when, n)
		}
	}
	drawn("at once")

	// A new gateway process on the same database: no journal, same picture.
	if err := b.g.Close(); err != nil {
		t.Fatal(err)
	}
	b.use(tokengatetest.Start(t, tokengatetest.Options{DB: db}))
	b.signIn()
	b.open("/journal")
	if n := b.eval(`document.querySelectorAll('#journal-rows tr:not(.empty)').length`); n != float64(0) {
		t.Fatalf("the new process's journal is not empty: %v rows", n)
	}
	b.open("/families?client=demo-client")
	if !strings.Contains(b.text("tbody"), "reuse-detected") {
		t.Fatalf("after a restart the families list does not mark the reuse: %q", b.text("tbody"))
	}
	b.open(strings.TrimPrefix(fmt.Sprint(family), "/_admin/ui"))
	drawn("after a restart")
}

// A declared dialect added from the Dialects page, its spec uploaded as a
// file, serves tokens at once.
func TestBrowserDeclaredDialectFromPage(t *testing.T) {
	b := newTab(t)
	spec, err := filepath.Abs(filepath.Join("..", "declared", "testdata", "errorid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b.signIn()
	b.open("/dialects")
	b.do(chromedp.SendKeys(chromedp.CSS("#name"), "acme"), chromedp.SendKeys(chromedp.CSS("#prefix"), "/acme"),
		chromedp.SetUploadFiles(chromedp.CSS("#spec"), []string{spec}))
	if st := b.submit(`form.form button[type=submit]`); st != http.StatusOK || b.text("h1") != "Dialect acme" {
		t.Fatalf("adding the dialect: %d %q %q", st, b.text("h1"), b.text("main"))
	}
	if !strings.Contains(b.text("main"), "/acme/v1/oauth/token") {
		t.Fatalf("the dialect's page: %q", b.text("main"))
	}
	resp, err := http.Post(b.g.URL+"/acme/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("the added dialect's token endpoint: %d %v", resp.StatusCode, body)
	}
	// The overview and the fault form know it; removed, it is gone.
	b.open("/")
	if !strings.Contains(b.text("main"), "/acme/v1/oauth/token") {
		t.Fatal("the overview does not list the added dialect")
	}
	b.open("/faults")
	if n := b.eval(`document.querySelectorAll('#route option[value="acme /acme/v1/oauth/token"]').length`); n != float64(1) {
		t.Fatal("the fault form does not offer the added dialect's route")
	}
	b.open("/dialects")
	if st := b.submit(`tr[data-dialect="acme"] button`); st != http.StatusOK || !strings.Contains(b.text(".notice"), "removed") {
		t.Fatalf("removing: %d %q", st, b.text("main"))
	}
	if rs, err := b.g.Admin.Dialects(); err != nil || len(rs) != 5 {
		t.Fatalf("dialects after removal: %v %v", rs, err)
	}
}

// TestBrowserScreenshots saves every page at 1280 and 390 pixels wide into
// docs/console/ for docs/console.md, when TOKENGATE_SCREENSHOTS=1.
func TestBrowserScreenshots(t *testing.T) {
	if os.Getenv("TOKENGATE_SCREENSHOTS") != "1" {
		t.Skip("set TOKENGATE_SCREENSHOTS=1 to write docs/console/*.png")
	}
	b := newTab(t)
	rt := clienttest.Issue(t, b.g.URL)["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	clienttest.Token(t, b.g.URL, refresh)
	clienttest.Token(t, b.g.URL, refresh)
	clienttest.Post(t, b.g.URL+"/v1/token/", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
	clienttest.Post(t, b.g.URL+"/v1/oauth/token", url.Values{"client_id": {"demo-client"}, "client_secret": {"wrong"}})
	if _, err := b.g.Admin.AdvanceClock(90 * time.Minute); err != nil {
		t.Fatal(err)
	}
	clienttest.Issue(t, b.g.URL)
	if _, err := b.g.Admin.AddFault(control.Rule{Dialect: "oauth2", Route: "/oauth2/token", Status: 429, Count: 3}); err != nil {
		t.Fatal(err)
	}
	clienttest.Post(t, b.g.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
	spec, err := os.ReadFile(filepath.Join("..", "declared", "testdata", "errorid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.g.Admin.AddDialect(admin.DialectRequest{Name: "acme", Prefix: "/acme", Spec: string(spec)}); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Post(b.g.URL+"/acme/v1/oauth/token", "application/json",
		strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`)); err == nil {
		resp.Body.Close()
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shoot := func(name string) {
		for _, w := range []int64{1280, 390} {
			b.do(chromedp.EmulateViewport(w, 800))
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b.do(chromedp.EmulateViewport(1280, 800))
	}
	b.open("/login")
	shoot("login")
	b.signIn()
	shoot("overview")
	b.open("/journal")
	if err := b.waitFor(`document.body.dataset.live === "open"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	clienttest.Issue(t, b.g.URL)
	if err := b.waitFor(`document.querySelector("#journal-rows tr.new") !== null`, time.Second); err != nil {
		t.Fatal(err)
	}
	shoot("journal")
	detail := b.eval(`Array.from(document.querySelectorAll("#journal-rows tr")).find(r => r.textContent.includes("reuse detected")).querySelector("a").getAttribute("href")`)
	b.open(strings.TrimPrefix(fmt.Sprint(detail), "/_admin/ui"))
	shoot("request")
	b.open("/families?client=demo-client")
	shoot("families")
	reused := b.eval(`Array.from(document.querySelectorAll("tbody tr")).find(r => r.textContent.includes("reuse")).querySelector("a").getAttribute("href")`)
	b.open(strings.TrimPrefix(fmt.Sprint(reused), "/_admin/ui"))
	shoot("family")
	b.open("/clients")
	shoot("clients")
	b.open("/clients/demo-client")
	shoot("client")
	b.open("/users")
	shoot("users")
	b.open("/authorizations")
	shoot("authorizations")
	b.open("/faults")
	shoot("faults")
	b.open("/clock?move=advance&advance=100d")
	shoot("clock")
	b.open("/dialects")
	shoot("dialects")
	b.open("/dialects/acme")
	shoot("dialect")
}
