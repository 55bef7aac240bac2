package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// defaultYAML is the demo configuration: all dialects on, one demo client,
// user and authorization with public credentials.
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the embedded default configuration.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default parses the embedded demo configuration.
func Default(cat Catalog) (*Config, error) { return Parse(defaultYAML, cat) }

// Load reads, defaults and validates the configuration file at path.
func Load(path string, cat Catalog) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := ParseIn(data, filepath.Dir(path), cat)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("config %s:\n%w", path, err)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML strictly (unknown keys are errors), applies defaults
// for omitted fields and validates with Validate. Every decoding and
// validation problem comes back at once in one *ValidationError; a YAML
// syntax error as a plain error.
func Parse(data []byte, cat Catalog) (*Config, error) { return ParseIn(data, "", cat) }

// ParseIn is Parse for a file in directory dir: relative file names in it
// are read from there (Config.BaseDir).
func ParseIn(data []byte, dir string, cat Catalog) (*Config, error) {
	c := Config{BaseDir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	var decodeProblems []string
	switch {
	case errors.Is(err, io.EOF): // an empty file: all defaults
	case err != nil:
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, err
		}
		// yaml decodes on past type errors, so validation still sees the
		// rest of the file and reports its problems too.
		decodeProblems = typeErrorProblems(data, te, reflect.TypeFor[Config](), true)
	default:
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, errors.New("config: more than one YAML document")
		}
	}
	c.ApplyDefaults(cat)
	err = Validate(&c, cat)
	var ve *ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, err
	}
	if problems := mergeProblems(decodeProblems, ve); len(problems) > 0 {
		return nil, problemsError(problems)
	}
	return &c, nil
}

// mergeProblems joins decoding and validation problems, dropping validation
// problems about a value that could not be decoded (it is still zero).
func mergeProblems(decoded []string, ve *ValidationError) []string {
	if ve == nil {
		return decoded
	}
	bad := map[string]bool{}
	for _, p := range decoded {
		path, _, _ := strings.Cut(p, ": ")
		bad[path] = true
	}
	out := decoded
	for _, p := range ve.Problems {
		if path, _, _ := strings.Cut(p, ": "); !bad[path] {
			out = append(out, p)
		}
	}
	return out
}

var (
	typeErrLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)
	unmarshalRE   = regexp.MustCompile(`^cannot unmarshal !!(\w+)`)
	notFoundRE    = regexp.MustCompile(`^field (\S+) not found in type .+$`)
)

// typeErrorProblems turns yaml's "line N: ..." decoding errors of data
// (decoded into root) into "path: message (line N)" lines, naming the key
// wherever the line makes it unambiguous; withLines false leaves out the
// line numbers (of re-encoded text, which mean nothing to the reader).
func typeErrorProblems(data []byte, te *yaml.TypeError, root reflect.Type, withLines bool) []string {
	var doc yaml.Node
	idx := &nodeIndex{keys: map[int][]located{}, values: map[int][]located{}}
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) == 1 {
		idx.walk(doc.Content[0], root, "")
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := typeErrLineRE.FindStringSubmatch(e)
		if m == nil {
			out = append(out, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		path := ""
		if f := notFoundRE.FindStringSubmatch(msg); f != nil {
			msg = "unknown key"
			path = idx.find(idx.keys[line], f[1], 0)
			if path == "" {
				msg = fmt.Sprintf("unknown key %q", f[1])
			}
		} else {
			kind := yaml.ScalarNode
			if u := unmarshalRE.FindStringSubmatch(msg); u != nil {
				switch u[1] {
				case "map":
					kind = yaml.MappingNode
				case "seq":
					kind = yaml.SequenceNode
				}
			}
			path = idx.find(idx.values[line], "", kind)
		}
		switch {
		case path == "" && withLines:
			out = append(out, fmt.Sprintf("line %d: %s", line, msg))
		case path == "":
			out = append(out, msg)
		case withLines:
			out = append(out, fmt.Sprintf("%s: %s (line %d)", path, msg, line))
		default:
			out = append(out, fmt.Sprintf("%s: %s", path, msg))
		}
	}
	return out
}

type located struct {
	path string
	name string // for keys: the key itself
	kind yaml.Kind
}

// nodeIndex maps lines to the keys and values on them, with their paths in
// the same notation validation uses (clients[0].grants[1], dialects[hurdlr]).
type nodeIndex struct {
	keys   map[int][]located
	values map[int][]located
}

// find returns the path of the only candidate matching name (keys) or kind
// (values), or "" when there is none or more than one.
func (idx *nodeIndex) find(cands []located, name string, kind yaml.Kind) string {
	found := ""
	for _, c := range cands {
		if (name != "" && c.name != name) || (name == "" && c.kind != kind) {
			continue
		}
		if found != "" {
			return ""
		}
		found = c.path
	}
	return found
}

// walk records n (found at path, to be decoded into t; nil: unknown) and
// everything below it.
func (idx *nodeIndex) walk(n *yaml.Node, t reflect.Type, path string) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			idx.values[c.Line] = append(idx.values[c.Line], located{path: p, kind: c.Kind})
			idx.walk(c, elem, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var p string
			var vt reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				p = joinPath(path, k.Value)
				vt = fieldType(t, k.Value)
			case t != nil && t.Kind() == reflect.Map:
				p = path + "[" + k.Value + "]"
				vt = t.Elem()
			default:
				p = joinPath(path, k.Value)
			}
			idx.keys[k.Line] = append(idx.keys[k.Line], located{path: p, name: k.Value})
			idx.values[v.Line] = append(idx.values[v.Line], located{path: p, kind: v.Kind})
			idx.walk(v, vt, p)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldType finds the type of the field a YAML key decodes into, looking
// through ",inline" fields; nil if there is none.
func fieldType(t reflect.Type, key string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == key {
			return f.Type
		}
		if name == "" && strings.Contains(opts, "inline") {
			if f.Type.Kind() == reflect.Map {
				return f.Type.Elem()
			}
			if ft := fieldType(f.Type, key); ft != nil {
				return ft
			}
		}
	}
	return nil
}
