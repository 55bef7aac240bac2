package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

func TestDemoCredentialsStayOnLoopback(t *testing.T) {
	cfg, err := config.Default(dialects.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		listen string
		allow  bool
		ok     bool
	}{{"127.0.0.1:8080", false, true}, {"localhost:8080", false, true}, {"[::1]:8080", false, true},
		{"0.0.0.0:8080", false, false}, {"192.168.1.5:8080", false, false}, {":8080", false, false}, {"0.0.0.0:8080", true, true}} {
		cfg.Listen = tc.listen
		if err := checkDemoExposure(cfg, tc.allow, log); (err == nil) != tc.ok {
			t.Errorf("listen %s allow=%v: %v", tc.listen, tc.allow, err)
		}
	}
	cfg.Listen, cfg.AdminToken = "0.0.0.0:8080", "s3cret-admin"
	cfg.Clients, cfg.Users, cfg.Authorizations = nil, nil, nil
	if err := checkDemoExposure(cfg, false, log); err != nil {
		t.Errorf("no demo credentials left: %v", err)
	}
}

func TestServeRefusesDemoOnPublicAddress(t *testing.T) {
	code, _, errs := runCLI("serve", "--listen", "0.0.0.0:0", "--db", t.TempDir()+"/x.db")
	if code != 1 || !strings.Contains(errs, "--allow-demo") {
		t.Fatalf("serve: %d %q", code, errs)
	}
}

func TestSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, certPath, err := tlsConfig("", "", true, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Parse([]byte("dialects:\n  oauth2: {}\n"), dialects.Catalog())
	cfg.Listen, cfg.Storage.DSN = "127.0.0.1:0", dir+"/tls.db"
	a, err := app.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.TLS = tlsCfg
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: v, MaxVersion: v}}}
		resp, err := client.Get("https://" + strings.Replace(a.MainAddr(), "127.0.0.1", "localhost", 1) + "/healthz")
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz over TLS: %d", resp.StatusCode)
		}
	}
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get("https://" + a.MainAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}
