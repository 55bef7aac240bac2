package oauth2

import (
	_ "embed"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/openapi"
)

//go:embed openapi.yaml
var description []byte

// OpenAPI implements dialects.Describer: the routes of openapi.yaml and
// the shared login page at /oauth2/authorize.
func (d *Dialect) OpenAPI() ([]byte, error) {
	return openapi.Edit(description, func(root *yaml.Node) error {
		return loginpage.AddOpenAPI(root, "/oauth2/authorize", "#/components/schemas/Error")
	})
}
