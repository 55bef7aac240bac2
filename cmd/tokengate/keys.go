package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/acceleration"
)

// keysRotate runs `tokengate keys rotate`: a new signing key for the
// Acceleration dialect's JWTs, the old one kept in the JWKS until the last
// token it signed has expired. It works on the database directly, so a
// running gateway picks the new key up at its next key reload.
func keysRotate(cf configFlags, lifetime time.Duration, stdout, stderr io.Writer) int {
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if lifetime <= 0 {
		lifetime = acceleration.DefaultAccessTTL
		if ttl := time.Duration(cfg.Dialects[acceleration.Name].AccessTokenTTL); ttl > lifetime {
			lifetime = ttl
		}
		for _, c := range cfg.Clients {
			if ttl := time.Duration(c.AccessTokenTTL); ttl > lifetime {
				lifetime = ttl
			}
		}
		lifetime += time.Minute // covers running gateways' key reload interval
	}
	ctx := context.Background()
	store, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close()
	kid, err := acceleration.RotateKey(ctx, core.New(core.Options{Store: store}), lifetime)
	if err != nil {
		fmt.Fprintln(stderr, "rotating the signing key:", err)
		return 1
	}
	fmt.Fprintf(stdout, "new signing key %s; the previous key stays published for %s\n", kid, lifetime)
	return 0
}
