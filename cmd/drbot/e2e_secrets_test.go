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
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// Distinctive secrets: if any of them, or its first 12 characters, shows
// up anywhere, it was leaked.
const (
	secretBotToken = "xoxb-S3CRETBOT-51a7c2e9d4b8f6a0"
	secretSigning  = "S3CRETSIGN-8e4f0a2c6b1d9e7f3a5c"
	secretAppToken = "xapp-S3CRETAPP-0c9e7a5f3b1d2e4a"
	// The paging webhook's token, given to the plan by environment
	// variable: only the webhook's receiver may see it.
	secretWebhook = "S3CRETHOOK-4d2b9e1f7a3c5e8b0d6f"
)

// startServeAllOutput is startServe with only the given tokens and
// secrets in its environment (none of the test defaults), keeping
// everything the process writes, standard output and standard error, in
// s.logs. The logs are not shown when the test fails.
func startServeAllOutput(t *testing.T, fs *fakeslack.Server, dir string, env ...string) *served {
	t.Helper()
	s := launchServe(t, fs, dir, true, env)
	t.Cleanup(s.stopIfRunning)
	return s
}

// TestNoSecretInLogs runs a whole incident through the real binary at
// --log-level debug, with Slack rate limiting and failing on the way, a
// forged request and Socket Mode on, and searches everything drbot wrote
// (standard output and error), its database files, its postmortem and
// every call it made to Slack for the bot token, the signing secret and
// the app token.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	fs.SetToken(secretBotToken)
	fs.SetAppToken(secretAppToken)
	dir := t.TempDir()
	plan := writeE2EPlan(t, fs, dir)
	// The webhook's URL ends in its token, from the environment.
	raw, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	hookURL := fs.WebhookURL("paging")
	if !strings.Contains(string(raw), hookURL) {
		t.Fatalf("the plan has no paging.webhook %s", hookURL)
	}
	raw = []byte(strings.Replace(string(raw), hookURL, `"`+hookURL+`-${DRBOT_TEST_WEBHOOK_TOKEN}"`, 1))
	if err := os.WriteFile(plan, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServeAllOutput(t, fs, dir,
		"SLACK_BOT_TOKEN="+secretBotToken, "SLACK_SIGNING_SECRET="+secretSigning, "SLACK_APP_TOKEN="+secretAppToken,
		"DRBOT_TEST_WEBHOOK_TOKEN="+secretWebhook)
	if err := fs.WaitUntil(wait, func() bool { return fs.SocketConnections() > 0 }); err != nil {
		t.Fatalf("no Socket Mode connection: %v\n%s", err, srv.logs)
	}

	post := func(path string, body []byte) int {
		t.Helper()
		status, _ := srv.post(path, "application/x-www-form-urlencoded", body, bot.Sign(secretSigning, time.Now(), body))
		return status
	}
	command := func(user, channel, text string) {
		t.Helper()
		if status := post("/slack/commands", slashForm(user, channel, text, fs.ResponseURL("cmd"))); status != http.StatusOK {
			t.Fatalf("/incident %s: status %d", text, status)
		}
	}
	press := func(user string, m fakeslack.Message, label string) {
		t.Helper()
		b, ok := m.Button(label)
		if !ok {
			t.Fatalf("no %q button on %q", label, m.AllText())
		}
		raw, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": user}, "channel": map[string]any{"id": m.Channel},
			"response_url": fs.ResponseURL("press"), "trigger_id": "t",
			"actions": []any{map[string]any{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value}},
		})
		if status := post("/slack/interactions", []byte(url.Values{"payload": {string(raw)}}.Encode())); status != http.StatusOK {
			t.Fatalf("press %s: status %d", label, status)
		}
	}

	// Slack has a bad moment: a 429 and a 500 on the way.
	fs.FailNext("chat.postMessage", 1, http.StatusTooManyRequests, 1)
	fs.FailNext("chat.postMessage", 1, http.StatusInternalServerError, 0)

	command(alice, fakeslack.GeneralID, "declare db-corruption secrets test")
	ch := incidentChannel(t, fs, "inc-1-")
	alicePage := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))
	carolPage := mustMessage(t, fs, carol, "carol's page (escalated)", withButton("Acknowledge", "executor"))
	press(alice, alicePage, "Acknowledge")
	press(carol, carolPage, "Acknowledge")
	press(carol, mustMessage(t, fs, ch.ID, "the assess step", withButton("No", "assess")), "No")
	approval := mustMessage(t, fs, ch.ID, "the approval request", withButton("Approve", "restore"))
	press(mallo, approval, "Approve") // not an approver
	press(erin, mustMessage(t, fs, erin, "erin's approval request", withButton("Approve", "restore")), "Approve")
	press(carol, mustMessage(t, fs, ch.ID, "the restore step", withButton("Done", "restore")), "Done")
	press(carol, mustMessage(t, fs, ch.ID, "the verify step", withButton("Done", "verify")), "Done")

	// A note over Socket Mode.
	id, err := fs.SendSocket(fakeslack.SocketSlashCommands, map[string]any{
		"command": "/incident", "text": "note written over Socket Mode", "user_id": carol,
		"channel_id": ch.ID, "response_url": fs.ResponseURL("sock"), "trigger_id": "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitForAck(id, wait); err != nil {
		t.Fatal(err)
	}

	// A forged request.
	forged := slashForm(alice, fakeslack.GeneralID, "declare db-corruption forged", fs.ResponseURL("forged"))
	if status, _ := srv.post("/slack/commands", "application/x-www-form-urlencoded", forged, bot.Sign(secretSigning+"x", time.Now(), forged)); status != http.StatusUnauthorized {
		t.Errorf("forged: status %d, want 401", status)
	}

	command(alice, ch.ID, "resolve restored")
	mustMessage(t, fs, ch.ID, "the postmortem summary", containing("Time to recover"))
	db := filepath.Join(dir, "drbot.db")
	srv.stop()

	// The run went through what it was meant to: a 429, a 500, a
	// refused request, an escalation, Socket Mode.
	logs := srv.logs.String()
	for _, want := range []string{"rate limited", "outbox delivery failed", "refused unsigned request", "socket mode: connected", `"level":"DEBUG"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q: the run did not cover it", want)
		}
	}

	// Everything that could hold a secret.
	places := map[string]string{"drbot's output": logs}
	for _, name := range []string{"drbot.db", "drbot.db-wal", "drbot.db-shm"} {
		if raw, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			places[name] = string(raw)
		}
	}
	bin := drbotBinary(t)
	for _, format := range []string{"json", "markdown"} {
		pm := runBinary(t, bin, "", "postmortem", "--format", format, "--db", db, "--plan", plan, "1")
		if pm.code != 0 {
			t.Fatalf("postmortem --format %s: exit %d\n%s", format, pm.code, pm.stderr)
		}
		places["postmortem "+format] = pm.stdout + pm.stderr
	}
	var calls strings.Builder
	hooks := 0
	for _, c := range fs.Calls() {
		if c.Method == fakeslack.MethodWebhook {
			// The webhook's receiver is the one place its token goes.
			if c.ID != "paging-"+secretWebhook {
				t.Errorf("webhook call to %q, want paging-<the token from the environment>", c.ID)
			}
			hooks++
			continue
		}
		fmt.Fprintf(&calls, "%s %v %s\n", c.Method, c.Params, c.Body)
	}
	if hooks == 0 {
		t.Errorf("the paging webhook was never called")
	}
	places["calls to Slack"] = calls.String()

	// The search looks at real content: the summary is in the database
	// and the postmortem, the declaration in the output.
	if !strings.Contains(places["drbot.db"]+places["drbot.db-wal"], "secrets test") || !strings.Contains(places["postmortem json"], "secrets test") ||
		!strings.Contains(logs, "incident declared") {
		t.Errorf("the places searched do not hold what the run wrote")
	}
	for where, text := range places {
		for _, secret := range []string{secretBotToken, secretSigning, secretAppToken, secretWebhook} {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the secret %s…", where, secret[:5])
			} else if strings.Contains(text, secret[:12]) {
				t.Errorf("%s holds the first 12 characters of the secret %s…", where, secret[:5])
			}
		}
	}
	t.Logf("searched %d bytes of output, %d places", len(logs), len(places))
}
