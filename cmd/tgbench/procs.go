package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	_ "github.com/tokengate/tokengate/dialects/all" // validating configs asks the dialect registry
)

// child is a server process tgbench started: the gateway or the ceiling.
type child struct {
	name    string
	cmd     *exec.Cmd
	base    string
	pprof   string // the gateway's runtime profiler, when features.profile
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
	// startup is the time from starting the process to its first 200 on
	// /healthz (the gateway) or its "listening" line (the ceiling).
	startup time.Duration
}

func (c *child) target() target {
	return target{bases: []string{c.base}, pids: []int{c.cmd.Process.Pid}, pprof: c.pprof}
}

// replicasTarget spreads the workers over several gateways.
func replicasTarget(cs []*child) target {
	var t target
	for _, c := range cs {
		t.bases = append(t.bases, c.base)
		t.pids = append(t.pids, c.cmd.Process.Pid)
	}
	t.pprof = cs[0].pprof
	return t
}

// stop asks the process to exit (SIGTERM), then kills it after grace.
func (c *child) stop(grace time.Duration) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s after SIGTERM; killed", c.name, grace)
	}
}

// logTail is the end of the child's stderr, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// logLines counts the lines the child wrote to stderr.
func (c *child) logLines() int {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

func (c *child) start(dir string) error {
	logf, err := os.Create(filepath.Join(dir, c.name+".log"))
	if err != nil {
		return err
	}
	c.logPath = logf.Name()
	c.cmd.Stderr = logf
	c.cmd.SysProcAttr = childProcAttr()
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", c.name, err)
	}
	c.done = make(chan struct{})
	go func() {
		c.waitErr = c.cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	return nil
}

// gatewayEnv is the environment without TOKENGATE_* overrides, so the
// written config is exactly what the gateway runs with.
func gatewayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKENGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// features are the gateway's optional parts a run turns on or off
// (metrics.enabled, console.enabled), and whether it serves runtime
// profiles (serve's hidden --pprof, for -cpuprofile).
type features struct{ metrics, console, profile bool }

// startGateway writes a config (the embedded default with listen, dsn,
// log_level, metrics.enabled and console.enabled replaced; with
// declaredSpec, a spec file, also that spec as instance "declared" under
// /declared) into dir and runs `bin serve --config FILE` until /healthz
// answers 200.
func startGateway(ctx context.Context, bin, dir, dbPath, declaredSpec string, f features, timeout time.Duration) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	declared := ""
	if declaredSpec != "" {
		text, err := os.ReadFile(declaredSpec)
		if err != nil {
			return nil, fmt.Errorf("the declared_token scenario's spec (-declared-spec): %w", err)
		}
		declared = "declared-" + filepath.Base(declaredSpec)
		if err := os.WriteFile(filepath.Join(dir, declared), text, 0o600); err != nil {
			return nil, err
		}
	}
	cfg, err := gatewayConfig(addr, dbPath, dir, declared, f)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "tokengate-"+addrTag(addr)+".yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	c := &child{name: "tokengate", base: "http://" + addr}
	args := []string{"serve", "--config", cfgPath}
	if f.profile {
		pprofAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		c.pprof = "http://" + pprofAddr
		args = append(args, "--pprof", pprofAddr)
	}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = gatewayEnv()
	c.cmd.Dir = dir
	t0 := time.Now()
	if err := c.start(dir); err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, c, timeout); err != nil {
		_ = c.stop(5 * time.Second)
		if tail := c.logTail(); tail != "" {
			err = fmt.Errorf("%w\ngateway stderr:\n%s", err, tail)
		}
		return nil, err
	}
	c.startup = time.Since(t0)
	return c, nil
}

// waitHealthy polls GET /healthz every 5ms until it answers 200.
func waitHealthy(ctx context.Context, c *child, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before answering /healthz: %v", c.name, c.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/healthz did not answer 200 within %s", c.base, timeout)
		}
	}
}

// startCeiling re-executes tgbench with -serve-ceiling and reads the address
// it listens on from its first line of output.
func startCeiling(ctx context.Context, dir string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &child{name: "ceiling"}
	c.cmd = exec.Command(self, "-serve-ceiling", "127.0.0.1:0")
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := c.start(dir); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, out)
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(s, ceilingReady)
		if !ok {
			_ = c.stop(time.Second)
			return nil, fmt.Errorf("ceiling server did not start: %q %s", s, c.logTail())
		}
		c.base = "http://" + addr
	case <-time.After(10 * time.Second):
		_ = c.stop(time.Second)
		return nil, errors.New("ceiling server did not start within 10s")
	case <-ctx.Done():
		_ = c.stop(time.Second)
		return nil, ctx.Err()
	}
	c.startup = time.Since(t0)
	return c, nil
}

// freeAddr finds a free loopback port. Another process could take it before
// the gateway binds it; start-up then fails loudly.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// gatewayConfig is config.DefaultYAML() with listen, storage.dsn,
// log_level, metrics.enabled and console.enabled replaced, and with
// declared (a spec file in dir; "" none) enabled as instance "declared"
// under the prefix /declared; checked with config.ParseIn as a file in dir.
func gatewayConfig(listen, dsn, dir, declared string, f features) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(config.DefaultYAML(), &doc); err != nil {
		return nil, fmt.Errorf("reading the default config: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the default config is not a YAML mapping")
	}
	root := doc.Content[0]
	setKey(root, "listen", listen)
	setKey(root, "log_level", "warn")
	storage := mappingKey(root, "storage")
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver = "postgres"
	}
	setKey(storage, "driver", driver)
	setKey(storage, "dsn", dsn)
	for _, part := range []struct {
		key string
		on  bool
	}{{"metrics", f.metrics}, {"console", f.console}} {
		set(mappingKey(root, part.key), "enabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(part.on)})
	}
	if declared != "" {
		inst := mappingKey(mappingKey(root, "dialects"), "declared")
		setKey(inst, "type", "declared")
		setKey(inst, "spec", declared)
		setKey(inst, "prefix", declaredPrefix)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	if _, err := config.ParseIn(out, dir, dialects.Catalog()); err != nil {
		return nil, fmt.Errorf("the generated gateway config is invalid: %w", err)
	}
	return out, nil
}

// setKey sets key to a string scalar in mapping m.
func setKey(m *yaml.Node, key, value string) {
	set(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle})
}

// set sets key to v in mapping m.
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// mappingKey returns the mapping under key in m, creating it if needed.
func mappingKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.MappingNode {
			return m.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setKey(m, key, "")
	m.Content[len(m.Content)-1] = v
	return v
}

// procStatusKB reads a "Name:   1234 kB" line of /proc/<pid>/status.
func procStatusKB(pid int, name string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU is the user+system CPU time process pid has used, -1 if unknown.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces; fields after its ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // utime and stime are fields 14 and 15: f[11], f[12]
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * time.Second / clockTicks
}

// machineCPU is the busy time of all CPUs from /proc/stat (user, nice,
// system, irq, softirq, steal), -1 if unknown.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return -1
		}
		busy += v
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// selfCPU is the user+system CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dbSize is the sum of the sizes of path, path-wal and path-shm.
func dbSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// addrTag names a replica's config file after its port.
func addrTag(addr string) string {
	return strings.NewReplacer(":", "-", ".", "-").Replace(addr)
}
