package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

// limitsYAML is a gateway with every dialect, the demo credentials and
// short read timeouts.
const limitsYAML = `limits:
  read_header_timeout: 1s
  read_timeout: 1500ms
  auth_failures: {disabled: true}
dialects:
  oauth2: {}
  accounda: {}
  errorid: {}
  acceleration: {}
  hurdlr: {}
` + demoClientYAML

// serveApp starts the real app (app.New + Serve) in-process on a free
// loopback port and returns its address; it stops at the end of the test.
func serveApp(t *testing.T, yaml string) string {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Storage.DSN = "127.0.0.1:0", t.TempDir()+"/limits.db"
	a, err := app.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a.MainAddr()
}

// TestSlowLorisHeaderTimeout trickles a request line that never ends: the
// server must close the connection once limits.read_header_timeout (1 s)
// has passed, whatever the client keeps sending.
func TestSlowLorisHeaderTimeout(t *testing.T) {
	addr := serveApp(t, limitsYAML)
	const conns = 4
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took, err := slowLoris(addr, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 200))
			if err != nil {
				t.Error(err)
				return
			}
			if took < 900*time.Millisecond || took > 2*time.Second {
				t.Errorf("connection closed after %v, want about read_header_timeout (1s), at most 2s", took)
			}
		}()
	}
	wg.Wait()
}

// slowLoris sends prefix one byte per 50 ms and reports when the server
// closed the connection.
func slowLoris(addr, prefix string) (time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < len(prefix); i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{prefix[i]}); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return took, fmt.Errorf("the server kept a slow-loris connection open for %v", took)
	}
	// net/http may say why before closing ("400 Bad Request" in plain text:
	// no request was parsed, so no dialect owns the answer).
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 400 ") && !strings.HasPrefix(string(b), "HTTP/1.1 408 ") {
		return took, fmt.Errorf("unexpected answer to an unfinished request: %q", b)
	}
	return took, nil
}

// rawRequest writes req's head with Content-Length n and returns the
// connection, for bodies sent by hand.
func rawRequest(addr string, req *http.Request, ctype string, n int) (net.Conn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, req.URL.RequestURI(), addr)
	for k, vs := range req.Header {
		if k == "Content-Type" {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n", ctype, n)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func readJSON(conn net.Conn, method string) (*http.Response, map[string]any, string, error) {
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, nil, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return resp, nil, string(raw), fmt.Errorf("body is not a JSON object: %q", raw)
	}
	return resp, body, string(raw), nil
}

// TestSlowBodyReadTimeout sends every dialect's token request with a body
// that trickles in slower than limits.read_timeout (1.5 s) allows: each
// answers 408 in its own error style, about when the timeout passes.
func TestSlowBodyReadTimeout(t *testing.T) {
	addr := serveApp(t, limitsYAML)
	var wg sync.WaitGroup
	for _, tc := range tokenCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := tc.build("http://" + addr)
			conn, err := rawRequest(addr, req, tc.ctype, 1000)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			start := time.Now()
			go func() {
				for i := 0; i < 100; i++ {
					time.Sleep(50 * time.Millisecond)
					if _, err := conn.Write([]byte("a")); err != nil {
						return
					}
				}
			}()
			resp, body, raw, err := readJSON(conn, req.Method)
			took := time.Since(start)
			if err != nil {
				t.Errorf("%s: slow body: %v", tc.dialect, err)
				return
			}
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("%s: slow body: %d, want 408: %s", tc.dialect, resp.StatusCode, raw)
			}
			if p := tc.style(resp.StatusCode, body); p != "" {
				t.Errorf("%s: 408 not in the dialect's style: %s: %s", tc.dialect, p, raw)
			}
			if took > 3*time.Second {
				t.Errorf("%s: the 408 came after %v", tc.dialect, took)
			}
			t.Logf("%s: slow body: %d after %v: %s", tc.dialect, resp.StatusCode, took.Round(time.Millisecond), raw)
		}()
	}
	wg.Wait()
}

// TestBodyAndHeaderLimits checks limits.max_body_bytes (1 MiB) on every
// dialect's token endpoint — announced by Content-Length (refused before
// the handler) or streamed without one (cut off while reading) — and
// limits.max_header_bytes, answered in each dialect's style (net/http's own
// plain 431 only beyond twice the limit).
func TestBodyAndHeaderLimits(t *testing.T) {
	addr := serveApp(t, limitsYAML)
	big := strings.Repeat("a", 1<<20+1)
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range tokenCalls {
		for _, chunked := range []bool{false, true} {
			req := tc.build("http://" + addr)
			req.Body = io.NopCloser(strings.NewReader(big))
			req.ContentLength = int64(len(big))
			if chunked {
				req.ContentLength = -1 // Transfer-Encoding: chunked
			}
			req.Header.Set("Content-Type", tc.ctype)
			resp, err := hc.Do(req)
			if err != nil {
				// The server may answer and close before the client has sent it all.
				t.Logf("%s chunked=%v: %v", tc.dialect, chunked, err)
				continue
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body map[string]any
			json.Unmarshal(raw, &body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s chunked=%v: %d, want 413: %s", tc.dialect, chunked, resp.StatusCode, raw)
				continue
			}
			if p := tc.style(resp.StatusCode, body); p != "" {
				t.Errorf("%s chunked=%v: 413 not in the dialect's style: %s: %s", tc.dialect, chunked, p, raw)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s chunked=%v: 413 without no-store", tc.dialect, chunked)
			}
			t.Logf("%s chunked=%v: %d %s", tc.dialect, chunked, resp.StatusCode, raw)
		}
	}
	// Headers over max_header_bytes (64 KiB) get the dialect's 431, up to
	// twice the limit (the server's own limit); beyond that net/http answers
	// 431 itself, in plain text, before routing.
	bigHeaders := func(req *http.Request, n int) *http.Request {
		for i := 0; i < n; i++ {
			req.Header.Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 1000))
		}
		return req
	}
	for _, tc := range tokenCalls {
		resp, err := hc.Do(bigHeaders(tc.build("http://"+addr), 80))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body map[string]any
		json.Unmarshal(raw, &body)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: 80 headers of 1000 bytes: %d, want 431: %s", tc.dialect, resp.StatusCode, raw)
		} else if p := tc.style(resp.StatusCode, body); p != "" {
			t.Errorf("%s: 431 not in the dialect's style: %s: %s", tc.dialect, p, raw)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/oauth2/token", nil)
	resp, err := hc.Do(bigHeaders(req, 140))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("140 headers of 1000 bytes: %d, want 431", resp.StatusCode)
	}
	// One header line of 70 KiB: the dialect's 431 too.
	req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/oauth2/token", nil)
	req.Header.Set("X-Big", strings.Repeat("h", 70<<10))
	if resp, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(raw), `"error":"invalid_request"`) {
		t.Errorf("one oversized header line: %d %s, want oauth2's 431", resp.StatusCode, raw)
	}
}

// TestBruteForcePerDialect: with limits.auth_failures on, failed client
// authentications on every dialect's token endpoint end in 429 with
// Retry-After, in that dialect's error style, while the client whose
// credentials were already verified keeps getting tokens.
func TestBruteForcePerDialect(t *testing.T) {
	addr := serveApp(t, strings.Replace(limitsYAML, "auth_failures: {disabled: true}", "auth_failures: {burst: 3, per_minute: 1}", 1))
	base := "http://" + addr
	hc := &http.Client{Timeout: 10 * time.Second}
	call := func(req *http.Request) (int, http.Header, map[string]any, string) {
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body map[string]any
		json.Unmarshal(raw, &body)
		return resp.StatusCode, resp.Header, body, string(raw)
	}
	for _, tc := range tokenCalls {
		if st, _, _, raw := call(tc.build(base)); st != 200 {
			t.Fatalf("%s: demo client before: %d %s", tc.dialect, st, raw)
		}
	}
	for _, tc := range tokenCalls {
		limited := false
		for i := 0; i < 10 && !limited; i++ {
			req := tc.build(base)
			// The same request with a wrong secret, wherever the dialect carries it.
			if req.Header.Get("Authorization") != "" {
				req.Header.Set("Authorization", basicAuth("demo-client", "wrong-secret"))
			} else {
				b, _ := io.ReadAll(req.Body)
				wrong := strings.Replace(string(b), "demo-secret", "wrong-secret", 1)
				req.Body, req.ContentLength = io.NopCloser(strings.NewReader(wrong)), int64(len(wrong))
			}
			st, h, body, raw := call(req)
			switch st {
			case http.StatusTooManyRequests:
				limited = true
				if h.Get("Retry-After") == "" {
					t.Errorf("%s: 429 without Retry-After", tc.dialect)
				}
				if p := tc.style(st, body); p != "" {
					t.Errorf("%s: 429 not in the dialect's style: %s: %s", tc.dialect, p, raw)
				}
				t.Logf("%s: 429 after %d failures, Retry-After %s: %s", tc.dialect, i, h.Get("Retry-After"), raw)
			case http.StatusBadRequest, http.StatusUnauthorized:
			default:
				t.Fatalf("%s: wrong secret: %d %s", tc.dialect, st, raw)
			}
		}
		if !limited {
			t.Errorf("%s: no 429 after 10 failed authentications", tc.dialect)
		}
		if st, _, _, raw := call(tc.build(base)); st != 200 {
			t.Errorf("%s: the verified client is limited too: %d %s", tc.dialect, st, raw)
		}
	}
}
