package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/tokengate/tokengate/dialects/admin"
)

// dialects runs `admin dialects [add FILE [--name N] [--prefix P]
// [--listen A] | list | remove NAME]`.
func (a *adminCLI) dialects(args []string) error {
	if len(args) == 0 {
		return a.listDialects()
	}
	switch args[0] {
	case "list":
		return a.listDialects()
	case "remove", "rm":
		if len(args) != 2 {
			return usageError("dialects remove NAME")
		}
		return a.removeDialect(args[1])
	case "add":
		fs := flag.NewFlagSet("dialects add", flag.ContinueOnError)
		name := fs.String("name", "", "instance name (default: the spec's name)")
		prefix := fs.String("prefix", "", "path prefix, e.g. /acme")
		listen := fs.String("listen", "", "listen address the gateway already serves (default: the main one)")
		files, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return usageError(err.Error())
		}
		if len(files) != 1 {
			return usageError("dialects add FILE [--name N] [--prefix P] [--listen A]")
		}
		return a.addDialect(files[0], *name, *prefix, *listen)
	}
	return usageError("dialects: unknown arguments")
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// addDialect sends a spec file to the gateway, which mounts it at once.
func (a *adminCLI) addDialect(file, name, prefix, listen string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	d, err := a.c.AddDialect(admin.DialectRequest{Name: name, Prefix: prefix, Listen: listen, Spec: string(text)})
	if err != nil {
		return err
	}
	return a.print(d, dialectHeader, [][]string{dialectRow(d)})
}

func (a *adminCLI) listDialects() error {
	list, err := a.c.Dialects()
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, d := range list {
		rows = append(rows, dialectRow(d))
	}
	return a.print(list, dialectHeader, rows)
}

func (a *adminCLI) removeDialect(name string) error {
	if err := a.c.RemoveDialect(name); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "removed dialect %s\n", name)
	return nil
}

var dialectHeader = []string{"NAME", "TYPE", "SOURCE", "PREFIX", "LISTEN", "ROUTES"}

func dialectRow(d admin.Dialect) []string {
	return []string{d.Name, d.Type, d.Source, dash(d.Prefix), d.Listen, strings.Join(d.Routes, ", ")}
}
