package incident_test

import (
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
)

// chatOnly is a chat surface with conversations only: no user directory
// and no webhooks, as a new surface may start.
type chatOnly struct{ incident.Chat }

// TestChatWithoutDirectoryOrWebhooks: an engine whose chat is only a Chat
// still declares and pages by member ID; a contact known by email only and
// the paging webhook cannot be reached, and the timeline says so.
func TestChatWithoutDirectoryOrWebhooks(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Paging.Webhook = "https://events.pagerduty.com/v2/enqueue?routing_key=R0UT1NGKEY"
	e := newSvcEnv(t, p)
	svc, err := incident.New(incident.Config{Plan: p, Store: e.db, Chat: chatOnly{e.chat}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.declare("checkout-down", "", false)
	if len(e.pagesTo(uBob)) != 1 {
		t.Fatalf("bob's pages: %s, want one", dumpMsgs(e.pagesTo(uBob)))
	}
	e.mustCommand(uBob, e.channel(1), "page customer") // frank: email only
	e.tick()

	var failed []string
	for _, ev := range e.events(1, incident.KindDeliveryFailed) {
		failed = append(failed, ev.Text)
	}
	joined := strings.Join(failed, "\n")
	if !strings.Contains(joined, "no user directory") || !strings.Contains(joined, "no webhook poster") {
		t.Errorf("delivery failures:\n%s\nwant one for frank's lookup and one for the webhook", joined)
	}
	if n := len(e.chat.CallsOf("LookupUserByEmail")) + len(e.chat.CallsOf("Webhook")); n != 0 {
		t.Errorf("%d directory or webhook calls through a chat-only surface", n)
	}
}
