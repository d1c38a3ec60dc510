package incident_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// -update rewrites the golden files. Another test file of the package may
// declare the flag too; whoever comes first registers it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./incident -run Postmortem -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("%s differs (-got +want); if the change is intended, run go test ./incident -run Postmortem -update:\n%s", path, diff)
	}
}

var pmDay = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// pmAt is a time of the test day: pmAt(10, 1, 35) is 10:01:35.
func pmAt(h, m, s int) time.Time {
	return pmDay.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// pmPlan is the example plan of docs/plan.md, as Parse would return it.
func pmPlan() *playbooks.Plan {
	contacts := map[string]*playbooks.Contact{
		"alice": {ID: "alice", Name: "Alice Berg", Slack: "U0ALICE01", Email: "alice@example.com"},
		"bob":   {ID: "bob", Name: "Bob Dahl", Slack: "U0BOB0001"},
		"erin":  {ID: "erin", Name: "Erin Lund", Slack: "U0ERIN001"},
		"frank": {ID: "frank", Name: "Frank Moe", Email: "frank@example.com"},
	}
	sc := &playbooks.Scenario{
		ID: "db-corruption", Title: "Corrupted payments database", Service: "payments-db", Severity: "sev1",
		Page: []string{"commander", "executor"}, RTOAlerts: []float64{0.5, 0.75, 0.9},
		Steps: []*playbooks.Step{
			{ID: "assess", Do: "Check whether the primary still serves reads and when the last good backup ran.", Estimate: 10 * time.Minute, Owner: "executor",
				Ask: "Is the primary still serving reads?", Answers: []playbooks.Answer{{Label: "Yes", Next: "repair"}, {Label: "No", Next: "restore"}}},
			{ID: "repair", Do: "Run the page-level repair on the replica, then fail over.", Estimate: 30 * time.Minute, Next: "verify"},
			{ID: "restore", Do: "Restore the last snapshot into a new instance and repoint the app.", Estimate: time.Hour, Approval: "approver"},
			{ID: "verify", Do: "Run the smoke tests and compare order counts with the payment provider.", Estimate: 10 * time.Minute, Next: "end"},
		},
	}
	return &playbooks.Plan{
		Version: 1, Name: "Acme Shop disaster recovery plan", Timezone: "UTC", Location: time.UTC,
		Contacts: contacts, ContactOrder: []string{"alice", "bob", "erin", "frank"},
		Roles: map[string][]string{
			"commander": {"alice", "bob"}, "executor": {"bob", "alice"}, "approver": {"erin", "frank"},
			"security": {"erin"}, "customer": {"frank"},
		},
		RoleOrder: []string{"commander", "executor", "approver", "security", "customer"},
		Paging:    playbooks.Paging{AckTimeout: 5 * time.Minute, Rounds: 2},
		Services: map[string]*playbooks.Service{
			"payments-db": {ID: "payments-db", RTO: 2 * time.Hour, RPO: 15 * time.Minute},
		},
		ServiceOrder:  []string{"payments-db"},
		Scenarios:     map[string]*playbooks.Scenario{"db-corruption": sc},
		ScenarioOrder: []string{"db-corruption"},
	}
}

func pmEv(t time.Time, kind incident.EventKind, actor, text string, kv ...string) incident.Event {
	e := incident.Event{At: t, Kind: kind, Actor: actor, Text: text}
	if len(kv) > 0 {
		e.Data = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Data[kv[i]] = kv[i+1]
		}
	}
	return e
}

// realIncident is a resolved sev1 that went down the restore branch: an
// escalation, a press by someone not allowed to approve, a slow approval,
// a restore slower than its estimate, a missed RTO, a breach page nobody
// answered and a page that could not be delivered.
func realIncident() (*incident.Incident, []incident.Event) {
	inc := &incident.Incident{
		ID: 7, Scenario: "db-corruption", Title: "Corrupted payments database",
		Summary: "Checkout fails: payments-db returns checksum errors | since 09:55", Severity: "sev1", Service: "payments-db",
		State: incident.StateResolved, DeclaredAt: pmAt(10, 0, 0), DeclaredBy: "U0ALICE01",
		ResolvedAt: pmAt(12, 15, 0), ResolvedBy: "U0ALICE01", RTO: 2 * time.Hour, RPO: 15 * time.Minute,
		BeganAt: pmAt(9, 55, 0), RecoveryPoint: pmAt(9, 45, 0),
		Resolution: "Restored from the 09:45 snapshot into a new instance; 12 orders re-entered from the provider's export",
		Impact:     "Checkout failed for every customer for 2h15m; about 340 orders were not taken | 12 were re-entered",
		RootCause:  "A storage firmware update corrupted pages of the orders table; the update ran during business hours",
		ActionItems: []incident.ActionItem{
			{Owner: "bob", Text: "Stage firmware updates on a replica first", At: pmAt(12, 20, 0), By: "U0ALICE01"},
			{Text: "Take snapshots every 5 minutes during maintenance", At: pmAt(12, 22, 0), By: "U0BOB0001"},
		},
		Detection: incident.Detection{Source: incident.DetectPerson, By: "U0ALICE01"},
		ChannelID: "C0001", ChannelName: "inc-7-db-corruption",
		Roles: []*incident.RolePage{
			{Role: "commander", Contacts: []string{"alice", "bob"}, Sent: 1, Acked: true, AckedBy: "alice", AckedAt: pmAt(10, 1, 35), PagedAt: pmAt(10, 0, 0)},
			{Role: "executor", Contacts: []string{"bob", "alice"}, Sent: 2, Acked: true, AckedBy: "alice", AckedAt: pmAt(10, 6, 10), PagedAt: pmAt(10, 0, 0)},
			{Role: "approver", Contacts: []string{"erin", "frank"}, Sent: 2, PagedAt: pmAt(12, 0, 0)},
		},
		Steps: []*incident.StepRecord{
			{StepID: "assess", StartedAt: pmAt(10, 0, 0), EndedAt: pmAt(10, 9, 0), Outcome: "answered", Answer: "No", By: "U0ALICE01"},
			{StepID: "restore", StartedAt: pmAt(10, 9, 0), EndedAt: pmAt(12, 1, 0), Outcome: "done", By: "U0ALICE01",
				Approval: "approved", ApprovalRequestedAt: pmAt(10, 9, 0), ApprovedBy: "U0ERIN001", ApprovedAt: pmAt(10, 21, 0)},
			{StepID: "verify", StartedAt: pmAt(12, 1, 0), EndedAt: pmAt(12, 12, 0), Outcome: "done", By: "U0BOB0001"},
		},
	}
	events := []incident.Event{
		pmEv(pmAt(10, 0, 0), incident.KindDeclared, "U0ALICE01", "Corrupted payments database: Checkout fails: payments-db returns checksum errors | since 09:55"),
		pmEv(pmAt(10, 0, 0), incident.KindPaged, "", "paged alice (commander)", "role", "commander", "contact", "alice"),
		pmEv(pmAt(10, 0, 0), incident.KindPaged, "", "paged bob (executor)", "role", "executor", "contact", "bob"),
		pmEv(pmAt(10, 0, 0), incident.KindStepStarted, "", "assess", "step", "assess"),
		pmEv(pmAt(10, 0, 2), incident.KindChannelCreated, "", "created #inc-7-db-corruption", "channel", "C0001"),
		pmEv(pmAt(10, 1, 35), incident.KindAcknowledged, "U0ALICE01", "alice acknowledged (commander)", "role", "commander", "contact", "alice"),
		pmEv(pmAt(10, 5, 0), incident.KindEscalated, "", "bob did not acknowledge in 5m; paged alice (executor)", "role", "executor", "contact", "alice", "from", "bob"),
		pmEv(pmAt(10, 6, 10), incident.KindAcknowledged, "U0ALICE01", "alice acknowledged (executor)", "role", "executor", "contact", "alice"),
		pmEv(pmAt(10, 9, 0), incident.KindDecision, "U0ALICE01", "Is the primary still serving reads? No", "step", "assess", "answer", "No", "next", "restore"),
		pmEv(pmAt(10, 9, 0), incident.KindApprovalRequested, "", "restore waits for approval by approver", "step", "restore", "role", "approver"),
		pmEv(pmAt(10, 12, 0), incident.KindUnauthorized, "U0BOB0001", "bob may not approve restore", "step", "restore", "action", "approve", "role", "approver"),
		pmEv(pmAt(10, 13, 0), incident.KindUnauthorized, "U0BOB0001", "bob may not approve restore", "step", "restore", "action", "approve", "role", "approver"),
		pmEv(pmAt(10, 14, 0), incident.KindUnauthorized, "U0FRANK01", "frank may not acknowledge for commander", "action", "acknowledge", "role", "commander"),
		pmEv(pmAt(10, 21, 0), incident.KindApproved, "U0ERIN001", "erin approved restore", "step", "restore", "role", "approver"),
		pmEv(pmAt(10, 21, 0), incident.KindStepStarted, "", "restore", "step", "restore"),
		pmEv(pmAt(10, 30, 0), incident.KindNote, "U0BOB0001", "snapshot from 09:45 is the last good one | verified <by hand>"),
		pmEv(pmAt(10, 31, 0), incident.KindBegan, "U0BOB0001", "The failure began at 09:55 UTC", "at", "2026-11-21T09:55:00Z"),
		pmEv(pmAt(11, 0, 0), incident.KindRTOAlert, "", "50% of the RTO used", "percent", "50", "elapsed", "1h0m0s", "remaining", "1h0m0s", "projected", "2026-11-21T11:31:00Z"),
		pmEv(pmAt(11, 30, 0), incident.KindRTOAlert, "", "75% of the RTO used", "percent", "75"),
		pmEv(pmAt(11, 48, 0), incident.KindRTOAlert, "", "90% of the RTO used", "percent", "90"),
		pmEv(pmAt(12, 0, 0), incident.KindRTOBreached, "", "RTO of 2h breached"),
		pmEv(pmAt(12, 0, 0), incident.KindPaged, "", "paged erin (approver)", "role", "approver", "contact", "erin"),
		pmEv(pmAt(12, 0, 0), incident.KindPaged, "", "paged frank (approver)", "role", "approver", "contact", "frank"),
		pmEv(pmAt(12, 0, 1), incident.KindDeliveryFailed, "", "could not page frank: user_not_found", "contact", "frank"),
		pmEv(pmAt(12, 1, 0), incident.KindStepDone, "U0ALICE01", "restore done", "step", "restore"),
		pmEv(pmAt(12, 1, 0), incident.KindStepStarted, "", "verify", "step", "verify"),
		pmEv(pmAt(12, 2, 0), incident.KindRecoveryPoint, "U0ALICE01", "Recovery point: data recovered to 09:45 UTC", "at", "2026-11-21T09:45:00Z"),
		pmEv(pmAt(12, 5, 0), incident.KindNote, "U0ALICE01", "order counts match the provider"),
		pmEv(pmAt(12, 12, 0), incident.KindStepDone, "U0BOB0001", "verify done", "step", "verify"),
		pmEv(pmAt(12, 15, 0), incident.KindResolved, "U0ALICE01", "restored from the 09:45 snapshot"),
		pmEv(pmAt(12, 15, 1), incident.KindPostmortemPosted, "", "postmortem posted"),
	}
	for i := range events {
		events[i].ID, events[i].IncidentID = int64(i+1), inc.ID
	}
	return inc, events
}

// drillIncident is a drill down the repair branch, within its RTO, with a
// repair slower than its estimate.
func drillIncident() (*incident.Incident, []incident.Event) {
	inc := &incident.Incident{
		ID: 8, Scenario: "db-corruption", Title: "Corrupted payments database", Summary: "Wednesday drill",
		Severity: "sev1", Service: "payments-db", Drill: true,
		State: incident.StateResolved, DeclaredAt: pmAt(14, 0, 0), DeclaredBy: "U0ALICE01",
		ResolvedAt: pmAt(15, 0, 0), ResolvedBy: "U0ALICE01", RTO: 2 * time.Hour,
		ChannelID: "C0002", ChannelName: "drill-8-db-corruption",
		Roles: []*incident.RolePage{
			{Role: "commander", Contacts: []string{"alice", "bob"}, Sent: 1, Acked: true, AckedBy: "alice", AckedAt: pmAt(14, 0, 45), PagedAt: pmAt(14, 0, 0)},
			{Role: "executor", Contacts: []string{"bob", "alice"}, Sent: 1, Acked: true, AckedBy: "bob", AckedAt: pmAt(14, 2, 0), PagedAt: pmAt(14, 0, 0)},
		},
		Steps: []*incident.StepRecord{
			{StepID: "assess", StartedAt: pmAt(14, 0, 0), EndedAt: pmAt(14, 8, 0), Outcome: "answered", Answer: "Yes", By: "U0BOB0001"},
			{StepID: "repair", StartedAt: pmAt(14, 8, 0), EndedAt: pmAt(14, 50, 0), Outcome: "done", By: "U0BOB0001"},
			{StepID: "verify", StartedAt: pmAt(14, 50, 0), EndedAt: pmAt(14, 58, 0), Outcome: "done", By: "U0BOB0001"},
		},
	}
	events := []incident.Event{
		pmEv(pmAt(14, 0, 0), incident.KindDeclared, "U0ALICE01", "DRILL Corrupted payments database: Wednesday drill"),
		pmEv(pmAt(14, 0, 0), incident.KindPaged, "", "paged alice (commander)", "role", "commander", "contact", "alice"),
		pmEv(pmAt(14, 0, 0), incident.KindPaged, "", "paged bob (executor)", "role", "executor", "contact", "bob"),
		pmEv(pmAt(14, 0, 0), incident.KindStepStarted, "", "assess", "step", "assess"),
		pmEv(pmAt(14, 0, 3), incident.KindChannelCreated, "", "created #drill-8-db-corruption", "channel", "C0002"),
		pmEv(pmAt(14, 0, 45), incident.KindAcknowledged, "U0ALICE01", "alice acknowledged (commander)", "role", "commander", "contact", "alice"),
		pmEv(pmAt(14, 2, 0), incident.KindAcknowledged, "U0BOB0001", "bob acknowledged (executor)", "role", "executor", "contact", "bob"),
		pmEv(pmAt(14, 8, 0), incident.KindDecision, "U0BOB0001", "Is the primary still serving reads? Yes", "step", "assess", "answer", "Yes", "next", "repair"),
		pmEv(pmAt(14, 8, 0), incident.KindStepStarted, "", "repair", "step", "repair"),
		pmEv(pmAt(14, 50, 0), incident.KindStepDone, "U0BOB0001", "repair done", "step", "repair"),
		pmEv(pmAt(14, 50, 0), incident.KindStepStarted, "", "verify", "step", "verify"),
		pmEv(pmAt(14, 58, 0), incident.KindStepDone, "U0BOB0001", "verify done", "step", "verify"),
		pmEv(pmAt(15, 0, 0), incident.KindResolved, "U0ALICE01", "drill over"),
	}
	return inc, events
}

func TestPostmortemGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func() (*incident.Incident, []incident.Event)
	}{
		{"postmortem", realIncident},
		{"postmortem-drill", drillIncident},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc, events := tc.build()
			pm := incident.BuildPostmortem(inc, events, pmPlan(), inc.ResolvedAt.Add(time.Hour))
			js, err := json.MarshalIndent(pm, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", append(js, '\n'))
			golden(t, tc.name+".md", []byte(pm.Markdown()))
		})
	}
}

// TestPostmortemFigures pins the figures that matter most, independent of
// the golden files.
func TestPostmortemFigures(t *testing.T) {
	inc, events := realIncident()
	pm := incident.BuildPostmortem(inc, events, pmPlan(), pmAt(13, 0, 0))
	type figures struct {
		DeclaredAt, ResolvedAt   string
		RTO, TTA, TTR, Margin    int64
		Met                      bool
		Steps                    []incident.PMStep
		Decisions                []incident.PMDecision
		Approvals                []incident.PMApproval
		Acks                     []incident.PMAck
		Escalations, Notes, Time int
	}
	got := figures{
		pm.DeclaredAt, pm.ResolvedAt, pm.RTOSeconds, ttaOf(pm), pm.TimeToRecoverSeconds, pm.RTOMarginSeconds, pm.RTOMet,
		pm.Steps, pm.Decisions, pm.Approvals, pm.Acks, len(pm.Escalations), len(pm.Notes), len(pm.Timeline),
	}
	want := figures{
		DeclaredAt: "2026-11-21T10:00:00Z", ResolvedAt: "2026-11-21T12:15:00Z",
		// TTA: alice, who declared, acknowledged her own commander page at
		// 10:01:35; that is left out. The executor's at 10:06:10 counts.
		RTO: 7200, TTA: 370, TTR: 8100, Margin: -900, Met: false,
		Steps: []incident.PMStep{
			{ID: "assess", Do: "Check whether the primary still serves reads and when the last good backup ran.", Outcome: "answered", EstimateSeconds: 600, ActualSeconds: 540, By: "U0ALICE01"},
			// From its approval at 10:21 to 12:01.
			{ID: "restore", Do: "Restore the last snapshot into a new instance and repoint the app.", Outcome: "done", EstimateSeconds: 3600, ActualSeconds: 6000, By: "U0ALICE01"},
			{ID: "verify", Do: "Run the smoke tests and compare order counts with the payment provider.", Outcome: "done", EstimateSeconds: 600, ActualSeconds: 660, By: "U0BOB0001"},
		},
		Decisions: []incident.PMDecision{{Step: "assess", Ask: "Is the primary still serving reads?", Answer: "No", By: "U0ALICE01", At: "2026-11-21T10:09:00Z"}},
		Approvals: []incident.PMApproval{{Step: "restore", Role: "approver", Outcome: "approved", By: "U0ERIN001",
			RequestedAt: "2026-11-21T10:09:00Z", DecidedAt: "2026-11-21T10:21:00Z", WaitSeconds: 720}},
		Acks: []incident.PMAck{
			{Role: "commander", Contact: "alice", Pages: 1, AckSeconds: 95, Acknowledged: true},
			{Role: "executor", Contact: "alice", Pages: 2, AckSeconds: 370, Acknowledged: true},
			{Role: "approver", Pages: 2, AckSeconds: -1},
		},
		Escalations: 1, Notes: 2, Time: len(events),
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("figures (-got +want):\n%s", diff)
	}
	for _, f := range []string{
		"RTO missed by 15m",
		"restore took 1h40m against an estimate of 1h; update the estimate or the RTO",
		"nobody acknowledged the approver role (2 pages)",
		"the executor role's first contact did not answer within 5m (the role answered after 2 pages, 6m10s); check their contact details or put a reachable contact first",
		"could not page frank: user_not_found",
		"approval of restore took 12m",
		"2 presses of Approve on restore came from someone outside the approver role; tell the team who may approve",
		"a press of Acknowledge for the commander role came from someone not among its contacts",
	} {
		if !pmContains(pm.Findings, f) {
			t.Errorf("no finding contains %q; findings:\n%s", f, strings.Join(pm.Findings, "\n"))
		}
	}
	// verify took 11m against 10m: not worth a line.
	if pmContains(pm.Findings, "verify took") {
		t.Errorf("a finding about verify, which was only a minute over: %q", pm.Findings)
	}
}

func pmContains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestPostmortemOpen covers an incident still open: its figures run to
// now, a running step and a pending approval count to now, and nobody has
// acknowledged yet.
func TestPostmortemOpen(t *testing.T) {
	base := &incident.Incident{
		ID: 3, Scenario: "db-corruption", State: incident.StateOpen, DeclaredAt: pmAt(10, 0, 0), RTO: 2 * time.Hour,
		Roles: []*incident.RolePage{{Role: "commander", Contacts: []string{"alice"}, Sent: 1, PagedAt: pmAt(10, 0, 0)}},
		Steps: []*incident.StepRecord{{StepID: "restore", StartedAt: pmAt(10, 0, 0), Approval: "pending", ApprovalRequestedAt: pmAt(10, 0, 0)}},
	}
	events := []incident.Event{
		pmEv(pmAt(10, 0, 0), incident.KindDeclared, "U0ALICE01", "declared"),
		pmEv(pmAt(10, 0, 0), incident.KindApprovalRequested, "", "restore waits", "step", "restore", "role", "approver"),
	}
	for _, tc := range []struct {
		name       string
		now        time.Time
		wantMet    bool
		wantTTR    int64
		wantMargin int64
		wantFirst  string
	}{
		{"within the RTO", pmAt(11, 0, 0), true, 3600, 3600, "still open after 1h of the 2h RTO"},
		{"at the RTO", pmAt(12, 0, 0), true, 7200, 0, "still open after 2h of the 2h RTO"},
		{"past the RTO", pmAt(12, 30, 0), false, 9000, -1800, "still open, 30m past the 2h RTO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pm := incident.BuildPostmortem(base, events, pmPlan(), tc.now)
			if pm.RTOMet != tc.wantMet || pm.TimeToRecoverSeconds != tc.wantTTR || pm.RTOMarginSeconds != tc.wantMargin {
				t.Errorf("rto_met %v ttr %d margin %d, want %v %d %d", pm.RTOMet, pm.TimeToRecoverSeconds, pm.RTOMarginSeconds, tc.wantMet, tc.wantTTR, tc.wantMargin)
			}
			if pm.ResolvedAt != "" || pm.State != incident.StateOpen {
				t.Errorf("resolved_at %q state %q, want empty and open", pm.ResolvedAt, pm.State)
			}
			if pm.TimeToAckSeconds != nil || pm.Acks[0].AckSeconds != -1 || pm.Acks[0].Acknowledged {
				t.Errorf("time_to_ack %d, ack %+v; want null and -1 when nobody acknowledged", ttaOf(pm), pm.Acks[0])
			}
			if got, want := pm.Steps[0].ActualSeconds, tc.wantTTR; got != want || pm.Steps[0].Outcome != "running" {
				t.Errorf("running step: outcome %q actual %d, want running %d", pm.Steps[0].Outcome, got, want)
			}
			if got := pm.Approvals[0]; got.Outcome != "pending" || got.WaitSeconds != tc.wantTTR || got.DecidedAt != "" {
				t.Errorf("pending approval = %+v, want pending, waiting %ds", got, tc.wantTTR)
			}
			if len(pm.Findings) == 0 || pm.Findings[0] != tc.wantFirst {
				t.Errorf("first finding = %q, want %q", pm.Findings, tc.wantFirst)
			}
			if !pmContains(pm.Findings, "nobody acknowledged the commander role (1 page); check its contacts and how they are notified, and add a second contact to escalate to") {
				t.Errorf("findings miss the unacknowledged commander: %q", pm.Findings)
			}
			md := pm.Markdown()
			if !strings.Contains(md, "| Resolved | not yet (figures as of ") {
				t.Errorf("markdown of an open incident does not say it is open:\n%s", md)
			}
		})
	}
}

// TestPostmortemEdgeCases: no plan, no RTO, no events; nothing may panic
// and every list is an empty JSON array, never null.
func TestPostmortemEdgeCases(t *testing.T) {
	inc := &incident.Incident{ID: 1, Scenario: "gone", State: incident.StateResolved, DeclaredAt: pmAt(9, 0, 0), ResolvedAt: pmAt(9, 30, 0),
		Steps: []*incident.StepRecord{{StepID: "x", StartedAt: pmAt(9, 0, 0), EndedAt: pmAt(9, 10, 0), Outcome: "done"}}}
	pm := incident.BuildPostmortem(inc, nil, nil, pmAt(10, 0, 0))
	if !pm.RTOMet || pm.RTOMarginSeconds != 0 || pm.TimeToRecoverSeconds != 1800 {
		t.Errorf("no RTO: met %v margin %d ttr %d, want true 0 1800", pm.RTOMet, pm.RTOMarginSeconds, pm.TimeToRecoverSeconds)
	}
	if pm.Steps[0].EstimateSeconds != 0 || pm.Steps[0].ActualSeconds != 600 {
		t.Errorf("step without a plan = %+v", pm.Steps[0])
	}
	js, err := json.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"timeline", "decisions", "approvals", "escalations", "notes", "acks", "findings"} {
		if !strings.Contains(string(js), `"`+key+`":[`) {
			t.Errorf("%s is not a JSON array in %s", key, js)
		}
	}
	if !pmContains(pm.Findings, "no RTO is set") {
		t.Errorf("findings do not say there is no RTO: %q", pm.Findings)
	}
	if md := pm.Markdown(); !strings.Contains(md, "| RTO | none set |") {
		t.Errorf("markdown without an RTO:\n%s", md)
	}
}

// Every time in the Markdown is in the plan's zone and says which, the
// same way, resolved or still open ("figures as of"); a plan without a
// zone is in UTC. The JSON stays UTC.
func TestPostmortemMarkdownTimesInThePlanZone(t *testing.T) {
	inc, events := realIncident()
	open := *inc
	open.State, open.ResolvedAt = incident.StateOpen, time.Time{}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	osloPlan := pmPlan()
	osloPlan.Timezone, osloPlan.Location = "Europe/Oslo", oslo
	// Any date and time, with or without seconds or zone; each must be
	// written the one way.
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?Z?( [A-Z]+)?`)
	for _, tc := range []struct {
		name, md, zone, asOf string
	}{
		{"resolved, Oslo", incident.BuildPostmortem(inc, events, osloPlan, pmAt(13, 0, 0)).Markdown(), "CET", ""},
		{"open, Oslo", incident.BuildPostmortem(&open, events[:5], osloPlan, pmAt(10, 30, 0)).Markdown(), "CET",
			"| Resolved | not yet (figures as of 2026-11-21 11:30:00 CET) |"},
		{"resolved, UTC", incident.BuildPostmortem(inc, events, pmPlan(), pmAt(13, 0, 0)).Markdown(), "UTC", ""},
		{"open, UTC", incident.BuildPostmortem(&open, events[:5], pmPlan(), pmAt(10, 30, 0)).Markdown(), "UTC",
			"| Resolved | not yet (figures as of 2026-11-21 10:30:00 UTC) |"},
	} {
		all := stamp.FindAllString(tc.md, -1)
		if len(all) < 5 {
			t.Fatalf("%s: only %d times found:\n%s", tc.name, len(all), tc.md)
		}
		want := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ` + tc.zone + `$`)
		for _, got := range all {
			if !want.MatchString(got) {
				t.Errorf("%s: time %q, want the form 2026-11-21 10:00:00 %s", tc.name, got, tc.zone)
			}
		}
		if tc.asOf != "" && !strings.Contains(tc.md, tc.asOf) {
			t.Errorf("%s: no line %q:\n%s", tc.name, tc.asOf, tc.md)
		}
	}
	if md := incident.BuildPostmortem(inc, events, osloPlan, pmAt(13, 0, 0)).Markdown(); !strings.Contains(md, "| Declared | 2026-11-21 11:00:00 CET |") {
		t.Errorf("declared at 10:00 UTC is not 11:00 CET:\n%s", md)
	}
}

func TestPostmortemMarkdownNeutralisesText(t *testing.T) {
	inc, events := realIncident()
	inc.Title = "Payments | down\n# not a heading"
	events = append(events, pmEv(pmAt(12, 14, 0), incident.KindNote, "U0BOB0001", "line one\nline | two"))
	md := incident.BuildPostmortem(inc, events, pmPlan(), pmAt(13, 0, 0)).Markdown()
	if !strings.HasPrefix(md, "# Postmortem of incident 7: Payments | down # not a heading\n") {
		t.Errorf("title line = %q", strings.SplitN(md, "\n", 2)[0])
	}
	if !strings.Contains(md, `| 2026-11-21 12:14:00 UTC | note | Bob Dahl | line one line \| two |`) {
		t.Errorf("timeline row of a note with a newline and a pipe not neutralised:\n%s", md)
	}
	if !strings.Contains(md, "- 2026-11-21 12:14:00 UTC Bob Dahl: line one line | two\n") {
		t.Errorf("note list item not kept on one line:\n%s", md)
	}
	// Every table row has as many cells as its header.
	cols := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row with %d separators under a header with %d: %q", n, cols, line)
		}
	}
}

// TestPostmortemJSONContract checks the JSON against docs/http.md: every
// key of the contract, with its JSON type, and no key beyond the
// documented additions.
func TestPostmortemJSONContract(t *testing.T) {
	inc, events := realIncident()
	js, err := json.Marshal(incident.BuildPostmortem(inc, events, pmPlan(), pmAt(13, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	// The contract, as in docs/http.md, with the JSON type of each value.
	contract := map[string]string{
		"id": "number", "scenario": "string", "title": "string", "summary": "string", "severity": "string",
		"drill": "bool", "service": "string", "state": "string", "declared_at": "string", "resolved_at": "string",
		"rto_seconds": "number", "rto_met": "bool", "time_to_ack_seconds": "number", "time_to_recover_seconds": "number",
		"timeline": "array",
	}
	additions := map[string]string{
		"as_of": "string", "rto_margin_seconds": "number", "channel": "string", "steps": "array", "decisions": "array",
		"approvals": "array", "escalations": "array", "notes": "array", "acks": "array", "findings": "array", "names": "object",
		"began_at": "string", "recovery_point": "string", "rpo_seconds": "number", "data_loss_seconds": "number", "rpo_met": "bool",
		"resolution": "string", "impact": "string", "root_cause": "string", "action_items": "array", "detection": "object",
	}
	typeOf := func(v any) string {
		switch v.(type) {
		case float64:
			return "number"
		case string:
			return "string"
		case bool:
			return "bool"
		case []any:
			return "array"
		case map[string]any:
			return "object"
		}
		return fmt.Sprintf("%T", v)
	}
	for k, want := range contract {
		v, ok := got[k]
		if !ok {
			t.Errorf("contract key %q missing", k)
			continue
		}
		if typeOf(v) != want {
			t.Errorf("%q is a JSON %s, want %s", k, typeOf(v), want)
		}
	}
	var extra []string
	for k, v := range got {
		if _, ok := contract[k]; ok {
			continue
		}
		want, ok := additions[k]
		if !ok {
			extra = append(extra, k)
			continue
		}
		if typeOf(v) != want {
			t.Errorf("addition %q is a JSON %s, want %s", k, typeOf(v), want)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("keys neither in the contract nor in the documented additions: %q", extra)
	}
	// A timeline entry has exactly at, kind, actor, text and (an
	// addition) data, an object of strings.
	for i, e := range got["timeline"].([]any) {
		m := e.(map[string]any)
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if diff := cmp.Diff(keys, []string{"actor", "at", "data", "kind", "text"}); diff != "" {
			t.Fatalf("timeline[%d] keys (-got +want):\n%s", i, diff)
		}
		data, ok := m["data"].(map[string]any)
		if !ok {
			t.Errorf("timeline[%d].data is a JSON %s, want an object", i, typeOf(m["data"]))
		}
		for k, v := range data {
			if _, ok := v.(string); !ok {
				t.Errorf("timeline[%d].data[%q] is a JSON %s, want a string", i, k, typeOf(v))
			}
		}
		if s := m["at"].(string); len(s) != len("2026-11-21T10:00:00Z") || !strings.HasSuffix(s, "Z") {
			t.Errorf("timeline[%d].at = %q, want RFC 3339 UTC with whole seconds", i, s)
		}
	}
	if got["declared_at"] != "2026-11-21T10:00:00Z" {
		t.Errorf("declared_at = %v", got["declared_at"])
	}
}

// bigIncident is an incident of n events: pages, acknowledgements, steps,
// many notes and RTO alerts.
func bigIncident(n int) (*incident.Incident, []incident.Event) {
	inc, head := realIncident()
	events := make([]incident.Event, 0, n)
	events = append(events, head...)
	kinds := []incident.EventKind{incident.KindNote, incident.KindNote, incident.KindNote, incident.KindRTOAlert, incident.KindEscalated, incident.KindUnauthorized}
	for i := len(events); i < n; i++ {
		k := kinds[i%len(kinds)]
		events = append(events, pmEv(pmAt(12, 15, 2).Add(time.Duration(i)*time.Second), k, "U0BOB0001",
			fmt.Sprintf("event %d with some | text", i), "role", "executor", "step", "restore", "contact", "alice"))
	}
	return inc, events
}

func BenchmarkPostmortem10k(b *testing.B) {
	inc, events := bigIncident(10_000)
	plan := pmPlan()
	now := pmAt(20, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		pm := incident.BuildPostmortem(inc, events, plan, now)
		if len(pm.Timeline) != 10_000 {
			b.Fatalf("timeline has %d events", len(pm.Timeline))
		}
		if md := pm.Markdown(); len(md) == 0 {
			b.Fatal("empty markdown")
		}
	}
}

// TestPostmortemPersonPaged: a person paged alone (/incident page
// @someone, the pseudo role "@id") is named in the findings, never called
// a role, and not told to add a second contact.
func TestPostmortemPersonPaged(t *testing.T) {
	paged := func(role, contact string, acks ...incident.Event) []incident.Event {
		evs := []incident.Event{
			pmEv(pmAt(10, 0, 0), incident.KindDeclared, "U0ALICE01", "declared"),
			pmEv(pmAt(10, 10, 0), incident.KindPaged, "U0BOB0001", "paged", "role", role, "contact", contact),
		}
		return append(evs, acks...)
	}
	tests := []struct {
		name   string
		rp     incident.RolePage
		events []incident.Event
		want   string // "" for no finding about the person
	}{
		{
			name:   "contact unanswered",
			rp:     incident.RolePage{Role: "@erin", Contacts: []string{"erin"}, Sent: 2, Exhausted: true, PagedAt: pmAt(10, 10, 0)},
			events: paged("@erin", "erin", pmEv(pmAt(10, 15, 0), incident.KindEscalated, "", "escalated", "role", "@erin", "contact", "erin")),
			want:   "the page to Erin Lund alone went unanswered (2 pages); check their contact details and how they are notified",
		},
		{
			name:   "Slack member unanswered",
			rp:     incident.RolePage{Role: "@U0ZED0001", Contacts: []string{"U0ZED0001"}, Sent: 1, PagedAt: pmAt(10, 10, 0)},
			events: paged("@U0ZED0001", "U0ZED0001"),
			want:   "the page to U0ZED0001 alone went unanswered (1 page); check their contact details and how they are notified",
		},
		{
			name: "acknowledged after two pages",
			rp:   incident.RolePage{Role: "@erin", Contacts: []string{"erin"}, Sent: 2, Acked: true, AckedBy: "erin", AckedAt: pmAt(10, 16, 0), PagedAt: pmAt(10, 10, 0)},
			events: paged("@erin", "erin",
				pmEv(pmAt(10, 15, 0), incident.KindEscalated, "", "escalated", "role", "@erin", "contact", "erin"),
				pmEv(pmAt(10, 16, 0), incident.KindAcknowledged, "U0ERIN001", "acknowledged", "role", "@erin", "contact", "erin")),
			want: "the page to Erin Lund alone was answered only after 2 pages (6m); check their contact details and how they are notified",
		},
		{
			name: "acknowledged quickly",
			rp:   incident.RolePage{Role: "@erin", Contacts: []string{"erin"}, Sent: 1, Acked: true, AckedBy: "erin", AckedAt: pmAt(10, 11, 0), PagedAt: pmAt(10, 10, 0)},
			events: paged("@erin", "erin",
				pmEv(pmAt(10, 11, 0), incident.KindAcknowledged, "U0ERIN001", "acknowledged", "role", "@erin", "contact", "erin")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := tt.rp
			inc := &incident.Incident{ID: 4, Scenario: "db-corruption", State: incident.StateResolved, DeclaredAt: pmAt(10, 0, 0), ResolvedAt: pmAt(11, 0, 0),
				RTO: 2 * time.Hour, Roles: []*incident.RolePage{&rp}}
			pm := incident.BuildPostmortem(inc, tt.events, pmPlan(), pmAt(11, 0, 0))
			var got []string
			for _, f := range pm.Findings {
				if strings.Contains(f, "page") || strings.Contains(f, "acknowledge") {
					got = append(got, f)
				}
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("findings about the person (-got +want):\n%s\nall findings: %q", diff, pm.Findings)
			}
		})
	}
}

// The postmortem lists events in the order they happened, whatever order
// they were written in: a send's outcome is written when Slack answered,
// which can be after something that happened meanwhile. Events of one
// time keep the order they were written in.
func TestPostmortemTimelineInTheOrderThingsHappened(t *testing.T) {
	inc := &incident.Incident{ID: 4, Scenario: "db-corruption", State: incident.StateOpen, DeclaredAt: pmAt(17, 43, 0)}
	events := []incident.Event{
		pmEv(pmAt(17, 43, 0), incident.KindDeclared, "U0ALICE01", "declared"),
		pmEv(pmAt(17, 43, 0), incident.KindPaged, "", "paged alice (commander)"),
		pmEv(pmAt(17, 43, 14), incident.KindNote, "U0ALICE01", "the replica is behind"),
		pmEv(pmAt(17, 43, 25), incident.KindDeliveryFailed, "", "could not invite the responders to the channel: cant_invite"),
		pmEv(pmAt(17, 43, 11), incident.KindChannelCreated, "", "created #inc-4-db-corruption"),
	}
	pm := incident.BuildPostmortem(inc, events, pmPlan(), pmAt(18, 0, 0))
	var got []string
	for _, e := range pm.Timeline {
		got = append(got, e.At+" "+string(e.Kind))
	}
	want := []string{
		"2026-11-21T17:43:00Z declared",
		"2026-11-21T17:43:00Z paged",
		"2026-11-21T17:43:11Z channel_created",
		"2026-11-21T17:43:14Z note",
		"2026-11-21T17:43:25Z delivery_failed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if events[4].Kind != incident.KindChannelCreated {
		t.Error("BuildPostmortem reordered its argument")
	}
}

// as_of is never before what the incident knows: computed on a clock
// behind the one the incident ran on (the console's --start), a resolved
// incident's postmortem is as of its resolution, an open one's as of its
// latest event.
func TestPostmortemAsOfNeverBeforeTheIncident(t *testing.T) {
	inc, events := realIncident()
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"printed later", pmAt(13, 0, 0), "2026-11-21T13:00:00Z"},
		{"printed between resolution and summary", pmAt(12, 15, 0), "2026-11-21T12:15:01Z"},
		// The last event, the summary posted, is a second after the
		// resolution.
		{"clock behind the resolution", pmAt(9, 0, 0), "2026-11-21T12:15:01Z"},
		{"clock a day behind", pmAt(-24, 0, 0), "2026-11-21T12:15:01Z"},
	} {
		pm := incident.BuildPostmortem(inc, events, pmPlan(), tc.now)
		if pm.AsOf != tc.want || pm.AsOf < pm.ResolvedAt {
			t.Errorf("%s: as_of %s, resolved_at %s; want as_of %s", tc.name, pm.AsOf, pm.ResolvedAt, tc.want)
		}
		if pm.TimeToRecoverSeconds != 8100 {
			t.Errorf("%s: time to recover %ds, want 8100 (2h15m)", tc.name, pm.TimeToRecoverSeconds)
		}
	}
	open := *inc
	open.State, open.ResolvedAt = incident.StateOpen, time.Time{}
	last := events[4].At
	pm := incident.BuildPostmortem(&open, events[:5], pmPlan(), pmAt(9, 0, 0))
	if want := last.UTC().Format(time.RFC3339); pm.AsOf != want {
		t.Errorf("open, clock behind: as_of %s, want the latest event's time %s", pm.AsOf, want)
	}
	if want := int64(last.Sub(open.DeclaredAt) / time.Second); pm.TimeToRecoverSeconds != want {
		t.Errorf("open, clock behind: time to recover %ds, want %d (to the latest event)", pm.TimeToRecoverSeconds, want)
	}
}

// ttaOf is time_to_ack_seconds, -1 for null.
func ttaOf(pm *incident.Postmortem) int64 {
	if pm.TimeToAckSeconds == nil {
		return -1
	}
	return *pm.TimeToAckSeconds
}

// TestFindingsBlameless: findings speak of the system (roles, contacts'
// details, the playbook), never of a person's failing: no finding of a
// role's late answer or of a denied approval names the person.
func TestFindingsBlameless(t *testing.T) {
	inc, events := realIncident()
	events = append(events,
		pmEv(pmAt(12, 13, 0), incident.KindApprovalRequested, "", "repair waits for approval by approver", "step", "repair", "role", "approver"),
		pmEv(pmAt(12, 14, 0), incident.KindDenied, "U0ERIN001", "erin denied repair", "step", "repair", "role", "approver"))
	pm := incident.BuildPostmortem(inc, events, pmPlan(), pmAt(13, 0, 0))
	for _, want := range []string{
		"the executor role's first contact did not answer within 5m (the role answered after 2 pages, 6m10s); check their contact details or put a reachable contact first",
		"approval of repair was denied; record why, and whether the playbook should change",
	} {
		if !contains(pm.Findings, want) {
			t.Errorf("findings lack %q:\n%s", want, strings.Join(pm.Findings, "\n"))
		}
	}
	for _, f := range pm.Findings {
		for _, name := range []string{"Alice Berg", "Bob Dahl", "Erin Lund"} {
			if strings.Contains(f, name) {
				t.Errorf("a finding names %s: %q", name, f)
			}
		}
	}
}
