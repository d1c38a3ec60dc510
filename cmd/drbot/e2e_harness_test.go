package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// The end-to-end harness of cmd/drbot, which every e2e_*_test.go uses: the
// real binary, built once (drbotBinary); a fake Slack workspace
// (newFakeWorkspace) and a plan (writeE2EPlan); a running "drbot serve"
// (startServe) that is sent signed commands and presses over real HTTP
// (served.command, served.press) with the real clock; and waits, with a
// deadline, on what Slack was sent (mustMessage, waitResponse).

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
