// Command gooauth2 is the go-oauth2/oauth2 v4 library set up as a
// client_credentials token endpoint, the third server in the wrk comparison
// (cmd/tgbench/compare/wrk.sh): in-memory token and client stores, one client
// demo-client/demo-secret, POST /oauth2/token with the client's credentials
// in HTTP Basic. It is a module of its own so that the library stays out of
// tokengate's go.mod and out of go test ./... at the repository root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
)

const (
	demoClient = "demo-client"
	demoSecret = "demo-secret"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `ADDR`; port 0 picks a free one (printed on stdout)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gooauth2: ")
	if err := run(*addr); err != nil {
		log.Fatal(err)
	}
}

// newTokenServer is the library's default server and manager with its
// in-memory stores, answering only client_credentials from POST requests.
func newTokenServer() (*server.Server, error) {
	manager := manage.NewDefaultManager()
	tokens, err := store.NewMemoryTokenStore()
	if err != nil {
		return nil, err
	}
	manager.MapTokenStorage(tokens)
	clients := store.NewClientStore()
	if err := clients.Set(demoClient, &models.Client{ID: demoClient, Secret: demoSecret}); err != nil {
		return nil, err
	}
	manager.MapClientStorage(clients)

	srv := server.NewDefaultServer(manager)
	srv.SetAllowGetAccessRequest(false)
	srv.SetAllowedGrantType(oauth2.ClientCredentials)
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	// The library answers an unexpected error (a failing store, say) with a
	// plain server_error and logs nothing; a benchmark should show why.
	srv.SetInternalErrorHandler(func(err error) *oauth2errors.Response {
		log.Println("internal error:", err)
		return nil
	})
	return srv, nil
}

func run(addr string) error {
	tokenServer, err := newTokenServer()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		// Every outcome, errors included, is answered inside; what it returns
		// is at most a failed write of an answer already started.
		_ = tokenServer.HandleTokenRequest(w, r)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The same server limits as tokengate's default config and the ceiling,
	// so that none of the three differs in its net/http setup.
	httpServer := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	// The same first line as tgbench's ceiling prints, so that the wrk script
	// reads both addresses alike.
	fmt.Println("gooauth2 listening on " + ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}
