package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/bot/slacklimit"
)

// stepText is a 4,000-character step: emoji, right-to-left text, and the
// three characters Slack escapes.
func stepText(n int) string {
	unit := fmt.Sprintf("🔥 Step %d: שחזרו את מסד הנתונים & check <replica> lag > 5 s, then tell #ops. ", n)
	var b strings.Builder
	for utf8.RuneCountInString(b.String())+utf8.RuneCountInString(unit) <= 4000 {
		b.WriteString(unit)
	}
	return strings.TrimSpace(b.String())
}

// bigPlan has 120 scenarios with long titles, one of them of 60 steps of
// 4,000 characters, and contacts with emoji and right-to-left names.
func bigPlan() string {
	var b strings.Builder
	b.WriteString(`version: 1
name: "Big plan 🚒 של צוות התפעול"
contacts:
  alice: {name: "Alice Berg 🚒", slack: U0ALICE01}
  bob:   {name: "בוב דהן", slack: U0BOB0001}
  carol: {name: "Carol Ek", slack: U0CAROL01}
  erin:  {name: "ארין לונד 🛡", slack: U0ERIN001}
roles:
  commander: [alice, bob]
  executor:  [bob, carol]
  approver:  [erin, alice]
services:
  payments: {rto: 4h, rpo: 15m}
scenarios:
  big-one:
    title: "🔥 The payments platform is down in every region & nobody <knows> why — שירות התשלומים"
    service: payments
    severity: sev1
    page: [commander, executor]
    steps:
`)
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "      - id: step-%02d\n        do: %q\n        estimate: 1m\n", i, stepText(i))
		if i == 2 {
			b.WriteString("        ask: \"Is the primary still serving reads? 🤔\"\n        answers:\n")
			b.WriteString("          \"Yes — keep it and repair the replica first, then fail over 🛠\": step-03\n")
			b.WriteString("          \"No — restore the last snapshot into a new instance 💾\": step-03\n")
		}
	}
	for i := 1; i < 120; i++ {
		fmt.Fprintf(&b, "  scenario-%03d:\n    title: %q\n    severity: sev3\n    page: [commander]\n    steps:\n      - {id: look, do: Look., estimate: 5m}\n",
			i, fmt.Sprintf("🌩 Outage %d of the north European region's storage & queues — אזור %d, with a title far too long for a menu", i, i))
	}
	return b.String()
}

// TestServeBigIncidentWithinSlackLimits drives, through the real binary
// and the validating fake Slack, an incident of a plan with 120
// scenarios, 60 steps of 4,000 characters, emoji and right-to-left names,
// and a 3,000-character summary of &, < and >: no call is refused, text
// is escaped exactly once and never cut inside an escape, and mentions
// and links people typed stay mentions and links.
func TestServeBigIncidentWithinSlackLimits(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(bigPlan()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, fs, dir)

	// Slack's SSL check of the command URL, unsigned: 200, empty.
	if status, body := srv.post("/slack/commands", "application/x-www-form-urlencoded", []byte("ssl_check=1&token=x"), http.Header{}); status != 200 || body != "" {
		t.Errorf("ssl_check: %d %q", status, body)
	}

	// /incident scenarios: one readable answer within Slack's limits.
	_, list := srv.command(alice, fakeslack.GeneralID, "scenarios", fs.ResponseURL("scenarios"))
	if n := utf8.RuneCountInString(list); n > slacklimit.MessageBlockText || !strings.Contains(list, "`big-one`") || !strings.Contains(list, "more: the `/incident declare` dialog finds any of them") {
		t.Errorf("scenarios answer of %d characters: %.300q", n, list)
	}

	// The declare dialog: an external select, searched through drbot.
	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare", fs.ResponseURL("dialog")); status != 200 {
		t.Fatalf("declare: %d", status)
	}
	if _, err := fs.WaitForOK("views.open", 1, wait); err != nil {
		t.Fatalf("the declare dialog did not open: %v", err)
	}
	raw, _ := json.Marshal(map[string]any{"type": "block_suggestion", "user": map[string]any{"id": alice},
		"action_id": bot.BlockScenario, "block_id": bot.BlockScenario, "value": "BIG", "view": map[string]any{"callback_id": bot.DeclareCallbackID}})
	status, options := srv.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), nil)
	if err := fakeslack.CheckOptions([]byte(options)); status != 200 || err != nil || !strings.Contains(options, `"value":"big-one"`) {
		t.Errorf("block_suggestion: %d %v %.300s", status, err, options)
	}

	// Declared from the dialog, with a 3,000-character summary of &<>.
	summary := strings.Repeat("&<>", 1000)
	if status := srv.interaction(map[string]any{
		"type": "view_submission", "user": map[string]any{"id": alice},
		"view": map[string]any{"callback_id": bot.DeclareCallbackID, "private_metadata": fakeslack.GeneralID,
			"state": map[string]any{"values": map[string]any{
				bot.BlockScenario: map[string]any{bot.BlockScenario: map[string]any{"type": "external_select", "selected_option": map[string]any{"value": "big-one"}}},
				bot.BlockSummary:  map[string]any{bot.BlockSummary: map[string]any{"type": "plain_text_input", "value": summary}},
			}}},
	}); status != 200 {
		t.Fatalf("submit: %d", status)
	}
	ch := incidentChannel(t, fs, "inc-1-big-one")
	sum := mustMessage(t, fs, ch.ID, "the summary", containing("*Incident #1:"))
	checkEscapedOnce(t, "the summary", sum, summary)
	step1 := mustMessage(t, fs, ch.ID, "step 1", withButton("Done", "Step 1/60 · step-01"))
	srv.press(carol, step1, "Done", fs.ResponseURL("done-1"))
	step2 := mustMessage(t, fs, ch.ID, "step 2", withButton("No — restore the last snapshot into a new instance 💾", "Step 2/60"))
	srv.press(bob, step2, "No — restore the last snapshot into a new instance 💾", fs.ResponseURL("answer-2"))
	mustMessage(t, fs, ch.ID, "step 3", withButton("Done", "Step 3/60 · step-03"))

	// What people typed in Slack, as Slack sends it (should_escape).
	note := "ask <@U0BOB0001|bob> in <#C0GENERAL|general>, see <https://status.example|status page> &amp; <!channel>, cc <@U0MALLORY|mal>"
	if status, answer := srv.command(alice, ch.ID, "note "+note, fs.ResponseURL("note")); status != 200 || !strings.Contains(answer, "Noted") {
		t.Fatalf("note: %d %q", status, answer)
	}
	mustMessage(t, fs, ch.ID, "the note", containing("ask <@U0BOB0001|bob> in <#C0GENERAL|general>, see <https://status.example|status page> &amp; &lt;!channel&gt;, cc <@U0MALLORY|mallory>"))
	for _, cmd := range []string{"status", "list"} {
		if status, answer := srv.command(alice, ch.ID, cmd, fs.ResponseURL(cmd)); status != 200 || utf8.RuneCountInString(answer) > slacklimit.ChatText {
			t.Errorf("%s: %d, %d characters", cmd, status, utf8.RuneCountInString(answer))
		}
	}
	if status, _ := srv.command(alice, ch.ID, "resolve "+summary, fs.ResponseURL("resolve")); status != 200 {
		t.Fatalf("resolve: %d", status)
	}
	mustMessage(t, fs, ch.ID, "the postmortem summary", containing("*Incident #1 resolved*"))
	waitOutboxEmpty(t, filepath.Join(dir, "drbot.db"), wait)

	// No call was refused: every message is one real Slack accepts.
	for _, c := range fs.Calls() {
		if !c.OK() {
			t.Errorf("%s answered %d %s", c.Method, c.Status, c.Error)
		}
	}
	// The Markdown postmortem shows what was typed, readable.
	srv.stop()
	r := runBinary(t, drbotBinary(t), "", "postmortem", "--db", filepath.Join(dir, "drbot.db"), "1")
	// bob by the plan's name, mallory (in no role) by the name users.info
	// gave; "<" backslash-escaped, so that it renders as typed.
	for _, want := range []string{"ask @בוב דהן in #general, see [status page](https://status.example) & @channel, cc @mallory", strings.ReplaceAll(summary, "<", `\<`)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("postmortem lacks %.80q:\n%.1500s", want, r.stdout)
		}
	}
}

// checkEscapedOnce checks that a message shows text escaped exactly once
// and that no section of it ends inside an escape.
func checkEscapedOnce(t *testing.T, what string, m fakeslack.Message, text string) {
	t.Helper()
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("%s: blocks: %v", what, err)
	}
	var all strings.Builder
	for i, b := range blocks {
		if b.Type != "section" || b.Text == nil {
			continue
		}
		s := strings.TrimSuffix(b.Text.Text, "\n"+bot.ShortenedNote)
		if strings.Count(s, "&") != strings.Count(s, ";") {
			t.Errorf("%s: section %d cuts an escape: …%q | %q…", what, i, s[max(0, len(s)-12):], s[:min(12, len(s))])
		}
		all.WriteString(s)
	}
	got := all.String()
	if strings.Contains(got, "&amp;amp;") || strings.Contains(got, "&amp;lt;") {
		t.Errorf("%s: escaped twice", what)
	}
	// Too long for one message, the text is shortened, visibly: what is
	// shown is the start of the text, escaped once.
	escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	if !strings.Contains(m.AllText(), bot.ShortenedNote) {
		if !strings.Contains(got, escaped) {
			t.Errorf("%s does not show the text, escaped once", what)
		}
		return
	}
	i := strings.Index(got, "&amp;&lt;&gt;")
	if i < 0 || !strings.HasPrefix(escaped, got[i:]) || len(got[i:]) < 3000 {
		t.Errorf("%s, shortened, does not show the start of the text escaped once (%d characters of it)", what, len(got)-max(i, 0))
	}
}

// After name_taken the pages and the conversation where the incident was
// declared name the channel Slack gave; archived while open, the channel
// is said in the timeline and to the commander, and drbot posts nothing
// more there.
func TestServeChannelNameTakenAndArchived(t *testing.T) {
	fs := newFakeWorkspace(t)
	// An archived channel keeps its name: conversations.create answers
	// name_taken.
	fs.AddChannel("C0OLDINC01", "inc-1-db-corruption")
	if err := fs.ArchiveChannel("C0OLDINC01"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv := startServe(t, fs, dir)
	status, answer := srv.command(alice, fakeslack.GeneralID, "declare db-corruption replica lag", fs.ResponseURL("declare"))
	if status != 200 || !strings.Contains(answer, "declared incident #1") {
		t.Fatalf("declare: %d %q", status, answer)
	}
	ch := incidentChannel(t, fs, "inc-1-db-corruption-")
	if ch.Name != "inc-1-db-corruption-2" {
		t.Fatalf("channel %q", ch.Name)
	}
	// The answer where it was declared links the channel Slack gave.
	if !strings.HasSuffix(answer, "Channel: <#"+ch.ID+">") {
		t.Errorf("the declaration's answer names another channel: %q", answer)
	}
	mustMessage(t, fs, alice, "alice's page", containing("You are paged as *commander*", "Channel: #inc-1-db-corruption-2"))
	mustMessage(t, fs, bob, "bob's page", containing("You are paged as *executor*", "Channel: #inc-1-db-corruption-2"))
	mustMessage(t, fs, fakeslack.GeneralID, "the real name where it was declared",
		containing("The channel of incident #1 is <#"+ch.ID+"> (#inc-1-db-corruption-2): Slack had a channel named inc-1-db-corruption already."))

	// Archived while open (Slack's channel_archive event).
	if status, _ := srv.post("/slack/events", "application/json", eventJSON(t, "EvArchive1", map[string]any{"type": "channel_archive", "channel": ch.ID, "user": bob}), nil); status != 200 {
		t.Fatalf("channel_archive: %d", status)
	}
	mustMessage(t, fs, alice, "the commander told", containing("#inc-1-db-corruption-2, was archived by <@U0BOB0001> while the incident is open"))
	if status, answer := srv.command(bob, ch.ID, "note still here", fs.ResponseURL("note")); status != 200 || !strings.Contains(answer, "Noted") {
		t.Fatalf("note: %d %q", status, answer)
	}
	waitOutboxEmpty(t, filepath.Join(dir, "drbot.db"), wait)
	for _, m := range fs.Messages(ch.ID) {
		if strings.Contains(m.AllText(), "still here") {
			t.Errorf("posted into the archived channel: %q", m.AllText())
		}
	}
	for _, c := range fs.Calls() {
		if !c.OK() && !(c.Method == "conversations.create" && c.Error == "name_taken") {
			t.Errorf("%s answered %d %s", c.Method, c.Status, c.Error)
		}
	}
	srv.stop()
	r := runBinary(t, drbotBinary(t), "", "postmortem", "--format", "json", "--db", filepath.Join(dir, "drbot.db"), "1")
	if !strings.Contains(r.stdout, `"kind": "channel_archived"`) && !strings.Contains(r.stdout, `"kind":"channel_archived"`) {
		t.Errorf("the timeline lacks channel_archived:\n%.2000s", r.stdout)
	}
}

// eventJSON is an Events API callback carrying event.
func eventJSON(t *testing.T, id string, event map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"token": "legacy", "team_id": fakeslack.TeamID, "api_app_id": "A1",
		"type": "event_callback", "event_id": id, "event_time": 1, "event": event})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
