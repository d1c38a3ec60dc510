package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

// listNow is "now" for the listing tests: 12:30 UTC on the day the test
// incidents were declared.
var listNow = time.Date(2026, 11, 21, 12, 30, 0, 0, time.UTC)

// newDB makes a new database, writes into it with fill in one
// transaction, and returns its path, closed.
func newDB(t *testing.T, fill func(tx incident.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drbot.db")
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(ctx, fill); err != nil {
		t.Fatal(err)
	}
	return path
}

// fillDB writes incidents straight into a new database, as the service
// would have left them, and stores the plan they ran with.
func fillDB(t *testing.T, planSource []byte, incs ...*incident.Incident) string {
	t.Helper()
	return newDB(t, func(tx incident.Tx) error {
		if planSource != nil {
			if err := tx.SavePlan("hash1", planSource); err != nil {
				return err
			}
		}
		for _, inc := range incs {
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
		}
		return nil
	})
}

func at(h, m int) time.Time { return time.Date(2026, 11, 21, h, m, 0, 0, time.UTC) }

func testIncidents() []*incident.Incident {
	return []*incident.Incident{
		{Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			State: incident.StateResolved, DeclaredAt: at(8, 0), ResolvedAt: at(9, 10), RTO: 2 * time.Hour,
			RPO: 15 * time.Minute, RecoveryPoint: at(7, 50), PlanHash: "hash1", ChannelName: "inc-1-db-corruption"},
		{Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			State: incident.StateResolved, DeclaredAt: at(9, 0), ResolvedAt: at(11, 20), RTO: 2 * time.Hour,
			RPO: 15 * time.Minute, BeganAt: at(8, 40), RecoveryPoint: at(8, 0), PlanHash: "hash1", ChannelName: "inc-2-db-corruption"},
		{Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			State: incident.StateOpen, DeclaredAt: at(12, 0), RTO: 2 * time.Hour, Drill: true,
			PlanHash: "hash1", ChannelName: "drill-3-db-corruption"},
		{Scenario: "region-down", Title: "Region down", Severity: "sev2", Service: "",
			State: incident.StateOpen, DeclaredAt: at(12, 15), PlanHash: "hash1", ChannelName: "inc-4-region-down"},
		{Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			State: incident.StateOpen, DeclaredAt: at(10, 0), RTO: 2 * time.Hour, RPO: 15 * time.Minute, PlanHash: "hash1",
			ChannelName: "inc-5-db-corruption"},
	}
}

func runIncidents(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := &incidentsCommand{stdio: stdio{stdout: &out, stderr: &errb}, now: func() time.Time { return listNow }}
	code = exitCode(&errb, cmd.Run(context.Background(), args))
	return out.String(), errb.String(), code
}

func TestIncidentsTable(t *testing.T) {
	plan, err := os.ReadFile("testdata/oslo-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := fillDB(t, plan, testIncidents()...)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			name: "plan timezone, drills left out",
			args: []string{"--db", db, "--plan", "testdata/oslo-plan.yaml"},
			want: `ID  STATE     SCENARIO       DECLARED              ELAPSED / RTO  STATUS         DATA LOST / RPO   DRILL
5   open      db-corruption  2026-11-21 11:00 CET  2h30m / 2h     missed by 30m  ? / 15m
4   open      region-down    2026-11-21 13:15 CET  15m / none     none           none
2   resolved  db-corruption  2026-11-21 10:00 CET  2h20m / 2h     missed by 20m  40m / 15m missed
1   resolved  db-corruption  2026-11-21 09:00 CET  1h10m / 2h     met            10m / 15m met
`,
		},
		{
			name: "drills and state, flags after",
			args: []string{"--state", "open", "--db", db, "--plan", "testdata/oslo-plan.yaml", "--drills"},
			want: `ID  STATE  SCENARIO       DECLARED              ELAPSED / RTO  STATUS         DATA LOST / RPO  DRILL
5   open   db-corruption  2026-11-21 11:00 CET  2h30m / 2h     missed by 30m  ? / 15m
4   open   region-down    2026-11-21 13:15 CET  15m / none     none           none
3   open   db-corruption  2026-11-21 13:00 CET  30m / 2h       1h30m left     none             drill
`,
		},
		{
			name: "no plan file: the stored plan's timezone",
			args: []string{"--db", db, "--plan", filepath.Join(t.TempDir(), "missing.yaml"), "--state", "resolved"},
			want: `ID  STATE     SCENARIO       DECLARED              ELAPSED / RTO  STATUS         DATA LOST / RPO   DRILL
2   resolved  db-corruption  2026-11-21 10:00 CET  2h20m / 2h     missed by 20m  40m / 15m missed
1   resolved  db-corruption  2026-11-21 09:00 CET  1h10m / 2h     met            10m / 15m met
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stderr, code := runIncidents(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIncidentsUTCWithoutAnyPlan(t *testing.T) {
	db := fillDB(t, nil, testIncidents()[0])
	got, stderr, code := runIncidents(t, "--db", db, "--plan", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(got, "2026-11-21 08:00 UTC") {
		t.Errorf("want the time in UTC:\n%s", got)
	}
}

func TestIncidentsEmpty(t *testing.T) {
	db := fillDB(t, nil)
	got, _, code := runIncidents(t, "--db", db, "--state", "open")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := "No open incidents (drills are left out; --drills shows them).\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestIncidentsJSON(t *testing.T) {
	db := fillDB(t, nil, testIncidents()...)
	got, stderr, code := runIncidents(t, "--db", db, "--format", "json", "--drills")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []incidentRow
	if err := json.Unmarshal([]byte(got), &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	yes, no := true, false
	rpo, lost2, lost1 := int64(900), int64(2400), int64(600)
	want := []incidentRow{
		{ID: 5, State: "open", Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			DeclaredAt: "2026-11-21T10:00:00Z", ElapsedSeconds: 9000, RTOSeconds: 7200, RTOMet: &no, Channel: "inc-5-db-corruption",
			RPOSeconds: &rpo},
		{ID: 4, State: "open", Scenario: "region-down", Title: "Region down", Severity: "sev2",
			DeclaredAt: "2026-11-21T12:15:00Z", ElapsedSeconds: 900, Channel: "inc-4-region-down"},
		{ID: 3, State: "open", Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			Drill: true, DeclaredAt: "2026-11-21T12:00:00Z", ElapsedSeconds: 1800, RTOSeconds: 7200, Channel: "drill-3-db-corruption"},
		{ID: 2, State: "resolved", Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			DeclaredAt: "2026-11-21T09:00:00Z", ResolvedAt: "2026-11-21T11:20:00Z", ElapsedSeconds: 8400, RTOSeconds: 7200, RTOMet: &no, Channel: "inc-2-db-corruption",
			RPOSeconds: &rpo, DataLossSeconds: &lost2, RPOMet: &no},
		{ID: 1, State: "resolved", Scenario: "db-corruption", Title: "Corrupted payments database", Severity: "sev1", Service: "payments-db",
			DeclaredAt: "2026-11-21T08:00:00Z", ResolvedAt: "2026-11-21T09:10:00Z", ElapsedSeconds: 4200, RTOSeconds: 7200, RTOMet: &yes, Channel: "inc-1-db-corruption",
			RPOSeconds: &rpo, DataLossSeconds: &lost1, RPOMet: &yes},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// An undecided RTO is null, not false.
	if !strings.Contains(got, `"rto_met": null`) {
		t.Errorf("want rto_met null for an open incident within its RTO:\n%s", got)
	}
}

func TestIncidentsErrors(t *testing.T) {
	db := fillDB(t, nil)
	missing := filepath.Join(t.TempDir(), "nope.db")
	checkErrors(t, runIncidents, []errorCase{
		{"bad state", []string{"--db", db, "--state", "closed"}, 2, `--state "closed": want open or resolved`},
		{"bad format", []string{"--db", db, "--format", "xml"}, 2, `--format "xml": want text or json`},
		{"extra argument", []string{"--db", db, "5"}, 2, `unexpected argument "5"`},
		{"unknown flag", []string{"--db", db, "--color"}, 2, "flag provided but not defined: -color"},
		{"no database", []string{"--db", missing}, 1, "no database at"},
	})
	// A mistyped --db must not leave an empty database behind.
	if _, err := os.Stat(missing); err == nil {
		t.Error("the missing database was created")
	}
}

// TestMistypedURLHidesPassword: a --db that is a URL but not PostgreSQL's
// (a typo in the scheme) is refused, without its password, rather than
// read as an SQLite file whose name is then shown.
func TestMistypedURLHidesPassword(t *testing.T) {
	checkErrors(t, runIncidents, []errorCase{
		{"postgre://", []string{"--db", "postgre://drbot:s3cret-pw@db.internal/drbot"}, 1,
			"postgre://drbot:xxxxx@db.internal/drbot: not a database drbot can use: a PostgreSQL URL starts with postgres:// or postgresql://"},
	})
	_, stderr, _ := runIncidents(t, "--db", "postgre://drbot:s3cret-pw@db.internal/drbot")
	if strings.Contains(stderr, "s3cret-pw") {
		t.Errorf("the password is shown: %q", stderr)
	}
}

// TestMissingDatabaseNamesTheConsoles: after the README's walkthrough the
// play incident is in drbot-console.db; "drbot incidents" (on drbot.db)
// says where it is.
func TestMissingDatabaseNamesTheConsoles(t *testing.T) {
	dir := t.TempDir()
	console := filepath.Join(dir, defaultConsoleDB)
	if err := os.WriteFile(console, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	checkErrors(t, runIncidents, []errorCase{
		{"console database beside", []string{"--db", filepath.Join(dir, "drbot.db")}, 1,
			"no database at " + filepath.Join(dir, "drbot.db") + " (set --db or DRBOT_DB to the file drbot serve uses; the console's incidents are in " + console + ": --db " + console + ")"},
	})
}

func TestRTOStanding(t *testing.T) {
	now := at(12, 0)
	tests := []struct {
		name        string
		inc         incident.Incident
		wantElapsed time.Duration
		want        string
	}{
		{"resolved in time", incident.Incident{State: "resolved", DeclaredAt: at(10, 0), ResolvedAt: at(11, 10), RTO: 2 * time.Hour}, 70 * time.Minute, "met"},
		{"resolved exactly at the RTO", incident.Incident{State: "resolved", DeclaredAt: at(10, 0), ResolvedAt: at(12, 0), RTO: 2 * time.Hour}, 2 * time.Hour, "met"},
		{"resolved late", incident.Incident{State: "resolved", DeclaredAt: at(9, 0), ResolvedAt: at(11, 20), RTO: 2 * time.Hour}, 140 * time.Minute, "missed by 20m"},
		{"open within", incident.Incident{State: "open", DeclaredAt: at(11, 30), RTO: 2 * time.Hour}, 30 * time.Minute, "1h30m left"},
		{"open past", incident.Incident{State: "open", DeclaredAt: at(9, 0), RTO: 2 * time.Hour}, 3 * time.Hour, "missed by 1h"},
		{"no RTO", incident.Incident{State: "open", DeclaredAt: at(11, 0)}, time.Hour, "none"},
		{"clock behind", incident.Incident{State: "open", DeclaredAt: at(13, 0), RTO: time.Hour}, 0, "1h left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotElapsed, got := rtoStanding(&tt.inc, now)
			if gotElapsed != tt.wantElapsed || got != tt.want {
				t.Errorf("rtoStanding = %v, %q; want %v, %q", gotElapsed, got, tt.wantElapsed, tt.want)
			}
		})
	}
}

// errorCase is a command line that a command refuses: the exit status
// and a part of what it says on standard error.
type errorCase struct {
	name     string
	args     []string
	wantCode int
	wantErr  string
}

// checkErrors runs each case with run, which runs the command under test.
func checkErrors(t *testing.T, run func(t *testing.T, args ...string) (stdout, stderr string, code int), tests []errorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantErr)
			}
		})
	}
}
