package jwksfetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchCachesAndRefetches(t *testing.T) {
	var hits atomic.Int32
	body := `{"keys":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	now := time.Unix(1_700_000_000, 0)
	f := New(Options{TTL: time.Minute, MinRefetch: 5 * time.Second, Now: func() time.Time { return now }})
	ctx := context.Background()
	fetch := func(fresh bool) {
		t.Helper()
		got, err := f.Fetch(ctx, srv.URL, fresh)
		if err != nil || string(got) != body {
			t.Fatalf("Fetch: %q, %v", got, err)
		}
	}
	steps := []struct {
		advance time.Duration
		fresh   bool
		hits    int32
	}{
		{0, false, 1},                // first fetch
		{30 * time.Second, false, 1}, // within the TTL: cached
		{0, true, 2},                 // a key miss refetches...
		{time.Second, true, 2},       // ...but not again within MinRefetch
		{61 * time.Second, false, 3}, // past the TTL
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		fetch(s.fresh)
		if got := hits.Load(); got != s.hits {
			t.Fatalf("step %d: %d requests, want %d", i, got, s.hits)
		}
	}
}

func TestFetchRefusesBadAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 101)))
		case "/missing":
			http.NotFound(w, r)
		case "/slow":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	f := New(Options{MaxSize: 100, Timeout: 200 * time.Millisecond})
	for _, path := range []string{"/big", "/missing", "/slow"} {
		if got, err := f.Fetch(context.Background(), srv.URL+path, false); err == nil {
			t.Errorf("%s: %q accepted", path, got)
		}
	}
}
