package oauth2

import (
	_ "embed"

	"github.com/tokengate/tokengate/dialects/loginpage"
)

//go:embed openapi.yaml
var description []byte

// OpenAPI implements dialects.Describer: the routes of openapi.yaml and
// the shared login page at /oauth2/authorize, with its OpenID Connect
// parameters.
func (d *Dialect) OpenAPI() ([]byte, error) {
	return loginpage.DescribeOIDCIn(description, "/oauth2/authorize", "#/components/schemas/Error")
}
