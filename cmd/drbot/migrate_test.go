package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/internal/testenv"
	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// TestMigrate copies an SQLite database the console filled (incidents,
// timelines, timers, a sent outbox, refs, the plan, key/value state) into
// an empty PostgreSQL database: every row arrives as it was, numbering
// goes on after the copied ids, a second copy into the same database is
// refused, and no output shows the password.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresDB(t)
	u, _ := url.Parse(dbURL)
	pw, _ := u.User.Password()
	t.Setenv("DRBOT_TEST_DB_PASSWORD", pw)
	to := strings.Replace(dbURL, ":"+pw+"@", ":${DRBOT_TEST_DB_PASSWORD}@", 1)
	from := filepath.Join(t.TempDir(), "drbot.db")
	script := "/incident declare db-corruption checksum errors\n/incident declare db-corruption second one\nwait 10m\nquit\n"
	if o, e, c := runConsole(t, script, "--plan", "testdata/oslo-plan.yaml", "--db", from); c != 0 {
		t.Fatalf("console: exit %d\n%s\n%s", c, o, e)
	}

	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		cmd := &migrateCommand{stdio: stdio{stdout: &out, stderr: &errb}}
		code := exitCode(&errb, cmd.Run(ctx, args))
		return out.String(), errb.String(), code
	}
	o, e, c := run("--from", from, "--to", to)
	if c != 0 || !strings.Contains(o, "incidents 2") || !strings.Contains(o, "every count checked") {
		t.Fatalf("migrate: exit %d\n%s\n%s", c, o, e)
	}
	src, err := storage.Open(ctx, storage.Config{Path: from, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want["incidents"] {
		r[3] = r[3] != int64(0) // SQLite's 0/1 is PostgreSQL's boolean
	}
	got := dumpPostgres(t, dbURL)
	for _, tb := range storage.Tables {
		if len(want[tb.Name]) == 0 && tb.Name != "outbox" && tb.Name != "kv" && tb.Name != "refs" {
			t.Errorf("the source has no %s rows: the test copies too little", tb.Name)
		}
		if diff := cmp.Diff(fmt.Sprint(got[tb.Name]), fmt.Sprint(want[tb.Name])); diff != "" {
			t.Errorf("%s after the copy (-got +want):\n%s", tb.Name, diff)
		}
	}

	// The copy is a working database: numbers and ids go on.
	dst, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	err = dst.Update(ctx, func(tx incident.Tx) error {
		inc := &incident.Incident{Scenario: "after"}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		e := &incident.Event{IncidentID: inc.ID, Kind: incident.KindNote}
		if err := tx.Append(e); err != nil {
			return err
		}
		if inc.ID != 3 || e.ID <= int64(len(want["timeline"])) {
			t.Errorf("after the copy: incident #%d, event id %d; want #3 and an id after the %d copied", inc.ID, e.ID, len(want["timeline"]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	o2, e, c := run("--from", from, "--to", to)
	if c != 1 || !strings.Contains(e, "not empty (incidents: 3") {
		t.Errorf("a second migrate into the same database: exit %d\n%s", c, e)
	}
	if again := dumpPostgres(t, dbURL); len(again["incidents"]) != 3 {
		t.Errorf("the refused copy changed the target: %d incidents", len(again["incidents"]))
	}
	if _, e, c := run("--from", from, "--to", filepath.Join(t.TempDir(), "x.db")); c != 2 || !strings.Contains(e, "want a PostgreSQL URL") {
		t.Errorf("--to a file: exit %d\n%s", c, e)
	}
	for _, s := range []string{o, o2, e} {
		if strings.Contains(s, ":"+pw+"@") {
			t.Errorf("the output shows the password: %s", s)
		}
	}
}

// dumpPostgres reads every row of drbot's tables, as Export does.
func dumpPostgres(t *testing.T, dbURL string) map[string][][]any {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	out := map[string][][]any{}
	for _, tb := range storage.Tables {
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(tb.Columns, ", "), tb.Name, tb.Columns[0]))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if n, ok := v.(int32); ok {
					vals[i] = int64(n)
				}
			}
			out[tb.Name] = append(out[tb.Name], vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestMigrateFromPostgres: --from is an SQLite file; a PostgreSQL URL there
// is refused, and its password is not shown.
func TestMigrateFromPostgres(t *testing.T) {
	var out, errb bytes.Buffer
	cmd := &migrateCommand{stdio: stdio{stdout: &out, stderr: &errb}}
	code := exitCode(&errb, cmd.Run(context.Background(), []string{
		"--from", "postgres://drbot:s3cret-pw@127.0.0.1:1/a", "--to", "postgres://drbot@127.0.0.1:1/b"}))
	if code != 2 || strings.Contains(errb.String(), "s3cret-pw") || !strings.Contains(errb.String(), "want the SQLite database FILE to copy") {
		t.Errorf("exit %d, stderr %q; want 2, saying --from is an SQLite file, without the password", code, errb.String())
	}
}
