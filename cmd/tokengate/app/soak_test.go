package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/control"
)

// Budgets the soak test holds the gateway to.
const (
	soakHeapBudget = 64 << 20 // live heap growth
	soakLogBudget  = 1 << 20  // log bytes written
)

// soakRequests is how many oversized requests the soak test sends: 1,000
// (the attack), 100 with -short, TOKENGATE_SOAK if set.
func soakRequests(t *testing.T) int {
	if s := os.Getenv("TOKENGATE_SOAK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("TOKENGATE_SOAK=%q", s)
		}
		return n
	}
	if testing.Short() {
		return 100
	}
	return 1000
}

// TestSoakOversizedUnauthenticated is the flood in one test:
// oversized unauthenticated requests (~128 KB each, random client ids and
// usernames, big credential-looking headers) at every dialect, the login
// page and unrouted paths, from one source, with the failure limiter on.
// The gateway's live heap, its log and its journal stay within fixed
// budgets, and the journal listing stays small and fast.
func TestSoakOversizedUnauthenticated(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{AuthFailureLimit: true})
	n := soakRequests(t)
	hc := &http.Client{Timeout: 30 * time.Second}
	heap0, logs0 := liveHeapBytes(), len(g.Logs.String())
	start := time.Now()

	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				req := oversized(g.URL, i)
				resp, err := hc.Do(req)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	for st, k := range statuses {
		if st >= 500 {
			t.Errorf("%d answers %d", k, st)
		}
	}

	listStart := time.Now()
	entries, err := g.Admin.Requests(control.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	listed, _ := json.Marshal(entries)
	listTime := time.Since(listStart)
	hc.CloseIdleConnections()
	heap := liveHeapBytes() - heap0
	logBytes := len(g.Logs.String()) - logs0
	journal := g.App.Plane.Journal.Bytes()
	t.Logf("%d requests in %v (%v): live heap %+.1f MB, RSS %s, log %d bytes, journal %d entries / %d bytes, "+
		"listing %d bytes in %v", n, elapsed.Round(time.Millisecond), statuses, float64(heap)/(1<<20), rss(), logBytes,
		len(entries), journal, len(listed), listTime.Round(time.Millisecond))
	if heap > soakHeapBudget {
		t.Errorf("live heap grew by %d bytes, budget %d", heap, soakHeapBudget)
	}
	if logBytes > soakLogBudget {
		t.Errorf("%d bytes logged, budget %d", logBytes, soakLogBudget)
	}
	if journal > config.DefaultJournalMaxBytes || len(listed) > 2*config.DefaultJournalMaxBytes {
		t.Errorf("journal holds %d bytes, listing %d bytes, budget %d", journal, len(listed), config.DefaultJournalMaxBytes)
	}
	if listTime > 5*time.Second {
		t.Errorf("GET /_admin/requests took %v", listTime)
	}
	// The right credentials still work: nobody else's failures lock them out.
	if st, b := post(t, g.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, true); st != 200 {
		t.Errorf("demo client after the flood: %d %v", st, b)
	}
}

// oversized builds the i-th flood request: one of the dialects' token
// endpoints, the login page or an unrouted path, each with ~128 KB of
// random identifiers and big headers.
func oversized(base string, i int) *http.Request {
	id := strings.Repeat(rand.Text(), (64<<10)/26)
	big := strings.Repeat("x", 16<<10)
	form := func(path string, v url.Values) *http.Request {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	var req *http.Request
	switch i % 7 {
	case 0:
		req = form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {id}})
	case 1:
		req = form("/v1/token/", url.Values{"client_id": {id}, "client_secret": {id}, "padding": {big}})
	case 2:
		body, _ := json.Marshal(map[string]string{"client_id": id, "client_secret": id})
		req, _ = http.NewRequest("POST", base+"/v1/oauth/token", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	case 3:
		req = form("/rest/v5/accountant/token", url.Values{"client_id": {id}, "client_secret": {id},
			"grant_type": {"client_credentials"}, "userId": {id}})
	case 4:
		req, _ = http.NewRequest("POST", base+"/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id="+id[:8<<10], nil)
		req.SetBasicAuth(id[:16<<10], "x")
	case 5:
		req = form("/oauth2/authorize", url.Values{"client_id": {"demo-client"}, "redirect_uri": {"http://localhost:8081/callback"},
			"response_type": {"code"}, "username": {id}, "password": {id}, "csrf_token": {big}})
	default:
		req, _ = http.NewRequest("GET", base+"/oauth2/"+id[:8<<10], nil)
	}
	req.Header.Set("User-Agent", big)
	req.Header.Set("X-Api-Key", id[:16<<10])
	req.Header.Set("X-Request-Id", fmt.Sprint(i))
	return req
}

func liveHeapBytes() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// rss is the test process's resident set (Linux), for the log.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
