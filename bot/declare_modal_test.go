package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// manyScenarios are 120 scenarios with long titles, emoji and a
// right-to-left service name.
func manyScenarios() []incident.ScenarioInfo {
	var out []incident.ScenarioInfo
	for i := range 120 {
		out = append(out, incident.ScenarioInfo{
			ID:       fmt.Sprintf("scenario-%03d", i),
			Title:    fmt.Sprintf("🔥 Outage %d of the payments platform in the north European region, with data loss", i),
			Service:  "שירות-תשלומים",
			Severity: "sev2", RTO: 2 * time.Hour,
		})
	}
	out[117].Title = "Certificate expired on the edge proxies"
	return out
}

// With more than 100 scenarios the declare dialog still lets people pick
// every one: an external select served by drbot (block_suggestion on the
// interactions endpoint), and the dialog says so. Slack (the validating
// fake) takes the dialog and each answer.
func TestDeclareModalManyScenarios(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.scenarios = manyScenarios
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{OpenDeclareModal: true}, nil
	}
	if status, _ := h.command("declare"); status != 200 {
		t.Fatalf("declare: %d", status)
	}
	calls, err := h.fs.WaitForOK("views.open", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	view, _ := json.Marshal(calls[0].JSON()["view"])
	for _, want := range []string{`"type":"external_select"`, `"min_query_length":0`, "The plan has 120 scenarios, more than a menu shows: type part of a scenario's id, title or service"} {
		if !strings.Contains(string(view), want) {
			t.Errorf("view lacks %s:\n%.1500s", want, view)
		}
	}

	suggest := func(query string) []string {
		t.Helper()
		status, body := h.interaction(map[string]any{
			"type": "block_suggestion", "user": map[string]any{"id": "U1"}, "action_id": BlockScenario,
			"block_id": BlockScenario, "value": query, "view": map[string]any{"callback_id": DeclareCallbackID},
		})
		if status != 200 {
			t.Fatalf("block_suggestion %q: %d %s", query, status, body)
		}
		if err := fakeslack.CheckOptions([]byte(body)); err != nil {
			t.Fatalf("block_suggestion %q: Slack would refuse the answer: %v", query, err)
		}
		var r slack.OptionsResponse
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range r.Options {
			ids = append(ids, o.Value)
		}
		return ids
	}
	if got := suggest(""); len(got) != 100 || got[0] != "scenario-000" {
		t.Errorf("empty query: %d options starting %v, want the first 100", len(got), got[:min(3, len(got))])
	}
	if got := suggest("scenario-11"); len(got) != 10 || got[0] != "scenario-110" {
		t.Errorf("by id: %v", got)
	}
	if got := suggest("CERTIFICATE"); len(got) != 1 || got[0] != "scenario-117" {
		t.Errorf("by title, ignoring case: %v", got)
	}
	if got := suggest("scenario-119"); len(got) != 1 {
		t.Errorf("the 120th scenario cannot be found: %v", got)
	}
	if got := suggest("nothing like it"); len(got) != 0 {
		t.Errorf("no match: %v", got)
	}

	// Submitting a scenario picked from the external select declares it.
	status, body := h.interaction(submission("scenario-119", "", false))
	if status != 200 || body != "" {
		t.Errorf("submit: %d %q", status, body)
	}
	h.svc.waitUntil(t, "the declaration", func() bool { return len(h.svc.declares) == 1 && h.svc.declares[0].Scenario == "scenario-119" })
}

// Up to 100 scenarios the dialog keeps its menu, every option within
// Slack's limits.
func TestDeclareViewStaticUpTo100(t *testing.T) {
	v := DeclareView(manyScenarios()[:100], "C1")
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), `"type":"static_select"`) || strings.Contains(string(raw), BlockScenarioHelp) {
		t.Errorf("100 scenarios: want a menu and no help:\n%.500s", raw)
	}
}

// Every dialog drbot opens is one Slack takes (title, submit and close of
// 24 characters, labels, options, ids), long channel ids and all.
func TestViewsWithinSlackLimits(t *testing.T) {
	ch := "C" + strings.Repeat("0", 20)
	for name, v := range map[string]slack.ModalViewRequest{
		"declare, 3 scenarios":   DeclareView(manyScenarios()[:3], ch),
		"declare, 100 scenarios": DeclareView(manyScenarios()[:100], ch),
		"declare, 120 scenarios": DeclareView(manyScenarios(), ch),
		"review":                 ReviewView(ch),
		"recovery point":         RecoveryPointView(ch),
		"resolve":                ResolveView(ch),
	} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := fakeslack.CheckView(raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
