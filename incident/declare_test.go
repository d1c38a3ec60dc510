package incident_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

func TestDeclare(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	inc := e.declare("db-corruption", "Primary returns checksum errors <!channel> & more", false)

	if inc.ID != 1 || inc.State != incident.StateOpen || inc.RTO != 2*time.Hour || inc.Title != "Corrupted payments database" {
		t.Errorf("incident = #%d %s rto %v %q; want #1 open rto 2h", inc.ID, inc.State, inc.RTO, inc.Title)
	}
	ch := e.chat.ChannelID("inc-1-db-corruption")
	if ch == "" {
		t.Fatalf("no channel inc-1-db-corruption; calls: %v", e.chat.CallsOf("CreateChannel"))
	}
	if got := e.incident(1).ChannelID; got != ch {
		t.Errorf("incident channel = %q, want %q", got, ch)
	}
	if got, want := e.chat.Topic(ch), "sev1 · payments-db · RTO deadline 12:00 CET (2h)"; got != want {
		t.Errorf("topic = %q, want %q", got, want)
	}

	// The summary: first in the channel, pinned, with escaped user text,
	// the phone numbers of the paged contacts and the RTO deadline.
	posts := e.chat.Conversation(ch)
	if len(posts) < 2 {
		t.Fatalf("channel has %d messages, want the summary and the first step: %s", len(posts), dumpMsgs(e.chat.Posts(ch)))
	}
	sum := posts[0].Message
	for _, want := range []string{
		"*Incident #1: Corrupted payments database*",
		"Primary returns checksum errors &lt;!channel&gt; &amp; more",
		"• commander: Alice Berg (+47 400 00 001), Bob Dahl",
		"• executor: Bob Dahl, Alice Berg (+47 400 00 001)",
	} {
		if !strings.Contains(sum.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.Text)
		}
	}
	if strings.Contains(sum.Text, "<!channel>") {
		t.Errorf("summary pings the channel:\n%s", sum.Text)
	}
	fields := map[string]string{}
	for _, f := range sum.Fields {
		fields[f.Label] = f.Value
	}
	wantFields := map[string]string{
		"Severity":     "sev1",
		"Service":      "payments-db",
		"RTO deadline": "12:00 CET (2h)",
		"RPO":          "15m",
		"Declared by":  "<@U0ALICE01> at 10:00 CET",
		"Playbook":     "db-corruption, 4 steps, worst case 1h20m",
	}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("summary fields (-want +got):\n%s", diff)
	}
	if got := e.chat.Pins(ch); !slices.Equal(got, []string{posts[0].TS}) {
		t.Errorf("pins = %v, want the summary %s", got, posts[0].TS)
	}

	// The contacts of commander and executor, and the declarer (a
	// contact herself), are invited once each.
	if got, want := e.chat.Members(ch), []string{uAlice, uBob}; !slices.Equal(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}

	// The first contact of each page role gets a DM with Acknowledge.
	for _, c := range []struct{ user, role string }{{uAlice, "commander"}, {uBob, "executor"}} {
		dms := e.chat.DMs(c.user)
		if len(dms) != 1 {
			t.Fatalf("%s has %d DMs, want 1: %s", c.user, len(dms), dumpMsgs(dms))
		}
		for _, want := range []string{"You are paged as *" + c.role + "*", "incident #1: Corrupted payments database", "#inc-1-db-corruption"} {
			if !strings.Contains(dms[0].Text, want) {
				t.Errorf("page to %s lacks %q:\n%s", c.user, want, dms[0].Text)
			}
		}
		if got := btnLabels(dms[0].Buttons); !slices.Equal(got, []string{"Acknowledge"}) {
			t.Errorf("page buttons = %v, want [Acknowledge]", got)
		}
	}

	// The first step, a decision: one button per answer.
	step := posts[len(posts)-1].Message
	if want := "Step 1/4 · assess — Check whether the primary still serves reads and when the last good backup ran. (estimate 10m, owner: executor)\n*Is the primary still serving reads?*"; step.Text != want {
		t.Errorf("first step = %q, want %q", step.Text, want)
	}
	if got := btnLabels(step.Buttons); !slices.Equal(got, []string{"Yes", "No"}) {
		t.Errorf("step buttons = %v, want [Yes No]", got)
	}

	wantKinds := []string{"declared", "paged", "paged", "step_started", "channel_created"}
	if diff := cmp.Diff(wantKinds, e.kinds(1)); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	decl := e.timeline(1)[0]
	if decl.Actor != uAlice || decl.Data["summary"] != "Primary returns checksum errors <!channel> & more" {
		t.Errorf("declared = %+v; want actor alice and the summary as typed", decl)
	}
	wantTimers := []string{"inc/1/escalate/commander", "inc/1/escalate/executor", "inc/1/projection", "inc/1/rto"}
	if diff := cmp.Diff(wantTimers, e.timerKeys()); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
	for _, tm := range e.store.Timers() {
		if tm.Key == "inc/1/rto" && !tm.Due.Equal(svcT0.Add(time.Hour)) {
			t.Errorf("rto timer due %v, want the 50%% threshold %v", tm.Due, svcT0.Add(time.Hour))
		}
	}
	if e.met.declared != 1 || e.met.pages != 2 {
		t.Errorf("metrics: declared %d pages %d, want 1 and 2", e.met.declared, e.met.pages)
	}
	// Everything was delivered.
	for _, m := range e.store.Messages() {
		if m.State != "sent" {
			t.Errorf("outbox message %d (%s) is %s", m.ID, m.Kind, m.State)
		}
	}
}

func TestDeclareErrors(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	tests := []struct {
		name     string
		req      incident.DeclareRequest
		code     string
		field    string // the input a dialog shows the error under
		contains []string
	}{
		{"typo", incident.DeclareRequest{Scenario: "db-corupt"}, incident.ENOTFOUND, incident.FieldScenario,
			[]string{`Unknown scenario "db-corupt". Valid scenarios: db-corruption, checkout-down.`, "Did you mean db-corruption?"}},
		{"unknown", incident.DeclareRequest{Scenario: "meteor"}, incident.ENOTFOUND, incident.FieldScenario,
			[]string{`Unknown scenario "meteor". Valid scenarios: db-corruption, checkout-down.`}},
		{"escaped", incident.DeclareRequest{Scenario: "<!here>"}, incident.ENOTFOUND, incident.FieldScenario,
			[]string{`Unknown scenario "&lt;!here&gt;"`}},
		{"summary too long", incident.DeclareRequest{Scenario: "db-corruption", Summary: strings.Repeat("é", incident.MaxText+1)}, incident.EINVALID, incident.FieldSummary,
			[]string{"The summary is 3001 characters long; the limit is 3000."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Declare(e.ctx, tt.req)
			if got := incident.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if got := incident.ErrorField(err); got != tt.field {
				t.Errorf("field = %q, want %q", got, tt.field)
			}
			for _, want := range tt.contains {
				if !strings.Contains(incident.ErrorMessage(err), want) {
					t.Errorf("message %q lacks %q", incident.ErrorMessage(err), want)
				}
			}
		})
	}
	if got, err := e.svc.Incidents(e.ctx, incident.Filter{}); err != nil || len(got) != 0 {
		t.Errorf("incidents after refused declarations = %d (%v), want none", len(got), err)
	}
	if n := len(e.store.Messages()); n != 0 {
		t.Errorf("refused declarations enqueued %d messages", n)
	}
}

// TestOneDidYouMean: /incident declare suggests for a misspelt scenario
// what plan check suggests for the same misspelling in the plan, because
// both ask playbooks.Closest.
func TestOneDidYouMean(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	for _, typo := range []string{"db-corupt", "db_corruption", "db-c", "chekout-down", "checkout", "meteor"} {
		want := playbooks.Closest(typo, e.plan.ScenarioOrder)
		_, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: typo})
		msg := incident.ErrorMessage(err)
		if want == "" {
			if strings.Contains(msg, "Did you mean") {
				t.Errorf("declare %q: %q suggests, plan check would not", typo, msg)
			}
			continue
		}
		if typo != want && !strings.Contains(msg, "Did you mean "+want+"?") {
			t.Errorf("declare %q: %q, want it to suggest %s as plan check does", typo, msg, want)
		}
	}
	if got := playbooks.Closest("db-c", []string{"db-corruption", "checkout-down"}); got != "db-corruption" {
		t.Errorf(`Closest("db-c") = %q, want db-corruption`, got)
	}
}

func TestDeclareCaseInsensitiveScenario(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	inc := e.declare("DB-Corruption", "", false)
	if inc.Scenario != "db-corruption" || inc.ChannelName != "inc-1-db-corruption" {
		t.Errorf("scenario %q channel %q", inc.Scenario, inc.ChannelName)
	}
}

func TestDrill(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	r := e.mustCommand(uAlice, "CGENERAL", "drill db-corruption quarterly exercise")
	if want := "[DRILL] <@U0ALICE01> declared drill #1 (sev1): Corrupted payments database. Channel: #drill-1-db-corruption"; !r.Public || r.Text != want {
		t.Errorf("reply = %+v; want public %q", r, want)
	}
	inc := e.incident(1)
	if !inc.Drill || inc.ChannelName != "drill-1-db-corruption" {
		t.Fatalf("incident drill=%v channel %q", inc.Drill, inc.ChannelName)
	}
	ch := e.channel(1)
	if !strings.HasPrefix(e.chat.Topic(ch), "[DRILL] ") {
		t.Errorf("topic %q is not marked", e.chat.Topic(ch))
	}
	// Walk some of it so that many kinds of message exist.
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.press(uBob, ch, "No")
	e.press(uErin, dmOf(uErin), "Approve")
	e.at(time.Hour)
	for _, conv := range []string{ch, dmOf(uAlice), dmOf(uBob), dmOf(uErin), dmOf(uFrank)} {
		ms := e.chat.Posts(conv)
		if len(ms) == 0 {
			t.Errorf("no messages in %s", conv)
		}
		for _, m := range ms {
			if !strings.HasPrefix(m.Text, "[DRILL] ") {
				t.Errorf("message in %s not marked as a drill: %q", conv, m.Text)
			}
		}
	}
	if e.met.drills != 1 {
		t.Errorf("drills counted %d, want 1", e.met.drills)
	}
}

func TestChannelNames(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	long := strings.Repeat("x", 100)
	for _, id := range []string{"Weird Name/ÆØ!", long} {
		sc := *p.Scenarios["checkout-down"]
		sc.ID = id
		p.Scenarios[id] = &sc
		p.ScenarioOrder = append(p.ScenarioOrder, id)
	}
	e := newSvcEnv(t, p)
	for _, tt := range []struct{ scenario, want string }{
		{"Weird Name/ÆØ!", "inc-1-weird-name"},
		{long, "inc-2-" + strings.Repeat("x", 74)},
	} {
		inc, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: tt.scenario, UserID: uAlice})
		if err != nil {
			t.Fatal(err)
		}
		if inc.ChannelName != tt.want || len(inc.ChannelName) > 80 {
			t.Errorf("channel of %q = %q, want %q", tt.scenario, inc.ChannelName, tt.want)
		}
	}
}

// The outbox worker's own notices of a drill (a page or an invitation
// Slack refuses, a channel it cannot create) are marked like every other
// message of the drill.
func TestDrillDeliveryNoticesMarked(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.chat.Emails = map[string]string{"alice@example.com": uAlice} // frank's email matches nobody
	e.chat.FailNext(incidenttest.MethodCreateChannel, 1, &incident.ChatError{Method: "conversations.create", Code: "restricted_action", Permanent: true})
	e.mustCommand(uAlice, "CGENERAL", "drill db-corruption quarterly exercise")
	e.at(time.Minute) // the channel is created on the retry
	ch := e.channel(1)
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.press(uBob, ch, "No") // restore: approval by erin and frank; frank cannot be reached
	var notices []string
	for _, conv := range []string{ch, dmOf(uAlice)} {
		for _, m := range e.chat.Posts(conv) {
			if strings.Contains(m.Text, ":warning: could not") {
				notices = append(notices, m.Text)
			}
		}
	}
	want := []string{
		"[DRILL] :warning: could not invite frank: users_not_found",
		"[DRILL] :warning: could not ask frank to approve step restore: users_not_found",
		"[DRILL] :warning: could not create the incident channel: restricted_action. drbot keeps trying; a Slack admin may need to fix the app's permissions.",
	}
	// The invitation and the approval DM go out in lanes of their own.
	slices.Sort(notices)
	slices.Sort(want)
	if diff := cmp.Diff(notices, want); diff != "" {
		t.Errorf("delivery notices (-got +want):\n%s", diff)
	}
}
