package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/core"
)

const keysUsage = "usage: tokengate keys rotate [--config FILE] [--db PATH] [--dialect NAME] [--lifetime DURATION]\n"

// keysCmd runs `tokengate keys rotate`: a new signing key for a dialect's
// JWTs, the old one kept in the JWKS until the last token it signed has
// expired. It works on the database directly, so a running gateway picks
// the new key up at its next key reload.
func keysCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConfigFlags(fs)
	name := fs.String("dialect", "acceleration", "the dialect instance whose keys to rotate")
	lifetime := fs.Duration("lifetime", 0, "how long the old key stays published (default: the longest access-token lifetime in the config plus a minute)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *lifetime <= 0 {
		if *lifetime, err = app.LongestAccessTokenLife(cfg, *name); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		*lifetime += time.Minute // covers running gateways' key reload interval
	}
	ctx := context.Background()
	store, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close()
	// An OpenID Connect issuer (an oauth2 instance) signs with a key per
	// algorithm: each gets a new one.
	kids, err := core.New(core.Options{Store: store}).RotateSigningKeys(ctx, *name, *lifetime)
	if err != nil {
		fmt.Fprintln(stderr, "rotating the signing key:", err)
		return 1
	}
	fmt.Fprintf(stdout, "new signing key %s; the previous key stays published for %s\n", strings.Join(kids, ", "), *lifetime)
	return 0
}
