// Package openapi turns a dialect's own OpenAPI 3.1 description (the
// dialects.Describer it implements, paths relative to its prefix) into the
// document of one mounted instance: the instance's prefix on every path,
// only the operations it mounted, the instance named in info, and the
// server it is reached at. The admin API serves it at
// /_admin/openapi/{dialect} and `tokengate openapi DIALECT` prints it.
//
// It works on the YAML tree so that the dialect's order of keys survives,
// in YAML and in JSON.
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/dialects"
)

// ErrNotDescribed is returned for an instance whose dialect type does not
// implement dialects.Describer.
var ErrNotDescribed = errors.New("the dialect does not describe itself")

// methods are the operation keys of a path item.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Build returns instance p's document. serverURL, when not empty, becomes
// its one server (the base URL the prefixed paths are below).
func Build(p *dialects.Provisioned, serverURL string) (*yaml.Node, error) {
	d, ok := p.Dialect.(dialects.Describer)
	if !ok {
		return nil, fmt.Errorf("dialect %s (type %s): %w", p.Name, p.Type, ErrNotDescribed)
	}
	raw, err := d.OpenAPI()
	if err != nil {
		return nil, fmt.Errorf("dialect %s: describing it: %w", p.Name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("dialect %s: its description does not parse: %w", p.Name, err)
	}
	root := Root(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("dialect %s: its description is not a mapping", p.Name)
	}
	if paths := Get(root, "paths"); paths != nil {
		mountedOnly(paths, p)
	}
	if info := Get(root, "info"); info != nil {
		Set(info, "x-tokengate-instance", scalar(p.Name))
		Set(info, "x-tokengate-type", scalar(p.Type))
	}
	Delete(root, "servers")
	if serverURL != "" {
		server := &yaml.Node{Kind: yaml.MappingNode}
		Set(server, "url", scalar(serverURL))
		Set(server, "description", scalar("tokengate, dialect instance "+p.Name))
		servers := []*yaml.Node{scalar("servers"), {Kind: yaml.SequenceNode, Content: []*yaml.Node{server}}}
		at := len(root.Content)
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "info" {
				at = i + 2 // right after info, where readers look for it
			}
		}
		root.Content = append(root.Content[:at], append(servers, root.Content[at:]...)...)
	}
	return &doc, nil
}

// Render is Build written as YAML or JSON.
func Render(p *dialects.Provisioned, serverURL string, asYAML bool) ([]byte, error) {
	doc, err := Build(p, serverURL)
	if err != nil {
		return nil, err
	}
	if asYAML {
		return YAML(doc)
	}
	return JSON(doc)
}

// mountedOnly prefixes every path and drops the operations p did not mount
// (an option left a route out) and the paths left without any. A GET also
// answers HEAD (the router binds both), so each gets a HEAD twin. A route
// the instance serves outside its prefix at a described path with the
// prefix appended (RFC 8414 §3's well-known form) is described there too.
func mountedOnly(paths *yaml.Node, p *dialects.Provisioned) {
	mounted := map[string]bool{}
	for _, r := range p.Routes {
		mounted[r.Method+" "+r.Path] = true
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(paths.Content); i += 2 {
		key, item := paths.Content[i], paths.Content[i+1]
		rel := key.Value
		ops := 0
		for _, m := range methods {
			if Get(item, m) == nil {
				continue
			}
			if mounted[strings.ToUpper(m)+" "+EchoPath(p.Prefix+rel)] {
				ops++
			} else {
				Delete(item, m)
			}
		}
		if ops == 0 {
			continue
		}
		if get := Get(item, "get"); get != nil && Get(item, "head") == nil {
			Set(item, "head", headTwin(get))
		}
		key.Value = p.Prefix + rel
		kept = append(kept, key, item)
		if outside := rel + p.Prefix; p.Prefix != "" && outsideRoute(p, outside) {
			twin := clone(item)
			for _, m := range methods {
				if id := Get(twin, m, "operationId"); id != nil {
					id.Value += "OutsidePrefix" // operation ids are unique per document
				}
			}
			kept = append(kept, scalar(outside), twin)
		}
	}
	paths.Content = kept
}

// outsideRoute reports whether p mounted a route at path, which lies
// outside its prefix.
func outsideRoute(p *dialects.Provisioned, path string) bool {
	for _, r := range p.Routes {
		if r.Path == path && !dialects.HasPathPrefix(path, p.Prefix) {
			return true
		}
	}
	return false
}

// clone copies a tree.
func clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = clone(k)
	}
	return &c
}

// headTwin is a GET operation as HEAD answers it: the same parameters and
// statuses, the headers without the bodies.
func headTwin(get *yaml.Node) *yaml.Node {
	head := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(get.Content); i += 2 {
		k, v := get.Content[i].Value, get.Content[i+1]
		switch k {
		case "operationId":
			Set(head, k, scalar(v.Value+"Head"))
		case "responses":
			rs := &yaml.Node{Kind: yaml.MappingNode}
			for j := 0; j+1 < len(v.Content); j += 2 {
				r := &yaml.Node{Kind: yaml.MappingNode}
				Set(r, "description", scalar("As GET, without the body."))
				if h := Get(v.Content[j+1], "headers"); h != nil {
					Set(r, "headers", h)
				}
				Set(rs, v.Content[j].Value, r)
			}
			Set(head, k, rs)
		case "summary":
			Set(head, k, scalar(v.Value+" (HEAD)"))
		case "requestBody", "description":
		default:
			Set(head, k, v)
		}
	}
	return head
}

// EchoPath writes an OpenAPI path template as the router's pattern:
// {name} becomes :name.
func EchoPath(path string) string {
	if !strings.Contains(path, "{") {
		return path
	}
	var b strings.Builder
	for _, seg := range strings.SplitAfter(path, "/") {
		if strings.HasPrefix(seg, "{") {
			name, rest, _ := strings.Cut(seg[1:], "}")
			b.WriteString(":" + name + rest)
			continue
		}
		b.WriteString(seg)
	}
	return b.String()
}

// OpenAPIPath is EchoPath's inverse: :name becomes {name}.
func OpenAPIPath(pattern string) string {
	if !strings.Contains(pattern, ":") {
		return pattern
	}
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// YAML writes doc as YAML.
func YAML(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// JSON writes doc as indented JSON, keys in the document's order.
func JSON(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b.Write(j)
	}
	return nil
}

// Root is a document's top mapping (or n itself when it is no document).
func Root(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return n.Content[0]
	}
	return n
}

// Get follows keys down mappings; nil when one is missing.
func Get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// Set puts v under key in mapping m, replacing what was there.
func Set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

// Delete removes key from mapping m.
func Delete(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// Edit parses a description, lets f change its root mapping and writes it
// back: for a dialect whose options change its description.
func Edit(raw []byte, f func(root *yaml.Node) error) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if err := f(Root(&doc)); err != nil {
		return nil, err
	}
	return YAML(&doc)
}
