package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleClockCarriesOver: a console session records its clock in its
// database; the next session resumes there, and incidents, stats and
// postmortem measure at it, saying so, rather than at real time (days
// later, every open incident showed days elapsed and a breached RTO).
func TestConsoleClockCarriesOver(t *testing.T) {
	t.Parallel()
	bin := drbotBinary(t)
	db := filepath.Join(t.TempDir(), "play.db")
	plan := filepath.Join("examples", "plan.yaml")
	first := runBinary(t, bin, "/incident declare db-corruption checksum errors\nwait 30m\n",
		"console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z")
	if first.code != 0 {
		t.Fatalf("console: exit %d\n%s", first.code, first.stderr)
	}
	const note = "times are measured at the console's clock, 2026-11-21 10:30 UTC, not now"
	list := runBinary(t, bin, "", "incidents", "--db", db, "--plan", plan, "--format", "json")
	if list.code != 0 || !strings.Contains(list.stderr, note) || !strings.Contains(list.stdout, `"elapsed_seconds": 1800`) {
		t.Errorf("incidents: exit %d\nstderr %s\nstdout %s\nwant 30 minutes elapsed at the console's clock", list.code, list.stderr, list.stdout)
	}
	pm := runBinary(t, bin, "", "postmortem", "--db", db, "--plan", plan, "--format", "json", "1")
	if pm.code != 0 || !strings.Contains(pm.stderr, note) || !strings.Contains(pm.stdout, `"as_of": "2026-11-21T10:30:00Z"`) {
		t.Errorf("postmortem: exit %d\nstderr %s\nstdout %.600s", pm.code, pm.stderr, pm.stdout)
	}
	stats := runBinary(t, bin, "", "stats", "--db", db, "--plan", plan, "--since", "1d")
	if stats.code != 0 || !strings.Contains(stats.stderr, note) || !strings.Contains(stats.stdout, "since 2026-11-20 11:30 CET") {
		t.Errorf("stats --since 1d: exit %d\nstderr %s\nstdout %s\nwant a day before the console's clock", stats.code, stats.stderr, stats.stdout)
	}
	// The next session goes on at 10:30: status shows 30m elapsed, and
	// 5 more minutes fire only what falls due in them.
	second := runBinary(t, bin, "in #inc-1-db-corruption\n/incident status\n", "console", "--plan", plan, "--db", db)
	if second.code != 0 || !strings.Contains(second.stdout, "Elapsed 30m of the 2h RTO (deadline 13:00 CET)") || strings.Contains(second.stdout, "RTO breached") {
		t.Errorf("second session: exit %d\nstderr %s\nstdout %s\nwant the status at 10:30, 30m elapsed", second.code, second.stderr, second.stdout)
	}
}
