package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/tokengate/tokengate/config"
)

// watcher is one browser's live journal view of the console, open for a
// whole run (-watch): what the token endpoints pay while someone watches.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	rows   atomic.Int64
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// watchJournal signs in to the console of the gateway at base with the
// demo admin token and follows its live journal until stop.
func watchJournal(ctx context.Context, base string) (*watcher, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(base + "/_admin/ui/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("console sign-in page: %d, no form", resp.StatusCode)
	}
	resp, err = hc.PostForm(base+"/_admin/ui/login", url.Values{"csrf": {string(m[1])}, "token": {config.DemoAdminToken}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	ctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_admin/ui/journal/events", nil)
	resp, err = hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("console live journal: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return nil, err
	}
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: entry") {
				w.rows.Add(1)
			}
		}
	}()
	return w, nil
}

// stop closes the view and reports how many rows it was sent.
func (w *watcher) stop() int64 {
	w.cancel()
	<-w.done
	return w.rows.Load()
}
