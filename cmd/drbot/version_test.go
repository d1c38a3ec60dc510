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

// TestUnknownCommand: a mistyped command is answered with the one it is
// close to (the rule plan check and /incident use), else with the usage.
func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"serv", `drbot: unknown command "serv"; did you mean "drbot serve"? (drbot help lists every command)`},
		{"incident", `did you mean "drbot incidents"?`},
		{"postmortme", `did you mean "drbot postmortem"?`},
		{"frobnicate", "drbot: unknown command \"frobnicate\"\n\ndrbot: incident response and disaster recovery for Slack"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), []string{tc.arg}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("drbot %s: exit %d, stderr %q; want exit 2 and %q", tc.arg, code, errOut.String(), tc.want)
		}
	}
}

// TestStrayArgumentNamesTheFlags: a value typed without its flag ("drbot
// stats 30d") says the command takes flags and where they are listed; a
// command with no flags prints no empty "Flags:" heading.
func TestStrayArgumentNamesTheFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"stats", "--db", t.TempDir() + "/x.db", "30d"}, &out, &errOut)
	if want := `drbot: stats: unexpected argument "30d": stats takes flags only (drbot stats -h lists them)`; code != 2 || !strings.Contains(errOut.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), want)
	}
	errOut.Reset()
	if code := Main(context.Background(), []string{"plan", "schema", "-h"}, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "Flags:") {
		t.Errorf("plan schema -h: exit %d, stderr %q; want 0 and the usage with no empty Flags:", code, errOut.String())
	}
	// "drbot help serve" is "drbot serve -h"; a flag typo gets the flag it
	// is close to; a plan subcommand typo the subcommand.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help", "serve"}, 0, "Usage: drbot serve"},
		{[]string{"incidents", "--stat", "open"}, 2, "Did you mean --state?"},
		{[]string{"plan", "chek"}, 2, `did you mean "drbot plan check"?`},
	} {
		errOut.Reset()
		if code := Main(context.Background(), tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("drbot %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
