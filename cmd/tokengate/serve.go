package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokengate/tokengate/cmd/tokengate/app"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
)

// serveOptions are serve's flags.
type serveOptions struct {
	config          configFlags
	listen          string
	allowDemo       bool
	tlsCert, tlsKey string
	tlsSelfSigned   bool
	logFormat       string
	// pprof is the hidden --pprof address of the runtime profiler.
	pprof string
}

func serve(o serveOptions, stderr io.Writer) int {
	cfg, err := o.config.load()
	if err == nil && (o.listen != "" || o.logFormat != "") {
		if o.listen != "" {
			cfg.Listen = o.listen
		}
		if o.logFormat != "" {
			cfg.LogFormat = o.logFormat
		}
		err = config.Validate(cfg, dialects.Catalog())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	logger := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if o.config.missing != "" {
		logger.Warn("no config file at $TOKENGATE_CONFIG; serving the embedded demo config", "path", o.config.missing)
	}
	if err := checkDemoExposure(cfg, o.allowDemo, logger); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	tlsCfg, certPath, err := tlsConfig(o.tlsCert, o.tlsKey, o.tlsSelfSigned, "")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if o.tlsSelfSigned {
		logger.Info("generated a self-signed TLS certificate; trust it in your clients", "cert", certPath)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.pprof != "" {
		if err := startProfiler(ctx, o.pprof, logger); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
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

// configFlags are the --config and --db flags every command that opens the
// database shares.
type configFlags struct {
	path, db string
	// missing is the $TOKENGATE_CONFIG path that did not exist when load
	// fell back to the embedded demo config.
	missing string
}

// load reads the config (--config, else $TOKENGATE_CONFIG, else the
// embedded demo), then applies the environment, then --db, and validates
// the result. A $TOKENGATE_CONFIG file that does not exist falls back to the
// demo config, so the container image serves the demo until a config is
// mounted; a --config file that does not exist is an error.
func (f *configFlags) load() (*config.Config, error) {
	path := f.path
	if path == "" {
		path = os.Getenv("TOKENGATE_CONFIG")
		if _, err := os.Stat(path); path != "" && errors.Is(err, fs.ErrNotExist) {
			f.missing, path = path, ""
		}
	}
	var cfg *config.Config
	var err error
	if path == "" {
		cfg, err = config.Default(dialects.Catalog())
	} else {
		cfg, err = config.Load(path, dialects.Catalog())
	}
	if err != nil {
		return nil, err
	}
	cfg.ApplyEnv(os.Getenv)
	if f.db != "" {
		cfg.SetDatabase(f.db) // a postgres:// or postgresql:// URL selects the postgres driver
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
