package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

// Tests of what counts as a response and when paging stops (issue 9).

// A contact who cannot be reached is skipped at once: the next contact is
// paged within a second of Slack saying so, by the engine's own loops on
// a real clock, not when the timer loop next wakes on its own (30 s).
func TestUnreachableContactSkippedAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(p *incidenttestPlan, chat *incidenttest.FakeChat)
	}{
		{"user_not_found", func(_ *incidenttestPlan, chat *incidenttest.FakeChat) {
			chat.FailNext(incidenttest.MethodDM, 1, &incident.ChatError{Method: "chat.postMessage", Code: "user_not_found", Permanent: true})
		}},
		{"deactivated", func(_ *incidenttestPlan, chat *incidenttest.FakeChat) {
			chat.FailNext(incidenttest.MethodDM, 1, &incident.ChatError{Method: "chat.postMessage", Code: "account_inactive", Permanent: true})
		}},
		{"email matching no one", func(p *incidenttestPlan, _ *incidenttest.FakeChat) {
			p.bobByEmail("bob@nowhere.example")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &incidenttestPlan{svcPlan(t)}
			chat := incidenttest.NewFakeChat()
			chat.SetEmail("alice@example.com", uAlice)
			tt.setup(p, chat)
			svc, err := incident.New(incident.Config{Plan: p.Plan, Store: openSQLite(t), Chat: chat})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// checkout-down pages the executor role only: bob, then alice.
			if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "checkout-down", UserID: uErin}); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = svc.Run(ctx) }()
			defer func() { cancel(); <-done }()

			deadline := time.Now().Add(5 * time.Second)
			var failedAt time.Time
			for time.Now().Before(deadline) {
				if failedAt.IsZero() && failedBob(chat) {
					failedAt = time.Now()
				}
				if len(chat.DMs(uAlice)) > 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if len(chat.DMs(uAlice)) == 0 {
				t.Fatalf("alice was not paged within 5 s of bob's page failing; calls: %v", methods(chat))
			}
			if failedAt.IsZero() {
				t.Fatal("bob's page did not fail")
			}
			if took := time.Since(failedAt); took > time.Second {
				t.Errorf("alice was paged %v after bob's page failed, want within 1s", took)
			}
			if got := chat.DMs(uAlice)[0].Text; !strings.Contains(got, "Bob Dahl could not be paged") {
				t.Errorf("alice's page = %q, want it to say Bob Dahl could not be paged", got)
			}
		})
	}
}

// incidenttestPlan changes svcPlan for one test.
type incidenttestPlan struct{ *playbooks.Plan }

func (p *incidenttestPlan) bobByEmail(email string) {
	bob := p.Contacts["bob"]
	bob.Slack, bob.Email = "", email
}

func failedBob(chat *incidenttest.FakeChat) bool {
	for _, c := range chat.Calls() {
		if c.Err != nil && (c.Method == incidenttest.MethodDM || c.Method == incidenttest.MethodLookupUserByEmail) {
			return true
		}
	}
	return false
}

func methods(chat *incidenttest.FakeChat) []string {
	var out []string
	for _, c := range chat.Calls() {
		m := c.Method
		if c.Err != nil {
			m += "(" + c.Err.Error() + ")"
		}
		out = append(out, m)
	}
	return out
}

// A projected finish exactly at the deadline is right at it, and the
// moment it slips is said to the second: never "0s past".
func TestProjectionRightAtDeadline(t *testing.T) {
	p := svcPlan(t)
	p.Services["checkout"].RTO = 10 * time.Minute // restart 5m + check 5m
	e := newSQLiteEnv(t, p)
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	r := e.mustCommand(uBob, ch, "status")
	if !strings.Contains(r.Text, "Projected finish 10:10, right at the RTO deadline.") {
		t.Errorf("status = %q, want the finish right at the RTO deadline", r.Text)
	}
	// restart overruns: with nothing pressed the finish slides past the
	// deadline one second after restart's estimate runs out.
	e.at(5 * time.Minute)
	e.at(5*time.Minute + 500*time.Millisecond)
	if _, ok := e.find(ch, "past the RTO"); ok {
		t.Errorf("late before the finish passed the deadline by a second: %s", dumpMsgs(e.chat.Posts(ch)))
	}
	e.at(5*time.Minute + time.Second)
	e.mustFind(ch, ":warning: Projected finish 10:10 is 1s past the RTO deadline 10:10 CET. Still ahead on the longest path: restart past its 5m estimate, check 5m.")
	for _, m := range e.texts(ch) {
		if strings.Contains(m, "0s past") {
			t.Errorf("channel says %q", m)
		}
	}
}

// The steps still ahead count only the remaining time of the current
// step: a restore 55 minutes into its hour has 5m left.
func TestProjectionCountsRemainingOfCurrentStep(t *testing.T) {
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.at(time.Minute)
	e.press(uBob, ch, "No") // assess → restore, which waits for approval
	e.press(uErin, dmOf(uErin), "Approve")
	e.at(56 * time.Minute) // restore started at 10:01: 55m in, 5m left
	r := e.mustCommand(uBob, ch, "status")
	// 10:56 + 5m (restore) + 10m (verify) = 11:11; deadline 12:00.
	if !strings.Contains(r.Text, "Projected finish 11:11 — 49m within the RTO.") {
		t.Errorf("status = %q, want the finish at 11:11", r.Text)
	}
}

// Nothing pages after resolve: a page DM waiting on Slack's Retry-After,
// and the webhook's trigger waiting on a 5xx backoff, when the incident
// is resolved are not sent, and the webhook hears no resolve for a page it
// was never told of. A page the webhook was told of gets its resolve.
func TestNothingPagesAfterResolve(t *testing.T) {
	p := svcPlan(t)
	p.Paging.Webhook = "https://hooks.example/drbot"
	e := newSQLiteEnv(t, p)
	e.chat.FailNext(incidenttest.MethodDM, 1, &incident.ChatError{Method: "chat.postMessage", Code: "ratelimited", RetryAfter: 8})
	e.chat.FailNext(incidenttest.MethodWebhook, 2, errors.New("503 Service Unavailable"))
	e.declare("checkout-down", "", false) // pages bob as executor: 429, retry at +8s
	ch := e.channel(1)
	e.at(time.Second) // the webhook's second failure: next try at +3s
	e.clock.Set(svcT0.Add(2 * time.Second))
	e.mustCommand(uAlice, ch, "resolve")
	for _, d := range []time.Duration{3 * time.Second, 8 * time.Second, 9 * time.Second, time.Minute} {
		e.at(d)
	}
	if got := e.chat.DMs(uBob); len(got) != 0 {
		t.Errorf("bob got %d DMs after the resolve: %s", len(got), dumpMsgs(got))
	}
	for _, c := range e.chat.CallsOf(incidenttest.MethodWebhook) {
		if c.Err == nil {
			t.Errorf("webhook called after the resolve: %s", c.Body)
		}
	}

	// Incident 2: the webhook is told of the page, so it hears the resolve.
	e.declare("checkout-down", "", false)
	e.mustCommand(uAlice, e.channel(2), "resolve")
	e.at(2 * time.Minute)
	var events []string
	for _, c := range e.chat.CallsOf(incidenttest.MethodWebhook) {
		var body struct {
			Event    string `json:"event"`
			Incident int    `json:"incident"`
		}
		if c.Err == nil && json.Unmarshal(c.Body, &body) == nil {
			events = append(events, fmt.Sprintf("%d:%s", body.Incident, body.Event))
		}
	}
	if diff := cmp.Diff([]string{"2:page", "2:resolve"}, events); diff != "" {
		t.Errorf("webhook events (-want +got):\n%s", diff)
	}
	if got := e.chat.DMs(uBob); len(got) != 1 || !strings.Contains(got[0].Text, "Incident resolved") {
		t.Errorf("bob's page of incident 2 = %s, want it closed by the resolve", dumpMsgs(got))
	}
}
