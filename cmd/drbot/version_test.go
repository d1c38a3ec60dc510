package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/storage"
)

func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/drbot-dev/drbot", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := versionText(info, true)
	want := "drbot v1.4.0\nrevision: 0123456789abcdef+modified (2026-11-30T10:00:00Z)\ngo: go1.26.8\nschema: " +
		strconv.Itoa(storage.SchemaVersion()) + "\n"
	if got != want {
		t.Errorf("versionText:\n%s\nwant:\n%s", got, want)
	}
	got = versionText(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true)
	if !strings.HasPrefix(got, "drbot dev\nrevision: unknown") {
		t.Errorf("a build without VCS information:\n%s", got)
	}
}

func TestVersionCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("drbot version: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"drbot ", "\nrevision: ", "\ngo: go1.", "\nschema: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("drbot version printed %q, want a line with %q", out.String(), want)
		}
	}
	if storage.SchemaVersion() < 1 {
		t.Errorf("SchemaVersion = %d, want the newest migration's number", storage.SchemaVersion())
	}
}
