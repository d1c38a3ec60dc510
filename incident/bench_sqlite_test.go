package incident_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/storage"
)

func openSQLite(tb testing.TB) *storage.Store {
	tb.Helper()
	st, err := storage.Open(context.Background(), storage.Config{Path: filepath.Join(tb.TempDir(), "drbot.db")})
	if err != nil {
		tb.Fatalf("open SQLite store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkDeclareSQLite is BenchmarkDeclare on the SQLite store: one
// write transaction with the incident, its timeline, its timers and a
// dozen outbox rows, committed to a WAL file.
func BenchmarkDeclareSQLite(b *testing.B) {
	svc, err := incident.New(incident.Config{Plan: svcPlan(b), Store: openSQLite(b), Chat: incidenttest.NewFakeChat()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "db-corruption", Summary: "bench", UserID: uAlice}); err != nil {
			b.Fatal(err)
		}
	}
}

// The lifecycle on the real store: what the engine keeps in an incident
// (pages, callouts, approval requests) survives SQLite, and a second Engine on
// the same file (a restart) carries on where the first stopped.
func TestLifecycleSQLite(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	clock := incidenttest.NewClock(svcT0)
	chat := incidenttest.NewFakeChat()
	chat.SetEmail("frank@example.com", uFrank)
	newSvc := func() *incident.Engine {
		svc, err := incident.New(incident.Config{Plan: svcPlan(t), Store: st, Chat: chat, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	svc := newSvc()
	tick := func() {
		t.Helper()
		if err := svc.Tick(ctx); err != nil {
			t.Fatalf("Tick: %v", err)
		}
	}
	press := func(user, conv, label string) incident.Reply {
		t.Helper()
		b, ok := chat.FindButton(conv, label)
		if !ok {
			t.Fatalf("no button %q in %s: %s", label, conv, dumpMsgs(chat.Posts(conv)))
		}
		r, err := svc.Press(ctx, incident.PressRequest{UserID: user, ChannelID: conv, Action: b.Action})
		if err != nil {
			t.Fatalf("press %s: %v", label, err)
		}
		tick()
		return r
	}

	if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "db-corruption", UserID: uAlice}); err != nil {
		t.Fatal(err)
	}
	tick()
	ch := chat.ChannelID("inc-1-db-corruption")
	clock.Set(svcT0.Add(5*time.Minute + 300*time.Microsecond)) // sub-millisecond: truncated
	tick()
	press(uAlice, dmOf(uAlice), "Acknowledge") // alice, paged as executor by the escalation
	press(uBob, ch, "No")
	press(uErin, ch, "Deny")
	press(uBob, ch, "Request approval again")

	svc = newSvc() // restart
	press(uFrank, dmOf(uFrank), "Approve")
	clock.Set(svcT0.Add(time.Hour))
	tick()
	if err := newSvc().Tick(ctx); err != nil { // another process: nothing left to fire
		t.Fatal(err)
	}
	r, err := svc.Command(ctx, incident.CommandRequest{UserID: uAlice, ChannelID: ch, Text: "resolve"})
	if err != nil || !strings.Contains(r.Text, "resolved") {
		t.Fatalf("resolve: %q %v", r.Text, err)
	}
	tick()

	var inc *incident.Incident
	var kinds []string
	err = st.View(ctx, func(tx incident.Tx) error {
		var err error
		if inc, err = tx.Incident(1); err != nil {
			return err
		}
		evs, err := tx.Timeline(1)
		for _, e := range evs {
			kinds = append(kinds, string(e.Kind))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Bob, paged as commander by the escalation, acknowledges by answering
	// (the second acknowledged): the commander role escalates no more.
	want := "declared paged paged step_started channel_created escalated escalated acknowledged acknowledged decision approval_requested " +
		"denied approval_requested approved step_started rto_alert resolved postmortem_posted"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("timeline:\n got %s\nwant %s", got, want)
	}
	rec := inc.Steps[1]
	if rec.ApprovalRequest != 2 || rec.ApprovedBy != uFrank || rec.DeniedBy != uErin || !rec.StartedAt.Equal(svcT0.Add(5*time.Minute)) {
		t.Errorf("restore step record after SQLite: %+v", rec)
	}
	ex := inc.Roles[1]
	if ex.Role != "executor" || !ex.Acked || ex.AckedBy != "alice" || ex.Sent != 2 || !ex.WaitingSince.Equal(svcT0) {
		t.Errorf("executor after SQLite: %+v", ex)
	}
	if inc.ChannelID != ch || inc.State != incident.StateResolved || len(inc.Invited) == 0 {
		t.Errorf("incident after SQLite: channel %q state %s invited %v", inc.ChannelID, inc.State, inc.Invited)
	}
}
