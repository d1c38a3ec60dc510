package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	t.Parallel()
	p := svcPlan(t)
	p.Services["checkout"].RTO = 10 * time.Minute // restart 5m + check 5m
	e := newSQLiteEnv(t, p)
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	r := e.mustCommand(uBob, ch, "status")
	if !strings.Contains(r.Text, "Projected finish 10:10 CET, right at the RTO deadline.") {
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
	e.mustFind(ch, ":warning: Projected finish 10:10:01 CET is 1s past the RTO deadline 10:10:00 CET. Still ahead on the longest path: restart past its 5m estimate, check 5m.")
	for _, m := range e.texts(ch) {
		if strings.Contains(m, "0s past") {
			t.Errorf("channel says %q", m)
		}
	}
}

// The steps still ahead count only the remaining time of the current
// step: a restore 55 minutes into its hour has 5m left.
func TestProjectionCountsRemainingOfCurrentStep(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.at(time.Minute)
	e.press(uBob, ch, "No") // assess → restore, which waits for approval
	e.press(uErin, dmOf(uErin), "Approve")
	e.at(56 * time.Minute) // restore started at 10:01: 55m in, 5m left
	r := e.mustCommand(uBob, ch, "status")
	// 10:56 + 5m (restore) + 10m (verify) = 11:11; deadline 12:00 CET.
	if !strings.Contains(r.Text, "Projected finish 11:11 CET — 49m within the RTO.") {
		t.Errorf("status = %q, want the finish at 11:11 CET", r.Text)
	}
}

// Nothing pages after resolve: a page DM waiting on Slack's Retry-After,
// and the webhook's trigger waiting on a 5xx backoff, when the incident
// is resolved are not sent, and the webhook hears no resolve for a page it
// was never told of. A page the webhook was told of gets its resolve.
func TestNothingPagesAfterResolve(t *testing.T) {
	t.Parallel()
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

// A contact paged for a role who works the incident has acknowledged
// the role: the escalation stops, their page loses its Acknowledge
// button, and the timeline and the channel say how.
func TestWorkingAcknowledges(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		// act works the incident as bob, paged as executor since 10:00,
		// at 10:03, in the incident channel ch.
		act func(e *svcEnv, ch string)
		how string
	}{
		{"Done", "checkout-down", func(e *svcEnv, ch string) { e.press(uBob, ch, "Done") }, "by pressing Done on step restart"},
		{"Skip", "checkout-down", func(e *svcEnv, ch string) { e.press(uBob, ch, "Skip") }, "by pressing Skip on step restart"},
		{"an answer", "db-corruption", func(e *svcEnv, ch string) { e.press(uBob, ch, "No") }, "by pressing No on step assess"},
		{"note", "checkout-down", func(e *svcEnv, ch string) { e.mustCommand(uBob, ch, "note pods restarted") }, "by typing /incident note"},
		{"status", "checkout-down", func(e *svcEnv, ch string) { e.mustCommand(uBob, ch, "status") }, "by typing /incident status"},
		{"page", "checkout-down", func(e *svcEnv, ch string) { e.mustCommand(uBob, ch, "page security") }, "by typing /incident page"},
		{"resolve", "checkout-down", func(e *svcEnv, ch string) { e.mustCommand(uBob, ch, "resolve") }, "by typing /incident resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSQLiteEnv(t, svcPlan(t))
			e.declare(tt.scenario, "", false)
			ch := e.channel(1)
			e.clock.Set(svcT0.Add(3 * time.Minute))
			tt.act(e, ch)
			for _, d := range []time.Duration{5, 10, 15, 20, 25} {
				e.at(d * time.Minute)
			}
			var acks []string
			for _, ev := range e.events(1, incident.KindAcknowledged) {
				if ev.Data["role"] == "executor" {
					acks = append(acks, ev.Actor+": "+ev.Text)
				}
			}
			want := []string{uBob + ": Bob Dahl acknowledged as executor after 3m, " + tt.how}
			if diff := cmp.Diff(want, acks); diff != "" {
				t.Errorf("executor acknowledged (-want +got):\n%s", diff)
			}
			for _, ev := range e.timeline(1) {
				if ev.Kind == incident.KindEscalated && ev.Data["role"] == "executor" {
					t.Errorf("executor escalated after bob worked the incident: %s", ev.Text)
				}
			}
			var pages []incident.Message
			for _, m := range e.chat.DMs(uBob) {
				if strings.Contains(m.Text, "paged as *executor*") {
					pages = append(pages, m)
				}
			}
			if len(pages) != 1 || len(pages[0].Buttons) != 0 ||
				!strings.HasSuffix(pages[0].Text, "Acknowledged by <@U0BOB0001> at 10:03 CET ("+tt.how+")") {
				t.Errorf("bob's page after working the incident: %s", dumpMsgs(pages))
			}
			e.mustFind(ch, ":white_check_mark: Bob Dahl acknowledged as executor after 3m, "+tt.how)
		})
	}
}

// Approve and Deny acknowledge the approver's role when they were paged
// for it.
func TestApprovalPressAcknowledges(t *testing.T) {
	for _, label := range []string{"Approve", "Deny"} {
		t.Run(label, func(t *testing.T) {
			e := newSQLiteEnv(t, svcPlan(t))
			e.declare("db-corruption", "", false)
			ch := e.channel(1)
			e.mustCommand(uZed, ch, "page security") // erin, paged as security
			e.clock.Set(svcT0.Add(2 * time.Minute))
			e.press(uZed, ch, "No") // restore waits for the approver role
			e.press(uErin, dmOf(uErin), label)
			got := e.events(1, incident.KindAcknowledged)
			if len(got) != 1 || got[0].Text != "Erin Lund acknowledged as security after 2m, by pressing "+label+" on step restore" {
				t.Errorf("acknowledged = %+v", got)
			}
		})
	}
}

// Someone paged for nothing who works the incident acknowledges nothing.
func TestWorkingUnpagedAcknowledgesNothing(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	e.press(uErin, ch, "Done")
	e.mustCommand(uErin, ch, "note looking")
	// Alice is an executor contact, but no page of the callout went to her yet.
	e.mustCommand(uAlice, ch, "status")
	if got := e.events(1, incident.KindAcknowledged); len(got) != 0 {
		t.Errorf("acknowledged = %+v", got)
	}
	e.at(5 * time.Minute)
	// The channel hears of the escalation as it happens.
	e.mustFind(ch, ":arrow_right: Bob Dahl did not acknowledge within 5m; paging Alice Berg as executor")
}

// /incident ack acknowledges every role the typer is paged for in the
// incident of the channel, and says which; elsewhere it says where to
// type it.
func TestAckCommand(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.at(5 * time.Minute) // commander: alice → bob; bob is also the executor
	e.mustFind(ch, ":arrow_right: Alice Berg did not acknowledge within 5m; paging Bob Dahl as commander")
	e.clock.Set(svcT0.Add(6 * time.Minute))
	r := e.mustCommand(uBob, ch, "ack")
	if want := "You acknowledged as commander, executor for incident #1: Corrupted payments database."; r.Text != want {
		t.Errorf("reply = %q, want %q", r.Text, want)
	}
	var got []string
	for _, ev := range e.events(1, incident.KindAcknowledged) {
		got = append(got, ev.Text)
	}
	want := []string{
		"Bob Dahl acknowledged as commander after 6m, with /incident ack",
		"Bob Dahl acknowledged as executor after 6m, with /incident ack",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("acknowledged (-want +got):\n%s", diff)
	}
	if b, ok := e.chat.FindButton(dmOf(uBob), "Acknowledge"); ok {
		t.Errorf("bob's pages keep a button: %+v", b)
	}
	r = e.mustCommand(uBob, ch, "ack")
	if want := "You are not being paged in incident #1; nothing to acknowledge."; r.Text != want {
		t.Errorf("second ack = %q, want %q", r.Text, want)
	}
	_, err := e.command(uBob, "CGENERAL", "ack")
	if want := "Use /incident ack in an incident channel (open incidents: <#" + ch + ">)."; incident.ErrorMessage(err) != want {
		t.Errorf("ack elsewhere = %q, want %q", incident.ErrorMessage(err), want)
	}
}

// The commander paged because another role ran out is paged about that
// role: it stops when the role acknowledges, and a commander who had
// acknowledged is never said not to have (channel, status, postmortem,
// contact-list review).
func TestCommanderPagedAboutAnotherRole(t *testing.T) {
	for _, late := range []bool{false, true} {
		name := "executor answers"
		if late {
			name = "nobody answers"
		}
		t.Run(name, func(t *testing.T) {
			p := reviewPlan(t)
			e := withAccounts(newSQLiteEnv(t, p))
			e.declare("db-corruption", "", false)
			ch := e.channel(1)
			e.clock.Set(svcT0.Add(time.Minute))
			e.press(uAlice, dmOf(uAlice), "Acknowledge") // commander
			// executor: bob, alice, bob, alice; runs out at 10:20.
			for _, d := range []time.Duration{5, 10, 15, 20} {
				e.at(d * time.Minute)
			}
			e.mustFind(ch, ":warning: Nobody acknowledged the executor role after 4 pages (Bob Dahl, Alice Berg). Paging the commander role.")
			e.at(25 * time.Minute) // commander, about executor: alice → bob
			e.mustFind(ch, ":arrow_right: Alice Berg did not acknowledge within 5m; paging Bob Dahl as commander about executor")
			if late {
				e.at(30 * time.Minute)
				e.at(35 * time.Minute)
				e.at(40 * time.Minute) // the commander's callout about executor runs out
				e.mustFind(ch, ":warning: No commander acknowledged the pages about executor after 4 pages (Alice Berg, Bob Dahl).")
			} else {
				e.clock.Set(svcT0.Add(27 * time.Minute))
				e.pressAction(uBob, dmOf(uBob), "ack|1|executor") // late, on a page of the callout that ran out
				e.mustFind(ch, ":white_check_mark: Bob Dahl acknowledged as executor after 27m. No longer paging commander about it.")
				e.mustFind(dmOf(uBob), "No longer needed: Bob Dahl acknowledged as executor at 10:27 CET.")
				e.at(45 * time.Minute)
				for _, ev := range e.timeline(1) {
					if ev.Kind == incident.KindEscalated && ev.At.After(svcT0.Add(27*time.Minute)) {
						t.Errorf("escalated after executor acknowledged: %s", ev.Text)
					}
				}
				if b, ok := e.chat.FindButton(dmOf(uAlice), "Acknowledge"); ok {
					t.Errorf("alice keeps a button: %+v", b)
				}
			}
			status := e.mustCommand("U0WATCH01", ch, "status").Text
			if !strings.Contains(status, "• commander: acknowledged by Alice Berg at 10:01 CET") {
				t.Errorf("status:\n%s", status)
			}
			e.mustCommand("U0WATCH01", ch, "resolve")
			e.mustCommand("U0WATCH01", "CGENERAL", "review")
			pm, err := e.svc.Postmortem(e.ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			var said []string
			said = append(said, e.texts(ch)...)
			said = append(said, pm.Findings...)
			said = append(said, pm.Markdown())
			said = append(said, e.texts(dmOf(uErin))...)
			for _, s := range said {
				if strings.Contains(strings.ToLower(s), "nobody acknowledged the commander role") {
					t.Errorf("said the commander did not acknowledge: %q", s)
				}
			}
			review := strings.Join(e.texts(dmOf(uErin)), "\n")
			if !strings.Contains(review, "Contact list review") && !strings.Contains(review, "commander") {
				t.Fatalf("no review DM: %s", review)
			}
			if late != strings.Contains(review, "nobody acknowledged the executor role in incident #1") {
				t.Errorf("review (executor unanswered: %v):\n%s", late, review)
			}
		})
	}
}

// Time to acknowledge leaves out the declarer acknowledging their own
// page, shows the slowest role beside the first, and is null when nobody
// (else) acknowledged.
func TestTimeToAcknowledge(t *testing.T) {
	tests := []struct {
		name     string
		run      func(e *svcEnv, ch string)
		wantTTA  string // JSON
		wantText string
	}{
		{"first and slowest", func(e *svcEnv, ch string) {
			e.clock.Set(svcT0.Add(time.Minute))
			e.mustCommand(uZed, ch, "page security") // erin
			e.clock.Set(svcT0.Add(3 * time.Minute))
			e.press(uBob, dmOf(uBob), "Acknowledge")
			e.clock.Set(svcT0.Add(5 * time.Minute))
			e.press(uErin, dmOf(uErin), "Acknowledge")
		}, "180", "3m (executor); slowest: security 4m"},
		{"slowest after an escalation", func(e *svcEnv, ch string) {
			e.clock.Set(svcT0.Add(2 * time.Minute))
			e.press(uBob, dmOf(uBob), "Acknowledge")
			e.mustCommand(uZed, ch, "page security") // erin, alone in the role
			e.at(7 * time.Minute)                    // page 2, erin again
			e.clock.Set(svcT0.Add(9 * time.Minute))
			e.press(uErin, dmOf(uErin), "Acknowledge")
		}, "120", "2m (executor); slowest: security 7m"},
		{"slowest no slower than the first", func(e *svcEnv, ch string) {
			e.clock.Set(svcT0.Add(time.Minute))
			e.mustCommand(uZed, ch, "page security") // erin
			e.clock.Set(svcT0.Add(2 * time.Minute))
			e.press(uBob, dmOf(uBob), "Acknowledge")
			e.clock.Set(svcT0.Add(3 * time.Minute))
			e.press(uErin, dmOf(uErin), "Acknowledge")
		}, "120", "2m (executor)"},
		{"only the declarer", func(e *svcEnv, ch string) {}, "null", "only the declarer acknowledged (their own page); never: executor"},
		{"nobody", nil, "null", "nobody acknowledged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSQLiteEnv(t, svcPlan(t))
			e.declare("db-corruption", "", false) // alice declares; commander: alice
			ch := e.channel(1)
			if tt.run != nil {
				e.press(uAlice, dmOf(uAlice), "Acknowledge") // at once: her own page
				tt.run(e, ch)
			}
			e.clock.Set(svcT0.Add(30 * time.Minute))
			e.mustCommand(uZed, ch, "resolve")
			pm, err := e.svc.Postmortem(e.ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(pm)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"time_to_ack_seconds":` + tt.wantTTA + `,`; !strings.Contains(string(js), want) {
				t.Errorf("postmortem JSON lacks %s: %.300s", want, js)
			}
			if got := pm.AckText(); got != tt.wantText {
				t.Errorf("time to acknowledge = %q, want %q", got, tt.wantText)
			}
			if !strings.Contains(pm.Markdown(), "| Time to acknowledge | "+tt.wantText+" |") {
				t.Errorf("markdown lacks the time to acknowledge %q", tt.wantText)
			}
			summary := e.mustFind(ch, "*Incident #1 resolved*")
			found := false
			for _, f := range summary.Fields {
				found = found || (f.Label == "Time to acknowledge" && f.Value == tt.wantText)
			}
			if !found {
				t.Errorf("summary fields %+v lack the time to acknowledge %q", summary.Fields, tt.wantText)
			}
		})
	}
}

// An approval nobody decides within ack_timeout is paged like a role:
// the channel is told, the approvers are paged down the role's list, and
// any approver's decision answers the page. The wait is in the
// postmortem.
func TestApprovalWaitIsPaged(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(time.Minute))
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.clock.Set(svcT0.Add(2 * time.Minute))
	e.press(uBob, ch, "No") // restore waits for the approver role from 10:02
	e.at(6 * time.Minute)
	if _, ok := e.find(ch, "for approval by the approver role"); ok {
		t.Fatal("the approval was paged before ack_timeout")
	}
	e.at(7 * time.Minute)
	e.mustFind(ch, ":hourglass_flowing_sand: Step restore has waited 5m for approval by the approver role (Erin Lund, Frank Moe). Paging Erin Lund as approver.")
	page := e.mustFind(dmOf(uErin), "You are paged as *approver*")
	if !strings.Contains(page.Text, "Step restore has waited 5m for approval by the approver role") || !slices.Equal(btnLabels(page.Buttons), []string{"Acknowledge"}) {
		t.Errorf("erin's page: %q %v", page.Text, btnLabels(page.Buttons))
	}
	e.at(12 * time.Minute)
	e.mustFind(ch, ":arrow_right: Erin Lund did not acknowledge within 5m; paging Frank Moe as approver")
	e.clock.Set(svcT0.Add(14 * time.Minute))
	e.press(uFrank, dmOf(uFrank), "Approve") // from the approval DM, not the page
	e.mustFind(ch, ":white_check_mark: Frank Moe acknowledged as approver after 7m, by pressing Approve on step restore")
	for _, d := range []time.Duration{17, 22, 27} {
		e.at(d * time.Minute)
	}
	for _, ev := range e.timeline(1) {
		if ev.Kind == incident.KindEscalated && ev.At.After(svcT0.Add(14*time.Minute)) {
			t.Errorf("escalated after the approval was decided: %s", ev.Text)
		}
	}
	e.mustCommand(uZed, ch, "resolve")
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Approvals) != 1 || pm.Approvals[0].WaitSeconds != 12*60 || pm.Approvals[0].Outcome != "approved" {
		t.Errorf("approvals = %+v, want restore approved after 12m", pm.Approvals)
	}
	if !slices.Contains(pm.Findings, "approval of restore took 12m; make sure someone in the approver role is reachable, or pre-approve this step") {
		t.Errorf("findings lack the approval's wait: %q", pm.Findings)
	}

	// Decided in time: nobody is paged.
	e2 := newSQLiteEnv(t, svcPlan(t))
	e2.declare("db-corruption", "", false)
	ch2 := e2.channel(1)
	e2.press(uZed, ch2, "No")
	e2.clock.Set(svcT0.Add(4 * time.Minute))
	e2.press(uErin, dmOf(uErin), "Approve")
	e2.at(10 * time.Minute)
	if _, ok := e2.find(ch2, "for approval by the approver role"); ok {
		t.Error("an approval decided in time was paged")
	}
	if got := e2.pagesTo(uErin); len(got) != 0 {
		t.Errorf("erin was paged: %s", dumpMsgs(got))
	}
}

// Deny can carry a reason: where dialogs open, Deny asks for it (the
// dialog runs /incident deny REASON in the incident channel); the reason
// is shown in the channel, the timeline and the postmortem. Someone
// outside the approving role is told they may not deny.
func TestDenyReason(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.press(uZed, ch, "No") // restore waits for the approver role
	e.clock.Set(svcT0.Add(3 * time.Minute))

	// A surface with dialogs: Deny opens the dialog and denies nothing.
	b := e.button(dmOf(uErin), "Deny")
	r, err := e.svc.Press(e.ctx, incident.PressRequest{UserID: uErin, ChannelID: dmOf(uErin), Action: b.Action, TriggerID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OpenDenyModal || r.DialogChannel != ch || r.Text != "To deny step restore, type /incident deny REASON in <#"+ch+">." {
		t.Errorf("reply = %+v, want the deny dialog for %s", r, ch)
	}
	if got := e.events(1, incident.KindDenied); len(got) != 0 {
		t.Fatalf("denied before the dialog was submitted: %+v", got)
	}

	r = e.mustCommand(uBob, ch, "deny not our call")
	if r.Text != "Only the approver role may deny this step: Erin Lund, Frank Moe" {
		t.Errorf("bob's deny = %q", r.Text)
	}
	reason := "The newest snapshot is older than the RPO <!channel>"
	r = e.mustCommand(uErin, ch, "deny "+reason)
	if r.Text != "You denied step restore." {
		t.Errorf("erin's deny = %q", r.Text)
	}
	d := e.events(1, incident.KindDenied)
	if len(d) != 1 || d[0].Text != "Step restore denied: "+reason || d[0].Data["reason"] != reason || d[0].Actor != uErin {
		t.Errorf("denied = %+v", d)
	}
	escaped := "The newest snapshot is older than the RPO &lt;!channel&gt;"
	e.mustFind(ch, ":no_entry: <@U0ERIN001> denied step restore: it does not start. Reason: "+escaped+".")
	e.mustFind(ch, ":no_entry: Denied by <@U0ERIN001> at 10:03 CET: "+escaped)
	if _, err := e.command(uErin, ch, "deny again"); !strings.Contains(incident.ErrorMessage(err), "No approval is waiting in incident #1") {
		t.Errorf("deny with nothing waiting: %v", err)
	}

	e.mustCommand(uZed, ch, "resolve")
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Approvals) != 1 || pm.Approvals[0].Reason != reason || pm.Approvals[0].Outcome != incident.ApprovalDenied {
		t.Errorf("approvals = %+v", pm.Approvals)
	}
	if !slices.Contains(pm.Findings, "approval of restore was denied ("+reason+"); decide whether the playbook should change") {
		t.Errorf("findings = %q", pm.Findings)
	}
	if !strings.Contains(pm.Markdown(), "| denied: The newest snapshot is older than the RPO") {
		t.Errorf("markdown lacks the reason:\n%s", pm.Markdown())
	}
}

// TestAckAfterUnansweredCallout: a role nobody answered, paged again, and
// then acknowledged has waited since its first unanswered page: the
// channel says so, as the postmortem does, and not the seconds since the
// latest page (newcomer report: "after 0s" in the channel, 19m in the
// postmortem).
func TestAckAfterUnansweredCallout(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.clock.Set(svcT0.Add(time.Minute))
	e.mustCommand(uZed, ch, "page security") // erin, alone: pages at 1m and 6m
	e.at(6 * time.Minute)
	e.at(11 * time.Minute) // nobody answered: security ran out
	e.mustFind(ch, "Nobody acknowledged the security role")
	e.clock.Set(svcT0.Add(20 * time.Minute))
	e.mustCommand(uZed, ch, "page security") // a new callout
	e.clock.Set(svcT0.Add(20*time.Minute + 30*time.Second))
	e.press(uErin, dmOf(uErin), "Acknowledge")
	e.mustFind(ch, "acknowledged as security after 19m30s")
	// Acknowledged again after a later callout: from that callout's page.
	e.clock.Set(svcT0.Add(40 * time.Minute))
	e.mustCommand(uZed, ch, "page security")
	e.clock.Set(svcT0.Add(42 * time.Minute))
	e.press(uErin, dmOf(uErin), "Acknowledge")
	e.mustFind(ch, "acknowledged as security after 2m")
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := pm.AckText(); !strings.Contains(got, "slowest: security 19m30s") {
		t.Errorf("time to acknowledge = %q, want the slowest security 19m30s as in the channel", got)
	}
}

// TestWorkingFromADialogSaysSo: a command submitted from a dialog (the
// Deny button's) acknowledges the page of who submitted it "by submitting
// the deny dialog", not "by typing /incident deny", which they did not.
func TestWorkingFromADialogSaysSo(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(5 * time.Minute))
	e.press(uBob, ch, "No") // to the restore step, which waits for the approver (erin)
	e.at(11 * time.Minute)  // nobody approved: the approver role is paged
	if _, err := e.svc.Command(e.ctx, incident.CommandRequest{UserID: uErin, ChannelID: ch, Text: "deny not yet", Dialog: "deny"}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	denied := e.events(1, incident.KindDenied)
	acked := e.events(1, incident.KindAcknowledged)
	if len(denied) != 1 {
		t.Fatalf("denials: %+v", denied)
	}
	said := false
	for _, a := range acked {
		if a.Actor == uErin {
			said = a.Data["how"] == "by submitting the deny dialog"
		}
	}
	if !said {
		t.Errorf("no acknowledgement of erin's saying she submitted the deny dialog: %+v", acked)
	}
	for _, text := range e.texts(ch) {
		if strings.Contains(text, "by typing /incident deny") {
			t.Errorf("the channel says erin typed: %q", text)
		}
	}
}
