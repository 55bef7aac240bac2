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
// spec when the instance was mounted, written out on first use (a dry
// run's mount never needs it).
func (d *Dialect) OpenAPI() ([]byte, error) {
	d.docOnce.Do(func() {
		if d.docErr == nil {
			d.docText, d.docErr = openapi.YAML(d.doc)
		}
	})
	return d.docText, d.docErr
}

// describe generates the instance's document: the spec's routes
// (spec.OpenAPI) and the shared login page at each authorize route.
func (d *Dialect) describe() (*yaml.Node, error) {
	doc := d.spec.OpenAPI(spec.DescribeOptions{
		BaseURL:    "http://127.0.0.1:8080" + d.prefix,
		ForcedKind: func(status int) core.Kind { return (&wire.ForcedAnswer{Status: status}).Kind() },
	})
	root := openapi.Root(doc)
	pages := 0
	for _, rt := range d.spec.Routes {
		if rt.Operation != spec.OpAuthorize {
			continue
		}
		pages++
		if err := d.addLoginPage(root, rt.Path, pages); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// addLoginPage merges the login page's operations at path, and what they
// refer to, into the document root; the nth page's operation ids get a
// suffix (they are unique per document).
func (d *Dialect) addLoginPage(root *yaml.Node, path string, nth int) error {
	errs := d.spec.ErrorSchemas()
	raw, err := loginpage.DescribeIn([]byte("paths: {}\n"), path, errs[0].Ref, nil)
	if err != nil {
		return err
	}
	var frag yaml.Node
	if err := yaml.Unmarshal(raw, &frag); err != nil {
		return err
	}
	f := openapi.Root(&frag)
	page := openapi.Get(f, "paths", path)
	if nth > 1 {
		for _, m := range []string{"get", "post"} {
			id := openapi.Get(page, m, "operationId")
			id.Value += strconv.Itoa(nth)
		}
	}
	paths := openapi.Get(root, "paths")
	if item := openapi.Get(paths, path); item != nil { // another route at the same path
		merge(item, page)
	} else {
		openapi.Set(paths, path, page)
	}
	// The page's failures outside the page come in the spec's error
	// formats, negotiated by Accept.
	content := openapi.Get(f, "components", "responses", "loginError", "content")
	openapi.Delete(content, "application/json")
	for _, e := range errs {
		ref := &yaml.Node{Kind: yaml.MappingNode}
		openapi.Set(ref, "$ref", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Ref})
		schema := &yaml.Node{Kind: yaml.MappingNode}
		openapi.Set(schema, "schema", ref)
		openapi.Set(content, e.MediaType, schema)
	}
	comps := openapi.Get(root, "components")
	fc := openapi.Get(f, "components")
	for i := 0; i+1 < len(fc.Content); i += 2 {
		kind := openapi.Get(comps, fc.Content[i].Value)
		if kind == nil {
			kind = &yaml.Node{Kind: yaml.MappingNode}
			openapi.Set(comps, fc.Content[i].Value, kind)
		}
		merge(kind, fc.Content[i+1])
	}
	return nil
}

// merge sets every key of mapping from in mapping into.
func merge(into, from *yaml.Node) {
	for i := 0; i+1 < len(from.Content); i += 2 {
		openapi.Set(into, from.Content[i].Value, from.Content[i+1])
	}
}
