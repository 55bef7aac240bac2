package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
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

// currentBuild combines the -ldflags stamps with the binary's build info.
func currentBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return resolveBuild(version, commit, info)
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
