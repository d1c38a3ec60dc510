package incident_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// TestPagesBundledPerPerson: three incidents page bob at once (their pages
// are due in one delivery pass); he gets ONE direct message listing the
// three, with an Acknowledge button each. Pressing each acknowledges its
// own incident, and the edit marks that page only: the others keep their
// buttons.
func TestPagesBundledPerPerson(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	for i := range 3 {
		// Declared without delivering in between: the pages wait together.
		_, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "checkout-down", Summary: fmt.Sprint("shard ", i), UserID: uAlice, ChannelID: "CGENERAL"})
		if err != nil {
			t.Fatalf("Declare: %v", err)
		}
	}
	e.tick()

	dms := e.chat.DMs(uBob)
	if len(dms) != 1 {
		t.Fatalf("bob got %d direct messages, want 1 bundling the 3 pages:\n%s", len(dms), dumpMsgs(dms))
	}
	if n := len(e.chat.CallsOf("DM")); n != 1 {
		t.Errorf("%d DM calls, want 1", n)
	}
	m := dms[0]
	if want := []string{"Acknowledge #1", "Acknowledge #2", "Acknowledge #3"}; strings.Join(btnLabels(m.Buttons), ",") != strings.Join(want, ",") {
		t.Fatalf("buttons %v, want %v", btnLabels(m.Buttons), want)
	}
	for _, w := range []string{"3 incidents paged you", "shard 0", "shard 1", "shard 2"} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("bundle text lacks %q:\n%s", w, m.Text)
		}
	}
	if e.met.pages != 3 {
		t.Errorf("%d pages counted sent, want 3", e.met.pages)
	}

	for _, id := range []int64{2, 1, 3} {
		e.press(uBob, dmOf(uBob), fmt.Sprintf("Acknowledge #%d", id))
		for other := int64(1); other <= 3; other++ {
			acked := e.incident(other).Roles[0].Acked
			if want := other == id || (other == 2) || (other == 1 && id == 3); acked != want {
				t.Errorf("after pressing #%d: incident %d acknowledged %v, want %v", id, other, acked, want)
			}
		}
		dms := e.chat.DMs(uBob)
		if len(dms) != 1 {
			t.Fatalf("after pressing #%d bob has %d direct messages, want the one bundle", id, len(dms))
		}
		if _, ok := e.chat.FindButton(dmOf(uBob), fmt.Sprintf("Acknowledge #%d", id)); ok {
			t.Errorf("after pressing #%d its button is still there: %v", id, btnLabels(dms[0].Buttons))
		}
	}
	m = e.chat.DMs(uBob)[0]
	if len(m.Buttons) != 0 || strings.Count(m.Text, "Acknowledged by") != 3 {
		t.Errorf("after three presses, bundle = %q buttons %v; want three acknowledged, no buttons", m.Text, btnLabels(m.Buttons))
	}
}

// TestSentRecordedWhenStopCatchesTheAnswer: the process is told to stop
// (its context cancelled) while Slack is taking a page; Slack accepts it.
// The page is still marked sent, so the next process does not send it
// again (issue 16, point 6).
func TestSentRecordedWhenStopCatchesTheAnswer(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	if _, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "checkout-down", UserID: uAlice, ChannelID: "CGENERAL"}); err != nil {
		t.Fatalf("Declare: %v", err)
	}
	ctx, stop := context.WithCancel(e.ctx)
	e.chat.OnCall(func(method string) {
		if method == incidenttest.MethodDM {
			stop() // SIGTERM while the page is on its way
		}
	})
	_, _ = e.svc.Deliver(ctx)
	e.chat.OnCall(nil)
	if n := len(e.chat.DMs(uBob)); n != 1 {
		t.Fatalf("bob got %d pages before the stop, want 1", n)
	}
	// The next process delivers what is left.
	next := e.newService()
	if _, err := next.Deliver(e.ctx); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if n := len(e.chat.DMs(uBob)); n != 1 {
		t.Errorf("bob got the page %d times: the stop lost its sent mark", n)
	}
}

// TestPagesJoinedWhileChannelsAreCreated: a pass with channels to create
// creates them alone, and the pages read with them go in the next pass,
// read afterwards, together with the pages to the same person that fell
// due while the channels were created: bob gets one message listing both
// incidents' pages, not the first page alone and the second a second
// later.
func TestPagesJoinedWhileChannelsAreCreated(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	declare := func(summary string) {
		if _, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "checkout-down", Summary: summary, UserID: uAlice, ChannelID: "CGENERAL"}); err != nil {
			t.Errorf("Declare: %v", err)
		}
	}
	declare("first")
	var once sync.Once
	e.chat.OnCall(func(method string) {
		if method == incidenttest.MethodCreateChannel {
			once.Do(func() { declare("second") }) // while the first channel is created
		}
	})
	if _, err := e.svc.Deliver(e.ctx); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	e.chat.OnCall(nil)
	dms := e.chat.DMs(uBob)
	if len(dms) != 1 || !strings.Contains(dms[0].Text, "2 incidents paged you") {
		t.Fatalf("bob got %d direct messages, want 1 listing both pages:\n%s", len(dms), dumpMsgs(dms))
	}
}
