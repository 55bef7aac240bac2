package acceleration

import _ "embed"

//go:embed openapi.yaml
var description []byte

// OpenAPI implements dialects.Describer.
func (d *Dialect) OpenAPI() ([]byte, error) { return description, nil }
