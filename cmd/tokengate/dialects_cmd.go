package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/dialects/admin"
)

// dialectsCmd is `tokengate admin dialects [list | add FILE | remove NAME]`.
func dialectsCmd(r *adminRunner) *cobra.Command {
	var name, prefix, listen string
	add := &cobra.Command{
		Use:   "add FILE [--name N] [--prefix P] [--listen A]",
		Short: "Mount a declared dialect from its spec file at once",
		Long: `Send a declared dialect's spec file (docs/declared-dialects.md) to the gateway,
which validates it, mounts it at once under its prefix, without a restart,
and stores it: every replica on the same database serves it, and it survives
a restart. A spec with mistakes is refused with each one and its path; routes
another dialect serves are refused too.`,
		Args: exactArgs(1),
		RunE: r.run("dialect", func(a *adminCLI, args []string) error { return a.addDialect(args[0], name, prefix, listen) }),
	}
	f := add.Flags()
	f.StringVar(&name, "name", "", "instance name (default: the spec's name)")
	f.StringVar(&prefix, "prefix", "", "path prefix, e.g. /acme (default: none)")
	f.StringVar(&listen, "listen", "", "a listen address the gateway already serves (default: the main one)")
	list := func(a *adminCLI, _ []string) error {
		ds, err := a.c.Dialects()
		return printList(a, dialectHeader, dialectRow, ds, err)
	}
	return group(&cobra.Command{
		Use:   "dialects [list | add FILE ... | remove NAME]",
		Short: "List, add and remove dialect instances at run time",
		Long: `List the mounted dialect instances (those of the config file and those added
at run time), add a declared dialect from its spec file, or remove one that
was added.`,
		RunE: r.run("dialect request", list),
	}, &cobra.Command{
		Use:   "list",
		Short: "List the mounted dialect instances",
		Long:  `List every mounted dialect instance: name, type, source (config or admin), prefix, listener, routes.`,
		Args:  noArgs,
		RunE:  r.run("dialect request", list),
	}, add, &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Unmount and forget a dialect added at run time",
		Long:    `Unmount a dialect that was added at run time, on every replica, and forget it. A dialect of the config file cannot be removed.`,
		Args:    exactArgs(1),
		RunE:    r.run("dialect", func(a *adminCLI, args []string) error { return a.removeDialect(args[0]) }),
	})
}

// addDialect sends a spec file to the gateway, which mounts it at once.
func (a *adminCLI) addDialect(file, name, prefix, listen string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	d, err := a.c.AddDialect(admin.DialectRequest{Name: name, Prefix: prefix, Listen: listen, Spec: string(text)})
	return printOne(a, dialectHeader, dialectRow, d, err)
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
