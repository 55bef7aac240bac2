package declared

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/declared/spec"
	"github.com/tokengate/tokengate/dialects/loginpage"
	"github.com/tokengate/tokengate/dialects/openapi"
	"github.com/tokengate/tokengate/dialects/wire"
)

// OpenAPI implements dialects.Describer: the document generated from the
// spec when the instance was mounted.
func (d *Dialect) OpenAPI() ([]byte, error) { return d.doc, d.docErr }

// describe generates the instance's document: the spec's routes
// (spec.OpenAPI) and the shared login page at each authorize route.
func (d *Dialect) describe() ([]byte, error) {
	doc := d.spec.OpenAPI(spec.DescribeOptions{
		BaseURL:    "http://127.0.0.1:8080" + d.prefix,
		ForcedKind: func(status int) core.Kind { return (&wire.ForcedAnswer{Status: status}).Kind() },
	})
	raw, err := openapi.YAML(doc)
	if err != nil {
		return nil, err
	}
	pages := 0
	for _, rt := range d.spec.Routes {
		if rt.Operation != spec.OpAuthorize {
			continue
		}
		pages++
		var kept *yaml.Node // another route at the same path
		raw, err = loginpage.DescribeIn(raw, rt.Path, d.spec.ErrorSchemas()[0].Ref, func(root *yaml.Node) error {
			kept = openapi.Get(root, "paths", rt.Path)
			return nil
		})
		if err != nil {
			return nil, err
		}
		raw, err = openapi.Edit(raw, func(root *yaml.Node) error {
			item := openapi.Get(root, "paths", rt.Path)
			for i := 0; kept != nil && i+1 < len(kept.Content); i += 2 {
				openapi.Set(item, kept.Content[i].Value, kept.Content[i+1])
			}
			if pages > 1 { // operation ids are unique per document
				for _, m := range []string{"get", "post"} {
					id := openapi.Get(item, m, "operationId")
					id.Value += strconv.Itoa(pages)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if pages == 0 {
		return raw, nil
	}
	// The page's failures outside the page come in the spec's error
	// formats, negotiated by Accept.
	return openapi.Edit(raw, func(root *yaml.Node) error {
		content := openapi.Get(root, "components", "responses", "loginError", "content")
		openapi.Delete(content, "application/json")
		for _, e := range d.spec.ErrorSchemas() {
			ref := &yaml.Node{Kind: yaml.MappingNode}
			openapi.Set(ref, "$ref", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Ref})
			schema := &yaml.Node{Kind: yaml.MappingNode}
			openapi.Set(schema, "schema", ref)
			openapi.Set(content, e.MediaType, schema)
		}
		return nil
	})
}
