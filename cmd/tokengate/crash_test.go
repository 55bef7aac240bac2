package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// crashIterations is how many times TestCrashSafety kills the gateway.
const crashIterations = 20

// crashRecorder is what the load goroutines saw: every token whose 200
// response reached them, and every refresh chain.
type crashRecorder struct {
	mu       sync.Mutex
	access   []ackedToken // access tokens of 200 responses, all iterations
	chains   []*refreshChain
	statuses map[int]int  // non-200 statuses while the gateway was up (must stay empty)
	sample   []ackedToken // a few access tokens, for the HTTP check after restart
}

type ackedToken struct {
	value, dialect string
	iter           int
}

// refreshChain is one Hurdlr grant: its refresh tokens whose responses were
// answered, in order. closed is set once a crash left its last answered
// token consumed (the successor's response was lost): the client cannot go
// on with it and starts a new chain.
type refreshChain struct {
	answered []string
	closed   bool
}

func (r *crashRecorder) addAccess(tok, dialect string, iter int) {
	r.mu.Lock()
	r.access = append(r.access, ackedToken{tok, dialect, iter})
	if len(r.access)%97 == 1 {
		r.sample = append(r.sample, ackedToken{tok, dialect, iter})
	}
	r.mu.Unlock()
}

func (r *crashRecorder) badStatus(code int) {
	r.mu.Lock()
	r.statuses[code]++
	r.mu.Unlock()
}

// crashFigures is the report of TestCrashSafety.
type crashFigures struct {
	Iterations         int     `json:"iterations"`
	TokensAcknowledged int     `json:"tokens_acknowledged"`
	AccessTokens       int     `json:"access_tokens_acknowledged"`
	RefreshesAnswered  int     `json:"refreshes_answered"`
	RefreshChains      int     `json:"refresh_chains"`
	TokensLost         int     `json:"tokens_lost"`
	LostSuccessors     int     `json:"refreshes_committed_but_unanswered"`
	IntegrityChecks    int     `json:"integrity_checks_ok"`
	KillAfterMinMS     int64   `json:"kill_after_min_ms"`
	KillAfterMaxMS     int64   `json:"kill_after_max_ms"`
	Seconds            float64 `json:"seconds"`
}

// TestCrashSafety runs the gateway as a child process on a file database
// under concurrent token issuance (oauth2 client_credentials) and refresh
// chains (hurdlr refresh_token), kills it with SIGKILL at a random moment,
// and checks with the gateway stopped that the database is sound, every
// token whose 200 response reached a client still validates, and every
// refresh chain has exactly one live refresh token: the last one answered,
// or (when the crash lost the response to its refresh) exactly one
// successor. It then restarts the gateway on the same file and checks a
// sample of tokens over HTTP (introspection) before loading it again.
func TestCrashSafety(t *testing.T) {
	bin := tokengateBinary(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	dir := t.TempDir()
	addr := freeAddr(t)
	db := filepath.Join(dir, "crash.db")
	cfgPath := filepath.Join(dir, "crash.yaml")
	if err := os.WriteFile(cfgPath, []byte(childConfig(addr, db)), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "crash.log")
	rec := &crashRecorder{statuses: map[int]int{}}
	fig := crashFigures{KillAfterMinMS: 1 << 62}
	const workers = 8 // 4 issue oauth2 tokens, 4 run hurdlr refresh chains
	current := make([]*refreshChain, workers)

	for iter := 0; iter < crashIterations; iter++ {
		if ctx.Err() != nil {
			t.Fatalf("out of time after %d iterations", iter)
		}
		c := startChild(t, bin, cfgPath, addr, logPath)
		if iter > 0 {
			checkSampleOverHTTP(ctx, t, c.base, rec)
		}
		tr := &http.Transport{MaxIdleConnsPerHost: workers}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: tr}
		// One synchronous request first: the demo secret's bcrypt check is
		// then cached, so even a short window issues a burst of tokens.
		if tok, status, err := issueOAuth2(ctx, hc, c.base); err != nil || status != http.StatusOK {
			t.Fatalf("iteration %d: warm-up token: %d %v\n%s", iter, status, err, c.logs())
		} else {
			rec.addAccess(tok, "oauth2", iter)
		}

		loadCtx, stopLoad := context.WithCancel(ctx)
		var up sync.WaitGroup // cleared when the process is dead: errors after that are expected
		alive := make(chan struct{})
		for w := 0; w < workers; w++ {
			up.Add(1)
			go func() {
				defer up.Done()
				if w < workers/2 {
					oauth2Worker(loadCtx, hc, c.base, rec, iter, alive)
				} else {
					current[w] = hurdlrWorker(loadCtx, hc, c.base, rec, iter, current[w], alive)
				}
			}()
		}
		wait := time.Duration(100+rand.IntN(501)) * time.Millisecond
		time.Sleep(wait)
		fig.KillAfterMinMS = min(fig.KillAfterMinMS, wait.Milliseconds())
		fig.KillAfterMaxMS = max(fig.KillAfterMaxMS, wait.Milliseconds())
		close(alive)
		if err := c.signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		if code, ok := c.exitCode(10 * time.Second); !ok || code != -1 {
			t.Fatalf("iteration %d: process did not die of SIGKILL: code %d ok %v", iter, code, ok)
		}
		stopLoad()
		up.Wait()
		tr.CloseIdleConnections()

		lost, successors := verifyCrashedDB(ctx, t, db, rec, iter)
		fig.TokensLost += lost
		fig.LostSuccessors += successors
		fig.IntegrityChecks++
		if t.Failed() {
			t.Fatalf("iteration %d failed; gateway log:\n%s", iter, c.logs())
		}
	}

	// A last restart: the gateway comes up on the crashed file and answers.
	c := startChild(t, bin, cfgPath, addr, logPath)
	checkSampleOverHTTP(ctx, t, c.base, rec)
	c.kill()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	fig.Iterations = crashIterations
	fig.AccessTokens = len(rec.access)
	fig.RefreshChains = len(rec.chains)
	for _, ch := range rec.chains {
		fig.RefreshesAnswered += len(ch.answered)
	}
	fig.TokensAcknowledged = fig.AccessTokens + fig.RefreshesAnswered
	fig.Seconds = time.Since(start).Round(10 * time.Millisecond).Seconds()
	if len(rec.statuses) > 0 {
		t.Errorf("non-200 answers while the gateway was up: %v", rec.statuses)
	}
	if fig.AccessTokens < 2*crashIterations || fig.RefreshesAnswered < crashIterations {
		t.Errorf("too little load to mean anything: %+v", fig)
	}
	t.Logf("crash safety: %d iterations (kill after %d-%d ms), %d tokens acknowledged (%d access tokens, %d refresh tokens in %d chains), "+
		"%d lost, %d refreshes committed whose response the crash lost, %d integrity checks ok, %.1fs",
		fig.Iterations, fig.KillAfterMinMS, fig.KillAfterMaxMS, fig.TokensAcknowledged, fig.AccessTokens, fig.RefreshesAnswered,
		fig.RefreshChains, fig.TokensLost, fig.LostSuccessors, fig.IntegrityChecks, fig.Seconds)
	if fig.TokensLost != 0 {
		t.Errorf("%d acknowledged tokens lost", fig.TokensLost)
	}
	writeReport(t, "crash_safety", fig)
}

// oauth2Worker issues client_credentials tokens until ctx ends.
func oauth2Worker(ctx context.Context, hc *http.Client, base string, rec *crashRecorder, iter int, alive chan struct{}) {
	for ctx.Err() == nil {
		tok, status, err := issueOAuth2(ctx, hc, base)
		switch {
		case err != nil:
			waitDead(ctx, alive)
		case status == http.StatusOK:
			rec.addAccess(tok, "oauth2", iter)
		default:
			rec.badStatus(status)
		}
	}
}

// hurdlrWorker runs a refresh chain until ctx ends: a client_credentials
// grant, then refresh after refresh, each with the last answered token.
func hurdlrWorker(ctx context.Context, hc *http.Client, base string, rec *crashRecorder, iter int, ch *refreshChain, alive chan struct{}) *refreshChain {
	for ctx.Err() == nil {
		form := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}
		if ch == nil || ch.closed {
			form.Set("grant_type", "client_credentials")
			form.Set("userId", "demo-user")
		} else {
			form.Set("grant_type", "refresh_token")
			form.Set("refresh_token", ch.answered[len(ch.answered)-1])
		}
		var body struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		status, err := postForm(ctx, hc, base+"/rest/v5/accountant/token", "", form, &body)
		switch {
		case err != nil:
			waitDead(ctx, alive)
		case status != http.StatusOK:
			rec.badStatus(status)
		case body.AccessToken == "" || body.RefreshToken == "":
			rec.badStatus(-status)
		default:
			rec.addAccess(body.AccessToken, "hurdlr", iter)
			rec.mu.Lock()
			if ch == nil || ch.closed {
				ch = &refreshChain{}
				rec.chains = append(rec.chains, ch)
			}
			ch.answered = append(ch.answered, body.RefreshToken)
			rec.mu.Unlock()
		}
	}
	return ch
}

// waitDead pauses a worker whose request failed: failures are expected only
// once the process is being killed.
func waitDead(ctx context.Context, alive chan struct{}) {
	select {
	case <-alive:
		// Killed (or about to be): stop asking.
		<-ctx.Done()
	case <-time.After(5 * time.Millisecond):
	}
}

func issueOAuth2(ctx context.Context, hc *http.Client, base string) (string, int, error) {
	var body struct {
		AccessToken string `json:"access_token"`
	}
	status, err := postForm(ctx, hc, base+"/oauth2/token", basicAuth("demo-client", "demo-secret"),
		url.Values{"grant_type": {"client_credentials"}}, &body)
	if err == nil && status == http.StatusOK && body.AccessToken == "" {
		return "", status, fmt.Errorf("200 without access_token")
	}
	return body.AccessToken, status, err
}

// postForm posts a form and decodes a 200 body into out. A response that
// does not arrive completely is an error, never an acknowledgement.
func postForm(ctx context.Context, hc *http.Client, u, auth string, form url.Values, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// verifyCrashedDB opens the database of the killed gateway and checks it:
// integrity, every acknowledged access token, every refresh chain. It
// closes chains whose last answered token was consumed by a refresh whose
// response the crash lost, and returns the number of lost tokens and of
// such successors.
func verifyCrashedDB(ctx context.Context, t *testing.T, path string, rec *crashRecorder, iter int) (lost, successors int) {
	t.Helper()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("iteration %d: reopening the database: %v", iter, err)
	}
	defer st.Close()
	report, err := st.IntegrityCheck(ctx)
	if err != nil || report != "ok" {
		t.Fatalf("iteration %d: PRAGMA integrity_check: %q %v", iter, report, err)
	}
	eng := core.New(core.Options{Store: st})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// This iteration's tokens go through the store and the engine's own path.
	for _, a := range rec.access {
		if a.iter != iter {
			continue
		}
		if _, err := eng.Validate(ctx, nil, a.value); err != nil {
			lost++
			t.Errorf("iteration %d: %s access token acknowledged in this iteration does not validate: %v", iter, a.dialect, err)
		}
	}
	// Every token of every iteration, in one plain read of the table: the
	// check is cumulative (a later crash must not lose an earlier token),
	// so it must stay cheap as tokens pile up.
	byDigest, err := tokenStates(ctx, path)
	if err != nil {
		t.Fatalf("iteration %d: reading the token table: %v", iter, err)
	}
	live := map[string][]string{} // family -> digests of live refresh tokens
	for d, r := range byDigest {
		if r.kind == core.TokenRefresh && r.live {
			live[r.family] = append(live[r.family], d)
		}
	}
	for _, a := range rec.access {
		if a.iter == iter {
			continue // checked above
		}
		if r := byDigest[core.TokenKey(a.value)]; r == nil || r.kind != core.TokenAccess || !r.live {
			lost++
			t.Errorf("iteration %d: %s access token acknowledged in iteration %d no longer validates: %+v", iter, a.dialect, a.iter, r)
		}
	}
	for i, ch := range rec.chains {
		answered := map[string]bool{}
		var family string
		for j, tok := range ch.answered {
			d := core.TokenKey(tok)
			answered[d] = true
			rt := byDigest[d]
			if rt == nil || rt.kind != core.TokenRefresh {
				lost++
				t.Errorf("iteration %d: chain %d: answered refresh token %d is gone", iter, i, j)
				continue
			}
			family = rt.family
			last := j == len(ch.answered)-1
			switch {
			case rt.revoked:
				lost++
				t.Errorf("iteration %d: chain %d: refresh token %d revoked", iter, i, j)
			case !last && !rt.consumed:
				t.Errorf("iteration %d: chain %d: refresh token %d was answered with a successor yet is still live", iter, i, j)
			}
		}
		if family == "" {
			continue
		}
		lastDigest := core.TokenKey(ch.answered[len(ch.answered)-1])
		lastTok := byDigest[lastDigest]
		l := live[family]
		switch {
		case len(l) != 1:
			t.Errorf("iteration %d: chain %d has %d live refresh tokens, want exactly 1", iter, i, len(l))
		case lastTok != nil && !lastTok.consumed:
			if l[0] != lastDigest {
				t.Errorf("iteration %d: chain %d: the live refresh token is not the last answered one", iter, i)
			}
		case answered[l[0]]:
			t.Errorf("iteration %d: chain %d: last answered token consumed, yet an older one is live", iter, i)
		default:
			// The crash lost the response to a committed refresh: its one
			// successor is live, unknown to the client.
			if !ch.closed {
				ch.closed = true
				successors++
			}
		}
	}
	return lost, successors
}

// tokenState is what the crash check needs of one stored token.
type tokenState struct {
	kind              core.TokenKind
	family            string
	consumed, revoked bool
	live              bool // neither consumed nor revoked, not expired
}

// tokenStates reads every token's state from the database file with one
// query (storage/sqlite's schema: digests, nanosecond times, NULL for
// "not yet").
func tokenStates(ctx context.Context, path string) (map[string]*tokenState, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT digest, kind, COALESCE(family_id, ''), consumed_at IS NOT NULL, revoked_at IS NOT NULL, COALESCE(expires_at, 0) FROM tokens`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := time.Now().UnixNano()
	out := map[string]*tokenState{}
	for rows.Next() {
		var d, kind, family string
		var expires int64
		s := &tokenState{}
		if err := rows.Scan(&d, &kind, &family, &s.consumed, &s.revoked, &expires); err != nil {
			return nil, err
		}
		s.kind, s.family = core.TokenKind(kind), family
		s.live = !s.consumed && !s.revoked && now < expires
		out[d] = s
	}
	return out, rows.Err()
}

// checkSampleOverHTTP checks, through the restarted gateway, that a sample
// of acknowledged tokens and the live end of every open chain are active:
// oauth2 tokens by introspection, Hurdlr ones (the API has no introspection,
// and tokens are scoped to their dialect) in the admin API's token list.
func checkSampleOverHTTP(ctx context.Context, t *testing.T, base string, rec *crashRecorder) {
	t.Helper()
	rec.mu.Lock()
	toks := append([]ackedToken(nil), rec.sample...)
	if n := len(rec.access); n > 0 {
		toks = append(toks, rec.access[n-1])
	}
	for _, ch := range rec.chains {
		if !ch.closed {
			toks = append(toks, ackedToken{value: ch.answered[len(ch.answered)-1], dialect: "hurdlr"})
		}
	}
	rec.mu.Unlock()
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	var listed map[string]bool
	for _, tok := range toks {
		var active bool
		var err error
		if tok.dialect == "oauth2" {
			active, err = introspect(ctx, hc, base, tok.value)
		} else {
			if listed == nil {
				listed, err = activeTokens(ctx, hc, base, tok.dialect)
			}
			active = listed[core.TokenKey(tok.value)]
		}
		if err != nil || !active {
			t.Errorf("after restart: acknowledged %s token not active over HTTP: active=%v err=%v", tok.dialect, active, err)
		}
	}
}

// activeTokens lists, through the admin API, which of a dialect's tokens
// are active, by digest.
func activeTokens(ctx context.Context, hc *http.Client, base, dialect string) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_admin/tokens?limit=10000000&dialect="+dialect, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer demo-admin-token")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin tokens: %d", resp.StatusCode)
	}
	var list []struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, tk := range list {
		out[tk.ID] = tk.Active
	}
	return out, nil
}
