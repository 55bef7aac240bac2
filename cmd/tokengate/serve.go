package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConfigFlags(fs)
	listen := fs.String("listen", "", "listen address, overrides the config and TOKENGATE_LISTEN")
	allowDemo := fs.Bool("allow-demo", false, "allow the public demo credentials on a non-loopback address")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key for --tls-cert")
	tlsSelf := fs.Bool("tls-self-signed", false, "serve HTTPS with a certificate generated at start for localhost and 127.0.0.1")
	logFormat := fs.String("log-format", "", "log format: json, text or auto (text on a terminal, JSON otherwise); overrides the config and TOKENGATE_LOG_FORMAT")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := cf.load()
	if err == nil && (*listen != "" || *logFormat != "") {
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *logFormat != "" {
			cfg.LogFormat = *logFormat
		}
		err = config.Validate(cfg, dialects.Catalog())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	logger := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err := checkDemoExposure(cfg, *allowDemo, logger); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	tlsCfg, certPath, err := tlsConfig(*tlsCert, *tlsKey, *tlsSelf, "")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *tlsSelf {
		logger.Info("generated a self-signed TLS certificate; trust it in your clients", "cert", certPath)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		logger.Error("start-up failed", "error", err.Error())
		return 1
	}
	a.TLS = tlsCfg
	if err := a.Serve(ctx); err != nil {
		logger.Error("serve failed", "error", err.Error())
		return 1
	}
	return 0
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(dialects.Catalog())
	}
	return config.Load(path, dialects.Catalog())
}

// configFlags are the --config and --db flags every command that opens the
// database shares.
type configFlags struct{ path, db *string }

func addConfigFlags(fs *flag.FlagSet) configFlags {
	return configFlags{
		path: fs.String("config", "", "config file (default: the embedded demo config)"),
		db:   fs.String("db", "", "database: SQLite path or postgres:// URL; overrides the config and TOKENGATE_DB"),
	}
}

// load reads the config, then applies the environment, then --db, and
// validates the result.
func (f configFlags) load() (*config.Config, error) {
	cfg, err := loadConfig(*f.path)
	if err != nil {
		return nil, err
	}
	cfg.ApplyEnv(os.Getenv)
	if *f.db != "" {
		cfg.SetDatabase(*f.db) // a postgres:// or postgresql:// URL selects the postgres driver
	}
	return cfg, config.Validate(cfg, dialects.Catalog())
}

func configCheck(path string, stdout, stderr io.Writer) int {
	if _, err := config.Load(path, dialects.Catalog()); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, path+": ok")
	return 0
}

// checkDemoExposure refuses to serve the public demo credentials beyond
// this machine unless the operator insists (then it warns).
func checkDemoExposure(cfg *config.Config, allow bool, logger *slog.Logger) error {
	if !cfg.UsesDemoCredentials() {
		return nil
	}
	addrs := []string{cfg.Listen}
	if cfg.AdminListen != "" {
		addrs = append(addrs, cfg.AdminListen)
	}
	for _, d := range cfg.Dialects {
		if d.Listen != "" {
			addrs = append(addrs, d.Listen)
		}
	}
	for _, a := range addrs {
		if config.IsLoopback(a) {
			continue
		}
		if !allow {
			return fmt.Errorf("refusing to listen on %s with the public demo credentials (demo-secret, demo-admin-token, ...): "+
				"change them in a config file, or pass --allow-demo", a)
		}
		logger.Warn("serving the public demo credentials on a non-loopback address (--allow-demo)", "addr", a)
	}
	return nil
}
