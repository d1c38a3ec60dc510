package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/drbot-dev/drbot/storage"
)

// buildRevision is set with -ldflags "-X main.buildRevision=..." where the
// build has no .git to read (the Docker build context leaves it out).
var buildRevision = ""

// versionText is what "drbot version" prints: the release (set with
// -ldflags "-X main.version=v1.2.3", as the Dockerfile's VERSION build
// argument does, else the module version from the build info), the VCS
// revision and its time when the binary was built from a checkout (with
// "+modified" for uncommitted changes), the Go version, and the database
// schema version this binary migrates to.
func versionText(info *debug.BuildInfo, ok bool) string {
	release := version
	goVersion := "unknown"
	revision, when := buildRevision, ""
	modified := false
	if ok {
		goVersion = info.GoVersion
		if release == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			release = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if revision == "" {
					revision = s.Value
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "drbot %s\n", release)
	if revision != "" {
		if modified {
			revision += "+modified"
		}
		fmt.Fprintf(&b, "revision: %s", revision)
		if when != "" {
			fmt.Fprintf(&b, " (%s)", when)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("revision: unknown (not built from a git checkout)\n")
	}
	fmt.Fprintf(&b, "go: %s\n", goVersion)
	fmt.Fprintf(&b, "schema: %d\n", storage.SchemaVersion())
	return b.String()
}

// buildVersion reads this binary's build info.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	return versionText(info, ok)
}
