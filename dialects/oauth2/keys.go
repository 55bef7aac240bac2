package oauth2

import (
	"context"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
)

// Each instance is its own issuer with its own keys: one ring per signing
// algorithm, owned by the instance's name, so `tokengate keys rotate
// --dialect NAME` rotates them (core.Engine.RotateSigningKeys).

func (d *Dialect) mountKeys(deps dialects.Deps) error {
	d.keys = map[string]*core.KeyRing{}
	for _, alg := range core.SigningAlgorithms {
		ring, err := deps.Engine.KeyRing(core.KeyRingOptions{Owner: d.inst.Name, Algorithm: alg, Logger: deps.Logger})
		if err != nil {
			return err
		}
		d.keys[alg] = ring
	}
	d.profile.Keys = d.keys
	return nil
}

// Start loads the instance's keys, generating the first of each algorithm,
// so a broken store or key fails the start rather than a request.
func (d *Dialect) Start(ctx context.Context) error {
	for _, alg := range core.SigningAlgorithms {
		if _, err := d.keys[alg].JWKS(ctx); err != nil {
			return err
		}
	}
	return nil
}
