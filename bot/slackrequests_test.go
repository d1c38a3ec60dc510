package bot

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Slack checks the command URL's certificate with ssl_check=1 and a
// token (from Slack's slash command documentation); it wants 200 and an
// empty body, signed or not, and nothing is done.
func TestSSLCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := []byte("ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO")
	for _, c := range []struct {
		name     string
		signedAt time.Time
		extra    http.Header
	}{
		{"signed", time.Time{}, nil},
		{"unsigned", time.Time{}, http.Header{HeaderSignature: nil, HeaderTimestamp: nil}},
		{"stale signature", h.now.Add(-time.Hour), nil},
	} {
		status, answer := h.post("/slack/commands", "application/x-www-form-urlencoded", body, c.signedAt, c.extra)
		if status != http.StatusOK || answer != "" {
			t.Errorf("%s ssl_check: %d %q, want 200 and an empty body", c.name, status, answer)
		}
	}
	h.svc.mu.Lock()
	n := len(h.svc.commands)
	h.svc.mu.Unlock()
	if n != 0 {
		t.Errorf("ssl_check reached the engine %d times", n)
	}
	if calls := h.fs.Calls(); len(calls) != 0 {
		t.Errorf("ssl_check called Slack: %v", calls[0].Method)
	}
	// A command that merely mentions ssl_check is a command.
	if status, _ := h.command("note ssl_check=1"); status != http.StatusOK {
		t.Errorf("command: %d", status)
	}
	h.svc.mu.Lock()
	n = len(h.svc.commands)
	h.svc.mu.Unlock()
	if n != 1 {
		t.Errorf("a command with ssl_check in its text reached the engine %d times, want 1", n)
	}
}

// Slack's channel_archive and channel_unarchive events (payloads as in
// the Events API reference) reach the engine before Slack is answered.
func TestChannelArchiveEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, ev := range []map[string]any{
		{"type": "channel_archive", "channel": "C024BE91L", "user": "U024BE7LH"},
		{"type": "channel_unarchive", "channel": "C024BE91L", "user": "U024BE7LH"},
	} {
		if status, body := h.event(callback("Ev"+ev["type"].(string), ev), nil); status != http.StatusOK {
			t.Errorf("%s: %d %s", ev["type"], status, body)
		}
	}
	h.svc.mu.Lock()
	got := strings.Join(h.svc.archived, " ")
	h.svc.mu.Unlock()
	if want := "C024BE91L|U024BE7LH|true C024BE91L|U024BE7LH|false"; got != want {
		t.Errorf("archived = %q, want %q", got, want)
	}
}

// A member mentioned in a command is labelled with their name from
// users.info (asked once), so that the postmortem reads @Ben Dahl; a
// member Slack does not know keeps the mention as typed.
func TestMentionsNamed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fs.AddUser("U0BEN0001", "ben@example.com", "Ben Dahl", false)
	for i := range 2 {
		if status, _ := h.command(fmt.Sprintf("note ask <@U0BEN0001|ben> and <@U0BEN0001> and <@U0NOBODY1|x> %d", i)); status != http.StatusOK {
			t.Fatalf("command: %d", status)
		}
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	for i, c := range h.svc.commands {
		if want := fmt.Sprintf("note ask <@U0BEN0001|Ben Dahl> and <@U0BEN0001|Ben Dahl> and <@U0NOBODY1|x> %d", i); c.Text != want {
			t.Errorf("text = %q, want %q", c.Text, want)
		}
	}
	if n := len(h.fs.CallsTo("users.info")); n != 3 {
		t.Errorf("%d users.info calls, want 3 (Ben once, the unknown member each time)", n)
	}
}
