package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/internal/testenv"
)

func TestExpandDatabaseURL(t *testing.T) {
	env := map[string]string{"PW": "p@ss:w/rd", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		in, want, err string
	}{
		{"postgres://drbot@db/drbot", "postgres://drbot@db/drbot", ""},
		{"postgres://drbot:${PW}@db/drbot", "postgres://drbot:p%40ss%3Aw%2Frd@db/drbot", ""},
		{"postgres://drbot:${NOPE}@db/drbot", "", "--db refers to NOPE, which is not set"},
		{"postgres://drbot:${EMPTY}@db/drbot", "", "--db refers to EMPTY, which is not set"},
		{"postgres://drbot:${P-W}@db/drbot", "", "malformed reference ${P-W}"},
	} {
		got, err := expandDatabaseURL(tc.in, lookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "p@ss") {
				t.Errorf("%s: got %q, %v; want the error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if u, err := url.Parse(got); err != nil {
			t.Errorf("%s: expands to %q, which does not parse: %v", tc.in, got, err)
		} else if p, _ := u.User.Password(); tc.in != tc.want && p != env["PW"] {
			t.Errorf("%s: password %q, want %q", tc.in, p, env["PW"])
		}
	}
}

// TestPostgresCommands runs the commands on a PostgreSQL database named by
// --db, its password given as ${NAME}: the console declares, incidents
// and postmortem read it back, backup says to use pg_dump, and no output
// or log line ever shows the password.
func TestPostgresCommands(t *testing.T) {
	u, err := url.Parse(testenv.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	t.Setenv("DRBOT_TEST_DB_PASSWORD", pw)
	db := strings.Replace(u.String(), ":"+pw+"@", ":${DRBOT_TEST_DB_PASSWORD}@", 1)
	var all bytes.Buffer
	run := func(mk func(stdout, stderr io.Writer) command, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := exitCode(&errb, mk(&out, &errb).Run(context.Background(), args))
		all.WriteString(out.String() + errb.String())
		return out.String(), errb.String(), code
	}
	o, e, c := run(func(stdout, stderr io.Writer) command {
		return &consoleCommand{stdio: stdio{stdin: strings.NewReader("/incident declare db-corruption checksum errors\nquit\n"), stdout: stdout, stderr: stderr}}
	}, "--plan", "testdata/oslo-plan.yaml", "--db", db, "--log-level", "debug")
	if c != 0 || !strings.Contains(o, "inc-1-db-corruption") {
		t.Fatalf("console: exit %d\n%s\n%s", c, o, e)
	}
	o, e, c = run(func(stdout, stderr io.Writer) command {
		return &incidentsCommand{stdio: stdio{stdout: stdout, stderr: stderr}}
	},
		"--db", db, "--plan", "testdata/oslo-plan.yaml")
	if c != 0 || !strings.Contains(o, "db-corruption") {
		t.Errorf("incidents: exit %d\n%s\n%s", c, o, e)
	}
	o, e, c = run(func(stdout, stderr io.Writer) command {
		return &postmortemCommand{stdio: stdio{stdout: stdout, stderr: stderr}}
	},
		"--db", db, "--format", "json", "1")
	if c != 0 || !strings.Contains(o, `"scenario": "db-corruption"`) {
		t.Errorf("postmortem: exit %d\n%s\n%s", c, o, e)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	_, e, c = run(func(stdout, stderr io.Writer) command {
		return &backupCommand{stdio: stdio{stdout: stdout, stderr: stderr}}
	}, "--db", db, dest)
	if c != 1 || !strings.Contains(e, "pg_dump") {
		t.Errorf("backup of PostgreSQL: exit %d, want 1 and pg_dump named\n%s", c, e)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("backup of PostgreSQL wrote a file")
	}
	if strings.Contains(all.String(), ":"+pw+"@") || strings.Contains(all.String(), "password="+pw) {
		t.Errorf("the password shows:\n%s", all.String())
	}
}
