package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheck runs `tokengate healthcheck`: GET /healthz on the gateway and
// exit 0 on 200, 1 otherwise. The container image has no curl, so its
// HEALTHCHECK runs this. Without --url the address is the configured main
// listener (config, then TOKENGATE_LISTEN), a wildcard host meaning this
// machine.
func healthcheck(cf configFlags, base string, timeout time.Duration, stdout, stderr io.Writer) int {
	if base == "" {
		cfg, err := cf.load()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		base = "http://" + localAddr(cfg.Listen)
	}
	target := strings.TrimSuffix(base, "/") + "/healthz"
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: GET %s answered %s\n", target, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "ok: GET %s answered %s\n", target, resp.Status)
	return 0
}

// localAddr turns a listen address into one a local client can dial: a
// wildcard or empty host becomes the loopback address of its family.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
