package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// version and commit are stamped by `make build`, `make install` and
// `make dist` with -ldflags "-X main.version=... -X main.commit=...".
// Left empty, buildVersion reads what the go command recorded instead.
var (
	version string
	commit  string
)

// buildInfo is what `tokengate version` prints.
type buildInfo struct {
	Version  string // a release tag, a module pseudo-version, or "dev"
	Commit   string // a VCS revision, or "unknown"
	Modified bool   // the working tree had uncommitted changes
	Go       string // the Go release that compiled the binary
	Platform string // GOOS/GOARCH
}

// currentBuild combines the -ldflags stamps with the binary's build info,
// and failing both asks git about the source directory this binary was
// compiled from: `go run` records no VCS information.
func currentBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	b := resolveBuild(version, commit, info)
	if b.Commit == "unknown" {
		if c, modified, ok := sourceCommit(); ok {
			b.Commit, b.Modified = c, modified
		}
	}
	return b
}

// sourceCommit is the git HEAD of the directory this file was compiled
// from, when that directory still exists and is a git checkout (go run, go
// build without VCS stamping); -trimpath builds have no such path.
func sourceCommit() (rev string, modified bool, ok bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	git := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", filepath.Dir(file)}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	rev, err := git("rev-parse", "HEAD")
	if err != nil || rev == "" {
		return "", false, false
	}
	status, err := git("status", "--porcelain", "--untracked-files=no")
	return rev, err == nil && status != "", true
}

// resolveBuild prefers the stamps; without them a `go build` or `go run` in
// a git checkout still names its revision (vcs.revision, vcs.modified) and
// `go install module@version` its module version.
func resolveBuild(stampVersion, stampCommit string, info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: stampVersion, Commit: stampCommit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info != nil {
		if info.GoVersion != "" {
			b.Go = info.GoVersion
		}
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.modified" && stampCommit == "":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// String is the one line `tokengate version` prints.
func (b buildInfo) String() string {
	c := b.Commit
	if b.Modified {
		c += ", modified"
	}
	return fmt.Sprintf("tokengate %s (commit %s; %s %s)", b.Version, c, b.Go, b.Platform)
}
