package loginpage

import (
	_ "embed"
	"errors"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/dialects/openapi"
)

//go:embed openapi.yaml
var description []byte

// DescribeIn is a dialect's OpenAPI document (its description, edited by
// edit when not nil) with the page's operations at path added, JSON error
// answers of the schema errorSchema (see addOpenAPI).
func DescribeIn(description []byte, path, errorSchema string, edit func(root *yaml.Node) error) ([]byte, error) {
	return openapi.Edit(description, func(root *yaml.Node) error {
		if edit != nil {
			if err := edit(root); err != nil {
				return err
			}
		}
		return addOpenAPI(root, path, errorSchema)
	})
}

// addOpenAPI describes the page's GET and POST at path (relative to the
// dialect's prefix) in a dialect's OpenAPI document root, with its
// components; a JSON error answer has the schema errorSchema (a $ref such
// as "#/components/schemas/Error").
func addOpenAPI(root *yaml.Node, path, errorSchema string) error {
	var frag yaml.Node
	if err := yaml.Unmarshal(description, &frag); err != nil {
		return err
	}
	f := openapi.Root(&frag)
	paths := openapi.Get(root, "paths")
	if paths == nil {
		return errors.New("the document has no paths")
	}
	openapi.Set(paths, path, openapi.Get(f, "paths"))
	comps := openapi.Get(root, "components")
	if comps == nil {
		comps = &yaml.Node{Kind: yaml.MappingNode}
		openapi.Set(root, "components", comps)
	}
	for _, kind := range []string{"parameters", "schemas", "headers", "responses"} {
		into := openapi.Get(comps, kind)
		if into == nil {
			into = &yaml.Node{Kind: yaml.MappingNode}
			openapi.Set(comps, kind, into)
		}
		from := openapi.Get(f, "components", kind)
		for i := 0; i+1 < len(from.Content); i += 2 {
			openapi.Set(into, from.Content[i].Value, from.Content[i+1])
		}
	}
	ref := &yaml.Node{Kind: yaml.MappingNode}
	openapi.Set(ref, "$ref", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: errorSchema})
	openapi.Set(openapi.Get(comps, "responses", "loginError", "content", "application/json"), "schema", ref)
	return nil
}
