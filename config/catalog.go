package config

import (
	"fmt"
	"slices"
	"strings"
)

// Catalog is what validation needs from the dialect registry, which config
// cannot import (the dialects import config); dialects.Catalog() is the
// implementation. A nil Catalog knows no dialect type.
type Catalog interface {
	// Types lists the registered dialect types, sorted.
	Types() []string
	// DefaultTypes lists the types a file without a dialects key enables,
	// each under its own name: those that work without options (not
	// declared, which needs a spec).
	DefaultTypes() []string
	// CheckDialects provisions every enabled instance of c whose type is
	// registered, as serve will, and returns each problem with its full key
	// path, e.g. "dialects[hurdlr].require_bearr: unknown key".
	CheckDialects(c *Config) []string
}

func typesOf(cat Catalog) []string {
	if cat == nil {
		return nil
	}
	return cat.Types()
}

// dialectProblems checks what needs the registry: every instance's type,
// the dialects clients name, and (through cat) every instance's options.
func (c *Config) dialectProblems(cat Catalog) []string {
	types := typesOf(cat)
	var problems []string
	known := *c // the instances of registered types, for cat to provision
	known.Dialects = make(map[string]DialectConfig, len(c.Dialects))
	for _, name := range sortedNames(c.Dialects) {
		dc := c.Dialects[name]
		typ := dc.InstanceType(name)
		if slices.Contains(types, typ) {
			known.Dialects[name] = dc
			continue
		}
		path := "dialects[" + name + "]"
		if dc.Type != "" {
			path += ".type"
		}
		problems = append(problems, fmt.Sprintf("%s: unknown dialect type %q (known: %s)", path, typ, strings.Join(types, ", ")))
	}
	for i := range c.Clients {
		problems = append(problems, c.clientDialectProblems(fmt.Sprintf("clients[%d].", i), &c.Clients[i], types)...)
	}
	if cat != nil {
		problems = append(problems, cat.CheckDialects(&known)...)
	}
	return problems
}

// clientDialectProblems checks that every dialect a client names is an
// instance of c or a registered type (which allows all its instances).
func (c *Config) clientDialectProblems(prefix string, cl *Client, types []string) []string {
	var problems []string
	for j, d := range cl.Dialects {
		if _, ok := c.Dialects[d]; ok || slices.Contains(types, d) || !IsInstanceName(d) {
			continue // a malformed name is reported by the struct validation
		}
		names := append(sortedNames(c.Dialects), types...)
		slices.Sort(names)
		problems = append(problems, fmt.Sprintf("%sdialects[%d]: unknown dialect %q (known: %s)", prefix, j, d,
			strings.Join(slices.Compact(names), ", ")))
	}
	return problems
}

// ValidateClient checks one client (the admin API's body) against c's
// dialect instances and cat's types; paths are relative to the client
// ("redirect_uris[0]: ...").
func (c *Config) ValidateClient(cl *Client, cat Catalog) error {
	problems, err := structProblems(cl)
	if err != nil {
		return err
	}
	if cl != nil {
		problems = append(problems, c.clientDialectProblems("", cl, typesOf(cat))...)
	}
	return problemsError(problems)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// IsInstanceName accepts names usable in paths, logs and fault rules:
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func IsInstanceName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}
