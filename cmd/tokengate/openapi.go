package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/openapi"
)

func openapiCmd(stdout, stderr io.Writer) *cobra.Command {
	var cf configFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "openapi [--config FILE] [--json] DIALECT",
		Short: "Print a dialect instance's OpenAPI 3.1 document",
		Long: `Print the OpenAPI 3.1 document of one dialect instance of the config (YAML, or
JSON with --json), exactly as a running gateway serves it at
/_admin/openapi/DIALECT: its routes under the instance's prefix, parameters,
request bodies, responses and error envelopes, the server its configured
listen address. Nothing is started and the database is not opened.`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			doc, err := describeInstance(&cf, args[0], !asJSON)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return status(exitFailure)
			}
			_, err = stdout.Write(doc)
			return err
		},
	}
	addConfigFlags(c.Flags(), &cf, false)
	c.Flags().BoolVar(&asJSON, "json", false, "write JSON instead of YAML")
	return c
}

// describeInstance renders the document of instance name of the config,
// its server the instance's configured listen address.
func describeInstance(cf *configFlags, name string, asYAML bool) ([]byte, error) {
	cfg, err := cf.load()
	if err != nil {
		return nil, err
	}
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
