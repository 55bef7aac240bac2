package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/admin"
)

// commandPaths lists every command a user can type, as argument lists
// ("admin", "clock", "advance").
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	visit(newRootCmd(io.Discard, io.Discard), func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		paths = append(paths, strings.Fields(strings.TrimPrefix(c.CommandPath(), "tokengate")))
	})
	if len(paths) < 30 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	return paths
}

func TestEveryCommandHasHelp(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	for _, path := range commandPaths(t) {
		name := strings.Join(append([]string{"tokengate"}, path...), " ")
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.TrimSpace(c.Short) == "" || len(strings.Fields(c.Long)) < 6 {
			t.Errorf("%s: no prose (Short %q, Long %q)", name, c.Short, c.Long)
		}
		check := func(f *pflag.Flag) {
			if len(strings.Fields(f.Usage)) < 2 {
				t.Errorf("%s --%s: no help text (%q)", name, f.Name, f.Usage)
			}
		}
		c.LocalFlags().VisitAll(check)
		c.InheritedFlags().VisitAll(check)

		code, out, errs := runCLI(append(path, "--help")...)
		if code != 0 || errs != "" {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, errs)
		}
		firstLine, _, _ := strings.Cut(strings.TrimSpace(c.Long), "\n")
		if !strings.Contains(out, firstLine) || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help does not show its prose and usage:\n%s", name, out)
		}
	}
}

func TestTopLevelHelpListsEveryServeFlag(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, want := range []string{"--allow-demo", "--tls-cert FILE", "--tls-key FILE", "--tls-self-signed", "--listen ADDR",
		"tokengate healthcheck", "tokengate completion bash|zsh|fish", "TOKENGATE_CONFIG"} {
		if !strings.Contains(out, want) {
			t.Errorf("top-level help lacks %q:\n%s", want, out)
		}
	}
}

// TestReadmeCommandList keeps README's command list equal to the synopsis
// of `tokengate --help`.
func TestReadmeCommandList(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Commands\n\n```\n")
	block, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ## Commands code block")
	}
	var want strings.Builder
	for _, l := range strings.SplitAfter(synopsis(newRootCmd(io.Discard, io.Discard)), "\n") {
		want.WriteString(strings.TrimPrefix(l, "  "))
	}
	if block != want.String() {
		t.Errorf("README command list differs from `tokengate --help`; replace it with:\n%s", want.String())
	}
}

func TestCommandLineMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "tokengate"`},
		{[]string{"serv"}, `(did you mean "serve"?)`},
		{[]string{"serve", "--frob"}, "unknown flag: --frob"},
		{[]string{"serve", "extra"}, `takes no arguments, got "extra"`},
		{[]string{"config", "check"}, "usage: tokengate config check FILE"},
		{[]string{"config", "lint", "x.yaml"}, `unknown command "lint" for "tokengate config"`},
		{[]string{"keys", "rotate", "--lifetime", "soon"}, `invalid argument "soon" for "--lifetime"`},
		{[]string{"admin", "frob"}, `unknown command "frob" for "tokengate admin"`},
		{[]string{"admin", "clock", "frob"}, `unknown command "frob" for "tokengate admin clock"`},
		{[]string{"admin", "clock", "advance"}, "usage: tokengate admin clock advance DURATION"},
		{[]string{"admin", "clock", "advance", "-30m", "--frob"}, "unknown flag: --frob"},
		{[]string{"admin", "clock", "advance", "soon"}, `clock advance: time: invalid duration "soon"`},
		{[]string{"admin", "clients", "show"}, "usage: tokengate admin clients show ID"},
		{[]string{"admin", "authorizations", "rm", "x"}, "AUTH_ID must be an integer"},
		{[]string{"admin", "faults", "add", "--status", "many"}, `invalid argument "many" for "--status"`},
	} {
		code, out, errs := runCLI(tc.args...)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		if code != 2 || out != "" || len(lines) != 2 || !strings.Contains(lines[0], tc.want) || !strings.HasPrefix(lines[1], "Run 'tokengate") ||
			!strings.HasSuffix(lines[1], " --help' for usage.") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, one line with %q and a hint", tc.args, code, out, errs, tc.want)
		}
	}
	// A command that only groups others prints its usage.
	for _, args := range [][]string{nil, {"admin"}, {"keys"}} {
		if code, _, errs := runCLI(args...); code != 2 || !strings.Contains(errs, "Usage:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runCLI("completion", shell)
		if code != 0 || !strings.Contains(out, "tokengate") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), errs)
		}
	}
	// The completion protocol itself: subcommands of admin clock.
	code, out, _ := runCLI("__complete", "admin", "clock", "")
	for _, sub := range []string{"advance", "set", "freeze", "reset"} {
		if code != 0 || !strings.Contains(out, sub) {
			t.Errorf("__complete admin clock: exit %d, want %q in %q", code, sub, out)
		}
	}
}

func TestResolveBuild(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	for _, tc := range []struct {
		name           string
		version, commi string
		info           *debug.BuildInfo
		want           string
	}{
		{"stamped by make", "v1.5.0", "feedface", vcs, "tokengate v1.5.0 (commit feedface; go1.26.8 "},
		{"go build in a git checkout", "", "", vcs, "tokengate dev (commit 0123456789abcdef, modified; go1.26.8 "},
		{"go install module@version", "", "", installed, "tokengate v1.4.0 (commit unknown; go1.26.8 "},
		{"nothing known", "", "", nil, "tokengate dev (commit unknown; go"},
	} {
		if got := resolveBuild(tc.version, tc.commi, tc.info).String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want prefix %q", tc.name, got, tc.want)
		}
	}
	if code, out, _ := runCLI("--version"); code != 0 || !strings.HasPrefix(out, "tokengate ") || !strings.Contains(out, "commit ") {
		t.Errorf("--version: %d %q", code, out)
	}
	// The test binary, like go run, has no stamps and no VCS build info:
	// the commit comes from the checkout it was compiled in.
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Logf("not in a git checkout (%v): source commit not checked", err)
		return
	}
	if code, out, _ := runCLI("version"); code != 0 || !strings.Contains(out, "(commit "+strings.TrimSpace(string(head))) {
		t.Errorf("version in a git checkout: %d %q, want commit %s", code, out, head)
	}
}

func TestDescribeAPIError(t *testing.T) {
	for _, tc := range []struct {
		status int
		p      admin.Problem
		want   string
	}{
		{400, admin.Problem{Error: "invalid_request", Message: "validation failed", Field: "status", Problems: []string{"status: failed max 599"}},
			"invalid fault rule: status must be at most 599"},
		{400, admin.Problem{Error: "invalid_request", Message: "validation failed", Problems: []string{"route: failed startswith /", "probability: failed min 0"}},
			"invalid fault rule:\n  route must start with \"/\"\n  probability must be at least 0"},
		{400, admin.Problem{Error: "invalid_request", Field: "latency", Message: "must be a Go duration such as 250ms"},
			"invalid fault rule: latency must be a Go duration such as 250ms"},
		{400, admin.Problem{Error: "invalid_request", Problems: []string{"token: give token or client_id, not both"}},
			"invalid fault rule: token: give token or client_id, not both"},
		{404, admin.Problem{Error: "not_found", Message: `no fault rule "f9"`}, `not found: no fault rule "f9"`},
		{401, admin.Problem{Error: "unauthorized", Message: "a valid admin bearer token is required"},
			"the admin API refused the token (401 unauthorized): a valid admin bearer token is required; pass --token or set TOKENGATE_ADMIN_TOKEN"},
		{503, admin.Problem{Error: "unavailable", Message: "storage unavailable"}, "the admin API answered 503 unavailable: storage unavailable"},
	} {
		err := &admin.APIError{Status: tc.status, Problem: tc.p}
		if got := describeAPIError(err, "fault rule"); got != tc.want {
			t.Errorf("%d %+v:\n got %q\nwant %q", tc.status, tc.p, got, tc.want)
		}
	}
}

// TestAdminCLISentences drives a real gateway: flags after the subcommand,
// negative durations, API errors as sentences, what reset did.
func TestAdminCLISentences(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "admin_token: cli-token\ndialects:\n  oauth2: {}\n"})
	cli := func(args ...string) (int, string, string) {
		return runCLI(append(append([]string{"admin"}, args...), "--url", g.URL, "--token", "cli-token")...)
	}
	if code, out, errs := cli("clock", "--json"); code != 0 || !strings.Contains(out, `"offset": "0s"`) {
		t.Fatalf("clock --json: %d %q %q", code, out, errs)
	}
	if code, out, errs := cli("clock", "advance", "-30m", "--json"); code != 0 || !strings.Contains(out, `"offset": "-30m0s"`) {
		t.Fatalf("clock advance -30m: %d %q %q", code, out, errs)
	}
	code, _, errs := cli("faults", "add", "--status", "600")
	if code != 1 || errs != "invalid fault rule: status must be at most 599\n" {
		t.Fatalf("faults add --status 600: %d %q", code, errs)
	}
	if code, _, errs := cli("clients", "show", "nobody"); code != 1 || errs != "not found: no client \"nobody\"\n" {
		t.Fatalf("clients show nobody: %d %q", code, errs)
	}
	if code, _, _ := cli("faults", "add", "--status", "503"); code != 0 {
		t.Fatal("faults add")
	}
	code, out, errs := cli("reset", "--to-config", "--keep-clock")
	if code != 0 || !strings.HasPrefix(out, "reset: tokens, authorization codes, request journal, fault rules, failure limiter, clients, users and authorizations (restored to the config)\n") ||
		!strings.Contains(out, "clock: kept at") || !strings.Contains(out, "offset -30m0s") {
		t.Fatalf("reset --to-config --keep-clock: %d %q %q", code, out, errs)
	}
	if rules, _ := g.Admin.Faults(); len(rules) != 0 {
		t.Fatalf("reset left %d fault rules", len(rules))
	}
	// Without --keep-clock the clock returns to real time.
	if code, out, _ := cli("reset"); code != 0 || out != "reset: tokens, authorization codes, request journal, fault rules, failure limiter, clock\n" {
		t.Fatalf("reset: %d %q", code, out)
	}
	if s, err := g.Admin.Clock(); err != nil || s.Offset != "0s" || s.Frozen {
		t.Fatalf("clock after reset: %+v %v", s, err)
	}
}

func TestHealthcheck(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n"})
	if code, out, errs := runCLI("healthcheck", "--url", g.URL); code != 0 || !strings.Contains(out, "200") {
		t.Fatalf("healthcheck --url: %d %q %q", code, out, errs)
	}
	// Without --url: the configured listen address, a wildcard host meaning
	// this machine (as in the container image).
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(g.URL, "http://"))
	t.Setenv("TOKENGATE_LISTEN", "0.0.0.0:"+port)
	if code, _, errs := runCLI("healthcheck"); code != 0 {
		t.Fatalf("healthcheck from TOKENGATE_LISTEN: %d %q", code, errs)
	}
	g.Close()
	if code, _, errs := runCLI("healthcheck", "--url", g.URL); code != 1 || !strings.HasPrefix(errs, "healthcheck: ") {
		t.Fatalf("healthcheck of a stopped gateway: %d %q", code, errs)
	}
	if code, _, errs := runCLI("admin", "clock", "--url", g.URL); code != 1 || !strings.HasPrefix(errs, "cannot reach the gateway at "+g.URL+" ") {
		t.Fatalf("admin clock of a stopped gateway: %d %q", code, errs)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9999\ndialects:\n  oauth2: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TOKENGATE_CONFIG", file)
	var cf configFlags
	if cfg, err := cf.load(); err != nil || cfg.Listen != "127.0.0.1:9999" || cf.missing != "" {
		t.Fatalf("TOKENGATE_CONFIG file: %v %+v", err, cf)
	}
	// A missing $TOKENGATE_CONFIG file means the demo config, and says so.
	t.Setenv("TOKENGATE_CONFIG", filepath.Join(dir, "absent.yaml"))
	cf = configFlags{}
	if cfg, err := cf.load(); err != nil || !cfg.UsesDemoCredentials() || cf.missing != filepath.Join(dir, "absent.yaml") {
		t.Fatalf("missing TOKENGATE_CONFIG file: %v %+v", err, cf)
	}
	// --config wins, and a missing --config file is an error.
	cf = configFlags{path: filepath.Join(dir, "absent.yaml")}
	if _, err := cf.load(); err == nil {
		t.Fatal("a missing --config file was accepted")
	}
}
