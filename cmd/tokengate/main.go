// Command tokengate serves the token endpoints of several vendor APIs from
// one local gateway. main.go and commands.go are the command line (cobra):
// flags, arguments, help and exit statuses; the command bodies (serve.go,
// migrate.go, keys.go, admin.go, healthcheck.go) take plain values.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit statuses: 0 success, 1 the command failed, 2 the command line is
// wrong (unknown command or flag, missing argument).
const (
	exitFailure = 1
	exitUsage   = 2
)

// exitCode is what a command returns when it has already told the user
// what went wrong.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// status turns a command body's exit status into RunE's error.
func status(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// run executes one command line and returns its exit status. Every error
// that is not an exitCode is a command-line mistake: one line, a hint to
// --help, status 2.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	}
	if cmd == nil {
		cmd = root
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	fmt.Fprintf(stderr, "tokengate: %s\nRun '%s --help' for usage.\n", msg, cmd.CommandPath())
	return exitUsage
}

// group adds subcommands to c; an unknown word after c is an unknown
// command. Without a RunE of its own, c alone prints its usage to stderr and
// exits 2.
func group(c *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	c.AddCommand(subs...)
	c.Args = noArgs
	if c.RunE == nil {
		c.RunE = func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return exitCode(exitUsage)
		}
	}
	return c
}

// noArgs refuses positional arguments, naming an unknown subcommand as such
// and suggesting a close one on the same line.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if !cmd.HasAvailableSubCommands() {
		return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return errors.New(msg)
}

// exactArgs wants exactly the positional arguments the Use line names.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// synopsis is one usage line per command under c, indented by two spaces,
// for the top-level help and the README.
func synopsis(c *cobra.Command) string {
	var b strings.Builder
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" {
			fmt.Fprintf(&b, "  %s\n", sub.UseLine())
		}
	}
	return b.String()
}
