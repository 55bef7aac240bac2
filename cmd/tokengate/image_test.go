package main

// The container image, tested where it can be on a machine that cannot run
// containers: TestImageChroot lays out the image's root filesystem as the
// Dockerfile says and runs the static binary in a chroot of it as the
// image's user; TestImageBuild builds the image with podman and inspects it.

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// imageSpec is what the Dockerfile says about the image's files and its
// process.
type imageSpec struct {
	copies          []copyStep
	env             []string // KEY=VALUE, in order
	user            string
	workdir         string
	volumes, expose []string
	healthcheck     []string // the command of HEALTHCHECK CMD
	entrypoint, cmd []string
}

// copyStep is one COPY line: sources relative to the build context.
type copyStep struct {
	srcs  []string
	dest  string
	chown string
}

// parseDockerfile reads the subset of the Dockerfile syntax that an image
// FROM scratch can use; anything else is an error, so the image cannot grow
// a step this test does not replay.
func parseDockerfile(text string) (imageSpec, error) {
	var spec imageSpec
	var lines []string
	cont := ""
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasSuffix(t, `\`) {
			cont += strings.TrimSuffix(t, `\`) + " "
			continue
		}
		lines = append(lines, cont+t)
		cont = ""
	}
	jsonArgs := func(s string) ([]string, error) {
		var v []string
		err := json.Unmarshal([]byte(s), &v)
		return v, err
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		var err error
		switch strings.ToUpper(instr) {
		case "FROM":
			if rest != "scratch" {
				err = errors.New("only FROM scratch is replayed")
			}
		case "COPY":
			f := strings.Fields(rest)
			var step copyStep
			if strings.HasPrefix(f[0], "--chown=") {
				step.chown, f = strings.TrimPrefix(f[0], "--chown="), f[1:]
			}
			if len(f) < 2 || strings.HasPrefix(f[0], "--") {
				err = errors.New("COPY [--chown=U:G] SRC... DEST")
				break
			}
			step.srcs, step.dest = f[:len(f)-1], f[len(f)-1]
			spec.copies = append(spec.copies, step)
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				if !strings.Contains(kv, "=") || strings.ContainsAny(kv, `"'`) {
					err = fmt.Errorf("ENV %q: only unquoted KEY=VALUE", kv)
				}
				spec.env = append(spec.env, kv)
			}
		case "USER":
			spec.user = rest
		case "WORKDIR":
			spec.workdir = rest
		case "VOLUME":
			spec.volumes = append(spec.volumes, strings.Fields(rest)...)
		case "EXPOSE":
			spec.expose = append(spec.expose, strings.Fields(rest)...)
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, " CMD ")
			if !ok {
				err = errors.New("HEALTHCHECK [OPTIONS] CMD [...]")
				break
			}
			spec.healthcheck, err = jsonArgs(cmd)
		case "ENTRYPOINT":
			spec.entrypoint, err = jsonArgs(rest)
		case "CMD":
			spec.cmd, err = jsonArgs(rest)
		default:
			err = errors.New("not replayed by the image tests")
		}
		if err != nil {
			return spec, fmt.Errorf("Dockerfile: %s: %v", l, err)
		}
	}
	return spec, nil
}

func readImageSpec(t *testing.T) imageSpec {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// ids parses "uid:gid" (a missing gid is the uid, "" is root).
func ids(t *testing.T, s string) (uint32, uint32) {
	t.Helper()
	if s == "" {
		return 0, 0
	}
	u, g, ok := strings.Cut(s, ":")
	if !ok {
		g = u
	}
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("%q: want numeric uid:gid", s)
	}
	return uint32(uid), uint32(gid)
}

// layout replays the COPY lines into root with Docker's rules: a file
// source lands at DEST, or in DEST/ when DEST ends in a slash or there are
// several sources; a directory's contents land in DEST, which --chown owns.
// resolve maps a context path to a file on this machine.
func layout(t *testing.T, spec imageSpec, root string, resolve func(string) string) {
	t.Helper()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range spec.copies {
		uid, gid := ids(t, c.chown)
		for _, src := range c.srcs {
			host := resolve(src)
			fi, err := os.Stat(host)
			if err != nil {
				t.Fatalf("COPY %s: %v", src, err)
			}
			dest := filepath.Join(root, c.dest)
			if !fi.IsDir() && (strings.HasSuffix(c.dest, "/") || len(c.srcs) > 1) {
				dest = filepath.Join(dest, filepath.Base(src))
			}
			err = filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(host, p)
				target := filepath.Join(dest, rel)
				if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				if d.IsDir() {
					err = os.Mkdir(target, info.Mode().Perm())
					if errors.Is(err, fs.ErrExist) {
						err = nil
					}
				} else {
					err = copyFile(p, target, info.Mode().Perm())
				}
				if err != nil {
					return err
				}
				return os.Lchown(target, int(uid), int(gid))
			})
			if err != nil {
				t.Fatalf("COPY %s %s: %v", src, c.dest, err)
			}
		}
	}
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// makeTargets runs make targets of the repository's Makefile with vars.
func makeTargets(t *testing.T, timeout time.Duration, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-C", "../..", "--no-print-directory"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// inImage prepares a command that runs in the chroot root as the image's
// user, in its working directory, with its environment plus extra.
func inImage(t *testing.T, spec imageSpec, root string, argv []string, extra ...string) *exec.Cmd {
	t.Helper()
	uid, gid := ids(t, spec.user)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append([]string{}, spec.env...), extra...) // later entries win
	cmd.Dir = spec.workdir
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	return cmd
}

// TestImageChroot: the static binary of `make dist`, in a root filesystem
// laid out as the Dockerfile lays out the image's, run in a chroot as the
// image's user with the image's environment, serves tokens, passes its
// healthcheck and keeps its database on /data; a mounted config replaces
// the demo config.
func TestImageChroot(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("image chroot test: needs root on linux")
	}
	if testing.Short() {
		t.Skip("image chroot test: builds the static binary; skipped with -short")
	}
	spec := readImageSpec(t)
	dist := filepath.Join(t.TempDir(), "dist")
	makeTargets(t, 5*time.Minute, "dist", "image-context", "DIST="+dist)
	assertStatic(t, filepath.Join(dist, "tokengate-linux-amd64"))
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	layout(t, spec, root, func(src string) string {
		if rest, ok := strings.CutPrefix(src, "dist/"); ok {
			return filepath.Join(dist, rest)
		}
		return filepath.Join("../..", src)
	})

	// make dist stamps the commit (a -trimpath build cannot ask git).
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		out, err := inImage(t, spec, root, []string{spec.entrypoint[0], "version"}).Output()
		if err != nil || !strings.Contains(string(out), "(commit "+strings.TrimSpace(string(head))) {
			t.Errorf("version of the dist binary: %v %q, want commit %s", err, out, head)
		}
	}

	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	listen := "TOKENGATE_LISTEN=0.0.0.0:" + port // all interfaces, as in the image; a free port
	logPath := filepath.Join(t.TempDir(), "serve.log")
	serve := func() *child {
		return startCmd(t, inImage(t, spec, root, append(spec.entrypoint, spec.cmd...), listen), addr, logPath)
	}
	token := func(base, id, secret string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", basicAuth(id, secret))
		resp, err := quickClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode == http.StatusOK && (json.NewDecoder(resp.Body).Decode(&body) != nil || body.AccessToken == "") {
			t.Fatal("200 without an access_token")
		}
		return resp.StatusCode
	}
	stop := func(c *child) {
		if err := c.signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, ok := c.exitCode(15 * time.Second); !ok || code != 0 {
			t.Fatalf("after SIGTERM: exit %d (exited: %v)\n%s", code, ok, c.logs())
		}
	}

	c := serve()
	if got := token(c.base, "demo-client", "demo-secret"); got != http.StatusOK {
		t.Fatalf("client_credentials with the demo client: %d\n%s", got, c.logs())
	}
	if out, err := inImage(t, spec, root, spec.healthcheck, listen).CombinedOutput(); err != nil {
		t.Fatalf("HEALTHCHECK %v in the chroot: %v\n%s", spec.healthcheck, err, out)
	}
	if out, err := inImage(t, spec, root, spec.healthcheck, "TOKENGATE_LISTEN=0.0.0.0:"+strings.Split(freeAddr(t), ":")[1]).CombinedOutput(); err == nil {
		t.Fatalf("healthcheck of a port nobody listens on succeeded: %s", out)
	}
	logs := c.logs()
	for _, want := range []string{"no config file at $TOKENGATE_CONFIG", "public demo credentials"} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
	stop(c)
	db := filepath.Join(root, "data", "tokengate.db")
	if fi, err := os.Stat(db); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65532 {
		t.Fatalf("the database is not a file of the image user on /data: %v", err)
	}

	// A config at $TOKENGATE_CONFIG replaces the demo config.
	cfgFile := filepath.Join(root, "etc", "tokengate", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "admin_token: image-admin-token\ndialects:\n  oauth2: {}\nclients:\n  - client_id: ci-client\n    client_secret: ci-secret\n    grants: [client_credentials]\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(logPath, 0); err != nil {
		t.Fatal(err)
	}
	c = serve()
	if got := token(c.base, "ci-client", "ci-secret"); got != http.StatusOK {
		t.Fatalf("client_credentials with the mounted config's client: %d\n%s", got, c.logs())
	}
	// The volume still holds what the demo config seeded (seeding adds, it
	// never deletes); reset --to-config makes the clients the config's.
	reset := inImage(t, spec, root, []string{spec.entrypoint[0], "admin", "reset", "--to-config", "--url", c.base, "--token", "image-admin-token"})
	if out, err := reset.CombinedOutput(); err != nil || !strings.Contains(string(out), "restored to the config") {
		t.Fatalf("admin reset --to-config in the chroot: %v\n%s", err, out)
	}
	if got := token(c.base, "demo-client", "demo-secret"); got != http.StatusUnauthorized {
		t.Fatalf("the demo client still works with a mounted config: %d", got)
	}
	if logs := c.logs(); strings.Contains(logs, "no config file at") || strings.Contains(logs, "public demo credentials") {
		t.Errorf("serve with a mounted config still talks about the demo config:\n%s", logs)
	}
	stop(c)
}

// assertStatic fails unless bin is an ELF executable with no program
// interpreter and no shared libraries.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s has a program interpreter: not statically linked", bin)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Fatalf("%s needs shared libraries %v (%v)", bin, libs, err)
	}
}

// TestImageBuild builds the image with podman (`make image`) and checks
// its configuration and its files.
func TestImageBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("image build test: skipped with -short")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("image build test: podman is not installed (make podman)")
	}
	tag := fmt.Sprintf("localhost/tokengate-test:%d", time.Now().UnixNano())
	makeTargets(t, 10*time.Minute, "image", "CONTAINER_TOOL=podman", "IMAGE="+tag)
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", "-f", tag).Run() })

	out, err := exec.Command("podman", "image", "inspect", tag).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var inspect []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			Env          []string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			WorkingDir   string
		}
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal(out, &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	cfg, hc := inspect[0].Config, inspect[0].Healthcheck
	env := strings.Join(cfg.Env, " ")
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"user", cfg.User, "65532:65532"},
		{"entrypoint", cfg.Entrypoint, []string{"/tokengate"}},
		{"cmd", cfg.Cmd, []string{"serve", "--allow-demo"}},
		{"exposed ports", fmt.Sprint(cfg.ExposedPorts), "map[8080/tcp:{}]"},
		{"volumes", fmt.Sprint(cfg.Volumes), "map[/data:{}]"},
		{"healthcheck", hc.Test, []string{"CMD", "/tokengate", "healthcheck"}},
		{"listen on all interfaces", strings.Contains(env, "TOKENGATE_LISTEN=0.0.0.0:8080"), true},
		{"database on the volume", strings.Contains(env, "TOKENGATE_DB=/data/tokengate.db"), true},
	} {
		if fmt.Sprint(check.got) != fmt.Sprint(check.want) {
			t.Errorf("%s: %v, want %v", check.what, check.got, check.want)
		}
	}

	// The files: what the chroot test lays out, /data owned by the image
	// user. (buildah's WORKDIR also hands /data to USER; Docker's does not
	// for an existing directory, so the chroot test, which replays COPY
	// only, is the one that needs COPY --chown.)
	archive := filepath.Join(t.TempDir(), "image.tar")
	if out, err := exec.Command("podman", "save", "--format", "docker-archive", "-o", archive, tag).CombinedOutput(); err != nil {
		t.Fatalf("podman save: %v\n%s", err, out)
	}
	files := imageFiles(t, archive)
	for name, want := range map[string]string{
		"data":                              "dir 65532",
		"tokengate":                         "file 0",
		"etc/passwd":                        "file 0",
		"etc/group":                         "file 0",
		"etc/ssl/certs/ca-certificates.crt": "file 0",
	} {
		if files[name] != want {
			t.Errorf("/%s in the image: %q, want %q", name, files[name], want)
		}
	}
}

// imageFiles reads a docker-archive and returns "dir|file UID" for every
// path in its layers.
func imageFiles(t *testing.T, archive string) map[string]string {
	t.Helper()
	members := map[string][]byte{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			members[h.Name] = b
		}
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	files := map[string]string{}
	for _, layer := range manifest[0].Layers {
		lr := tar.NewReader(bytes.NewReader(members[layer]))
		for {
			h, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", layer, err)
			}
			kind := "file"
			if h.Typeflag == tar.TypeDir {
				kind = "dir"
			}
			files[strings.TrimSuffix(path.Clean(h.Name), "/")] = fmt.Sprintf("%s %d", kind, h.Uid)
		}
	}
	return files
}
