package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// The postmortem end to end (issue 13): the recovery point against the
// RPO, what the team records for the review, and the figures across
// incidents, typed in the console and in Slack through "drbot serve",
// read back with "drbot postmortem" and "drbot stats".

// pmPlan has a restore step that asks for the recovery point, on a
// service with an RPO of 15m and hourly backups, and a scenario of a
// service with no RPO. Times are Oslo's (CET, UTC+1 in November).
const pmE2EPlan = `version: 1
name: Postmortem plan
timezone: Europe/Oslo
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
  carol: {name: Carol Ek, slack: U0CAROL01}
roles:
  commander: [alice, bob]
  executor:  [bob, carol]
services:
  payments-db: {rto: 2h, rpo: 15m, backup_interval: 1h}
  checkout: {rto: 1h}
scenarios:
  db-restore:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander, executor]
    steps:
      - id: restore
        do: Restore the newest snapshot into a new instance.
        estimate: 30m
        recovery_point: true
      - id: verify
        do: Run the smoke tests.
        estimate: 10m
  checkout-down:
    title: Checkout is down
    service: checkout
    severity: sev2
    page: [executor]
    steps:
      - id: restart
        do: Restart the checkout pods.
        estimate: 5m
`

func writePMPlan(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(pmE2EPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// postmortemJSON runs "drbot postmortem --format json ID" on db.
func postmortemJSON(t *testing.T, bin, db, plan, id string) map[string]any {
	t.Helper()
	r := runBinary(t, bin, "", "postmortem", "--format", "json", "--db", db, "--plan", plan, id)
	if r.code != 0 {
		t.Fatalf("drbot postmortem %s: exit %d\n%s", id, r.code, r.stderr)
	}
	var pm map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &pm); err != nil {
		t.Fatalf("postmortem %s: %v\n%s", id, err, r.stdout)
	}
	return pm
}

// checkFields compares the JSON values of pm named in want; a nil want is
// JSON null, which must be there (not left out).
func checkFields(t *testing.T, what string, pm map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := pm[k]
		if !ok {
			t.Errorf("%s: no %q in the postmortem JSON", what, k)
			continue
		}
		if got != w {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, w)
		}
	}
}

func hasFinding(pm map[string]any, sub string) bool {
	fs, _ := pm["findings"].([]any)
	for _, f := range fs {
		if s, _ := f.(string); strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestPostmortemConsoleEndToEnd(t *testing.T) {
	bin := drbotBinary(t)
	dir := t.TempDir()
	plan, db := writePMPlan(t, dir), filepath.Join(dir, "drbot.db")
	script := filepath.Join(dir, "pm.script")
	// Declared at 11:00 CET; bob, the executor, does not answer: carol
	// does after 5m. The failure began at 10:50; the restore brought the
	// data back to 10:30: 20m lost against an RPO of 15m.
	body := `/incident declare db-restore Orders table corrupted
wait 5m
as carol
press Acknowledge
as alice
in #inc-1-db-restore
/incident began 10:50
press Done
/incident recovery-point 10:30
/incident status
/incident impact 340 orders could not be paid for 40 minutes
/incident cause A storage firmware update corrupted the orders table
/incident action @bob Stage firmware updates on a replica first
/incident action Snapshot every 5 minutes during maintenance
wait 20m
press Done
/incident resolve Restored from the 10:30 snapshot
in #general
/incident declare db-restore Replica lag
in #inc-2-db-restore
/incident resolve False alarm
`
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, bin, "", "console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z", "--script", script)
	if r.code != 0 {
		t.Fatalf("console: exit %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{
		"Done asks for the recovery point",
		"Step restore is done. To what point in time was the data recovered? Type /incident recovery-point WHEN",
		"recorded the recovery point: the data was recovered to 10:30 CET.",
		"Data lost: 20m (10:30 CET → 10:50 CET); RPO 15m: missed by 5m",
		"says the failure began at 10:50 CET, 10m before it was declared.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("transcript lacks %q:\n%s", want, r.stdout)
		}
	}

	pm := postmortemJSON(t, bin, db, plan, "1")
	pm1 := pm
	checkFields(t, "incident 1", pm, map[string]any{
		"began_at": "2026-11-21T09:50:00Z", "recovery_point": "2026-11-21T09:30:00Z",
		"rpo_seconds": 900.0, "data_loss_seconds": 1200.0, "rpo_met": false,
	})
	if want := "data lost 20m against an RPO of 15m: back up more often (backup_interval 1h) or raise rpo"; !hasFinding(pm, want) {
		t.Errorf("incident 1: findings %v lack %q", pm["findings"], want)
	}
	checkFields(t, "incident 1", pm, map[string]any{
		"resolution": "Restored from the 10:30 snapshot", "impact": "340 orders could not be paid for 40 minutes",
		"root_cause": "A storage firmware update corrupted the orders table",
	})
	items, _ := json.Marshal(pm["action_items"])
	if want := `[{"at":"2026-11-21T10:05:00Z","by":"U0ALICE01","owner":"bob","text":"Stage firmware updates on a replica first"},{"at":"2026-11-21T10:05:00Z","by":"U0ALICE01","owner":"","text":"Snapshot every 5 minutes during maintenance"}]`; string(items) != want {
		t.Errorf("action_items = %s\nwant %s", items, want)
	}
	if d, _ := pm["detection"].(map[string]any); d["source"] != "person" || d["by"] != alice {
		t.Errorf("detection = %v", pm["detection"])
	}
	pm = postmortemJSON(t, bin, db, plan, "2")
	checkFields(t, "incident 2", pm, map[string]any{
		"began_at": "2026-11-21T10:25:00Z", "recovery_point": nil, "rpo_seconds": 900.0, "data_loss_seconds": nil, "rpo_met": nil,
	})
	if !hasFinding(pm, "the RPO could not be checked") {
		t.Errorf("incident 2: findings %v lack the unchecked RPO", pm["findings"])
	}
	// Findings speak of the system: the role's first contact, not bob.
	if want := "the executor role's first contact did not answer within 5m"; !hasFinding(pm1, want) {
		t.Errorf("incident 1: findings %v lack %q", pm1["findings"], want)
	}
	// The figures across both: MTTR (25m + 0s) / 2, MTTA carol's 5m (the
	// second incident nobody acknowledged), the RPO checked once and
	// missed.
	stats := runBinary(t, bin, "", "stats", "--format", "json", "--db", db, "--plan", plan)
	if stats.code != 0 {
		t.Fatalf("drbot stats: exit %d\n%s", stats.code, stats.stderr)
	}
	var st struct {
		All        map[string]any   `json:"all"`
		BySeverity []map[string]any `json:"by_severity"`
	}
	if err := json.Unmarshal([]byte(stats.stdout), &st); err != nil {
		t.Fatalf("stats JSON: %v\n%s", err, stats.stdout)
	}
	checkFields(t, "stats", st.All, map[string]any{"count": 2.0, "resolved": 2.0, "mttr_seconds": 750.0, "mtta_seconds": 300.0,
		"rto_met_percent": 100.0, "rpo_met_percent": 0.0, "rpo_checked": 1.0})
	if len(st.BySeverity) != 1 || st.BySeverity[0]["key"] != "sev1" {
		t.Errorf("by_severity %v", st.BySeverity)
	}
	text := runBinary(t, bin, "", "stats", "--since", "2026-11-21 11:10", "--db", db, "--plan", plan)
	if text.code != 2 || !strings.Contains(text.stderr, "--since") {
		t.Errorf("stats --since with a time: exit %d %q, want 2 and what --since takes", text.code, text.stderr)
	}
	text = runBinary(t, bin, "", "stats", "--since", "2026-11-21T10:20:00Z", "--db", db, "--plan", plan)
	if text.code != 0 || !strings.Contains(text.stdout, "since 2026-11-21 11:20 CET") || !strings.Contains(text.stdout, ": 1 (drills apart: 0)") {
		t.Errorf("stats --since: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}

	md := runBinary(t, bin, "", "postmortem", "--db", db, "--plan", plan, "1")
	at := 0
	for _, want := range []string{"## Summary", "## Impact", "340 orders", "## Detection", "Declared by Alice Berg",
		"| Data lost | 20m (10:30 CET → 10:50 CET); RPO 15m: missed by 5m |", "## Root cause and trigger", "firmware",
		"## Resolution", "Restored from the 10:30 snapshot", "## Action items", "| 1 | Stage firmware updates on a replica first | Bob Dahl |",
		"- [ ] data lost 20m against an RPO of 15m", "### What went well", "### What went badly", "### Where we got lucky", "## Timeline"} {
		i := strings.Index(md.stdout[at:], want)
		if i < 0 {
			t.Fatalf("markdown lacks %q (in this order):\n%s", want, md.stdout)
		}
		at += i + len(want)
	}
}

// viewSubmission is the view_submission payload of a dialog with
// callbackID, its private_metadata and its plain text inputs (block id =
// action id = key).
func viewSubmission(user, callbackID, metadata string, inputs map[string]string) map[string]any {
	values := map[string]any{}
	for k, v := range inputs {
		values[k] = map[string]any{k: map[string]any{"type": "plain_text_input", "value": v}}
	}
	return map[string]any{"type": "view_submission", "user": map[string]any{"id": user}, "team": map[string]any{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V-" + callbackID, "type": "modal", "callback_id": callbackID, "private_metadata": metadata,
			"state": map[string]any{"values": values}}}
}

// openedView waits for the n-th views.open (1-based) and returns its view.
func openedView(t *testing.T, fs *fakeslack.Server, n int) map[string]any {
	t.Helper()
	calls, err := fs.WaitFor("views.open", n, wait)
	if err != nil {
		t.Fatalf("views.open #%d: %v", n, err)
	}
	var body struct {
		View map[string]any `json:"view"`
	}
	if err := json.Unmarshal(calls[n-1].Body, &body); err != nil {
		t.Fatalf("views.open body: %v\n%s", err, calls[n-1].Body)
	}
	return body.View
}

func TestPostmortemServeEndToEnd(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	plan := writePMPlan(t, dir)
	srv := startServe(t, fs, dir)

	srv.command(alice, fakeslack.GeneralID, "declare db-restore Orders table corrupted", fs.ResponseURL("declare"))
	ch := incidentChannel(t, fs, "inc-1-")
	mustMessage(t, fs, ch.ID, "pinned summary", func(m fakeslack.Message) bool { return m.Pinned })
	now := time.Now().UTC().Truncate(time.Second)
	began, point := now.Add(-10*time.Minute), now.Add(-40*time.Minute)
	if status, text := srv.command(bob, ch.ID, "began "+began.Format(time.RFC3339), fs.ResponseURL("began")); status != 200 || !strings.Contains(text, "the failure began at") {
		t.Errorf("began: %d %q", status, text)
	}

	// Done on the restore step opens the recovery point dialog.
	restore := mustMessage(t, fs, ch.ID, "the restore step", withButton("Done", "restore"))
	srv.press(bob, restore, "Done", fs.ResponseURL("restore-done"))
	view := openedView(t, fs, 1)
	if view["callback_id"] != "recovery_point" || view["private_metadata"] != ch.ID {
		t.Fatalf("recovery point dialog: %v", view)
	}
	// A time drbot cannot read keeps the dialog open, with why.
	status, answer := srv.post("/slack/interactions", "application/x-www-form-urlencoded", interactionForm(viewSubmission(bob, "recovery_point", ch.ID, map[string]string{"recovery_point": "yesterday-ish"})), nil)
	if status != 200 || !strings.Contains(answer, `"response_action":"errors"`) || !strings.Contains(answer, "not a time drbot reads") {
		t.Errorf("bad recovery point: %d %s", status, answer)
	}
	if status := srv.interaction(viewSubmission(bob, "recovery_point", ch.ID, map[string]string{"recovery_point": point.Format(time.RFC3339)})); status != 200 {
		t.Errorf("recovery point dialog: status %d", status)
	}
	mustMessage(t, fs, ch.ID, "the recovery point said in the channel", containing("recorded the recovery point", "Data lost: 30m", "RPO 15m: missed by 15m"))
	verify := mustMessage(t, fs, ch.ID, "the verify step", withButton("Done", "verify"))
	srv.press(bob, verify, "Done", fs.ResponseURL("verify-done"))
	srv.command(carol, ch.ID, "action <@"+carol+"> Snapshot every 5 minutes during maintenance", fs.ResponseURL("action"))

	// /incident resolve with no text opens the resolve dialog and
	// resolves nothing yet.
	if status, text := srv.command(alice, ch.ID, "resolve", fs.ResponseURL("resolve")); status != 200 || text != "" {
		t.Errorf("resolve with no text: %d %q, want an empty answer and a dialog", status, text)
	}
	view = openedView(t, fs, 2)
	if view["callback_id"] != "resolve" || view["private_metadata"] != ch.ID || !strings.Contains(toJSON(view), "Root cause and trigger") {
		t.Fatalf("resolve dialog: %v", view)
	}
	resolveInputs := map[string]string{"resolution": "Restored from the snapshot", "impact": "Checkout failed for 40 minutes",
		"cause": "A firmware update corrupted the orders table", "recovery_point": "in a while"}
	status, answer = srv.post("/slack/interactions", "application/x-www-form-urlencoded", interactionForm(viewSubmission(alice, "resolve", ch.ID, resolveInputs)), nil)
	if status != 200 || !strings.Contains(answer, `"recovery_point":`) {
		t.Errorf("a bad recovery point in the resolve dialog: %d %s, want the dialog kept open with the error under it", status, answer)
	}
	delete(resolveInputs, "recovery_point")
	if status := srv.interaction(viewSubmission(alice, "resolve", ch.ID, resolveInputs)); status != 200 {
		t.Errorf("resolve dialog: status %d", status)
	}
	mustMessage(t, fs, ch.ID, "the resolve summary with the RPO", containing("resolved", "missed by 15m: 30m of data lost"))
	// A second incident resolved with no recovery point: the RPO could
	// not be checked.
	srv.command(alice, fakeslack.GeneralID, "declare db-restore Replica lag", fs.ResponseURL("declare-2"))
	ch2 := incidentChannel(t, fs, "inc-2-")
	mustMessage(t, fs, ch2.ID, "pinned summary of #2", func(m fakeslack.Message) bool { return m.Pinned })
	srv.command(alice, ch2.ID, "resolve False alarm", fs.ResponseURL("resolve-2"))
	mustMessage(t, fs, ch2.ID, "the resolve summary of #2", containing("resolved", "not checked: no recovery point recorded"))
	// The figures across incidents, to who asked.
	if status, text := srv.command(bob, fakeslack.GeneralID, "stats", fs.ResponseURL("stats")); status != 200 || !strings.Contains(text, "0% of 1") || !strings.Contains(text, "```") {
		t.Errorf("/incident stats: %d %q, want the figures with the RPO missed once", status, text)
	}
	srv.stop()

	pm := postmortemJSON(t, drbotBinary(t), filepath.Join(dir, "drbot.db"), plan, "1")
	checkFields(t, "serve", pm, map[string]any{
		"began_at": began.Format(time.RFC3339), "recovery_point": point.Format(time.RFC3339),
		"rpo_seconds": 900.0, "data_loss_seconds": 1800.0, "rpo_met": false, "state": "resolved",
		"resolution": "Restored from the snapshot", "impact": "Checkout failed for 40 minutes", "root_cause": "A firmware update corrupted the orders table",
	})
	items, _ := pm["action_items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["owner"] != "carol" {
		t.Errorf("action_items = %v", pm["action_items"])
	}
	if d, _ := pm["detection"].(map[string]any); d["source"] != "person" || d["by"] != alice {
		t.Errorf("detection = %v", pm["detection"])
	}
	pm = postmortemJSON(t, drbotBinary(t), filepath.Join(dir, "drbot.db"), plan, "2")
	checkFields(t, "serve #2", pm, map[string]any{"recovery_point": nil, "data_loss_seconds": nil, "rpo_met": nil, "resolution": "False alarm"})
	if !hasFinding(pm, "the RPO could not be checked") {
		t.Errorf("serve #2: findings %v", pm["findings"])
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// interactionForm is the form Slack posts to /slack/interactions.
func interactionForm(payload any) []byte {
	raw, _ := json.Marshal(payload)
	return []byte(url.Values{"payload": {string(raw)}}.Encode())
}

// TestPostmortemDocExample keeps docs/postmortem.md true: its whole
// example is what drbot postmortem prints after the README's demo (with
// as_of, the time it was printed, fixed). When the postmortem changes on
// purpose, paste the new output into the document.
func TestPostmortemDocExample(t *testing.T) {
	bin := drbotBinary(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	demo := runBinary(t, bin, "", "console", "--plan", "examples/plan.yaml", "--db", db,
		"--start", "2026-11-21T10:00:00Z", "--script", "examples/incident.script")
	if demo.code != 0 {
		t.Fatalf("demo: exit %d\n%s", demo.code, demo.stderr)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "postmortem.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := runBinary(t, bin, "", "postmortem", "--db", db, "1")
	js := runBinary(t, bin, "", "postmortem", "--format", "json", "--db", db, "1")
	asOf := regexp.MustCompile(`"as_of": "[^"]*"`)
	for what, out := range map[string]string{
		"Markdown": md.stdout,
		"JSON":     asOf.ReplaceAllString(js.stdout, `"as_of": "2026-11-24T09:00:00Z"`),
	} {
		if out == "" || !strings.Contains(string(doc), out) {
			t.Errorf("docs/postmortem.md does not show the demo's postmortem as drbot prints it now (%s); paste it in:\n%s", what, out)
		}
	}
}
