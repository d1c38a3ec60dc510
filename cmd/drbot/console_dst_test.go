package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dstPlan is a plan in ZONE whose contact-list review runs on REVIEW and
// whose drill runs on DRILL.
const dstPlan = `version: 1
name: Daylight saving plan
timezone: ZONE
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
roles:
  commander: [alice, bob]
services:
  payments-db: {rto: 2h}
scenarios:
  db-corruption:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander]
    steps:
      - {id: restore, do: Restore the last snapshot., estimate: 1h}
review:
  schedule: "REVIEW"
  owners: [alice]
  overdue_after: 30d
drills:
  - scenario: db-corruption
    schedule: "DRILL"
`

var (
	consoleDateLine = regexp.MustCompile(`^-- (.+) \((.+)\) --$`)
	consoleLine     = regexp.MustCompile(`^\[(\d\d:\d\d)\] `)
)

// consoleRuns reads a console transcript and returns, for each line that
// contains marker, when it was printed: "Sun 29 Mar 2026 03:00 CEST".
func consoleRuns(out, marker string) []string {
	var day, zone string
	var runs []string
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		if m := consoleDateLine.FindStringSubmatch(line); m != nil {
			day, zone = m[1], m[2]
			continue
		}
		if m := consoleLine.FindStringSubmatch(line); m != nil && strings.Contains(line, marker) {
			runs = append(runs, day+" "+m[1]+" "+zone)
		}
	}
	return runs
}

// Through the console, on the nights the clocks change, in two zones:
// Europe/Oslo (an hour) and Australia/Lord_Howe (30 minutes). Each
// schedule runs once that night: at the jump when its time is skipped, at
// its first occurrence when its time comes twice. A weekly Sunday drill is
// not lost for the week.
func TestConsoleSchedulesAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name, zone, review, drill, start string
		wantReviews, wantDrills          []string
	}{
		{
			name: "Oslo spring forward", zone: "Europe/Oslo",
			review: "30 2 * * *", drill: "30 2 * * 0", start: "2026-03-28T12:00:00Z",
			wantReviews: []string{"Sun 29 Mar 2026 03:00 CEST", "Mon 30 Mar 2026 02:30 CEST"},
			wantDrills:  []string{"Sun 29 Mar 2026 03:00 CEST"},
		},
		{
			name: "Oslo fall back", zone: "Europe/Oslo",
			review: "30 2 * * *", drill: "30 2 * * SUN", start: "2026-10-24T12:00:00Z",
			wantReviews: []string{"Sun 25 Oct 2026 02:30 CEST", "Mon 26 Oct 2026 02:30 CET"},
			wantDrills:  []string{"Sun 25 Oct 2026 02:30 CEST"},
		},
		{
			name: "Oslo @every and @daily", zone: "Europe/Oslo",
			// 02:30 CET on Saturday: 24 hours later the clocks read 03:30 CEST.
			review: "@every 24h", drill: "@daily", start: "2026-03-28T01:30:00Z",
			wantReviews: []string{"Sun 29 Mar 2026 03:30 CEST", "Mon 30 Mar 2026 03:30 CEST"},
			wantDrills:  []string{"Sun 29 Mar 2026 00:00 CET"}, // the next waits while the first is open
		},
		{
			name: "Lord Howe spring forward by 30 minutes", zone: "Australia/Lord_Howe",
			review: "15 2 * * *", drill: "15 2 * * 0", start: "2026-10-03T01:30:00Z",
			wantReviews: []string{"Sun 4 Oct 2026 02:30 +11", "Mon 5 Oct 2026 02:15 +11"},
			wantDrills:  []string{"Sun 4 Oct 2026 02:30 +11"},
		},
		{
			name: "Lord Howe fall back by 30 minutes", zone: "Australia/Lord_Howe",
			review: "45 1 * * *", drill: "45 1 * * 0", start: "2026-04-04T01:00:00Z",
			wantReviews: []string{"Sun 5 Apr 2026 01:45 +11", "Mon 6 Apr 2026 01:45 +1030"},
			wantDrills:  []string{"Sun 5 Apr 2026 01:45 +11"},
		},
		{
			name: "Lord Howe @daily and @every", zone: "Australia/Lord_Howe",
			review: "@daily", drill: "@every 36h", start: "2026-04-04T01:00:00Z",
			wantReviews: []string{"Sun 5 Apr 2026 00:00 +11", "Mon 6 Apr 2026 00:00 +1030"},
			// 12:00 +11 on Saturday and 36 elapsed hours: 23:30 +1030.
			wantDrills: []string{"Sun 5 Apr 2026 23:30 +1030"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			plan := strings.NewReplacer("ZONE", tt.zone, "REVIEW", tt.review, "DRILL", tt.drill).Replace(dstPlan)
			planPath := filepath.Join(dir, "plan.yaml")
			if err := os.WriteFile(planPath, []byte(plan), 0o644); err != nil {
				t.Fatal(err)
			}
			out, stderr, code := runConsole(t, "wait 2d\nquit\n",
				"--plan", planPath, "--db", filepath.Join(dir, "drbot.db"), "--start", tt.start)
			if code != 0 {
				t.Fatalf("console exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr, out)
			}
			if diff := cmp.Diff(tt.wantReviews, consoleRuns(out, "Contact-list review")); diff != "" {
				t.Errorf("reviews of %q (-want +got):\n%s\n%s", tt.review, diff, out)
			}
			if diff := cmp.Diff(tt.wantDrills, consoleRuns(out, "drill-1-db-corruption: (channel created)")); diff != "" {
				t.Errorf("drills of %q (-want +got):\n%s", tt.drill, diff)
			}
		})
	}
}
