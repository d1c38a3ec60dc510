package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runConsole(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := &consoleCommand{stdio: stdio{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}}
	code = exitCode(&errb, cmd.Run(context.Background(), args))
	return out.String(), errb.String(), code
}

func TestConsoleRefusesBadInvocations(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "drbot.db")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{
			name:     "bad start",
			args:     []string{"--plan", "testdata/oslo-plan.yaml", "--db", db, "--start", "tomorrow"},
			wantCode: 2,
			wantErr:  []string{`--start "tomorrow": want RFC 3339`},
		},
		{
			name:     "stray argument",
			args:     []string{"--plan", "testdata/oslo-plan.yaml", "--db", db, "script.txt"},
			wantCode: 2,
			wantErr:  []string{`unexpected argument "script.txt"`},
		},
		{
			name:     "bad log level",
			args:     []string{"--plan", "testdata/oslo-plan.yaml", "--db", db, "--log-level", "loud"},
			wantCode: 2,
			wantErr:  []string{`--log-level "loud"`},
		},
		{
			name:     "plan with errors: every diagnostic, with its position",
			args:     []string{"--plan", "testdata/bad-plan.yaml", "--db", db},
			wantCode: 1,
			wantErr: []string{
				`testdata/bad-plan.yaml:14:12: undefined role "commandr"`,
				`testdata/bad-plan.yaml:18:9: unknown key "estimte"`,
				`testdata/bad-plan.yaml:6:3: warning: role "commander" has a single contact`,
				`plan testdata/bad-plan.yaml has 2 errors;`,
			},
		},
		{
			name:     "no plan file",
			args:     []string{"--plan", filepath.Join(dir, "none.yaml"), "--db", db},
			wantCode: 1,
			wantErr:  []string{"none.yaml", "set --plan or DRBOT_PLAN"},
		},
		{
			name:     "no script file",
			args:     []string{"--plan", "testdata/oslo-plan.yaml", "--db", db, "--script", filepath.Join(dir, "none.script")},
			wantCode: 1,
			wantErr:  []string{"none.script"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runConsole(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	// None of them got as far as the database.
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused invocation created the database")
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(strings.NewReader("")) {
		t.Error("a strings.Reader is not a terminal")
	}
	f, err := os.Open("testdata/oslo-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(r) {
		t.Error("a pipe is not a terminal")
	}
}
