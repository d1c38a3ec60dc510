package incident_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// TestStats runs three incidents and a drill through the engine and reads
// the figures back, each worked out by hand below.
func TestStats(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	// #1 db-corruption (sev1, RTO 2h, RPO 15m), declared by alice at
	// 10:00 CET: alice acknowledges her own commander page (not counted),
	// bob the executor's at +4m. Approval asked at +5m, approved by erin
	// at +15m (a 10m wait). Data back to 09:50 CET: 10m lost, RPO met.
	// Resolved at +1h: RTO met.
	e.declare("db-corruption", "", false)
	ch1 := e.channel(1)
	e.at(2 * time.Minute)
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.at(4 * time.Minute)
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.at(5 * time.Minute)
	e.press(uBob, ch1, "No")
	e.at(15 * time.Minute)
	e.press(uErin, dmOf(uErin), "Approve")
	e.mustCommand(uBob, ch1, "recovery-point 09:50")
	e.at(time.Hour)
	e.mustCommand(uAlice, ch1, "resolve")

	// #2 checkout-down (sev2, RTO 4h), declared at +1h: bob, its
	// executor, never answers; after 5m alice is paged (an escalation)
	// and acknowledges at +1h8m (8m). Resolved at +5h10m: RTO missed.
	e.declare("checkout-down", "", false)
	ch2 := e.channel(2)
	e.at(time.Hour + 6*time.Minute)
	e.at(time.Hour + 8*time.Minute)
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.at(5*time.Hour + 10*time.Minute)
	e.mustCommand(uAlice, ch2, "resolve")

	// #3 a drill of checkout-down at +5h10m, bob acknowledges at once
	// (1m), over in 30m: 12.5% of its 4h RTO.
	e.declare("checkout-down", "", true)
	ch3 := e.channel(3)
	e.at(5*time.Hour + 11*time.Minute)
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.at(5*time.Hour + 40*time.Minute)
	e.mustCommand(uAlice, ch3, "resolve")

	st, err := e.svc.Stats(e.ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	all := st.All
	if all.Count != 2 || all.Resolved != 2 || all.Acknowledged != 2 {
		t.Errorf("all: %+v", all)
	}
	// MTTA (4m + 8m) / 2; MTTR (1h + 4h10m) / 2.
	if got := *all.MTTASeconds; got != 6*60 {
		t.Errorf("MTTA %ds, want 360", got)
	}
	if got := *all.MTTRSeconds; got != (3600+15000)/2 {
		t.Errorf("MTTR %ds, want %d", got, (3600+15000)/2)
	}
	if *all.RTOMetPercent != 50 || all.RTOChecked != 2 || *all.RPOMetPercent != 100 || all.RPOChecked != 1 {
		t.Errorf("RTO met %v of %d, RPO met %v of %d", *all.RTOMetPercent, all.RTOChecked, *all.RPOMetPercent, all.RPOChecked)
	}
	if all.Escalations < 1 || *all.ApprovalWaitMedianSeconds != 600 || all.Approvals != 1 {
		t.Errorf("escalations %d, approval wait %v of %d", all.Escalations, *all.ApprovalWaitMedianSeconds, all.Approvals)
	}
	if len(st.BySeverity) != 2 || st.BySeverity[0].Key != "sev1" || st.BySeverity[1].Key != "sev2" || *st.BySeverity[1].RTOMetPercent != 0 {
		t.Errorf("by severity %+v", st.BySeverity)
	}
	// Equal counts: by id.
	if len(st.ByScenario) != 2 || st.ByScenario[0].Key != "checkout-down" || st.ByScenario[0].RPOMetPercent != nil {
		t.Errorf("by scenario %+v: checkout has no RPO, its percentage is null", st.ByScenario)
	}
	if st.Drills.All.Count != 1 || len(st.Drills.Scores) != 1 {
		t.Fatalf("drills %+v", st.Drills)
	}
	d := st.Drills.Scores[0]
	if d.ID != 3 || d.TimeToRecoverSeconds != 1800 || *d.RTOPercent != 12.5 || !*d.RTOMet || *d.TimeToAckSeconds != 60 {
		t.Errorf("drill score %+v", d)
	}

	text := st.Text(e.plan.Location)
	for _, want := range []string{"Incidents, all time", ": 2 (drills apart: 1)", "By severity", "MTTA", "sev1", "50% of 2", "100% of 1",
		"10m (1)", "Drills", "#3", "30m of 4h", "12.5% of the RTO: met"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	// Since: only #3 was declared after +5h.
	st, _ = e.svc.Stats(e.ctx, svcT0.Add(5*time.Hour))
	if st.All.Count != 0 || st.Drills.All.Count != 1 || st.All.MTTASeconds != nil {
		t.Errorf("since +5h: %+v", st)
	}
	r := e.mustCommand(uBob, "CGENERAL", "stats")
	if !strings.Contains(r.Text, "```") || !strings.Contains(r.Text, "12.5% of the RTO") || r.Public {
		t.Errorf("/incident stats: %+v", r)
	}
	if _, err := e.command(uBob, "CGENERAL", "stats lately"); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("stats lately: %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	oslo, _ := time.LoadLocation("Europe/Oslo")
	for in, want := range map[string]time.Time{
		"":                     {},
		"30d":                  now.Add(-30 * 24 * time.Hour),
		"12h":                  now.Add(-12 * time.Hour),
		"2026-10-01":           time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC), // midnight CEST
		"2026-10-01T00:00:00Z": time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := incident.ParseSince(in, now, oslo)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := incident.ParseSince("lately", now, oslo); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("lately: %v", err)
	}
	// A year typo: every figure would be over no incident.
	for _, in := range []string{"2027-10-01", "2026-12-01T00:00:00Z"} {
		_, err := incident.ParseSince(in, now, oslo)
		if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), "is after now (2026-11-30 13:00 CET)") {
			t.Errorf("ParseSince(%q): %v, want EINVALID saying it is after now", in, err)
		}
	}
	// Today's date is midnight, in the past: allowed.
	if _, err := incident.ParseSince("2026-11-30", now, oslo); err != nil {
		t.Errorf("today: %v", err)
	}
}

// BenchmarkStats computes the figures of 10,000 incidents (a tenth of
// them drills), each with a timeline of a dozen events: what drbot stats
// does once it has read them.
func BenchmarkStats(b *testing.B) {
	p := pmPlan()
	in := make([]incident.StatsInput, 0, 10000)
	for i := range 10000 {
		inc, events := realIncident()
		if i%10 == 0 {
			inc, events = drillIncident()
		}
		shift := time.Duration(i) * time.Hour
		inc.ID = int64(i + 1)
		inc.DeclaredAt, inc.ResolvedAt = inc.DeclaredAt.Add(shift), inc.ResolvedAt.Add(shift)
		if i%3 == 0 {
			inc.Severity = "sev2"
			inc.Scenario = fmt.Sprintf("scenario-%d", i%7)
		}
		for j := range events {
			events[j].At = events[j].At.Add(shift)
		}
		in = append(in, incident.StatsInput{Incident: inc, Events: events, Plan: p})
	}
	now := in[len(in)-1].Incident.ResolvedAt.Add(time.Hour)
	b.ResetTimer()
	for b.Loop() {
		st := incident.ComputeStats(in, time.Time{}, now)
		if st.All.Count != 9000 || st.Drills.All.Count != 1000 {
			b.Fatalf("counted %d and %d drills", st.All.Count, st.Drills.All.Count)
		}
	}
}
