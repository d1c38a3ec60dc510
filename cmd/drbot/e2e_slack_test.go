package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
)

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
