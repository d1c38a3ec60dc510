package incident_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// TestDeclaredReplyChannelQueued: while Slack holds channel creations back
// (a conversations.create answered 429), the answer to a declaration is
// final at once and names the channel asked for: its channel is queued
// behind others, and waiting for it would only delay the answer. Once the
// Retry-After has passed, an answer waits for its channel again and links
// the one Slack gave (issue 16, point 3).
func TestDeclaredReplyChannelQueued(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	reply := func(id int64) (string, bool) {
		t.Helper()
		text, final, err := e.svc.DeclaredReply(e.ctx, id)
		if err != nil {
			t.Fatalf("DeclaredReply(%d): %v", id, err)
		}
		first, _, _ := strings.Cut(text, "\n") // the rest names the earlier incidents still open
		return first, final
	}
	declare := func() int64 {
		t.Helper()
		inc, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "db-corruption", UserID: uAlice, ChannelID: "CGENERAL"})
		if err != nil {
			t.Fatalf("Declare: %v", err)
		}
		return inc.ID
	}

	// Nothing holds creations back: the answer is not final until the
	// channel exists, then links it.
	first := declare()
	if _, final := reply(first); final {
		t.Fatalf("the answer is final before the channel is created and with nothing holding it back")
	}
	e.tick()
	if text, final := reply(first); !final || !strings.HasSuffix(text, "Channel: <#"+e.channel(first)+">") {
		t.Fatalf("after the channel was created: final %v, %q, want the channel linked", final, text)
	}

	// Slack refuses the next create for 30 s.
	e.chat.FailNext(incidenttest.MethodCreateChannel, 1, &incident.ChatError{Method: "conversations.create", Code: "ratelimited", RetryAfter: 30})
	limited := declare()
	e.tick()
	queued := declare()
	for _, id := range []int64{limited, queued} {
		text, final := reply(id)
		if want := fmt.Sprintf("Channel: #inc-%d-db-corruption", id); !final || !strings.HasSuffix(text, want) {
			t.Errorf("incident %d while creations are held back: final %v, %q, want final naming the channel asked for", id, final, text)
		}
	}

	// Past the Retry-After, the held channels are created and a new
	// declaration's answer waits for its channel again.
	e.at(31 * time.Second)
	if text, final := reply(queued); !final || !strings.HasSuffix(text, "Channel: <#"+e.channel(queued)+">") {
		t.Errorf("queued incident once created: final %v, %q", final, text)
	}
	if _, final := reply(declare()); final {
		t.Errorf("a declaration after the hold: final before its channel exists")
	}
}

// TestRateLimitHoldsItsKind: a topic answered 429 with a Retry-After holds
// every other topic until then (Slack limits conversations.setTopic per
// workspace, not per channel): the second incident's topic waits without
// a call, while its posts and pages go at once; both topics are set once
// the Retry-After has passed.
func TestRateLimitHoldsItsKind(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.chat.FailNext(incidenttest.MethodSetTopic, 1, &incident.ChatError{Method: "conversations.setTopic", Code: "ratelimited", RetryAfter: 40})
	e.declare("db-corruption", "", false)
	e.declare("checkout-down", "", false)
	if n := len(e.chat.CallsOf(incidenttest.MethodSetTopic)); n != 1 {
		t.Errorf("%d setTopic calls while the first waits out its 429, want 1: the second waits without a call", n)
	}
	if posts := e.chat.Posts(e.channel(2)); len(posts) < 2 {
		t.Errorf("%d posts in the second channel, want its summary and first step at once", len(posts))
	}
	e.clock.Advance(40 * time.Second)
	e.tick()
	for _, id := range []int64{1, 2} {
		if e.chat.Topic(e.channel(id)) == "" {
			t.Errorf("incident %d: topic not set after the Retry-After", id)
		}
	}
	if n := len(e.chat.CallsOf(incidenttest.MethodSetTopic)); n != 3 {
		t.Errorf("%d setTopic calls in all, want 3 (the refused one, then one per channel)", n)
	}
}
