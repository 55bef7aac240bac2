package hurdlr

import (
	_ "embed"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/openapi"
)

//go:embed openapi.yaml
var description []byte

// OpenAPI implements dialects.Describer: the token endpoint of
// openapi.yaml (its Bearer header required with require_bearer) and the
// shared login page at the authorize path.
func (d *Dialect) OpenAPI() ([]byte, error) {
	return loginpage.DescribeIn(description, authorizePath, "#/components/schemas/Error", func(root *yaml.Node) error {
		if !d.opts.RequireBearer {
			return nil
		}
		var required yaml.Node
		if err := yaml.Unmarshal([]byte("[{accessToken: []}]"), &required); err != nil {
			return err
		}
		openapi.Set(openapi.Get(root, "paths", tokenPath, "post"), "security", openapi.Root(&required))
		return nil
	})
}
