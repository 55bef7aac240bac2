package accounda

import _ "embed"

//go:embed openapi.yaml
var description []byte

// OpenAPI implements dialects.Describer. The refresh route is described
// always; dialects/openapi drops it when disable_refresh leaves it out.
func (d *Dialect) OpenAPI() ([]byte, error) { return description, nil }
