package incident_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// newPosts returns the channel's messages posted since n messages.
func (e *svcEnv) newPosts(ch string, n int) []string {
	ts := e.texts(ch)
	if n > len(ts) {
		return nil
	}
	return ts[n:]
}

func TestRTOAlertsAndProjection(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(time.Minute))
	e.press(uAlice, dmOf(uAlice), "Acknowledge") // commander
	e.press(uBob, dmOf(uBob), "Acknowledge")     // executor
	e.clock.Set(svcT0.Add(5 * time.Minute))
	e.press(uBob, ch, "No") // restore, waiting for approval: 1h10m ahead

	steps := []struct {
		at   time.Duration
		do   func()
		want []string // new messages in the channel
	}{
		{at: 50 * time.Minute}, // 11:20 + 70m = 12:00: not past yet
		{at: 51 * time.Minute, want: []string{
			":warning: Projected finish 12:01 CET is 1m past the RTO deadline 12:00 CET. Still ahead on the longest path: restore 1h, verify 10m.",
		}},
		{at: time.Hour, want: []string{
			":hourglass_flowing_sand: RTO 50%: 1h elapsed, 1h left (deadline 12:00 CET). Projected finish 12:10 CET — 10m past the RTO.",
		}},
		{at: 65 * time.Minute, do: func() { e.press(uErin, dmOf(uErin), "Approve") }, want: []string{
			// 12:15, still late: said already.
			"Step 3/4 · restore — Restore the last snapshot into a new instance and repoint the app. (estimate 1h)",
		}},
		{at: 70 * time.Minute, do: func() { e.press(uBob, ch, "Skip") }, want: []string{
			"Step 4/4 · verify — Run the smoke tests and compare order counts with the payment provider. (estimate 10m)",
			":white_check_mark: Back on track: projected finish 11:20 CET, 40m within the RTO deadline 12:00 CET.",
		}},
		{at: 80 * time.Minute},
		{at: 90 * time.Minute, want: []string{
			":hourglass_flowing_sand: RTO 75%: 1h30m elapsed, 30m left (deadline 12:00 CET). The current step is past its estimate and none follows: projected finish now.",
		}},
		{at: 108 * time.Minute, want: []string{
			":hourglass_flowing_sand: RTO 90%: 1h48m elapsed, 12m left (deadline 12:00 CET). The current step is past its estimate and none follows: projected finish now.",
		}},
		{at: 2 * time.Hour, want: []string{
			":rotating_light: RTO breached: 2h elapsed, the deadline 12:00 CET has passed. The current step is past its estimate and none follows: projected finish now. Paging approver and commander.",
		}},
		{at: 3 * time.Hour},
	}
	for _, st := range steps {
		n := len(e.texts(ch))
		e.at(st.at)
		if st.do != nil {
			st.do()
		}
		got := e.newPosts(ch, n)
		// Acknowledgements, escalations, approvals paged and step updates
		// are not what this test is about.
		got = slices.DeleteFunc(got, func(s string) bool {
			return strings.Contains(s, "acknowledged as") || strings.HasPrefix(s, ":arrow_right: ") ||
				strings.Contains(s, "for approval by the approver role")
		})
		if diff := cmp.Diff(st.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("at +%v, new messages (-want +got):\n%s", st.at, diff)
		}
	}

	var alerts []string
	for _, ev := range e.timeline(1) {
		switch ev.Kind {
		case incident.KindRTOAlert:
			alerts = append(alerts, "alert "+ev.Data["percent"]+ev.Data["projection"])
		case incident.KindRTOBreached:
			alerts = append(alerts, "breached")
		}
	}
	if diff := cmp.Diff([]string{"alert late", "alert 50", "alert on_track", "alert 75", "alert 90", "breached"}, alerts); diff != "" {
		t.Errorf("RTO events (-want +got):\n%s", diff)
	}
	a50 := e.events(1, incident.KindRTOAlert)[1]
	wantData := map[string]string{"percent": "50", "elapsed_seconds": "3600", "remaining_seconds": "3600", "projected": "2026-11-21T11:10:00Z"}
	if diff := cmp.Diff(wantData, a50.Data); diff != "" {
		t.Errorf("50%% alert data (-want +got):\n%s", diff)
	}

	// The breach paged the approver role and, again, the commander.
	var breachPages []string
	for _, ev := range e.events(1, incident.KindPaged) {
		if ev.At.Equal(svcT0.Add(2 * time.Hour)) {
			breachPages = append(breachPages, ev.Data["role"]+":"+ev.Data["contact"])
		}
	}
	if diff := cmp.Diff([]string{"approver:erin", "commander:alice"}, breachPages); diff != "" {
		t.Errorf("breach pages (-want +got):\n%s", diff)
	}
	// Her newest page; the earlier ones paged the approval that waited.
	if m := e.pagesTo(uErin); len(m) == 0 || !strings.Contains(m[len(m)-1].Text, "The RTO of this incident was breached") {
		t.Errorf("erin's page: %s", dumpMsgs(m))
	}
	// No RTO timer is left once breached; the escalations go on.
	for _, k := range e.timerKeys() {
		if k == "inc/1/rto" || k == "inc/1/projection" {
			t.Errorf("timer %s left after the breach", k)
		}
	}
}

// A plan whose longest path is already past the RTO says so at once.
func TestProjectionLateAtDeclare(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Services["checkout"].RTO = 8 * time.Minute // steps: 5m + 5m
	e := newSvcEnv(t, p)
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	e.mustFind(ch, ":warning: Projected finish 10:10 CET is 2m past the RTO deadline 10:08 CET. Still ahead on the longest path: restart 5m, check 5m.")
	// Default thresholds: 50% of 8m = 4m.
	e.at(4 * time.Minute)
	e.mustFind(ch, "RTO 50%: 4m elapsed, 4m left (deadline 10:08 CET). Projected finish 10:10 CET — 2m past the RTO.")
	alerts := e.events(1, incident.KindRTOAlert)
	if n := len(alerts); n != 2 {
		t.Fatalf("%d rto_alert events, want the projection and 50%%", n)
	}
	// The timeline's prose says times as people read them, in the plan's
	// zone; its data has RFC 3339 UTC.
	if want := "Projected finish 10:10 CET is 2m past the RTO deadline"; alerts[0].Text != want {
		t.Errorf("projection event text %q, want %q", alerts[0].Text, want)
	}

	// In the postmortem JSON the two rto_alert entries are told apart by
	// their data, not their text.
	var got []string
	for _, ev := range e.jsonTimeline(1) {
		if ev.Kind == string(incident.KindRTOAlert) {
			got = append(got, string(ev.Data))
		}
	}
	want := []string{
		`{"elapsed_seconds":"0","projected":"2026-11-21T09:10:00Z","projection":"late","remaining_seconds":"480"}`,
		`{"elapsed_seconds":"240","percent":"50","projected":"2026-11-21T09:10:00Z","remaining_seconds":"240"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data of the rto_alert entries in the postmortem JSON (-want +got):\n%s", diff)
	}
}

// Several thresholds missed while drbot was down: one alert, the highest.
func TestRTOAlertsCatchUp(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	e.at(100 * time.Minute) // past 50% and 75%
	var got []string
	for _, ev := range e.events(1, incident.KindRTOAlert) {
		got = append(got, ev.Data["percent"]+ev.Data["projection"])
	}
	if diff := cmp.Diff([]string{"75"}, slices.DeleteFunc(got, func(s string) bool { return s == "late" })); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	if got := e.incident(1).Alerts; !slices.Equal(got, []int{50, 75}) {
		t.Errorf("alerts done = %v", got)
	}
	for _, tm := range e.store.Timers() {
		if tm.Key == "inc/1/rto" && !tm.Due.Equal(svcT0.Add(108*time.Minute)) {
			t.Errorf("next RTO alert at %v, want 90%%", tm.Due)
		}
	}
}

func TestNoRTONoTimers(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Services["object-store"] = &playbooks.Service{ID: "object-store"}
	p.Scenarios["objects-lost"] = &playbooks.Scenario{
		ID: "objects-lost", Title: "Objects lost", Service: "object-store", Severity: "sev3", Page: []string{"security"},
		Steps: []*playbooks.Step{{ID: "check", Do: "Check.", Estimate: time.Hour}},
	}
	p.ScenarioOrder = append(p.ScenarioOrder, "objects-lost")
	e := newSvcEnv(t, p)
	e.declare("objects-lost", "", false)
	if got := e.chat.Topic(e.channel(1)); got != "sev3 · object-store · no RTO set" {
		t.Errorf("topic = %q", got)
	}
	if diff := cmp.Diff([]string{"inc/1/escalate/security"}, e.timerKeys()); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
	e.press(uErin, dmOf(uErin), "Acknowledge")
	e.at(48 * time.Hour)
	if n := len(e.events(1, incident.KindRTOAlert)) + len(e.events(1, incident.KindRTOBreached)); n != 0 {
		t.Errorf("%d RTO events without an RTO", n)
	}
}

// Back after downtime past the deadline: the breach is said, with its
// projection, and no "projected past the RTO" goes before it.
func TestRTOCatchUpPastDeadline(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	e.at(2*time.Hour + time.Minute)
	if got := e.events(1, incident.KindRTOAlert); len(got) != 0 {
		t.Errorf("RTO alerts after the deadline: %+v", got)
	}
	if n := len(e.events(1, incident.KindRTOBreached)); n != 1 {
		t.Errorf("%d breaches, want 1", n)
	}
	for _, text := range e.texts(e.channel(1)) {
		if strings.Contains(text, "past the RTO deadline") {
			t.Errorf("stale projection posted: %q", text)
		}
	}
	if got := e.incident(1).ProjectedLate; got {
		t.Error("ProjectedLate set by a projection never said")
	}
}
