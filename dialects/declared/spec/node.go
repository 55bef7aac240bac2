package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one mistake in a spec file: where (a path such as
// routes[0].response.body.team.id and the YAML line) and what.
type Problem struct {
	Path    string
	Line    int
	Message string
}

func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Line > 0 {
		s += " (line " + strconv.Itoa(p.Line) + ")"
	}
	return s
}

// ValidationError lists every problem of a spec, in file order. The caller
// prefixes each line with the file name.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Lines returns the problems as "path: message (line N)" strings.
func (e *ValidationError) Lines() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

// reader walks yaml nodes and collects problems instead of stopping at the
// first one, so a spec's mistakes are all reported at once.
type reader struct {
	problems []Problem
	values   int // compiled so far, bounded by maxValues
}

func (r *reader) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.problems = append(r.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (r *reader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	seen := map[Problem]bool{}
	uniq := r.problems[:0]
	for _, p := range r.problems {
		if !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	r.problems = uniq
	sort.SliceStable(r.problems, func(i, j int) bool {
		a, b := r.problems[i], r.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
	return &ValidationError{Problems: r.problems}
}

// resolve follows aliases (YAML anchors may be reused, e.g. one error body
// for several rules).
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports an explicit null (or an empty value).
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// joinKey appends a mapping key to a path, quoting keys that would make the
// path ambiguous.
func joinKey(path, key string) string {
	if strings.ContainsAny(key, ".[]\" ") || key == "" {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fields reads one mapping: take marks keys as known; done reports the rest
// as unknown. A nil *fields (the node was not a mapping) takes nothing.
type fields struct {
	r     *reader
	node  *yaml.Node
	path  string
	known []string
	seen  map[string]bool
}

// mapping starts reading n as a mapping, reporting it if it is not one.
func (r *reader) mapping(n *yaml.Node, path string) *fields {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		r.errorf(n, path, "must be a mapping")
		return nil
	}
	f := &fields{r: r, node: n, path: path, seen: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" {
			r.errorf(k, joinKey(path, k.Value), "merge keys are not supported; repeat the keys or use an alias for the whole value")
			continue
		}
		if f.seen[k.Value] {
			r.errorf(k, joinKey(path, k.Value), "key appears twice")
		}
		f.seen[k.Value] = true
	}
	return f
}

// take returns the value of key (nil when absent) and its path.
func (f *fields) take(key string) (*yaml.Node, string) {
	if f == nil {
		return nil, ""
	}
	f.known = append(f.known, key)
	return valueOf(f.node, key), joinKey(f.path, key)
}

// valueOf returns the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// done reports every key that was not taken.
func (f *fields) done() {
	if f == nil {
		return
	}
	for i := 0; i+1 < len(f.node.Content); i += 2 {
		k := f.node.Content[i]
		if k.Value == "<<" || contains(f.known, k.Value) {
			continue
		}
		msg := "unknown key"
		if s := suggest(k.Value, f.known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		f.r.errorf(k, joinKey(f.path, k.Value), "%s", msg)
	}
}

// required reports a missing key and returns its node.
func (f *fields) required(key string) (*yaml.Node, string) {
	n, p := f.take(key)
	if f != nil && n == nil {
		f.r.errorf(f.node, p, "is required")
	}
	return n, p
}

// str reads a non-null scalar as a string.
func (r *reader) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.errorf(n, path, "must be a string")
		return "", false
	}
	return n.Value, true
}

// oneOf reads a string that must be one of allowed.
func (r *reader) oneOf(n *yaml.Node, path string, allowed ...string) (string, bool) {
	s, ok := r.str(n, path)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		msg := fmt.Sprintf("unknown value %q (use %s)", s, strings.Join(allowed, ", "))
		if g := suggest(s, allowed); g != "" {
			msg = fmt.Sprintf("unknown value %q (did you mean %q? use %s)", s, g, strings.Join(allowed, ", "))
		}
		r.errorf(n, path, "%s", msg)
		return "", false
	}
	return s, true
}

func (r *reader) boolean(n *yaml.Node, path string) (bool, bool) {
	n = resolve(n)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		r.errorf(n, path, "must be true or false")
		return false, false
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return b, true
}

func (r *reader) integer(n *yaml.Node, path string) (int, bool) {
	n = resolve(n)
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil {
			return v, true
		}
	}
	r.errorf(n, path, "must be an integer")
	return 0, false
}

// duration reads a Go duration ("90s", "15m", "2160h").
func (r *reader) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = resolve(n)
	if n == nil {
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
		r.errorf(n, path, "invalid duration %q: use Go syntax such as 90s, 15m or 2160h", n.Value)
		return 0, false
	}
	return d, true
}

// strList reads a scalar or a sequence of scalars.
func (r *reader) strList(n *yaml.Node, path string) ([]string, []*yaml.Node) {
	n = resolve(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		if s, ok := r.str(n, path); ok {
			return []string{s}, []*yaml.Node{n}
		}
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, path, "must be a string or a list of strings")
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for i, c := range n.Content {
		if s, ok := r.str(c, index(path, i)); ok {
			out = append(out, s)
			nodes = append(nodes, resolve(c))
		}
	}
	return out, nodes
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// suggest returns the candidate closest to s when it is a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD >= len(s) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
