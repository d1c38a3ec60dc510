package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// The end-to-end tests of "drbot serve" run the real binary against
// fakeslack, with signed requests over real HTTP and the real clock.

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drbot-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// drbotBinary builds the binary once for every test that needs it.
func drbotBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "drbot")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

const e2eSecret = "e2e-signing-secret"

// Members of the fake workspace; frank is in the plan by email only.
const (
	alice = "U0ALICE01"
	bob   = "U0BOB0001"
	carol = "U0CAROL01"
	erin  = "U0ERIN001"
	frank = "U0FRANK01"
	mallo = "U0MALLORY" // in the workspace, in no role
)

// e2ePlan escalates after 2 s and alerts at 25% of an 8 s RTO, so that
// escalation and an RTO alert happen within the test on the real clock.
// ghost's email is unknown to the workspace: asking for their approval
// fails for good (users_not_found) and the channel is told.
const e2ePlan = `version: 1
name: End-to-end plan
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
  carol: {name: Carol Ek, slack: U0CAROL01}
  erin:  {name: Erin Lund, slack: U0ERIN001}
  frank: {name: Frank Moe, email: frank@example.com}
  ghost: {name: Gus Host, email: ghost@example.com}
roles:
  commander: [alice, bob]
  executor:  [bob, carol]
  approver:  [erin, frank, ghost]
paging:
  ack_timeout: 2s
  rounds: 2
  webhook: WEBHOOK
services:
  payments-db: {rto: 8s, rpo: 15m}
scenarios:
  db-corruption:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander, executor]
    rto_alerts: [25%]
    steps:
      - id: assess
        do: Check whether the primary still serves reads.
        estimate: 1s
        ask: Is the primary still serving reads?
        answers:
          "Yes": repair
          "No": restore
      - id: repair
        do: Repair the replica, then fail over.
        estimate: 1s
        next: verify
      - id: restore
        do: Restore the last snapshot into a new instance.
        estimate: 1s
        approval: approver
      - id: verify
        do: Run the smoke tests.
        estimate: 1s
        next: end
`

// served is a running "drbot serve".
type served struct {
	t      testing.TB
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	logs   *incidenttest.LogBuffer
	exited chan error
}

// newFakeWorkspace starts fakeslack with the plan's people.
func newFakeWorkspace(t testing.TB) *fakeslack.Server {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	for _, u := range []struct{ id, email, name string }{
		{alice, "alice@example.com", "alice"}, {bob, "bob@example.com", "bob"}, {carol, "carol@example.com", "carol"},
		{erin, "erin@example.com", "erin"}, {frank, "frank@example.com", "frank"}, {mallo, "mallory@example.com", "mallory"},
	} {
		fs.AddUser(u.id, u.email, u.name, false)
	}
	return fs
}

// writeE2EPlan writes e2ePlan, its webhook pointed at fs, to
// dir/plan.yaml and returns the path.
func writeE2EPlan(t testing.TB, fs *fakeslack.Server, dir string) string {
	t.Helper()
	plan := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(plan, []byte(strings.Replace(e2ePlan, "WEBHOOK", fs.WebhookURL("paging"), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return plan
}

// serveEnv is the environment of a drbot process under test: this one's
// without any DRBOT_ or SLACK_ variable, so that the developer's own
// settings do not leak in, then env.
func serveEnv(env ...string) []string {
	return append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DRBOT_") || strings.HasPrefix(kv, "SLACK_")
	}), env...)
}

// startServe runs "drbot serve" on a free port against fs, with e2ePlan
// unless dir has a plan.yaml, and stops it (SIGTERM, expecting a clean
// exit) when the test ends unless stopped before.
func startServe(t testing.TB, fs *fakeslack.Server, dir string, env ...string) *served {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "plan.yaml")); err != nil {
		writeE2EPlan(t, fs, dir)
	}
	s := launchServe(t, fs, dir, false, append([]string{
		"SLACK_BOT_TOKEN=" + fakeslack.BotToken,
		"SLACK_SIGNING_SECRET=" + e2eSecret,
	}, env...))
	t.Cleanup(func() {
		s.stopIfRunning()
		if t.Failed() {
			t.Logf("drbot serve logs:\n%s", s.logs)
		}
	})
	return s
}

// launchServe runs "drbot serve" on a free port with dir/plan.yaml and
// dir/drbot.db (or the DRBOT_DB of env), SLACK_API_URL pointing at fs and then env, and waits until
// it says where it listens. Its standard error goes to s.logs, and its
// standard output too when allOutput. The caller arranges the stop.
func launchServe(t testing.TB, fs *fakeslack.Server, dir string, allOutput bool, env []string) *served {
	t.Helper()
	bin := drbotBinary(t)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--plan", filepath.Join(dir, "plan.yaml"), "--log-level", "debug"}
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "DRBOT_DB=") }) {
		args = append(args, "--db", filepath.Join(dir, "drbot.db"))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = serveEnv(append([]string{"SLACK_API_URL=" + fs.URL()}, env...)...)
	s := &served{t: t, cmd: cmd, logs: &incidenttest.LogBuffer{}, exited: make(chan error, 1)}
	if allOutput {
		cmd.Stdout = s.logs
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(s.logs, sc.Text())
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
		s.exited <- cmd.Wait()
	}()
	select {
	case addr := <-addrc:
		s.base = "http://" + addr
	case err := <-s.exited:
		t.Fatalf("drbot serve exited before listening: %v\n%s", err, s.logs)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("drbot serve did not say where it listens\n%s", s.logs)
	}
	return s
}

// stopIfRunning stops s unless it has stopped already.
func (s *served) stopIfRunning() {
	s.t.Helper()
	if s.cmd.ProcessState == nil {
		s.stop()
	}
}

// stop sends SIGTERM and expects a clean exit.
func (s *served) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Errorf("drbot serve exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Errorf("drbot serve did not stop on SIGTERM")
	}
}

// post sends a request signed at signedAt (zero: now) and returns the
// status and body; it fails the test when the answer took 3 s or more.
func (s *served) post(path, contentType string, body []byte, header http.Header) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if header == nil {
		header = bot.Sign(e2eSecret, time.Now(), body)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if d := time.Since(start); d >= 3*time.Second {
		s.t.Errorf("POST %s answered in %s: Slack gives up after 3 s", path, d)
	}
	return resp.StatusCode, string(b)
}

func slashForm(user, channel, text, responseURL string) []byte {
	return []byte(url.Values{
		"token": {"legacy"}, "team_id": {fakeslack.TeamID}, "channel_id": {channel}, "user_id": {user},
		"command": {"/incident"}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"trigger-" + user},
	}.Encode())
}

// command types "/incident TEXT" as user in channel; it returns the
// status and the answer's text.
func (s *served) command(user, channel, text string, responseURL string) (int, string) {
	s.t.Helper()
	status, body := s.post("/slack/commands", "application/x-www-form-urlencoded", slashForm(user, channel, text, responseURL), nil)
	var ans struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal([]byte(body), &ans)
	return status, ans.Text
}

func (s *served) interaction(payload any) int {
	s.t.Helper()
	raw, _ := json.Marshal(payload)
	status, _ := s.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), nil)
	return status
}

// press presses a button of a message as user.
func (s *served) press(user string, m fakeslack.Message, label, responseURL string) {
	s.t.Helper()
	b, ok := m.Button(label)
	if !ok {
		s.t.Fatalf("no %q button on %q", label, m.AllText())
	}
	status := s.interaction(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": fakeslack.TeamID},
		"container": map[string]any{"type": "message", "channel_id": m.Channel, "message_ts": m.TS},
		"channel":   map[string]any{"id": m.Channel}, "response_url": responseURL, "trigger_id": "t-" + user,
		"actions": []any{map[string]any{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
			"text": map[string]any{"type": "plain_text", "text": b.Text}, "action_ts": "1.1"}},
	})
	if status != http.StatusOK {
		s.t.Fatalf("press %s: status %d", label, status)
	}
}

const wait = 20 * time.Second

// withButton matches a message that has a button labelled label and whose
// text contains every one of words.
func withButton(label string, words ...string) func(fakeslack.Message) bool {
	has := containing(words...)
	return func(m fakeslack.Message) bool {
		_, ok := m.Button(label)
		return ok && has(m)
	}
}

// containing matches a message whose text contains every one of words.
func containing(words ...string) func(fakeslack.Message) bool {
	return func(m fakeslack.Message) bool {
		text := m.AllText()
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	}
}

// waitResponse waits for the POST to the response_url with id.
func waitResponse(t *testing.T, fs *fakeslack.Server, id string) map[string]any {
	t.Helper()
	var got map[string]any
	err := fs.WaitUntil(wait, func() bool {
		for _, c := range fs.CallsTo(fakeslack.MethodResponseURL) {
			if c.ID == id {
				got = c.JSON()
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("nothing posted to response_url %s", id)
	}
	return got
}

func mustMessage(t *testing.T, fs *fakeslack.Server, conv string, what string, match func(fakeslack.Message) bool) fakeslack.Message {
	t.Helper()
	m, err := fs.WaitForMessage(conv, wait, match)
	if err != nil {
		var texts []string
		for _, m := range fs.Messages(conv) {
			texts = append(texts, m.AllText())
		}
		t.Fatalf("%s: %v; messages there:\n%s", what, err, strings.Join(texts, "\n---\n"))
	}
	return m
}

func incidentChannel(t *testing.T, fs *fakeslack.Server, prefix string) fakeslack.Channel {
	t.Helper()
	var found fakeslack.Channel
	err := fs.WaitUntil(wait, func() bool {
		for _, ch := range fs.Channels() {
			if strings.HasPrefix(ch.Name, prefix) {
				found = ch
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no channel %s*: %v", prefix, err)
	}
	return found
}

func TestServeEndToEnd(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	srv := startServe(t, fs, dir)

	// Slack is having a bad minute: rate limits and errors, and no page
	// may be lost for it.
	fs.FailNext("chat.postMessage", 2, http.StatusTooManyRequests, 1)
	fs.FailNext("chat.postMessage", 1, http.StatusInternalServerError, 0)
	fs.FailNext("conversations.create", 1, http.StatusServiceUnavailable, 0)

	t.Run("forged and stale requests change nothing", func(t *testing.T) {
		body := slashForm(alice, fakeslack.GeneralID, "declare db-corruption forged", fs.ResponseURL("forged"))
		for name, h := range map[string]http.Header{
			"forged":   bot.Sign("not-the-secret", time.Now(), body),
			"stale":    bot.Sign(e2eSecret, time.Now().Add(-10*time.Minute), body),
			"unsigned": {},
		} {
			if status, _ := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, h); status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, status)
			}
		}
	})

	status, answer := srv.command(alice, fakeslack.GeneralID, "declare db-corruption Replica lag <!channel> & worse", fs.ResponseURL("declare"))
	if status != http.StatusOK {
		t.Fatalf("declare: status %d", status)
	}
	t.Logf("declare answered: %s", answer)

	// Incident 1: the forged and stale declarations made none.
	ch := incidentChannel(t, fs, "inc-")
	if ch.Name != "inc-1-db-corruption" {
		t.Errorf("channel %q, want inc-1-db-corruption", ch.Name)
	}
	summary := mustMessage(t, fs, ch.ID, "pinned summary", func(m fakeslack.Message) bool { return m.Pinned })
	if text := summary.AllText(); !strings.Contains(text, "&lt;!channel&gt;") || strings.Contains(text, "<!channel>") {
		t.Errorf("the summary pings the channel or lost the text: %s", text)
	}
	if err := fs.WaitUntil(wait, func() bool { c, _ := fs.Channel(ch.ID); return strings.Contains(c.Topic, "sev1") }); err != nil {
		c, _ := fs.Channel(ch.ID)
		t.Errorf("topic %q, want the severity", c.Topic)
	}

	// Pages: commander alice, executor bob. Bob does not answer: after
	// 2 s carol is paged as executor.
	alicePage := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))
	mustMessage(t, fs, bob, "bob's page", withButton("Acknowledge", "executor"))
	carolPage := mustMessage(t, fs, carol, "carol's page (escalated)", withButton("Acknowledge", "executor"))
	srv.press(alice, alicePage, "Acknowledge", fs.ResponseURL("ack-alice"))
	srv.press(carol, carolPage, "Acknowledge", fs.ResponseURL("ack-carol"))
	mustMessage(t, fs, alice, "alice's page turned into her acknowledgement", func(m fakeslack.Message) bool {
		return m.TS == alicePage.TS && m.Edited && len(m.Buttons()) == 0 && strings.Contains(m.AllText(), "Acknowledged by <@"+alice+">")
	})
	mustMessage(t, fs, ch.ID, "carol's acknowledgement in the channel", containing("acknowledged as executor"))

	// The decision: the primary does not serve reads.
	assess := mustMessage(t, fs, ch.ID, "the assess step", withButton("No", "assess"))
	srv.press(carol, assess, "No", fs.ResponseURL("decide"))

	// restore needs the approver role: mallory is refused, erin approves
	// from her direct message; frank (by email) got the request too.
	approval := mustMessage(t, fs, ch.ID, "the approval request", withButton("Approve", "restore"))
	mustMessage(t, fs, frank, "frank's approval request", withButton("Approve", "restore"))
	erinReq := mustMessage(t, fs, erin, "erin's approval request", withButton("Approve", "restore"))
	srv.press(mallo, approval, "Approve", fs.ResponseURL("refused"))
	refusal := waitResponse(t, fs, "refused")
	if refusal["response_type"] != "ephemeral" || refusal["replace_original"] != false || !strings.Contains(fmt.Sprint(refusal["text"]), "approver") {
		t.Errorf("mallory's refusal = %v, want an ephemeral answer naming the approver role", refusal)
	}
	mustMessage(t, fs, ch.ID, "the failed request to ghost, said in the channel", containing("could not", "ghost", "users_not_found"))
	srv.press(erin, erinReq, "Approve", fs.ResponseURL("approve"))
	restore := mustMessage(t, fs, ch.ID, "the restore step", withButton("Done", "restore"))
	srv.press(carol, restore, "Done", fs.ResponseURL("restore-done"))
	verify := mustMessage(t, fs, ch.ID, "the verify step", withButton("Done", "verify"))
	srv.press(carol, verify, "Done", fs.ResponseURL("verify-done"))

	// An RTO alert at 25% of 8 s.
	mustMessage(t, fs, ch.ID, "the RTO alert", containing("RTO 25%"))

	// Notes: typed, and a message pinned in the channel.
	if status, _ := srv.command(carol, ch.ID, "note Snapshot 04:00 restored, checksums match", fs.ResponseURL("note")); status != 200 {
		t.Errorf("note: status %d", status)
	}
	ts, err := fs.PostUserMessage(ch.ID, bob, "Order counts match the provider &amp; the ledger")
	if err != nil {
		t.Fatal(err)
	}
	pin := map[string]any{"token": "legacy", "team_id": fakeslack.TeamID, "type": "event_callback", "event_id": "EvPIN1", "event_time": 1,
		"event": map[string]any{"type": "pin_added", "user": alice, "channel_id": ch.ID, "event_ts": "9.9",
			"item": map[string]any{"type": "message", "channel": ch.ID, "message": map[string]any{"type": "message", "user": bob, "text": "Order counts match the provider &amp; the ledger", "ts": ts}}}}
	raw, _ := json.Marshal(pin)
	for range 2 { // delivered twice: noted once
		if status, _ := srv.post("/slack/events", "application/json", raw, nil); status != 200 {
			t.Errorf("pin_added: status %d", status)
		}
	}

	// Resolve: the postmortem summary is posted in the channel.
	if status, _ := srv.command(alice, ch.ID, "resolve Restored from the 04:00 snapshot", fs.ResponseURL("resolve")); status != 200 {
		t.Errorf("resolve: status %d", status)
	}
	mustMessage(t, fs, ch.ID, "the postmortem summary", containing("resolved", "Time to recover"))

	// The declare dialog: a drill declared from the modal.
	if status, text := srv.command(bob, fakeslack.GeneralID, "declare", fs.ResponseURL("modal")); status != 200 || text != "" {
		t.Errorf("declare without a scenario: %d %q, want an empty answer and a dialog", status, text)
	}
	views, err := fs.WaitFor("views.open", 1, wait)
	if err != nil {
		t.Fatal(err)
	}
	if v := views[0].JSON(); v["trigger_id"] != "trigger-"+bob || !strings.Contains(string(views[0].Body), "Corrupted payments database — payments-db, RTO 8s") {
		t.Errorf("views.open = %s", views[0].Body)
	}
	submit := map[string]any{"type": "view_submission", "user": map[string]any{"id": bob}, "team": map[string]any{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": "declare", "private_metadata": fakeslack.GeneralID,
			"state": map[string]any{"values": map[string]any{
				"scenario": map[string]any{"scenario": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "db-corruption"}}},
				"summary":  map[string]any{"summary": map[string]any{"type": "plain_text_input", "value": "Quarterly restore drill"}},
				"drill":    map[string]any{"drill": map[string]any{"type": "checkboxes", "selected_options": []any{map[string]any{"value": "drill"}}}},
			}}}}
	if status := srv.interaction(submit); status != 200 {
		t.Errorf("modal submission: status %d", status)
	}
	drill := incidentChannel(t, fs, "drill-")
	if drill.Name != "drill-2-db-corruption" {
		t.Errorf("drill channel %q, want drill-2-db-corruption", drill.Name)
	}

	// No page was lost to Slack's 429s and 500s.
	for _, u := range []string{alice, bob, carol} {
		mustMessage(t, fs, u, "a page for "+u, func(m fakeslack.Message) bool {
			return strings.Contains(m.AllText(), "inc-1-db-corruption") || strings.Contains(m.AllText(), "#1")
		})
	}
	var statuses []int
	for _, c := range fs.Calls() {
		if c.Status != http.StatusOK {
			statuses = append(statuses, c.Status)
		}
	}
	sort.Ints(statuses)
	if !slices.Equal(statuses, []int{429, 429, 500, 503}) {
		t.Errorf("failed calls %v, want the 4 injected ones", statuses)
	}

	// Each page and acknowledgement also went to the paging webhook.
	hooks := map[string]int{}
	wantHooks := []string{"page commander", "page executor", "acknowledge commander", "acknowledge executor"}
	err = fs.WaitUntil(wait, func() bool {
		clear(hooks)
		for _, c := range fs.CallsTo(fakeslack.MethodWebhook) {
			if c.ID == "paging" && c.OK() {
				hooks[fmt.Sprint(c.JSON()["event"])+" "+fmt.Sprint(c.JSON()["role"])]++
			}
		}
		for _, w := range wantHooks {
			if hooks[w] == 0 {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Errorf("paging webhooks %v, want each of %q", hooks, wantHooks)
	}

	srv.stop()

	// The timeline, as drbot postmortem reads it from the database.
	pm := runBinary(t, drbotBinary(t), "", "postmortem", "--format", "json", "--db", filepath.Join(dir, "drbot.db"), "--plan", filepath.Join(dir, "plan.yaml"), "1")
	if pm.code != 0 {
		t.Fatalf("drbot postmortem: exit %d\n%s", pm.code, pm.stderr)
	}
	var doc struct {
		State    string `json:"state"`
		Drill    bool   `json:"drill"`
		Timeline []struct {
			Kind  string `json:"kind"`
			Actor string `json:"actor"`
			Text  string `json:"text"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(pm.stdout), &doc); err != nil {
		t.Fatalf("postmortem JSON: %v\n%s", err, pm.stdout)
	}
	kinds := map[string]int{}
	var notes []string
	for _, e := range doc.Timeline {
		kinds[e.Kind]++
		if e.Kind == "note" {
			notes = append(notes, e.Actor+": "+e.Text)
		}
	}
	for _, k := range []string{"declared", "channel_created", "paged", "escalated", "acknowledged", "decision",
		"approval_requested", "unauthorized", "approved", "step_done", "rto_alert", "note", "resolved", "postmortem_posted", "delivery_failed"} {
		if kinds[k] == 0 {
			t.Errorf("timeline has no %s event; kinds: %v", k, kinds)
		}
	}
	if kinds["declared"] != 1 {
		t.Errorf("%d declared events, want 1", kinds["declared"])
	}
	wantNotes := []string{carol + ": Snapshot 04:00 restored, checksums match", bob + ": Pinned: Order counts match the provider & the ledger"}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes %q, want %q", notes, wantNotes)
	}
	if doc.State != "resolved" || doc.Drill {
		t.Errorf("incident 1: state %q drill %v", doc.State, doc.Drill)
	}
}

// TestServeSocketMode runs "drbot serve" with only SLACK_APP_TOKEN: the
// requests come over fakeslack's Socket Mode WebSocket, and the HTTP
// Slack endpoints, with no signing secret, refuse everything.
func TestServeSocketMode(t *testing.T) {
	fs := newFakeWorkspace(t)
	srv := startServe(t, fs, t.TempDir(), "SLACK_SIGNING_SECRET=", "SLACK_APP_TOKEN="+fakeslack.AppToken)
	if err := fs.WaitUntil(wait, func() bool { return fs.SocketConnections() > 0 }); err != nil {
		t.Fatalf("no Socket Mode connection: %v", err)
	}
	id, err := fs.SendSocket(fakeslack.SocketSlashCommands, map[string]any{
		"command": "/incident", "text": "declare db-corruption over the socket", "user_id": alice,
		"channel_id": fakeslack.GeneralID, "response_url": fs.ResponseURL("sock"), "trigger_id": "t1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := fs.WaitForAck(id, wait)
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(ack, &payload); err != nil || payload.ResponseType != "in_channel" || !strings.Contains(payload.Text, "declared incident #1") {
		t.Errorf("ack = %s (%v), want the public declaration", ack, err)
	}
	ch := incidentChannel(t, fs, "inc-1-")
	page := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))

	// A press over the socket.
	b, _ := page.Button("Acknowledge")
	id, err = fs.SendSocket(fakeslack.SocketInteractive, map[string]any{
		"type": "block_actions", "user": map[string]any{"id": alice}, "team": map[string]any{"id": fakeslack.TeamID},
		"container": map[string]any{"type": "message", "channel_id": page.Channel, "message_ts": page.TS},
		"channel":   map[string]any{"id": page.Channel}, "response_url": fs.ResponseURL("sock-ack"),
		"actions": []any{map[string]any{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value, "action_ts": "1.1", "text": map[string]any{"type": "plain_text", "text": b.Text}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitForAck(id, wait); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, fs, ch.ID, "alice's acknowledgement", containing("acknowledged as commander"))

	body := slashForm(alice, fakeslack.GeneralID, "list", fs.ResponseURL("http"))
	if status, _ := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, nil); status != http.StatusUnauthorized {
		t.Errorf("HTTP command without a signing secret: status %d, want 401", status)
	}
}

// TestServeRefusesToStart covers the configuration mistakes "serve" must
// explain instead of running half-configured.
func TestServeRefusesToStart(t *testing.T) {
	bin := drbotBinary(t)
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	plan := writeE2EPlan(t, fs, dir)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\ncontacts:\n  alice: {name: Alice, slak: U1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		plan string
		want []string
	}{
		{"no bot token", nil, plan, []string{"SLACK_BOT_TOKEN is not set", "slack-app-manifest.yaml", "drbot console"}},
		{"no signing secret", []string{"SLACK_BOT_TOKEN=" + fakeslack.BotToken}, plan, []string{"SLACK_SIGNING_SECRET"}},
		{"token refused", []string{"SLACK_BOT_TOKEN=xoxb-wrong", "SLACK_SIGNING_SECRET=s", "SLACK_API_URL=" + fs.URL()}, plan, []string{"refused SLACK_BOT_TOKEN (invalid_auth)"}},
		{"bad plan", []string{"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_SIGNING_SECRET=s", "SLACK_API_URL=" + fs.URL()}, bad, []string{"bad.yaml:3:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--plan", tt.plan, "--db", filepath.Join(t.TempDir(), "d.db"))
			cmd.Env = serveEnv(tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					t.Errorf("exit: %v, want status 1", err)
				}
			case <-ctx.Done():
				_ = cmd.Process.Kill()
				t.Fatalf("serve started anyway:\n%s", stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			for _, secret := range []string{fakeslack.BotToken, "xoxb-wrong"} {
				if strings.Contains(stderr.String(), secret) {
					t.Errorf("stderr shows a token:\n%s", stderr.String())
				}
			}
		})
	}
}

// BenchmarkAnswerLatency measures how long "drbot serve" takes to answer
// "/incident declare" while every Slack call takes 300 ms: the answer must
// not wait for Slack (the outbox calls it afterwards).
func BenchmarkAnswerLatency(b *testing.B) {
	fs := newFakeWorkspace(b)
	fs.SetLatency(300 * time.Millisecond)
	srv := startServe(b, fs, b.TempDir()).base
	body := func(i int) []byte {
		return slashForm(alice, fakeslack.GeneralID, fmt.Sprintf("declare db-corruption bench %d", i), fs.ResponseURL("bench"))
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		raw := body(i)
		req, _ := http.NewRequest(http.MethodPost, srv+"/slack/commands", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range bot.Sign(e2eSecret, time.Now(), raw) {
			req.Header[k] = v
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	if p50 >= 300*time.Millisecond {
		b.Errorf("median answer %s: the answer waits for Slack's 300 ms", p50)
	}
}
