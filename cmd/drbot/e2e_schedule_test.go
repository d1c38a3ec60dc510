package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// schedulePlan is e2ePlan with a contact-list review and a drill every 2
// seconds, so that both fall due within the test on the real clock.
const schedulePlan = e2ePlan + `review:
  schedule: "@every 2s"
  owners: [alice, erin]
drills:
  - scenario: db-corruption
    schedule: "@every 2s"
`

// waitLog waits until the process has logged a line containing every one
// of words, and returns it.
func waitLog(t *testing.T, s *served, words ...string) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			all := true
			for _, w := range words {
				all = all && strings.Contains(line, w)
			}
			if all {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %s", words, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reviewsTo counts the contact-list reviews in user's DMs.
func reviewsTo(fs *fakeslack.Server, user string) int {
	n := 0
	for _, m := range fs.Messages(user) {
		if strings.Contains(m.AllText(), "Contact-list review:") {
			n++
		}
	}
	return n
}

func TestServeSchedulesAndReload(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.yaml")
	schedulePlan := strings.Replace(schedulePlan, "WEBHOOK", fs.WebhookURL("paging"), 1)
	if err := os.WriteFile(planPath, []byte(schedulePlan), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, fs, dir)

	// The review reaches both owners, with the contacts and its buttons.
	for _, owner := range []string{alice, erin} {
		m := mustMessage(t, fs, owner, "review DM to "+owner, withButton("Needs changes", "Contact-list review: End-to-end plan", "Frank Moe", "commander: Alice Berg → Bob Dahl"))
		if _, ok := m.Button("Confirm"); !ok {
			t.Errorf("review to %s has no Confirm button", owner)
		}
	}
	// The drill: its own channel, [DRILL] on its messages and pages.
	ch := incidentChannel(t, fs, "drill-")
	if !regexp.MustCompile(`^drill-\d+-db-corruption$`).MatchString(ch.Name) {
		t.Errorf("drill channel %q", ch.Name)
	}
	mustMessage(t, fs, ch.ID, "drill summary", containing("[DRILL]", "Corrupted payments database"))
	mustMessage(t, fs, bob, "drill page", withButton("Acknowledge", "[DRILL]"))

	// Each call has its own response URL: an identical signed body within
	// the 5-minute window is a replay, and refused.
	calls := 0
	scenarios := func() string {
		calls++
		status, text := srv.command(alice, fakeslack.GeneralID, "scenarios", fs.ResponseURL(fmt.Sprintf("scenarios-%d", calls)))
		if status != http.StatusOK {
			t.Fatalf("/incident scenarios: status %d", status)
		}
		return text
	}
	if text := scenarios(); strings.Contains(text, "web-down") {
		t.Fatalf("web-down before the reload: %q", text)
	}

	// An invalid plan over the file: refused, its errors logged with their
	// positions, the old plan kept, drbot still serving.
	bad := strings.Replace(schedulePlan, "estimate: 1s\n        ask:", "estimte: 1s\n        ask:", 1)
	if bad == schedulePlan {
		t.Fatal("the bad plan is the good one")
	}
	if err := os.WriteFile(planPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := waitLog(t, srv, `"plan error"`, `estimte`)
	if !regexp.MustCompile(regexp.QuoteMeta(planPath) + `:\d+:\d+: `).MatchString(line) {
		t.Errorf("plan error without FILE:LINE:COL: %s", line)
	}
	waitLog(t, srv, "plan reload refused")
	before := reviewsTo(fs, alice)
	if err := fs.WaitUntil(wait, func() bool { return reviewsTo(fs, alice) > before }); err != nil {
		t.Errorf("no review to alice after the refused reload: %v", err)
	}
	resp, err := http.Get(srv.base + "/healthz")
	if err != nil {
		t.Fatalf("/healthz after the refused reload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz after the refused reload: %s", resp.Status)
	}
	if text := scenarios(); strings.Contains(text, "web-down") || !strings.Contains(text, "db-corruption") {
		t.Errorf("scenarios after the refused reload: %q", text)
	}

	// A valid plan: taken. A scenario more, and the review goes to bob.
	good := strings.Replace(schedulePlan, "owners: [alice, erin]", "owners: [bob]", 1) + `  - scenario: web-down
    schedule: "0 3 1 1 *"
`
	good = strings.Replace(good, "scenarios:\n", `scenarios:
  web-down:
    title: The web shop is down
    service: payments-db
    severity: sev2
    page: [executor]
    steps:
      - {id: restart, do: Restart the web tier., estimate: 1s}
`, 1)
	if err := os.WriteFile(planPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, srv, "plan reloaded")
	if text := scenarios(); !strings.Contains(text, "web-down") {
		t.Errorf("scenarios after the reload: %q", text)
	}
	mustMessage(t, fs, bob, "review DM to bob after the reload", withButton("Confirm", "Contact-list review:"))
	select {
	case err := <-srv.exited:
		t.Fatalf("drbot serve exited: %v", err)
	default:
	}
}
