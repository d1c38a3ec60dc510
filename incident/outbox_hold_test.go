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
		return text, final
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
