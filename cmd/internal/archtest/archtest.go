// Package archtest holds the dependency rules of the repository's rooms
// (core, storage, dialects, config; see docs/architecture.md) and checks a
// package graph, as `go list -deps` prints it, against them. Its test runs
// the check on the whole module.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// Module is the repository's module path.
const Module = "github.com/tokengate/tokengate"

const (
	echo = "github.com/labstack/echo"
	gorm = "gorm.io"
)

// A Rule forbids every package of a room (a top-level folder) to depend,
// directly or through other packages, on the packages under Forbidden.
type Rule struct {
	Room      string
	Forbidden []string // import paths; each covers the packages below it
}

// Rules are the dependency rules: dialects → core ← storage, config feeds
// cmd, and nothing but cmd depends on cmd (the composition root). Storage
// also stays off HTTP and config: it persists core's values and nothing
// else.
var Rules = []Rule{
	{"core", []string{echo, gorm, "net/http", Module + "/config", Module + "/dialects", Module + "/storage", Module + "/cmd"}},
	{"storage", []string{echo, "net/http", Module + "/config", Module + "/dialects", Module + "/cmd"}},
	{"dialects", []string{gorm, Module + "/storage", Module + "/cmd"}},
	{"config", []string{echo, gorm, Module + "/dialects", Module + "/storage", Module + "/cmd"}},
}

// Package is one entry of `go list -deps -json`: its path and direct imports.
type Package struct {
	ImportPath string
	Imports    []string
}

// List runs `go list -deps` on patterns (the packages' own code, not their
// tests) in dir and returns every package it names, dependencies included.
func List(dir string, patterns ...string) ([]Package, error) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath,Imports"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

// Check returns one line per broken rule: a package of a room that reaches
// a forbidden package, with the shortest import chain that does, e.g.
// "core/x -> core/y -> net/http". A room without packages is a problem too,
// so a misspelt rule cannot pass by checking nothing.
func Check(pkgs []Package, rules []Rule) []string {
	imports := make(map[string][]string, len(pkgs))
	paths := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		imports[p.ImportPath] = p.Imports
		paths = append(paths, p.ImportPath)
	}
	slices.Sort(paths)
	var problems []string
	for _, r := range rules {
		room := Module + "/" + r.Room
		found := false
		for _, path := range paths {
			if !under(path, room) {
				continue
			}
			found = true
			for _, chain := range reach(path, imports, r.Forbidden) {
				problems = append(problems, fmt.Sprintf("%s must not depend on %s: %s", r.Room, short(chain[len(chain)-1]), show(chain)))
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: no packages in the list (a misspelt room?)", r.Room))
		}
	}
	return problems
}

// reach walks the imports of from breadth first and returns, for each
// forbidden prefix it reaches, the shortest chain to the first package found.
func reach(from string, imports map[string][]string, forbidden []string) [][]string {
	parent := map[string]string{from: ""}
	queue := []string{from}
	var chains [][]string
	hit := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range imports[p] {
			if _, seen := parent[imp]; seen {
				continue
			}
			parent[imp] = p
			if i := slices.IndexFunc(forbidden, func(f string) bool { return under(imp, f) }); i >= 0 {
				if !hit[forbidden[i]] {
					hit[forbidden[i]] = true
					chains = append(chains, chainTo(imp, parent))
				}
				continue // what lies behind a forbidden package adds nothing
			}
			queue = append(queue, imp)
		}
	}
	return chains
}

func chainTo(p string, parent map[string]string) []string {
	var chain []string
	for ; p != ""; p = parent[p] {
		chain = append(chain, p)
	}
	slices.Reverse(chain)
	return chain
}

func show(chain []string) string {
	out := make([]string, len(chain))
	for i, p := range chain {
		out[i] = short(p)
	}
	return strings.Join(out, " -> ")
}

// short is a module path without the module's prefix.
func short(path string) string { return strings.TrimPrefix(path, Module+"/") }

// under reports whether path is prefix or a package below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
