package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ceilingReady prefixes the ceiling server's first line of output, followed
// by the address it listens on.
const ceilingReady = "tgbench ceiling listening on "

// ceilingResponse is the ceiling's token answer, shaped like oauth2's.
type ceilingResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// ceilingToken is the least a client_credentials token endpoint can do:
// parse the form and the Basic credentials, compare the secret in constant
// time, draw 32 random bytes, answer JSON. No storage, no KDF, no routing
// framework, no middleware: what is left is net/http, the loopback TCP stack
// and the load generator, which is the harness's own limit.
func ceilingToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request"}`)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(demoClient))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(demoSecret))
	if idOK&secretOK != 1 {
		h.Set("WWW-Authenticate", `Basic realm="ceiling"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	body, err := json.Marshal(ceilingResponse{AccessToken: base64.RawURLEncoding.EncodeToString(b[:]),
		TokenType: "Bearer", ExpiresIn: 3600})
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Write(body)
}

// serveCeiling runs the ceiling server on addr until SIGINT or SIGTERM. It
// prints ceilingReady + the bound address once it accepts connections.
func serveCeiling(addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "tgbench ceiling:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", ceilingToken)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	// The same server limits as the gateway's default config.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintln(stdout, ceilingReady+ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "tgbench ceiling:", err)
			return 1
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}
