package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/openapi"
)

// openapiCmd writes the OpenAPI 3.1 document of one dialect instance of
// the config, as the gateway would serve it at /_admin/openapi/{dialect},
// without starting anything.
func openapiCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded demo config)")
	asJSON := fs.Bool("json", false, "write JSON instead of YAML")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: tokengate openapi [--config FILE] [--json] DIALECT")
		return 2
	}
	doc, err := describeInstance(*path, fs.Arg(0), !*asJSON)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	_, err = stdout.Write(doc)
	return status(err)
}

// describeInstance renders the document of instance name of the config at
// path, its server the instance's configured listen address.
func describeInstance(path, name string, asYAML bool) ([]byte, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	cfg.ApplyEnv(os.Getenv)
	ps, err := dialects.DryRun(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Name == name {
			return openapi.Render(p, "http://"+p.Listen, asYAML)
		}
	}
	return nil, fmt.Errorf("no enabled dialect instance %q (enabled: %s)", name, strings.Join(cfg.EnabledDialects(), ", "))
}

func status(err error) int {
	if err != nil {
		return 1
	}
	return 0
}
