package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/core"
)

// keysRotate runs `tokengate keys rotate`: a new signing key for a dialect
// instance's JWTs, the old one kept in the JWKS until the last token it
// signed has expired. It works on the database directly, so a running
// gateway picks the new key up at its next key reload.
func keysRotate(cf configFlags, name string, lifetime time.Duration, stdout, stderr io.Writer) int {
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if lifetime <= 0 {
		if lifetime, err = app.LongestAccessTokenLife(cfg, name); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
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
	kid, err := core.New(core.Options{Store: store}).RotateSigningKey(ctx, name, lifetime)
	if err != nil {
		fmt.Fprintln(stderr, "rotating the signing key:", err)
		return 1
	}
	fmt.Fprintf(stdout, "new signing key %s; the previous key stays published for %s\n", kid, lifetime)
	return 0
}
