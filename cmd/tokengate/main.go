// Command tokengate serves the token endpoints of several vendor APIs from
// one local gateway. Subcommands: serve, config check, version (and admin,
// for the control plane of a running gateway).
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `tokengate – one local gateway for many vendors' token endpoints

usage:
  tokengate serve [--config FILE] [--listen ADDR] [--db PATH]
  tokengate config check FILE
  tokengate admin [--url URL] [--token TOKEN] [--json] COMMAND ...   (tokengate admin -h)
  tokengate migrate [--config FILE] [--db PATH|URL]
  tokengate keys rotate [--config FILE] [--db PATH] [--dialect NAME] [--lifetime DURATION]
  tokengate openapi [--config FILE] [--json] DIALECT
  tokengate version
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "config":
		if len(args) != 3 || args[1] != "check" {
			fmt.Fprint(stderr, "usage: tokengate config check FILE\n")
			return 2
		}
		return configCheck(args[2], stdout, stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout, stderr)
	case "keys":
		return keysCmd(args[1:], stdout, stderr)
	case "admin":
		return adminCmd(args[1:], stdout, stderr)
	case "openapi":
		return openapiCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tokengate", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return 2
}
