package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// consoleDB plays a short incident with the console, in process, and
// returns the database it left.
func consoleDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "drbot.db")
	plan := filepath.Join(dir, "plan.yaml")
	src, err := os.ReadFile("testdata/oslo-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan, src, 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"/incident declare db-corruption replica lag then checksum errors",
		"press Acknowledge",
		"wait 20m",
		"in #inc-1-db-corruption",
		"/incident note failing over",
		"/incident resolve failed over to the replica",
	}, "\n")
	_, stderr, code := runConsole(t, script, "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z")
	if code != 0 {
		t.Fatalf("console exit %d: %s", code, stderr)
	}
	// The plan file goes away: the postmortem must not need it.
	if err := os.Remove(plan); err != nil {
		t.Fatal(err)
	}
	return db
}

func runPostmortem(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runPostmortemAt(t, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), args...)
}

// runPostmortemAt runs drbot postmortem on a machine whose clock reads now.
func runPostmortemAt(t *testing.T, now time.Time, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := &postmortemCommand{stdio: stdio{stdout: &out, stderr: &errb}, now: func() time.Time { return now }}
	code = exitCode(&errb, cmd.Run(context.Background(), args))
	return out.String(), errb.String(), code
}

func TestPostmortemFromTheStoredPlan(t *testing.T) {
	db := consoleDB(t)
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	noPlan := filepath.Join(t.TempDir(), "plan.yaml")

	out, stderr, code := runPostmortem(t, "--format", "json", "--plan", noPlan, "1", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var pm incident.Postmortem
	if err := json.Unmarshal([]byte(out), &pm); err != nil {
		t.Fatalf("not a postmortem: %v\n%s", err, out)
	}
	if pm.ID != 1 || pm.State != "resolved" || pm.TimeToRecoverSeconds != 20*60 || !pm.RTOMet {
		t.Errorf("postmortem = id %d, %s, recovered in %ds, rto met %v; want 1, resolved, 1200s, true",
			pm.ID, pm.State, pm.TimeToRecoverSeconds, pm.RTOMet)
	}
	if !strings.HasPrefix(out, "{\n  \"id\": 1,\n") {
		t.Errorf("want indented JSON starting with the id:\n%.80s", out)
	}

	md, stderr, code := runPostmortem(t, "--plan", noPlan, "--db", db, "1")
	if code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# Postmortem of incident 1: Corrupted payments database", "failing over", "failed over to the replica"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("drbot postmortem changed the database")
	}
}

func TestPostmortemErrors(t *testing.T) {
	db := consoleDB(t)
	// An incident from before plans were kept: its plan is not in the
	// database, so only a plan file can stand in.
	old := fillDB(t, nil, &incident.Incident{Scenario: "db-corruption", Title: "Corrupted payments database",
		State: incident.StateResolved, DeclaredAt: at(8, 0), ResolvedAt: at(9, 0), RTO: 2 * time.Hour, PlanHash: "gone"})
	noPlan := filepath.Join(t.TempDir(), "plan.yaml")
	checkErrors(t, runPostmortem, []errorCase{
		{"unknown incident", []string{"--db", db, "7"}, 1, "no incident 7 in "},
		{"no database", []string{"--db", filepath.Join(t.TempDir(), "none.db"), "1"}, 1, "no database at"},
		{"no ID", []string{"--db", db}, 2, "want one incident ID, got 0 arguments"},
		{"two IDs", []string{"--db", db, "1", "2"}, 2, "want one incident ID, got 2 arguments"},
		{"not a number", []string{"--db", db, "inc-1"}, 2, `incident ID "inc-1": want a number`},
		{"zero", []string{"--db", db, "0"}, 2, `incident ID "0": want a number`},
		{"bad format", []string{"--db", db, "--format", "html", "1"}, 2, `--format "html": want markdown or json`},
	})

	// The old incident has its postmortem with the plan file, and without
	// it too, with a warning.
	for _, plan := range []string{"testdata/oslo-plan.yaml", noPlan} {
		out, stderr, code := runPostmortem(t, "--db", old, "--plan", plan, "--format", "json", "1")
		if code != 0 {
			t.Fatalf("old incident, plan %s: exit %d: %s", plan, code, stderr)
		}
		if !strings.Contains(out, `"time_to_recover_seconds": 3600`) {
			t.Errorf("plan %s: want an hour to recover:\n%s", plan, out)
		}
		warned := strings.Contains(stderr, "no usable plan file")
		if want := plan == noPlan; warned != want {
			t.Errorf("plan %s: warned %v, want %v; stderr %q", plan, warned, want, stderr)
		}
	}
}

// An incident run with the console's clock (10:00 to 10:20 UTC, the plan
// in Europe/Oslo) and printed on a machine whose clock is behind it: the
// JSON is UTC and its as_of is not before resolved_at; the Markdown shows
// every time in the plan's zone with its abbreviation, and its timeline's
// prose has neither RFC 3339 times nor raw member IDs.
func TestPostmortemTimesOfAConsoleIncident(t *testing.T) {
	db := consoleDB(t)
	behind := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	out, stderr, code := runPostmortemAt(t, behind, "--format", "json", "--db", db, "1")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var pm struct {
		DeclaredAt string `json:"declared_at"`
		ResolvedAt string `json:"resolved_at"`
		AsOf       string `json:"as_of"`
		Timeline   []struct {
			At   string `json:"at"`
			Text string `json:"text"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &pm); err != nil {
		t.Fatalf("not a postmortem: %v\n%s", err, out)
	}
	if pm.DeclaredAt != "2026-11-21T10:00:00Z" || pm.ResolvedAt != "2026-11-21T10:20:00Z" {
		t.Errorf("declared_at %s resolved_at %s, want 2026-11-21T10:00:00Z and 2026-11-21T10:20:00Z", pm.DeclaredAt, pm.ResolvedAt)
	}
	if pm.AsOf < pm.ResolvedAt {
		t.Errorf("as_of %s is before resolved_at %s", pm.AsOf, pm.ResolvedAt)
	}
	if last := pm.Timeline[len(pm.Timeline)-1].At; pm.AsOf != last {
		t.Errorf("as_of %s, want the last event's time %s", pm.AsOf, last)
	}
	rfc3339 := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`)
	memberID := regexp.MustCompile(`\bU0[A-Z0-9]{7}\b`)
	for _, e := range pm.Timeline {
		if rfc3339.MatchString(e.Text) || memberID.MatchString(e.Text) {
			t.Errorf("timeline text %q has an RFC 3339 time or a member ID", e.Text)
		}
	}

	md, stderr, code := runPostmortemAt(t, behind, "--db", db, "1")
	if code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"| Declared | 2026-11-21 11:00:00 CET |", "| Resolved | 2026-11-21 11:20:00 CET |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, " UTC") || rfc3339.MatchString(md) {
		t.Errorf("markdown shows a time in UTC:\n%s", md)
	}
}
