package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// An incident channel archived while its incident is open (Slack's
// channel_archive event) is said in the timeline and to the commander by
// DM, and drbot posts nothing more there until it is unarchived.
func TestChannelArchivedEvent(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	if err := e.svc.ChannelArchived(e.ctx, ch, uBob, true); err != nil {
		t.Fatal(err)
	}
	e.tick()
	evs := e.events(1, incident.KindChannelArchived)
	if len(evs) != 1 || evs[0].Actor != uBob || evs[0].Data["how"] != incident.ArchivedByEvent ||
		evs[0].Text != "the incident channel #inc-1-db-corruption was archived while the incident is open; drbot stopped posting there" {
		t.Fatalf("channel_archived events = %+v", evs)
	}
	dm := e.chat.DMs(uAlice)
	if len(dm) == 0 || !strings.Contains(dm[len(dm)-1].Text, ":warning: The channel of incident #1: Corrupted payments database, #inc-1-db-corruption, was archived by <@U0BOB0001> while the incident is open.") {
		t.Errorf("the commander (alice, paged first) was not told: %s", dumpMsgs(dm))
	}
	// The same event again (Slack retries) changes nothing.
	if err := e.svc.ChannelArchived(e.ctx, ch, uBob, true); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events(1, incident.KindChannelArchived)); n != 1 {
		t.Errorf("%d channel_archived events after a repeat, want 1", n)
	}

	// Nothing is posted into the archived channel: the RTO alerts fall
	// due and go to the timeline only.
	before := len(e.chat.Posts(ch))
	e.at(90 * time.Minute)
	if got := e.chat.Posts(ch)[before:]; len(got) != 0 {
		t.Errorf("posted into the archived channel: %s", dumpMsgs(got))
	}
	if len(e.events(1, incident.KindRTOAlert)) == 0 {
		t.Errorf("the RTO alert is not in the timeline")
	}

	// Unarchived: drbot posts there again.
	if err := e.svc.ChannelArchived(e.ctx, ch, uBob, false); err != nil {
		t.Fatal(err)
	}
	e.mustCommand(uBob, ch, "note back in business")
	e.tick()
	e.mustFind(ch, "back in business")
	if n := len(e.events(1, incident.KindChannelUnarchived)); n != 1 {
		t.Errorf("%d channel_unarchived events, want 1", n)
	}
	// A channel of no incident is nothing.
	if err := e.svc.ChannelArchived(e.ctx, "C0RANDOM", uBob, true); err != nil {
		t.Errorf("a channel of no incident: %v", err)
	}
}

// A post that Slack refuses with is_archived means the same: recorded,
// the commander told, and nothing more posted there.
func TestChannelArchivedOnPost(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.chat.FailNext(incidenttest.MethodPost, 1, &incident.ChatError{Method: "chat.postMessage", Code: "is_archived", Permanent: true, Reason: incident.ReasonChannelArchived})
	e.mustCommand(uBob, ch, "note first")
	e.tick()
	evs := e.events(1, incident.KindChannelArchived)
	if len(evs) != 1 || evs[0].Data["how"] != incident.ArchivedOnPost {
		t.Fatalf("channel_archived events = %+v", evs)
	}
	if n := len(e.events(1, incident.KindDeliveryFailed)); n != 0 {
		t.Errorf("%d delivery_failed events: an archived channel is said once, as such", n)
	}
	dm := e.chat.DMs(uAlice)
	if len(dm) == 0 || !strings.Contains(dm[len(dm)-1].Text, "#inc-1-db-corruption, was archived while the incident is open") {
		t.Errorf("the commander was not told: %s", dumpMsgs(dm))
	}
	before := len(e.chat.CallsOf(incidenttest.MethodPost))
	e.mustCommand(uBob, ch, "note second")
	e.tick()
	for _, c := range e.chat.CallsOf(incidenttest.MethodPost)[before:] {
		if c.Channel == ch {
			t.Errorf("posted into the archived channel: %q", c.Message.Text)
		}
	}
}
