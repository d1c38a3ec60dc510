package incident_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// Every event carries the time it happened, not the time the delivery
// pass that caused it began. Slack answers the channel's creation and the
// invite after 2 s (on the engine's clock: no sleeping); every other call,
// in lanes that run alongside, answers at once, so that every time below
// is exact. The invite fails for good; while it is in flight,
// at 10:00:03, alice adds a note. The invite's failure is stamped
// 10:00:04, when Slack answered, and listed after the note, in the
// timeline, the postmortem JSON and the Markdown.
func TestEventsCarryTheTimeTheyHappened(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	slow := map[string]bool{incidenttest.MethodCreateChannel: true, incidenttest.MethodInvite: true}
	var (
		mu      sync.Mutex
		noted   bool
		noteErr error
	)
	e.chat.OnCall(func(method string) {
		if !slow[method] {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if method != incidenttest.MethodInvite || noted {
			e.clock.Advance(2 * time.Second)
			return
		}
		noted = true
		e.clock.Advance(time.Second)
		_, noteErr = e.svc.Command(e.ctx, incident.CommandRequest{
			UserID: uAlice, ChannelID: e.chat.ChannelID("inc-1-db-corruption"), Text: "note the replica is behind",
		})
		e.clock.Advance(time.Second)
	})
	e.chat.FailNext(incidenttest.MethodInvite, 1, &incident.ChatError{Method: "conversations.invite", Code: "cant_invite", Permanent: true})
	e.declare("db-corruption", "", false)
	if noteErr != nil {
		t.Fatalf("note while the invite was in flight: %v", noteErr)
	}

	at := func(d time.Duration) string { return svcT0.Add(d).Format(time.RFC3339) }
	want := []string{
		at(0) + " declared",
		at(2*time.Second) + " channel_created",
		at(3*time.Second) + " note",
		at(4*time.Second) + " delivery_failed could not invite the responders to the channel: cant_invite",
	}
	var got []string
	for _, ev := range e.timeline(1) {
		switch ev.Kind {
		case incident.KindDeclared, incident.KindChannelCreated, incident.KindNote:
			got = append(got, ev.At.Format(time.RFC3339)+" "+string(ev.Kind))
		case incident.KindDeliveryFailed:
			got = append(got, ev.At.Format(time.RFC3339)+" "+string(ev.Kind)+" "+ev.Text)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}

	var jsonGot []string
	last := ""
	for _, ev := range e.jsonTimeline(1) {
		if ev.At < last {
			t.Errorf("JSON timeline: %s %s listed after %s", ev.At, ev.Kind, last)
		}
		last = ev.At
		if ev.Kind == string(incident.KindNote) || ev.Kind == string(incident.KindDeliveryFailed) {
			jsonGot = append(jsonGot, ev.At+" "+ev.Kind)
		}
	}
	if diff := cmp.Diff([]string{at(3*time.Second) + " note", at(4*time.Second) + " delivery_failed"}, jsonGot); diff != "" {
		t.Errorf("postmortem JSON (-want +got):\n%s", diff)
	}
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	md := pm.Markdown()
	note, failed := strings.Index(md, "| note |"), strings.Index(md, "| delivery_failed |")
	if note < 0 || failed < 0 || failed < note {
		t.Errorf("Markdown timeline: note at %d, delivery_failed at %d, want both, the note first:\n%s", note, failed, md)
	}
}

// jsonEvent is a timeline entry of the postmortem JSON.
type jsonEvent struct {
	At, Kind string
	Data     json.RawMessage
}

// jsonTimeline is the timeline of incident id's postmortem as its JSON
// has it.
func (e *svcEnv) jsonTimeline(id int64) []jsonEvent {
	e.t.Helper()
	pm, err := e.svc.Postmortem(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	js, err := json.Marshal(pm)
	if err != nil {
		e.t.Fatal(err)
	}
	var doc struct {
		Timeline []jsonEvent `json:"timeline"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		e.t.Fatal(err)
	}
	return doc.Timeline
}

// TestInviteOfOneMemberFailed: an invite refused for one member (the
// others were invited) says which, not that the responders could not be
// invited.
func TestInviteOfOneMemberFailed(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.chat.FailNext(incidenttest.MethodInvite, 1, &incident.ChatError{Method: "conversations.invite", Code: "user_not_found", Permanent: true, User: "U0NOBODY1"})
	e.declare("db-corruption", "", false)
	e.mustFind(e.channel(1), ":warning: could not invite the member U0NOBODY1 to the channel (the others were invited): user_not_found")
}
