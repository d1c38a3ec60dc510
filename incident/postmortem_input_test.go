package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

// TestPostmortemInputs records impact, root cause and action items while
// the incident is open and after, and reads them back as the
// postmortem's sections, with the resolve text as its resolution.
func TestPostmortemInputs(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "Checkout returns 502", false)
	ch := e.channel(1)
	e.at(10 * time.Minute)

	e.mustCommand(uBob, ch, "impact Nobody could pay for 10 minutes <!channel>")
	e.mustFind(ch, ":bar_chart: Impact, recorded by <@U0BOB0001> for the postmortem: Nobody could pay for 10 minutes &lt;!channel&gt;")
	e.mustCommand(uBob, ch, "impact Nobody could pay for 12 minutes")
	e.mustCommand(uAlice, ch, "cause A bad config push; the canary did not cover checkout")
	r := e.mustCommand(uAlice, ch, "action @bob Add checkout to the canary")
	if !strings.Contains(r.Text, "Action item 1 recorded") {
		t.Errorf("action reply %q", r.Text)
	}
	e.mustFind(ch, "Action item 1, recorded by <@U0ALICE01> (owner Bob Dahl): Add checkout to the canary")
	e.mustCommand(uAlice, ch, "action <@U0ERIN001|erin> Page on 502s")
	e.mustCommand(uAlice, ch, "action Review the push runbook")
	for _, tc := range []struct{ text, want string }{
		{"action @zed Something", "Unknown owner"},
		{"action @bob", "Say what is to be done"},
		{"impact", "Write it after the command"},
		{"cause " + strings.Repeat("x", incident.MaxText+1), "characters long"},
	} {
		if _, err := e.command(uAlice, ch, tc.text); incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), tc.want) {
			t.Errorf("%.30s: %v, want %q", tc.text, err, tc.want)
		}
	}
	if r := e.mustCommand(uErin, ch, "status"); !strings.Contains(r.Text, "\nFor the postmortem: impact recorded, root cause recorded, 3 action items") {
		t.Errorf("status lacks what was recorded:\n%s", r.Text)
	}
	e.mustCommand(uAlice, ch, "resolve Rolled back the config push")
	// After the resolve: the review goes on.
	e.at(time.Hour)
	e.mustCommand(uBob, ch, "action @alice Write the review")

	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Impact != "Nobody could pay for 12 minutes" || pm.RootCause != "A bad config push; the canary did not cover checkout" || pm.Resolution != "Rolled back the config push" {
		t.Errorf("impact %q, cause %q, resolution %q", pm.Impact, pm.RootCause, pm.Resolution)
	}
	want := []incident.PMActionItem{
		{Owner: "bob", Text: "Add checkout to the canary", At: "2026-11-21T09:10:00Z", By: uAlice},
		{Owner: "erin", Text: "Page on 502s", At: "2026-11-21T09:10:00Z", By: uAlice},
		{Owner: "", Text: "Review the push runbook", At: "2026-11-21T09:10:00Z", By: uAlice},
		{Owner: "alice", Text: "Write the review", At: "2026-11-21T10:00:00Z", By: uBob},
	}
	if diff := cmp.Diff(want, pm.ActionItems); diff != "" {
		t.Errorf("action items (-want +got):\n%s", diff)
	}
	if pm.Detection.Source != incident.DetectPerson || pm.Detection.By != uAlice || !strings.Contains(pm.Detection.Text, "Declared by Alice Berg") {
		t.Errorf("detection %+v", pm.Detection)
	}
	kinds := map[incident.EventKind]int{}
	for _, k := range e.kinds(1) {
		kinds[incident.EventKind(k)]++
	}
	if kinds[incident.KindImpact] != 2 || kinds[incident.KindRootCause] != 1 || kinds[incident.KindActionItem] != 4 {
		t.Errorf("timeline kinds %v", kinds)
	}

	md := pm.Markdown()
	order := []string{"## Summary", "Checkout returns 502", "## Impact", "Nobody could pay for 12 minutes", "## Detection", "## Key figures",
		"### Steps", "## Root cause and trigger", "A bad config push", "## Resolution", "Rolled back the config push",
		"## Action items", "| 1 | Add checkout to the canary | Bob Dahl |", "| 3 | Review the push runbook | nobody yet |",
		"### Suggested by drbot's findings", "## Lessons learned", "### What went well", "### What went badly", "### Where we got lucky",
		"## Timeline"}
	at := 0
	for _, s := range order {
		i := strings.Index(md[at:], s)
		if i < 0 {
			t.Fatalf("markdown lacks %q after position %d:\n%s", s, at, md)
		}
		at += i + len(s)
	}
}

// TestDetection: how an incident started, as the postmortem says it.
func TestDetection(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", true)
	inc, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: "checkout-down",
		Detection: &incident.Detection{Source: incident.DetectAlert, Alert: "alert CheckoutDown from Alertmanager"}})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]incident.PMDetection{
		1: {Source: incident.DetectDrill, By: uAlice, Text: "A drill, started by Alice Berg."},
		inc.ID: {Source: incident.DetectAlert, Alert: "alert CheckoutDown from Alertmanager",
			Text: "Detected by alert CheckoutDown from Alertmanager; declared by drbot (the alert rule declares on its own)."},
	} {
		pm, err := e.svc.Postmortem(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, pm.Detection); diff != "" {
			t.Errorf("incident %d detection (-want +got):\n%s", id, diff)
		}
	}
}

// TestResolveDialog: "/incident resolve" with no text where a dialog
// opens asks for it and resolves nothing; with text, or with no dialog, it
// resolves.
func TestResolveDialog(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.declare("checkout-down", "", false)
	ch := e.channel(1)
	r, err := e.svc.Command(e.ctx, incident.CommandRequest{UserID: uAlice, ChannelID: ch, Text: "resolve", TriggerID: "t1"})
	if err != nil || !r.OpenResolveModal || !strings.Contains(r.Text, "/incident resolve TEXT") {
		t.Fatalf("resolve with a trigger: %+v %v", r, err)
	}
	if inc := e.incident(1); inc.State != incident.StateOpen {
		t.Fatalf("the dialog's answer resolved the incident")
	}
	r, err = e.svc.Command(e.ctx, incident.CommandRequest{UserID: uAlice, ChannelID: ch, Text: "resolve Fixed", TriggerID: "t2"})
	if err != nil || r.OpenResolveModal || e.incident(1).State != incident.StateResolved || e.incident(1).Resolution != "Fixed" {
		t.Errorf("resolve with text and a trigger: %+v %v %+v", r, err, e.incident(1))
	}
}
