package loginpage

import (
	_ "embed"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/dialects/openapi"
)

//go:embed openapi_oidc.yaml
var oidcDescription []byte

// DescribeOIDCIn is DescribeIn for a page with login sessions: the
// authorization request's OpenID Connect parameters are described too, and
// the form's carried nonce and claims.
func DescribeOIDCIn(description []byte, path, errorSchema string) ([]byte, error) {
	return openapi.Edit(description, func(root *yaml.Node) error {
		if err := addOpenAPI(root, path, errorSchema); err != nil {
			return err
		}
		var frag yaml.Node
		if err := yaml.Unmarshal(oidcDescription, &frag); err != nil {
			return err
		}
		f := openapi.Root(&frag)
		params := openapi.Get(root, "paths", path, "get", "parameters")
		params.Content = append(params.Content, openapi.Get(f, "parameters").Content...)
		into, from := openapi.Get(root, "components", "parameters"), openapi.Get(f, "components", "parameters")
		for i := 0; i+1 < len(from.Content); i += 2 {
			openapi.Set(into, from.Content[i].Value, from.Content[i+1])
		}
		form := openapi.Get(root, "components", "schemas", "LoginForm", "properties")
		for _, name := range []string{"nonce", "claims"} {
			str := &yaml.Node{Kind: yaml.MappingNode}
			openapi.Set(str, "type", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "string"})
			openapi.Set(form, name, str)
		}
		return nil
	})
}
