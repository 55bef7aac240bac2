package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const rootLong = `tokengate is one local gateway that answers the token endpoints of several
vendor APIs, each in that vendor's exact wire format (a dialect), on one token
engine. Point your integration tests' vendor clients at it instead of the real
vendors; move its clock, inject faults and read what your clients sent through
its admin API.

Without a config file it serves the embedded demo config: every dialect on
127.0.0.1:8080 with public demo credentials (demo-client / demo-secret, admin
token demo-admin-token).`

const envHelp = `
Environment:
  TOKENGATE_CONFIG       config file used when --config is absent (a missing file means the demo config)
  TOKENGATE_LISTEN       main listen address, overrides the config
  TOKENGATE_DB           SQLite path or postgres:// URL, overrides the config
  TOKENGATE_ADMIN_TOKEN  admin API token, overrides the config (and the admin commands' --token default)
  TOKENGATE_LOG_LEVEL    debug, info, warn or error
  TOKENGATE_LOG_FORMAT   json, text or auto (text on a terminal, JSON otherwise)
  TOKENGATE_URL          the admin commands' --url default`

func init() {
	cobra.EnableCommandSorting = false // help lists commands in the order added: serve first
	// --version works out the build when asked, not at every start (it may
	// ask git).
	cobra.AddTemplateFunc("build", func() string { return currentBuild().String() })
}

// newRootCmd builds the whole command tree; the bodies write to stdout and
// stderr.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := group(&cobra.Command{
		Use:           "tokengate",
		Short:         "One local gateway for many vendors' token endpoints",
		Version:       "see the version template",
		SilenceErrors: true,
		SilenceUsage:  true,
	}, serveCmd(stderr), configCmd(stdout, stderr), migrateCommand(stdout, stderr), keysCmd(stdout, stderr),
		adminCommand(stdout, stderr), openapiCmd(stdout, stderr), healthcheckCmd(stdout, stderr), versionCmd(stdout))
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{build}}\n")
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Use = "completion bash|zsh|fish|powershell"
	}
	// Every usage line is written out in Use; cobra's " [flags]" suffix
	// would only repeat it.
	visit(root, func(c *cobra.Command) { c.DisableFlagsInUseLine = true })
	root.Long = rootLong + "\n\nSynopsis:\n" + synopsis(root) + envHelp
	return root
}

// visit calls f for c and every command below it.
func visit(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		visit(sub, f)
	}
}

// addConfigFlags adds --config and, with db, --db to fs.
func addConfigFlags(fs *pflag.FlagSet, cf *configFlags, db bool) {
	fs.StringVar(&cf.path, "config", "", "config `FILE` (default: $TOKENGATE_CONFIG, else the embedded demo config)")
	if db {
		fs.StringVar(&cf.db, "db", "", "database: SQLite `PATH` or postgres:// URL; overrides the config and TOKENGATE_DB")
	}
}

func serveCmd(stderr io.Writer) *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use: "serve [--config FILE] [--listen ADDR] [--db PATH|postgres://URL] [--allow-demo]\n" +
			"                  [--tls-cert FILE --tls-key FILE | --tls-self-signed] [--log-format json|text|auto]",
		Short: "Serve the token endpoints of every enabled dialect",
		Long: `Serve the token endpoints of every dialect the config enables, the admin API
(/_admin) and /healthz, until interrupted (SIGINT or SIGTERM: in-flight
requests finish first).

The config comes from --config, else $TOKENGATE_CONFIG, else the embedded demo
config; the environment (TOKENGATE_LISTEN, TOKENGATE_DB, TOKENGATE_ADMIN_TOKEN,
TOKENGATE_LOG_LEVEL, TOKENGATE_LOG_FORMAT) and then --listen, --db and
--log-format override it. Logs are text on a terminal and JSON lines
otherwise, unless --log-format (or log_format) says which. While the public
demo credentials are in use, serve refuses to listen on a non-loopback address
unless --allow-demo is given, and then logs a warning.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(serve(o, stderr)) },
	}
	f := c.Flags()
	addConfigFlags(f, &o.config, true)
	f.StringVar(&o.listen, "listen", "", "main listen `ADDR`, e.g. 0.0.0.0:8080; overrides the config and TOKENGATE_LISTEN")
	f.BoolVar(&o.allowDemo, "allow-demo", false, "allow the public demo credentials on a non-loopback address (logs a warning)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate `FILE` (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key `FILE` for --tls-cert")
	f.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS with a certificate generated at start for localhost, 127.0.0.1 and ::1")
	f.StringVar(&o.logFormat, "log-format", "", "log `FORMAT`: json, text or auto (text on a terminal, JSON otherwise); overrides the config and TOKENGATE_LOG_FORMAT")
	f.StringVar(&o.pprof, "pprof", "", "serve Go's runtime profiles on this loopback `ADDR` (for tgbench -cpuprofile)")
	_ = f.MarkHidden("pprof")
	return c
}

func configCmd(stdout, stderr io.Writer) *cobra.Command {
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a config file without serving",
		Long: `Parse and validate a config file: every problem is printed as "path: message"
naming the exact key, and the exit status is 1. A valid file prints "FILE: ok".`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return status(configCheck(args[0], stdout, stderr)) },
	}
	return group(&cobra.Command{
		Use:   "config check FILE",
		Short: "Work with config files",
		Long:  `Commands on config files without starting the gateway.`,
	}, check)
}

func migrateCommand(stdout, stderr io.Writer) *cobra.Command {
	var cf configFlags
	c := &cobra.Command{
		Use:   "migrate [--config FILE] [--db PATH|postgres://URL]",
		Short: "Bring the database schema to this build's version",
		Long: `Bring the database's schema to this build's version without serving. serve
migrates at start too; this is for operators who upgrade the schema before
rolling out replicas. A database newer than this build is refused.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(migrateCmd(cf, stdout, stderr)) },
	}
	addConfigFlags(c.Flags(), &cf, true)
	return c
}

func keysCmd(stdout, stderr io.Writer) *cobra.Command {
	var cf configFlags
	var name string
	var lifetime time.Duration
	rotate := &cobra.Command{
		Use:   "rotate [--config FILE] [--db PATH|postgres://URL] [--dialect NAME] [--lifetime DURATION]",
		Short: "Start signing a dialect's JWTs with a new key",
		Long: `Generate a new signing key for a dialect instance's JWTs (by default the
Acceleration dialect's RS256 tokens). The old key stays published in the
JWKS until the last token it signed has expired. It works on the database
directly, so a running gateway picks the new key up at its next key reload.
An unknown dialect exits 2.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(keysRotate(cf, name, lifetime, stdout, stderr)) },
	}
	addConfigFlags(rotate.Flags(), &cf, true)
	rotate.Flags().StringVar(&name, "dialect", "acceleration", "the dialect instance whose signing key to rotate")
	rotate.Flags().DurationVar(&lifetime, "lifetime", 0,
		"how long the old key stays published (default: the dialect's longest access-token lifetime plus a minute)")
	return group(&cobra.Command{
		Use:   "keys rotate [--config FILE] [--db PATH|postgres://URL] [--dialect NAME] [--lifetime DURATION]",
		Short: "Manage JWT signing keys",
		Long:  `Manage the signing keys of the dialect instances that issue JWTs (Acceleration).`,
	}, rotate)
}

func healthcheckCmd(stdout, stderr io.Writer) *cobra.Command {
	var cf configFlags
	var url string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "healthcheck [--url URL] [--config FILE] [--timeout DURATION]",
		Short: "Exit 0 when the gateway answers GET /healthz with 200",
		Long: `Send GET /healthz to a running gateway and exit 0 when it answers 200, 1
otherwise. Without --url the address is the main listener of the config
(--config, $TOKENGATE_CONFIG or the demo config, then TOKENGATE_LISTEN), a
wildcard host such as 0.0.0.0 meaning this machine. The container image's
HEALTHCHECK runs it, since the image has no curl.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return status(healthcheck(cf, url, timeout, stdout, stderr)) },
	}
	addConfigFlags(c.Flags(), &cf, false)
	c.Flags().StringVar(&url, "url", "", "gateway base `URL`, e.g. http://127.0.0.1:8080 (default: from the config)")
	c.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return c
}

func versionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this build",
		Long: `Print the version and commit this binary was built from, and the Go release
and platform. make build, make install and make dist stamp them; a plain go
build or go run reads them from the build information, else from the git
checkout it was compiled in.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(stdout, currentBuild().String())
			return nil
		},
	}
}
