package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

func TestCommandsAnywhere(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	tests := []struct {
		name, text string
		code       string // expected error code, "" for none
		contains   []string
		modal      bool
	}{
		{name: "empty", text: "", contains: []string{"Usage: /incident COMMAND", "`declare SCENARIO [summary]`"}},
		{name: "help", text: "help", contains: []string{"Usage: /incident COMMAND"}},
		{name: "unknown", text: "frobnicate now", code: incident.EINVALID, contains: []string{`Unknown command "frobnicate".`, "Usage: /incident COMMAND"}},
		{name: "scenarios", text: "scenarios", contains: []string{
			"• `db-corruption` — Corrupted payments database · payments-db · sev1 · RTO 2h",
			"• `checkout-down` — Checkout is down · checkout · sev2 · RTO 4h",
		}},
		{name: "list none", text: "list", contains: []string{"No incident is open."}},
		{name: "declare without scenario", text: "declare", modal: true, contains: []string{"Name the scenario: /incident declare SCENARIO summary", "`db-corruption`"}},
		{name: "drill without scenario", text: "drill", modal: true},
		{name: "declare unknown", text: "declare db-corupt db down", code: incident.ENOTFOUND, contains: []string{
			`Unknown scenario "db-corupt". Valid scenarios: db-corruption, checkout-down. Did you mean db-corruption?`,
		}},
		{name: "review without a review section", text: "review", code: incident.EINVALID, contains: []string{"The contact-list review is not set up yet"}},
		{name: "status outside", text: "status", code: incident.EINVALID, contains: []string{"Use /incident status in an incident channel (no incident is open)."}},
		{name: "note outside", text: "note hello", code: incident.EINVALID, contains: []string{"Use /incident note in an incident channel"}},
		{name: "page outside", text: "page executor", code: incident.EINVALID, contains: []string{"Use /incident page in an incident channel"}},
		{name: "resolve outside", text: "resolve", code: incident.EINVALID, contains: []string{"Use /incident resolve in an incident channel"}},
		{name: "status with arguments", text: "status now", code: incident.EINVALID, contains: []string{`/incident status takes nothing after it (got "now").`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.svc.Command(e.ctx, incident.CommandRequest{UserID: uAlice, ChannelID: "CGENERAL", Text: tt.text})
			if got := incident.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			text := r.Text
			if err != nil {
				text = incident.ErrorMessage(err)
			}
			for _, want := range tt.contains {
				if !strings.Contains(text, want) {
					t.Errorf("answer lacks %q:\n%s", want, text)
				}
			}
			if r.OpenDeclareModal != tt.modal {
				t.Errorf("OpenDeclareModal = %v, want %v", r.OpenDeclareModal, tt.modal)
			}
			if r.Public {
				t.Errorf("answer is public: %q", r.Text)
			}
		})
	}
	if n := len(e.store.Messages()); n != 0 {
		t.Errorf("commands that did nothing enqueued %d messages", n)
	}
}

func TestCommandsOpenIncidents(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	r := e.mustCommand(uAlice, "CGENERAL", "declare db-corruption Checksum errors on the primary")
	if !r.Public || r.Text != "<@U0ALICE01> declared incident #1 (sev1): Corrupted payments database. Channel: #inc-1-db-corruption" {
		t.Errorf("declare reply = %+v", r)
	}
	e.mustCommand(uBob, "CGENERAL", "drill checkout-down")
	ch1, ch2 := e.channel(1), e.channel(2)

	e.clock.Set(svcT0.Add(30 * time.Minute))
	r = e.mustCommand(uAlice, "CGENERAL", "list")
	want := "*Open incidents*\n" +
		"• [DRILL] #2 Checkout is down · sev2 · <#" + ch2 + "> · 30m elapsed of the 4h RTO\n" +
		"• #1 Corrupted payments database · sev1 · <#" + ch1 + "> · 30m elapsed of the 2h RTO"
	if r.Text != want {
		t.Errorf("list:\n%s\nwant:\n%s", r.Text, want)
	}
	_, err := e.command(uAlice, "CGENERAL", "status")
	if want := "Use /incident status in an incident channel (open incidents: <#" + ch2 + ">, <#" + ch1 + ">)."; incident.ErrorMessage(err) != want {
		t.Errorf("status outside: %q, want %q", incident.ErrorMessage(err), want)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(2 * time.Minute))
	e.press(uAlice, dmOf(uAlice), "Acknowledge")
	e.at(6 * time.Minute) // executor escalates to alice
	// Erin, paged for nothing, answers: the executor role is still paged.
	e.press(uErin, ch, "No")
	e.at(30 * time.Minute)

	// Asked by someone paged for nothing (erin is paged as approver since
	// 10:11, the approval waiting: asking would acknowledge it).
	r := e.mustCommand("U0WATCH01", ch, "status")
	want := "*Incident #1: Corrupted payments database* — open · sev1 · payments-db · <#" + ch + ">\n" +
		"Elapsed 30m of the 2h RTO (deadline 12:00 CET), 1h30m left. Projected finish 11:40 CET — 20m within the RTO.\n" +
		"Recovery point not recorded (RPO 15m): /incident recovery-point WHEN\n" +
		"Current step: Step 3/4 · restore — Restore the last snapshot into a new instance and repoint the app. (estimate 1h)\n" +
		"Waiting since 10:06 CET for approval by the approver role (Erin Lund, Frank Moe).\n" +
		"*Paged*\n" +
		"• commander: acknowledged by Alice Berg at 10:02 CET\n" +
		"• executor: Bob Dahl paged (page 3), not acknowledged yet\n" +
		// The approval waited past ack_timeout: the approvers are paged.
		"• approver: Erin Lund paged (page 1), not acknowledged yet"
	if r.Text != want {
		t.Errorf("status:\n%s\nwant:\n%s", r.Text, want)
	}
	if r.Public {
		t.Error("status is public")
	}

	e.press(uErin, dmOf(uErin), "Approve")
	e.at(100 * time.Minute)
	r = e.mustCommand(uErin, ch, "status")
	for _, want := range []string{
		"Elapsed 1h40m of the 2h RTO (deadline 12:00 CET), 20m left. Projected finish 11:50 CET — 10m within the RTO.",
		"Running for 1h10m, 10m over its estimate.",
	} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("status lacks %q:\n%s", want, r.Text)
		}
	}
	// Erin resolves: Alice, paged as executor, would acknowledge by it.
	e.mustCommand(uErin, ch, "resolve")
	r = e.mustCommand(uErin, ch, "status")
	for _, want := range []string{"— resolved ·", "Resolved by <@U0ERIN001> at 11:40 CET, after 1h40m.", "RTO 2h met, 20m to spare.",
		"• executor: Alice Berg paged (page 4), not acknowledged before the incident was resolved"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("status after resolve lacks %q:\n%s", want, r.Text)
		}
	}
}

// A role paged again after it acknowledged: status says both the
// acknowledgement and the new callout.
func TestStatusPagedAgain(t *testing.T) {
	tests := []struct {
		name string
		run  func(e *svcEnv, ch string)
		want string
	}{
		{
			name: "page command",
			run: func(e *svcEnv, ch string) {
				e.clock.Set(svcT0.Add(30 * time.Minute))
				e.mustCommand(uBob, ch, "page commander")
				e.at(36 * time.Minute) // escalates to bob
			},
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 10:30 CET (by <@U0BOB0001>): Bob Dahl paged (page 2), not acknowledged yet",
		},
		{
			name: "RTO breach",
			run: func(e *svcEnv, ch string) {
				e.at(2 * time.Hour)
			},
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 12:00 CET (RTO breached): Alice Berg paged (page 1), not acknowledged yet",
		},
		{
			name: "another role unanswered",
			run:  pagedUnanswered("page security"),
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 10:40 CET (nobody acknowledged the security role): Alice Berg paged (page 1) about security, not acknowledged yet",
		},
		{
			name: "a contact paged alone unanswered",
			run:  pagedUnanswered("page @erin"),
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 10:40 CET (Erin Lund did not acknowledge): Alice Berg paged (page 1) about Erin Lund, not acknowledged yet",
		},
		{
			name: "a Slack member paged alone unanswered",
			run:  pagedUnanswered("page <@U0ZED0001>"),
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 10:40 CET (<@U0ZED0001> did not acknowledge): Alice Berg paged (page 1) about <@U0ZED0001>, not acknowledged yet",
		},
		{
			name: "nobody acknowledges the second callout",
			run: func(e *svcEnv, ch string) {
				e.clock.Set(svcT0.Add(30 * time.Minute))
				e.mustCommand(uBob, ch, "page commander")
				for m := 35; m <= 50; m += 5 {
					e.at(time.Duration(m) * time.Minute)
				}
			},
			want: "• commander: acknowledged by Alice Berg at 10:02 CET; paged again at 10:30 CET (by <@U0BOB0001>): nobody acknowledged after 4 pages",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSvcEnv(t, svcPlan(t))
			e.declare("db-corruption", "", false)
			ch := e.channel(1)
			e.clock.Set(svcT0.Add(2 * time.Minute))
			e.press(uAlice, dmOf(uAlice), "Acknowledge")
			e.clock.Set(svcT0.Add(3 * time.Minute))
			e.press(uBob, dmOf(uBob), "Acknowledge")
			tt.run(e, ch)
			// Asked by someone paged for nothing: a paged contact asking
			// would acknowledge by it.
			got := e.mustCommand("U0WATCH01", ch, "status").Text
			if !strings.Contains(got, tt.want+"\n") && !strings.HasSuffix(got, tt.want) {
				t.Errorf("status:\n%s\nwant the line:\n%s", got, tt.want)
			}
		})
	}
}

func TestNote(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	r := e.mustCommand(uBob, ch, "note Replica lag is <!here> 40 s & rising")
	if r.Text != "Noted in the timeline of incident #1." {
		t.Errorf("reply = %q", r.Text)
	}
	notes := e.events(1, incident.KindNote)
	if len(notes) != 1 || notes[0].Text != "Replica lag is <!here> 40 s & rising" || notes[0].Actor != uBob {
		t.Errorf("notes = %+v", notes)
	}
	e.mustFind(ch, ":memo: Note from <@U0BOB0001>: Replica lag is &lt;!here&gt; 40 s &amp; rising")

	_, err := e.command(uBob, ch, "note "+strings.Repeat("x", 3001))
	if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), "The note is 3001 characters long; the limit is 3000. Split it into several notes.") {
		t.Errorf("long note: %v", err)
	}
	_, err = e.command(uBob, ch, "note   ")
	if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), "/incident note TEXT") {
		t.Errorf("empty note: %v", err)
	}

	// Notes from the Events API (pins): recorded, not posted again.
	n := len(e.texts(ch))
	if err := e.svc.AddNote(e.ctx, ch, uAlice, "Pinned: runbook at https://wiki/db"); err != nil {
		t.Fatal(err)
	}
	e.tick()
	if got := e.events(1, incident.KindNote); len(got) != 2 || got[1].Text != "Pinned: runbook at https://wiki/db" || got[1].Actor != uAlice {
		t.Errorf("notes = %+v", got)
	}
	if len(e.texts(ch)) != n {
		t.Error("AddNote posted in the channel")
	}
	if err := e.svc.AddNote(e.ctx, "CNOTINCIDENT", uAlice, "x"); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("AddNote outside an incident: %v", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(95 * time.Second))
	e.press(uBob, dmOf(uBob), "Acknowledge")
	e.clock.Set(svcT0.Add(5 * time.Minute))
	e.press(uBob, ch, "Yes")
	e.clock.Set(svcT0.Add(50 * time.Minute))
	// Erin, paged for nothing: Bob, paged as commander since 10:05, would
	// acknowledge it by pressing.
	e.press(uErin, ch, "Done") // repair: 45m against 30m
	e.clock.Set(svcT0.Add(55 * time.Minute))

	r := e.mustCommand(uAlice, ch, "resolve Replica promoted <@U0ZED0001>")
	if r.Text != "Incident #1 resolved; the postmortem summary is posted in <#"+ch+">." {
		t.Errorf("reply = %q", r.Text)
	}
	inc := e.incident(1)
	if inc.State != incident.StateResolved || inc.ResolvedBy != uAlice || !inc.ResolvedAt.Equal(svcT0.Add(55*time.Minute)) {
		t.Errorf("incident = %s by %s at %v", inc.State, inc.ResolvedBy, inc.ResolvedAt)
	}
	kinds := e.kinds(1)
	if diff := cmp.Diff([]string{"resolved", "postmortem_posted"}, kinds[len(kinds)-2:]); diff != "" {
		t.Errorf("last events (-want +got):\n%s", diff)
	}
	if got := e.timerKeys(); len(got) != 0 {
		t.Errorf("timers left: %v", got)
	}
	pm := e.mustFind(ch, "*Incident #1 resolved* by <@U0ALICE01> at 10:55 CET.")
	// A mention stays a mention; the text rule is text.go's.
	if !strings.Contains(pm.Text, "Replica promoted <@U0ZED0001>") {
		t.Errorf("summary not as typed: %q", pm.Text)
	}
	fields := map[string]string{}
	for _, f := range pm.Fields {
		fields[f.Label] = f.Value
	}
	wantFields := map[string]string{
		// Bob's executor page at 10:01:35; the commander (alice, paged at
		// 10:00 and again at 10:10) acknowledged by resolving at 10:55.
		"Time to acknowledge":       "1m35s (executor); slowest: commander 55m",
		"Time to recover":           "55m",
		"RTO":                       "met, 1h5m to spare",
		"RPO":                       "15m, not checked: no recovery point recorded (/incident recovery-point WHEN)",
		"Steps over their estimate": "repair 45m (estimate 30m)",
	}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("postmortem summary (-want +got):\n%s", diff)
	}
	if !strings.Contains(pm.Context, "drbot postmortem 1") {
		t.Errorf("context = %q", pm.Context)
	}
	if !strings.HasPrefix(e.chat.Topic(ch), "Resolved · sev1 · payments-db · recovered in 55m") {
		t.Errorf("topic = %q", e.chat.Topic(ch))
	}
	// Alice, paged as commander, acknowledged by resolving: her pages say
	// so, with no button left.
	for _, m := range e.pagesTo(uAlice) {
		if len(m.Buttons) != 0 || !strings.Contains(m.Text, "Acknowledged by <@U0ALICE01> at 10:55 CET (by typing /incident resolve)") {
			t.Errorf("open page after resolve: %q %v", m.Text, btnLabels(m.Buttons))
		}
	}
	if e.met.resolved != 1 {
		t.Errorf("resolved metric = %d", e.met.resolved)
	}

	// Resolving twice says so and changes nothing.
	before := len(e.timeline(1))
	r = e.mustCommand(uBob, ch, "resolve")
	if r.Text != "Incident #1 is already resolved (by <@U0ALICE01> at 10:55 CET)." {
		t.Errorf("second resolve: %q", r.Text)
	}
	if len(e.timeline(1)) != before {
		t.Error("second resolve changed the timeline")
	}
	_, err := e.command(uBob, ch, "page executor")
	if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), "is resolved") {
		t.Errorf("page after resolve: %v", err)
	}
	// The postmortem is there to read.
	got, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil || got.State != "resolved" || got.TimeToRecoverSeconds != 55*60 || !got.RTOMet {
		t.Errorf("Postmortem = %+v, %v", got, err)
	}
	if _, err := e.svc.Postmortem(e.ctx, 42); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("Postmortem(42): %v", err)
	}
}

// Resolve closes every page of the incident still showing Acknowledge:
// the current callout's and those of earlier callouts that ran out, of roles and
// of people paged alone.
func TestResolveClosesRanOutPages(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false) // executor callout 1: bob, alice, bob, alice
	ch := e.channel(1)
	for _, m := range []time.Duration{5, 10, 15, 20} {
		e.at(m * time.Minute)
	}
	e.clock.Set(svcT0.Add(21 * time.Minute))
	e.mustCommand(uZed, ch, "page @erin") // @erin callout 1: two pages
	e.at(26 * time.Minute)
	e.at(31 * time.Minute)
	var ranOut []string
	for _, ev := range e.events(1, incident.KindUnanswered) {
		ranOut = append(ranOut, ev.Data["role"])
	}
	if diff := cmp.Diff([]string{"executor", "@erin"}, ranOut); diff != "" {
		t.Fatalf("callouts that ran out (-want +got):\n%s", diff)
	}
	e.clock.Set(svcT0.Add(32 * time.Minute))
	e.mustCommand(uZed, ch, "page executor") // callout 2: page 5 to bob
	e.mustCommand(uZed, ch, "page @erin")    // callout 2: page 3 to erin
	e.clock.Set(svcT0.Add(33 * time.Minute))
	// Zed, paged for nothing: a paged contact would acknowledge by it.
	e.mustCommand(uZed, ch, "resolve")

	pages := 0
	for _, u := range []string{uAlice, uBob, uErin} {
		for _, m := range e.pagesTo(u) {
			pages++
			if len(m.Buttons) != 0 || !strings.Contains(m.Text, "Incident resolved at 10:33 CET") {
				t.Errorf("page to %s after resolve: %q %v", u, m.Text, btnLabels(m.Buttons))
			}
		}
		if b, ok := e.chat.FindButton(dmOf(u), "Acknowledge"); ok {
			t.Errorf("%s's DMs keep an Acknowledge button: %+v", u, b)
		}
	}
	// executor 5, @erin 3, commander 3 (10:20 alice, 10:25 bob, 10:30
	// alice): none was left out of the check.
	if pages != 11 {
		t.Errorf("%d pages seen, want 11", pages)
	}
}

// Resolve takes the buttons off the step that was running: its message
// keeps its text and says the step was not finished.
func TestResolveClosesStep(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		drill    bool
		run      func(e *svcEnv, ch string)
		want     string // the step message after resolve
	}{
		{
			name: "done and skip", scenario: "checkout-down",
			want: "Step 1/2 · restart — Restart the checkout pods. (estimate 5m)\n" +
				"Incident resolved at 10:20 CET; this step was not finished.",
		},
		{
			name: "answers", scenario: "db-corruption",
			want: "Step 1/4 · assess — Check whether the primary still serves reads and when the last good backup ran. (estimate 10m, owner: executor)\n" +
				"*Is the primary still serving reads?*\n" +
				"Incident resolved at 10:20 CET; this step was not finished.",
		},
		{
			name: "approved step of a drill", scenario: "db-corruption", drill: true,
			run: func(e *svcEnv, ch string) {
				e.clock.Set(svcT0.Add(5 * time.Minute))
				e.press(uBob, ch, "No")
				e.press(uErin, dmOf(uErin), "Approve")
			},
			want: "[DRILL] Step 3/4 · restore — Restore the last snapshot into a new instance and repoint the app. (estimate 1h)\n" +
				"Incident resolved at 10:20 CET; this step was not finished.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSvcEnv(t, svcPlan(t))
			e.declare(tt.scenario, "", tt.drill)
			ch := e.channel(1)
			if tt.run != nil {
				tt.run(e, ch)
			}
			if e.chat.LastButtons(ch) == nil {
				t.Fatalf("no step buttons before resolve; messages: %s", dumpMsgs(e.chat.Posts(ch)))
			}
			e.clock.Set(svcT0.Add(20 * time.Minute))
			e.mustCommand(uAlice, ch, "resolve")
			if got := e.chat.LastButtons(ch); got != nil {
				t.Errorf("buttons left after resolve: %v; messages: %s", btnLabels(got), dumpMsgs(e.chat.Posts(ch)))
			}
			e.mustFind(ch, tt.want)
			// The postmortem says the same: unfinished, not running.
			pm, err := e.svc.Postmortem(e.ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			last := pm.Steps[len(pm.Steps)-1]
			if last.Outcome != incident.PMStepUnfinished || !strings.Contains(pm.Markdown(), "| unfinished |") {
				t.Errorf("postmortem step %s outcome %q, want unfinished (in the Markdown too)", last.ID, last.Outcome)
			}
		})
	}
}

// The webhook tells the paging service of the resolution of every role.
func TestResolveWebhooks(t *testing.T) {
	t.Parallel()
	p := svcPlan(t)
	p.Paging.Webhook = "https://hooks.example.com/page"
	e := newSvcEnv(t, p)
	e.declare("db-corruption", "", false)
	e.mustCommand(uAlice, e.channel(1), "resolve")
	var events []string
	for _, c := range e.chat.CallsOf("Webhook") {
		var m struct{ Event, Role string }
		if err := json.Unmarshal(c.Body, &m); err != nil {
			t.Fatal(err)
		}
		events = append(events, m.Event+" "+m.Role)
	}
	// Alice, paged as commander, acknowledges by resolving.
	want := []string{"page commander", "page executor", "acknowledge commander", "resolve commander", "resolve executor"}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("webhook events (-want +got):\n%s", diff)
	}
}

// A second Engine on the same store (a restarted process) picks up the
// timers: each fires once, whichever process ticks.
func TestRestart(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	e.at(3 * time.Minute)

	second := e.newService()
	e.clock.Set(svcT0.Add(5 * time.Minute))
	if err := second.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"commander:bob<alice", "executor:alice<bob"}, roleContact(e.events(1, incident.KindEscalated))); diff != "" {
		t.Errorf("escalations after restart (-want +got):\n%s", diff)
	}
	if got := len(e.pagesTo(uBob)); got != 2 {
		t.Errorf("bob got %d pages, want 2", got)
	}
	// The new process carries on with presses and alerts.
	e.svc = second
	e.press(uBob, e.channel(1), "Yes")
	e.at(time.Hour)
	if n := len(e.events(1, incident.KindRTOAlert)); n != 1 {
		t.Errorf("%d RTO alerts at 50%%, want 1", n)
	}
}

// An incident keeps the plan it was declared with: SetPlan changes what
// later declarations get, and a restarted process with the new plan reads
// the old one back from the store.
func TestPlanReload(t *testing.T) {
	const v1 = `version: 1
name: v1
contacts:
  bob: {name: Bob Dahl, slack: U0BOB0001}
  alice: {name: Alice Berg, slack: U0ALICE01}
roles:
  executor: [bob, alice]
services:
  web: {rto: 1h}
scenarios:
  outage:
    title: Web outage
    service: web
    severity: sev2
    page: [executor]
    steps:
      - {id: restart, do: Restart the web tier., estimate: 10m}
      - {id: check, do: Check the front page., estimate: 5m}
`
	v2 := strings.Replace(v1, "Restart the web tier.", "Fail over to the other region.", 1)
	v2 = strings.Replace(v2, "name: v1", "name: v2", 1)
	p1 := mustParse(t, v1)
	p2 := mustParse(t, v2)

	e := newSvcEnv(t, p1)
	e.declare("outage", "", false)
	if err := e.svc.SetPlan(e.ctx, p2); err != nil {
		t.Fatal(err)
	}
	if e.svc.Plan() != p2 {
		t.Error("Plan() is not the new plan")
	}
	e.declare("outage", "", false)
	e.mustFind(e.channel(1), "Restart the web tier.")
	e.mustFind(e.channel(2), "Fail over to the other region.")

	// A restart with only v2 at hand.
	e.plan = p2
	e.svc = e.newService()
	e.press(uBob, e.channel(1), "Done")
	e.mustFind(e.channel(1), "Step 2/2 · check")
	if got := e.incident(1).PlanHash; got != p1.Hash {
		t.Errorf("incident 1 plan = %.12s, want v1 %.12s", got, p1.Hash)
	}
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Steps[0].Do != "Restart the web tier." {
		t.Errorf("postmortem of incident 1 uses the wrong plan: %+v", pm.Steps[0])
	}
}

func mustParse(t *testing.T, src string) *playbooks.Plan {
	t.Helper()
	p, diags := playbooks.Parse("plan.yaml", []byte(src))
	if err := diags.Err(); err != nil {
		t.Fatalf("parse plan: %v", err)
	}
	return p
}

func TestSeenEvent(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	for i, want := range []bool{false, true, true} {
		seen, err := e.svc.SeenEvent(e.ctx, "Ev123")
		if err != nil || seen != want {
			t.Errorf("call %d: seen %v, %v; want %v", i, seen, err, want)
		}
	}
	if seen, _ := e.svc.SeenEvent(e.ctx, "Ev124"); seen {
		t.Error("a new event was seen")
	}
}

// appendFails is a Store whose transactions fail to append to a timeline
// while fail is set: the write of a note failing (or the process dying)
// after everything before it in the transaction.
type appendFails struct {
	incident.Store
	fail *atomic.Bool
}

func (s appendFails) Update(ctx context.Context, fn func(incident.Tx) error) error {
	return s.Store.Update(ctx, func(tx incident.Tx) error {
		if s.fail.Load() {
			tx = failingAppend{tx}
		}
		return fn(tx)
	})
}

type failingAppend struct{ incident.Tx }

func (failingAppend) Append(*incident.Event) error { return errors.New("disk I/O error") }

// TestAddNoteForEvent: the event is recorded with its note or not at all,
// and an event recorded before notes nothing.
func TestAddNoteForEvent(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	fail := &atomic.Bool{}
	svc, err := incident.New(incident.Config{Plan: e.plan, Store: appendFails{e.store, fail}, Chat: e.chat, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	notes := func() []string {
		var out []string
		for _, ev := range e.events(1, incident.KindNote) {
			out = append(out, ev.Actor+"|"+ev.Text)
		}
		return out
	}

	fail.Store(true)
	if _, err := svc.AddNoteForEvent(e.ctx, "pinned/"+ch+"/1.1", ch, uBob, "Pinned: failover done"); incident.ErrorCode(err) != incident.EINTERNAL {
		t.Fatalf("note while the timeline cannot be written: %v, want an internal error", err)
	}
	fail.Store(false)
	// Slack sends the event again: the first attempt left no trace.
	for i, wantDup := range []bool{false, true, true} {
		dup, err := svc.AddNoteForEvent(e.ctx, "pinned/"+ch+"/1.1", ch, uBob, "Pinned: failover done")
		if err != nil || dup != wantDup {
			t.Errorf("attempt %d: dup %v, %v; want %v", i+2, dup, err, wantDup)
		}
	}
	if diff := cmp.Diff(notes(), []string{uBob + "|Pinned: failover done"}); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
	if seen, err := svc.SeenEvent(e.ctx, "pinned/"+ch+"/1.1"); err != nil || !seen {
		t.Errorf("SeenEvent after the note = %v, %v; want seen", seen, err)
	}

	// An event SeenEvent recorded notes nothing.
	if _, err := svc.SeenEvent(e.ctx, "Ev9"); err != nil {
		t.Fatal(err)
	}
	if dup, err := svc.AddNoteForEvent(e.ctx, "Ev9", ch, uBob, "Pinned: x"); err != nil || !dup {
		t.Errorf("event seen before: dup %v, %v; want dup", dup, err)
	}

	// Outside an incident channel, or with no text: nothing, and the event
	// is not recorded.
	if _, err := svc.AddNoteForEvent(e.ctx, "Ev10", "CNOTINCIDENT", uBob, "Pinned: x"); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("outside an incident: %v, want ENOTFOUND", err)
	}
	if dup, err := svc.AddNoteForEvent(e.ctx, "Ev11", ch, uBob, "  "); err != nil || dup {
		t.Errorf("empty text: dup %v, %v", dup, err)
	}
	for _, id := range []string{"Ev10", "Ev11"} {
		if seen, _ := svc.SeenEvent(e.ctx, id); seen {
			t.Errorf("%s recorded though it noted nothing", id)
		}
	}
	if _, err := svc.AddNoteForEvent(e.ctx, "", ch, uBob, "x"); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("no event id: %v, want EINVALID", err)
	}
	if diff := cmp.Diff(notes(), []string{uBob + "|Pinned: failover done"}); diff != "" {
		t.Errorf("notes at the end (-got +want):\n%s", diff)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := incident.New(incident.Config{Store: newSvcEnv(t, svcPlan(t)).store}); err == nil {
		t.Error("New without a plan succeeded")
	}
	if _, err := incident.New(incident.Config{Plan: svcPlan(t)}); err == nil {
		t.Error("New without a store succeeded")
	}
	// Without a chat surface an Engine still serves reads and commands, but
	// Tick says it cannot deliver.
	e := newSvcEnv(t, svcPlan(t))
	svc, err := incident.New(incident.Config{Plan: e.plan, Store: e.store, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Tick(e.ctx); err == nil || !strings.Contains(err.Error(), "no chat surface") {
		t.Errorf("Tick without chat: %v", err)
	}
}

// pagedUnanswered returns a step of TestStatusPagedAgain: at 10:30 CET bob
// types "/incident COMMAND", and nobody answers its two pages (10:35,
// 10:40), so the commander is paged again.
func pagedUnanswered(command string) func(e *svcEnv, ch string) {
	return func(e *svcEnv, ch string) {
		e.clock.Set(svcT0.Add(30 * time.Minute))
		e.mustCommand(uBob, ch, command)
		e.at(35 * time.Minute)
		e.at(40 * time.Minute)
	}
}

// TestDeclareSaysWhatIsAlreadyOpen: declaring a scenario that already has
// an open incident (the same problem declared twice, or by two people at
// once) answers with the earlier one, so the second can be resolved and
// the work done in one channel; drills and other scenarios are apart, and
// a resolved incident is not mentioned.
func TestDeclareSaysWhatIsAlreadyOpen(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	first := e.mustCommand(uAlice, "CGENERAL", "declare db-corruption checksum errors")
	if strings.Contains(first.Text, "Also open") {
		t.Errorf("first declaration: %q mentions another", first.Text)
	}
	e.clock.Set(svcT0.Add(2 * time.Minute))
	second := e.mustCommand(uBob, "CGENERAL", "declare db-corruption orders table broken")
	want := "\n:information_source: Also open for db-corruption: incident #1 (<#" + e.channel(1) + ">), declared 2m ago by <@U0ALICE01>. If it is the same problem, work there and resolve this one."
	if !strings.HasSuffix(second.Text, want) {
		t.Errorf("second declaration: %q\nwant it to end %q", second.Text, want)
	}
	for _, text := range []string{"drill db-corruption practice", "declare checkout-down pods crashing"} {
		if r := e.mustCommand(uBob, "CGENERAL", text); strings.Contains(r.Text, "Also open") {
			t.Errorf("%s: %q mentions an incident of another kind", text, r.Text)
		}
	}
	e.mustCommand(uAlice, e.channel(1), "resolve duplicate")
	e.mustCommand(uAlice, e.channel(2), "resolve fixed")
	if r := e.mustCommand(uBob, "CGENERAL", "declare db-corruption again"); strings.Contains(r.Text, "Also open") {
		t.Errorf("after both were resolved: %q", r.Text)
	}
}

// TestDeclareConfirmedByDM: a declaration from the dialog (Confirm), whose
// submission shows nothing, is confirmed to its declarer by direct
// message, naming the channel; one by slash command is not (its answer is
// shown in the channel).
func TestDeclareConfirmedByDM(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	if _, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "db-corruption", UserID: uZed, ChannelID: "CGENERAL", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	m := e.mustFind(dmOf(uZed), "declared incident #1 (sev1)")
	if !strings.HasSuffix(m.Text, "Channel: #inc-1-db-corruption") {
		t.Errorf("confirmation %q, want it to name the channel, as a page does", m.Text)
	}
	e.mustCommand(uZed, "CGENERAL", "declare checkout-down")
	e.tick()
	if _, ok := e.find(dmOf(uZed), "declared incident #2"); ok {
		t.Error("a slash-command declaration was confirmed by DM too")
	}
}
