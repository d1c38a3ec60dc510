package incident_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

// stepKinds returns the step-related timeline: kind and step (and answer).
func (e *svcEnv) stepKinds(id int64) []string {
	var out []string
	for _, ev := range e.timeline(id) {
		switch ev.Kind {
		case incident.KindStepStarted, incident.KindStepDone, incident.KindStepSkipped, incident.KindApprovalRequested,
			incident.KindApproved, incident.KindDenied, incident.KindUnauthorized:
			out = append(out, string(ev.Kind)+" "+ev.Data["step"])
		case incident.KindDecision:
			out = append(out, fmt.Sprintf("decision %s %s→%s", ev.Data["step"], ev.Data["answer"], ev.Data["next"]))
		}
	}
	return out
}

func TestDecisionYes(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(7 * time.Minute))
	if r := e.press(uBob, ch, "Yes"); r.Text != "" {
		t.Errorf("reply = %q, want none (the message says it)", r.Text)
	}
	assess := e.mustFind(ch, "Step 1/4 · assess")
	if !strings.HasSuffix(assess.Text, ":point_right: <@U0BOB0001> answered *Yes* at 10:07 CET (took 7m) → repair") || len(assess.Buttons) != 0 {
		t.Errorf("assess after the answer: %q %v", assess.Text, btnLabels(assess.Buttons))
	}
	// The newest step message (the channel also hears of the commander's
	// escalation, due at 10:05).
	last := e.mustFind(ch, "Step 2/4 · repair")
	if last.Text != "Step 2/4 · repair — Run the page-level repair on the replica, then fail over. (estimate 30m)" {
		t.Errorf("next step = %q", last.Text)
	}
	if got := btnLabels(last.Buttons); !slices.Equal(got, []string{"Done", "Skip"}) {
		t.Errorf("buttons = %v", got)
	}
	// repair goes on to verify (its next:), then the end.
	e.press(uBob, ch, "Done")
	e.press(uBob, ch, "Done")
	want := []string{"step_started assess", "decision assess Yes→repair", "step_started repair", "step_done repair", "step_started verify", "step_done verify"}
	if diff := cmp.Diff(want, e.stepKinds(1)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	msgs := e.chat.Posts(ch)
	if got := msgs[len(msgs)-1].Text; got != ":checkered_flag: All steps done. When service is restored: /incident resolve" {
		t.Errorf("last message = %q", got)
	}
	if e.incident(1).Current != "" {
		t.Errorf("current = %q after the end", e.incident(1).Current)
	}
}

func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(5 * time.Minute))
	e.press(uBob, ch, "No")

	// restore needs approval: it is not started, but posted with Approve
	// and Deny, and each approver gets the same buttons in a DM.
	req := e.mustFind(ch, "Step 3/4 · restore")
	if !strings.Contains(req.Text, ":lock: This step needs approval from the approver role before it starts: Erin Lund, Frank Moe") {
		t.Errorf("approval request = %q", req.Text)
	}
	if got := btnLabels(req.Buttons); !slices.Equal(got, []string{"Approve", "Deny"}) {
		t.Errorf("buttons = %v", got)
	}
	for _, u := range []string{uErin, uFrank} {
		m, ok := e.find(dmOf(u), "Your approval is needed")
		if !ok || !slices.Equal(btnLabels(m.Buttons), []string{"Approve", "Deny"}) {
			t.Errorf("approval DM to %s: %+v", u, m)
		}
	}
	// Done cannot be pressed on it (there is no such button), and a
	// forged press is refused.
	if r := e.pressAction(uBob, ch, "done|1|1|0|restore"); !strings.Contains(r.Text, "waits for approval by the approver role") {
		t.Errorf("done before approval: %q", r.Text)
	}

	// Someone not in the approver role is refused and recorded.
	r := e.press(uBob, ch, "Approve")
	if r.Text != "Only the approver role may approve this step: Erin Lund, Frank Moe" {
		t.Errorf("refusal = %q", r.Text)
	}
	r = e.press(uAlice, ch, "Deny")
	// Told they may not deny (what they pressed), not "approve".
	if r.Text != "Only the approver role may deny this step: Erin Lund, Frank Moe" {
		t.Errorf("refusal = %q", r.Text)
	}
	un := e.events(1, incident.KindUnauthorized)
	if len(un) != 2 || un[0].Actor != uBob || un[0].Data["action"] != "approve" || un[1].Actor != uAlice || un[1].Data["action"] != "deny" {
		t.Errorf("unauthorized = %+v", un)
	} else if want := "Bob Dahl pressed approve on step restore but is not in the approver role"; un[0].Text != want {
		t.Errorf("unauthorized text %q, want %q (a name, not a member ID)", un[0].Text, want)
	}

	// erin denies, from her DM.
	e.clock.Set(svcT0.Add(10 * time.Minute))
	oldApprove := e.button(ch, "Approve")
	e.press(uErin, dmOf(uErin), "Deny")
	e.mustFind(ch, "<@U0ERIN001> denied step restore: it does not start.")
	req = e.mustFind(ch, "Step 3/4 · restore")
	if !strings.Contains(req.Text, ":no_entry: Denied by <@U0ERIN001> at 10:10 CET") || !slices.Equal(btnLabels(req.Buttons), []string{"Request approval again"}) {
		t.Errorf("after deny: %q %v", req.Text, btnLabels(req.Buttons))
	}
	for _, u := range []string{uErin, uFrank} {
		m := e.mustFind(dmOf(u), "Your approval is needed")
		if len(m.Buttons) != 0 || !strings.Contains(m.Text, "Denied by <@U0ERIN001>") {
			t.Errorf("DM to %s after deny: %q %v", u, m.Text, btnLabels(m.Buttons))
		}
	}
	// A second decision on the denied round acts not.
	if r := e.pressAction(uFrank, dmOf(uFrank), oldApprove.Action); !strings.HasPrefix(r.Text, "Already denied by <@U0ERIN001> at 10:10 CET.") {
		t.Errorf("approve after deny: %q", r.Text)
	}

	// Anyone asks again: a new round, new messages.
	e.clock.Set(svcT0.Add(12 * time.Minute))
	reapprove := e.button(ch, "Request approval again")
	e.press(uAlice, ch, "Request approval again")
	old := e.chat.Posts(ch)
	var oldReq incident.Message
	for _, m := range old {
		if strings.Contains(m.Text, "Denied by") && strings.Contains(m.Text, "approval requested again by <@U0ALICE01> at 10:12 CET") {
			oldReq = m
		}
	}
	if oldReq.Text == "" || len(oldReq.Buttons) != 0 {
		t.Errorf("the denied request was not closed: %s", dumpMsgs(old))
	}
	if r := e.pressAction(uBob, ch, reapprove.Action); r.Text != "Approval is already requested again; see the newest approval message." {
		t.Error("a second Request approval again press acted")
	}
	// The first round's Approve is stale now.
	if r := e.pressAction(uErin, ch, oldApprove.Action); r.Text != "This approval request was replaced by a newer one; use the newest approval message." {
		t.Errorf("stale approve: %q", r.Text)
	}

	// frank (email only in the plan) approves from his DM.
	e.clock.Set(svcT0.Add(15 * time.Minute))
	r = e.press(uFrank, dmOf(uFrank), "Approve")
	if r.Text != "" {
		t.Errorf("approve reply = %q", r.Text)
	}
	if _, ok := e.chat.FindButton(dmOf(uErin), "Approve"); ok {
		t.Errorf("erin's approval DMs still offer Approve: %s", dumpMsgs(e.chat.DMs(uErin)))
	}
	want := []string{
		"step_started assess", "decision assess No→restore",
		"approval_requested restore", "unauthorized restore", "unauthorized restore",
		"denied restore", "approval_requested restore", "approved restore", "step_started restore",
	}
	if diff := cmp.Diff(want, e.stepKinds(1)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// drbot asked the first time; alice asked again.
	var askers []string
	for _, ev := range e.events(1, incident.KindApprovalRequested) {
		askers = append(askers, ev.Actor)
	}
	if diff := cmp.Diff(askers, []string{"", uAlice}); diff != "" {
		t.Errorf("actors of approval_requested (-got +want):\n%s", diff)
	}
	last := e.mustFind(ch, "Step 3/4 · restore")
	if !strings.HasPrefix(last.Text, "Step 3/4 · restore") || !slices.Equal(btnLabels(last.Buttons), []string{"Done", "Skip"}) {
		t.Errorf("restore after approval: %q %v", last.Text, btnLabels(last.Buttons))
	}
	rec := e.incident(1).Steps[1]
	if rec.Approval != "approved" || rec.ApprovedBy != uFrank || rec.ApprovalRequest != 2 || !rec.StartedAt.Equal(svcT0.Add(15*time.Minute)) {
		t.Errorf("restore step record = %+v", rec)
	}
}

func TestApprovalDMButtonsGone(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.press(uBob, ch, "No")
	e.press(uErin, dmOf(uErin), "Approve")
	for _, conv := range []string{ch, dmOf(uErin), dmOf(uFrank)} {
		for _, m := range e.chat.Posts(conv) {
			if slices.Contains(btnLabels(m.Buttons), "Approve") {
				t.Errorf("Approve still offered in %s: %q", conv, m.Text)
			}
		}
	}
	// frank approving too late: already approved.
	r := e.pressAction(uFrank, dmOf(uFrank), "approve|1|1|1|restore")
	if r.Text != "Already approved by <@U0ERIN001> at 10:00 CET." {
		t.Errorf("late approve: %q", r.Text)
	}
}

func TestStalePresses(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(3 * time.Minute))
	done := e.button(ch, "Done")
	e.press(uBob, ch, "Done")
	e.clock.Set(svcT0.Add(4 * time.Minute))
	skip := e.button(ch, "Skip")

	tests := []struct {
		name, action, want string
	}{
		{"done twice", done.Action, "This step was already marked done by <@U0BOB0001> at 10:03 CET."},
		{"wrong step id", "done|1|1|0|restart", "This button is out of date; nothing was done."},
		{"step record index out of range", "skip|1|9|0|check", "This button is out of date; nothing was done."},
		{"answer of a step without answers", "answer|1|1|0|check", "This button is out of date; nothing was done."},
	}
	for _, tt := range tests {
		before := len(e.timeline(1))
		if r := e.pressAction(uAlice, ch, tt.action); r.Text != tt.want {
			t.Errorf("%s: reply %q, want %q", tt.name, r.Text, tt.want)
		}
		if got := len(e.timeline(1)); got != before {
			t.Errorf("%s: the timeline grew by %d", tt.name, got-before)
		}
	}
	e.press(uBob, ch, "Skip")
	if r := e.pressAction(uAlice, ch, skip.Action); r.Text != "This step was already skipped by <@U0BOB0001> at 10:04 CET." {
		t.Errorf("skip twice: %q", r.Text)
	}

	// A press for an incident that does not exist, and a foreign button.
	if _, err := e.svc.Press(e.ctx, incident.PressRequest{UserID: uAlice, Action: "done|99|0|0|x"}); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("press on incident 99: %v", err)
	}
	for _, a := range []string{"", "nonsense", "ack|x|role", "ack|1|", "done|1|-1|0|x", "done|1|0|0|", "approve|1|0"} {
		if _, err := e.svc.Press(e.ctx, incident.PressRequest{UserID: uAlice, Action: a}); incident.ErrorCode(err) != incident.EINVALID {
			t.Errorf("press %q: %v, want EINVALID", a, err)
		}
	}

	// Once resolved, every button says so.
	e.mustCommand(uAlice, ch, "resolve")
	for _, a := range []string{done.Action, "ack|1|executor", "approve|1|0|1|x"} {
		if r := e.pressAction(uBob, ch, a); !strings.HasPrefix(r.Text, "Incident #1 is resolved (by <@U0ALICE01> at 10:04 CET)") {
			t.Errorf("press %q after resolve: %q", a, r.Text)
		}
	}
}

// A press of one incident's button never acts on another.
func TestPressOtherIncident(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false)
	e.declare("checkout-down", "", false)
	ch1 := e.channel(1)
	done1 := e.button(ch1, "Done")
	e.pressAction(uBob, e.channel(2), done1.Action)
	if got := e.incident(2).Steps[0].Outcome; got != "" {
		t.Errorf("incident 2's step = %q after pressing incident 1's button", got)
	}
	if got := e.incident(1).Steps[0].Outcome; got != "done" {
		t.Errorf("incident 1's step = %q", got)
	}
}
