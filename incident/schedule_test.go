package incident_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage"
)

// wednesday10 is the first Wednesday 10:00 in Oslo after svcT0 (a
// Saturday): 09:00 UTC.
var wednesday10 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func drillPlan(t *testing.T) *playbooks.Plan {
	t.Helper()
	p := reviewPlan(t)
	p.Review.Schedule = "0 9 1 1 *" // not during these tests
	p.Drills = []playbooks.Drill{{Scenario: "db-corruption", Schedule: "0 10 * * 3"}}
	return p
}

func (e *svcEnv) outboxOf(kind incident.OutKind) []incidenttest.StoredOutgoing {
	var out []incidenttest.StoredOutgoing
	for _, m := range e.store.Messages() {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (e *svcEnv) incidents() []*incident.Incident {
	e.t.Helper()
	list, err := e.svc.Incidents(e.ctx, incident.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func TestDrillOnSchedule(t *testing.T) {
	e := newReviewEnv(t, drillPlan(t))
	key := "schedule/drill/0/db-corruption"
	if got := timerDue(t, e, key); !got.Equal(wednesday10) {
		t.Fatalf("drill due %s, want %s (10:00 in Oslo)", got, wednesday10)
	}
	e.clock.Set(wednesday10.Add(-time.Millisecond))
	e.tick()
	if n := len(e.incidents()); n != 0 {
		t.Fatalf("%d incidents before the drill's time", n)
	}
	e.clock.Set(wednesday10)
	e.tick()
	list := e.incidents()
	if len(list) != 1 {
		t.Fatalf("%d incidents at the drill's time, want 1", len(list))
	}
	inc := list[0]
	if !inc.Drill || inc.Scenario != "db-corruption" || inc.ChannelName != "drill-1-db-corruption" || inc.DeclaredBy != "" {
		t.Errorf("drill declared as %+v", inc)
	}
	if e.chat.ChannelID("drill-1-db-corruption") == "" {
		t.Error("no channel drill-1-db-corruption")
	}
	// Marked on every message and page.
	for _, conv := range []string{e.channel(1), dmOf(uAlice), dmOf(uBob)} {
		for _, m := range e.chat.Posts(conv) {
			if !strings.HasPrefix(m.Text, "[DRILL] ") {
				t.Errorf("message in %s without [DRILL]: %q", conv, m.Text)
			}
		}
	}
	if e.met.drills != 1 {
		t.Errorf("metrics counted %d drills, want 1", e.met.drills)
	}
	if got, want := timerDue(t, e, key), wednesday10.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("next drill due %s, want %s", got, want)
	}

	// A week later the first drill is still open: this one waits.
	e.clock.Set(wednesday10.AddDate(0, 0, 7))
	e.tick()
	if n := len(e.incidents()); n != 1 {
		t.Errorf("%d incidents while the previous drill is open, want 1", n)
	}
	e.mustCommand(uAlice, e.channel(1), "resolve")
	// A real incident is open: no drill pages people who are recovering.
	e.declare("checkout-down", "", false)
	e.clock.Set(wednesday10.AddDate(0, 0, 14))
	e.tick()
	if n := len(e.incidents()); n != 2 {
		t.Errorf("%d incidents while a real incident is open, want 2", n)
	}
	e.mustCommand(uBob, e.channel(2), "resolve")
	e.clock.Set(wednesday10.AddDate(0, 0, 21))
	e.tick()
	list = e.incidents()
	if len(list) != 3 || !list[0].Drill || list[0].ChannelName != "drill-3-db-corruption" {
		t.Errorf("after both closed: newest incident %+v, want drill 3", list[0])
	}
}

// The drill's postmortem scores it: time to acknowledge per role, the
// finish against the RTO, and a line a team can act on for a slow step.
func TestDrillPostmortemScore(t *testing.T) {
	e := newReviewEnv(t, drillPlan(t))
	e.clock.Set(wednesday10)
	e.tick()
	e.clock.Set(wednesday10.Add(45 * time.Second))
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.clock.Set(wednesday10.Add(2 * time.Minute))
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.press(uBob, e.channel(1), "Yes") // assess, 2m of its 10m
	e.clock.Set(wednesday10.Add(52 * time.Minute))
	e.press(uBob, e.channel(1), "Done") // repair: 50m against 30m
	e.clock.Set(wednesday10.Add(60 * time.Minute))
	e.press(uBob, e.channel(1), "Done") // verify
	e.mustCommand(uAlice, e.channel(1), "resolve")
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"drill score: time to acknowledge commander 45s, executor 2m; finished in 1h of the 2h RTO; 1 of 3 timed steps slower than estimated",
		"repair took 50m against an estimate of 30m; update the estimate or the RTO",
	}
	for _, w := range want {
		found := false
		for _, f := range pm.Findings {
			found = found || f == w
		}
		if !found {
			t.Errorf("no finding %q in %q", w, pm.Findings)
		}
	}
}

// A review or drill whose time passed while drbot was down runs once at
// start, not once per missed tick.
func TestMissedScheduleRunsOnceAfterRestart(t *testing.T) {
	p := drillPlan(t)
	p.Review.Schedule = "@every 1h"
	p.Drills[0].Schedule = "@every 1h"
	e := newReviewEnv(t, p)
	e.tick()
	if n := e.reviewCount(uAlice); n != 0 {
		t.Fatalf("%d reviews at start", n)
	}
	// drbot is down for five and a half hours: five ticks missed.
	down := svcT0.Add(5*time.Hour + 30*time.Minute)
	e.clock.Set(down)
	e.svc = e.newService()
	e.tick()
	e.tick()
	if n := e.reviewCount(uAlice); n != 1 {
		t.Errorf("%d reviews after the restart, want 1", n)
	}
	if n := len(e.incidents()); n != 1 {
		t.Errorf("%d drills after the restart, want 1", n)
	}
	for _, key := range []string{"schedule/review", "schedule/drill/0/db-corruption"} {
		if got, want := timerDue(t, e, key), down.Add(time.Hour); !got.Equal(want) {
			t.Errorf("%s next due %s, want %s (an hour from the restart)", key, got, want)
		}
	}
}

// Two Ticks racing (two processes on one database) act on a schedule
// once: a timer fires in the transaction that moves it.
func TestSchedulesRacingTicksActOnce(t *testing.T) {
	p := drillPlan(t)
	p.Review.Schedule = "@every 1h"
	e := newReviewEnv(t, p)
	e.clock.Set(wednesday10.Add(time.Minute))
	// Engines without a chat surface fire timers and leave the outbox:
	// what is asserted is what the timers did.
	var svcs []*incident.Engine
	for range 4 {
		svc, err := incident.New(incident.Config{Plan: p, Store: e.store, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			errs <- svcs[i%len(svcs)].Tick(e.ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// The only error is the one about delivering: no timer failed.
		if err == nil || err.Error() != "deliver the outbox: no chat surface configured" {
			t.Errorf("Tick: %v", err)
		}
	}
	if n := len(e.outboxOf(incident.OutReview)); n != 1 {
		t.Errorf("%d reviews enqueued by racing ticks, want 1", n)
	}
	if n := len(e.incidents()); n != 1 {
		t.Errorf("%d drills declared by racing ticks, want 1", n)
	}
	e.tick()
	for _, u := range []string{uAlice, uErin} {
		if n := e.reviewCount(u); n != 1 {
			t.Errorf("%s got %d reviews, want 1", u, n)
		}
	}
}

// The same on SQLite, with two stores on one file as two drbot processes
// would have: each timer fires in one BEGIN IMMEDIATE transaction.
func TestSchedulesRacingProcessesOnSQLite(t *testing.T) {
	p := drillPlan(t)
	p.Review.Schedule = "@every 1h"
	path := filepath.Join(t.TempDir(), "drbot.db")
	clock := incidenttest.NewClock(svcT0)
	var (
		svcs   []*incident.Engine
		stores []*storage.Store
	)
	for range 2 {
		st, err := storage.Open(context.Background(), storage.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
		svc, err := incident.New(incident.Config{Plan: p, Store: st, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	clock.Set(wednesday10.Add(time.Minute)) // the review and the drill are due
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := svcs[i%2].Tick(context.Background()); err == nil || err.Error() != "deliver the outbox: no chat surface configured" {
				t.Errorf("Tick: %v", err)
			}
		})
	}
	wg.Wait()
	list, err := svcs[0].Incidents(context.Background(), incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("%d drills declared by racing processes, want 1", len(list))
	}
	h, err := incident.ReviewHistory(context.Background(), stores[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 {
		t.Errorf("review history %+v, want one sending", h)
	}
}

func TestSetPlanSyncsSchedules(t *testing.T) {
	base := func(t *testing.T) *playbooks.Plan {
		p := drillPlan(t)
		p.Drills = append(p.Drills, playbooks.Drill{Scenario: "checkout-down", Schedule: "@every 24h"})
		return p
	}
	const (
		review  = "schedule/review"
		overdue = "schedule/review/overdue"
		drill0  = "schedule/drill/0/db-corruption"
		drill1  = "schedule/drill/1/checkout-down"
	)
	newYear := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC) // 09:00 in Oslo
	reload := svcT0.Add(6 * time.Hour)
	tests := []struct {
		name   string
		change func(p *playbooks.Plan)
		want   map[string]time.Time // timer -> due
	}{
		{
			name:   "unchanged keeps its due times",
			change: func(p *playbooks.Plan) {},
			want:   map[string]time.Time{review: newYear, overdue: svcT0.Add(72 * time.Hour), drill0: wednesday10, drill1: svcT0.Add(24 * time.Hour)},
		},
		{
			name: "a changed schedule counts from now; a removed drill goes",
			change: func(p *playbooks.Plan) {
				p.Review.Schedule = "@every 2h"
				p.Drills = p.Drills[:1]
			},
			want: map[string]time.Time{review: reload.Add(2 * time.Hour), overdue: svcT0.Add(72 * time.Hour), drill0: wednesday10},
		},
		{
			name:   "another timezone counts from now",
			change: func(p *playbooks.Plan) { p.Timezone, p.Location = "UTC", time.UTC },
			want: map[string]time.Time{
				review: newYear.Add(time.Hour), overdue: svcT0.Add(72 * time.Hour),
				drill0: wednesday10.Add(time.Hour), drill1: reload.Add(24 * time.Hour),
			},
		},
		{
			name:   "no review and no drills: no schedules",
			change: func(p *playbooks.Plan) { p.Review, p.Drills = nil, nil },
			want:   map[string]time.Time{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newReviewEnv(t, base(t))
			e.mustCommand(uBob, "CGENERAL", "review") // sets the overdue reminder
			e.clock.Set(reload)
			p := base(t)
			tt.change(p)
			if err := e.svc.SetPlan(e.ctx, p); err != nil {
				t.Fatal(err)
			}
			got := map[string]time.Time{}
			for _, tm := range e.store.Timers() {
				if strings.HasPrefix(tm.Key, "schedule/") {
					got[tm.Key] = tm.Due
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("schedule timers (-want +got):\n%s", diff)
			}
		})
	}
}

// A plan reload mid-incident changes the schedules and what later
// declarations get; the open incident keeps the plan it was declared
// with.
func TestSetPlanWithAnIncidentOpen(t *testing.T) {
	const v1 = `version: 1
name: v1
timezone: Europe/Oslo
contacts:
  bob: {name: Bob Dahl, slack: U0BOB0001}
  alice: {name: Alice Berg, slack: U0ALICE01}
roles:
  executor: [bob, alice]
services:
  web: {rto: 1h}
scenarios:
  outage:
    title: Web outage
    service: web
    severity: sev2
    page: [executor]
    steps:
      - {id: restart, do: Restart the web tier., estimate: 10m}
      - {id: check, do: Check the front page., estimate: 5m}
drills:
  - {scenario: outage, schedule: "0 10 * * 3"}
`
	v2 := strings.Replace(v1, "Restart the web tier.", "Fail over to the other region.", 1)
	v2 = strings.Replace(v2, `"0 10 * * 3"`, `"0 10 * * 4"`, 1)
	p1, p2 := mustParse(t, v1), mustParse(t, v2)
	e := newSvcEnv(t, p1)
	e.declare("outage", "", false)
	if err := e.svc.SetPlan(e.ctx, p2); err != nil {
		t.Fatal(err)
	}
	if got, want := timerDue(t, e, "schedule/drill/0/outage"), wednesday10.AddDate(0, 0, 1); !got.Equal(want) {
		t.Errorf("drill due %s after the reload, want Thursday %s", got, want)
	}
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.mustFind(e.channel(1), "Restart the web tier.")
	e.press(uBob, e.channel(1), "Done")
	e.mustFind(e.channel(1), "Check the front page.")
	if got := e.incident(1).PlanHash; got != p1.Hash {
		t.Errorf("incident 1 plan %.12s, want v1 %.12s", got, p1.Hash)
	}
	e.mustCommand(uBob, e.channel(1), "resolve")
	// The scheduled drill is declared with the new plan.
	e.clock.Set(wednesday10.AddDate(0, 0, 1))
	e.tick()
	drill := e.incident(2)
	if !drill.Drill || drill.PlanHash != p2.Hash {
		t.Fatalf("scheduled drill %+v, want a drill of v2", drill)
	}
	e.mustFind(e.channel(2), "Fail over to the other region.")
}

// A scheduled drill that waits for an open incident says so in
// review.channel (when the plan has one) and always in the log.
func TestDrillSkippedNotice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		channel string
		// open opens what keeps the drill from starting and returns when
		// the drill is next due then.
		open func(e *svcEnv) time.Time
		want func(e *svcEnv) []string
		log  string
	}{
		{
			name:    "a real incident is open",
			channel: "dr-plan",
			open: func(e *svcEnv) time.Time {
				e.declare("checkout-down", "", false)
				return wednesday10
			},
			want: func(e *svcEnv) []string {
				return []string{":calendar: The scheduled drill of *db-corruption* (Corrupted payments database) did not start: " +
					"incident #1 (Checkout &lt;!channel&gt; &amp; co) is open, and a drill must not page people who are recovering for real. " +
					"The next one is due 2026-12-02 10:00 CET."}
			},
			log: `reason="incident #1 is open"`,
		},
		{
			name:    "the previous drill is open",
			channel: "dr-plan",
			open: func(e *svcEnv) time.Time {
				e.clock.Set(wednesday10)
				e.tick() // drill #1
				return wednesday10.AddDate(0, 0, 7)
			},
			want: func(e *svcEnv) []string {
				return []string{":calendar: The scheduled drill of *db-corruption* (Corrupted payments database) did not start: " +
					"the previous drill, #1, is still open; resolve it with /incident resolve in <#" + e.channel(1) + ">. " +
					"The next one is due 2026-12-09 10:00 CET."}
			},
			log: `reason="drill #1 of this scenario is still open"`,
		},
		{
			name:    "no review channel: the log only",
			channel: "",
			open: func(e *svcEnv) time.Time {
				e.declare("checkout-down", "", false)
				return wednesday10
			},
			want: func(e *svcEnv) []string { return nil },
			log:  `reason="incident #1 is open"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := drillPlan(t)
			p.Review.Channel = tc.channel
			p.Scenarios["checkout-down"].Title = "Checkout <!channel> & co"
			e := newReviewEnv(t, p)
			var logs incidenttest.LogBuffer
			svc, err := incident.New(incident.Config{Plan: p, Store: e.store, Chat: e.chat, Now: e.clock.Now, Metrics: e.met,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			e.svc = svc

			at := tc.open(e)
			before := len(e.incidents())
			e.clock.Set(at)
			e.tick()
			if n := len(e.incidents()); n != before {
				t.Fatalf("%d incidents after the skipped drill, want %d", n, before)
			}
			if diff := cmp.Diff(tc.want(e), e.texts("dr-plan")); diff != "" {
				t.Errorf("#dr-plan (-want +got):\n%s", diff)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "scheduled drill skipped") {
					line = l
				}
			}
			if !strings.Contains(line, "level=WARN") || !strings.Contains(line, tc.log) || !strings.Contains(line, "scenario=db-corruption") {
				t.Errorf("log line %q, want a warning with %s", line, tc.log)
			}
		})
	}
}
