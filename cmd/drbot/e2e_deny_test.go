package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// TestServeDenyReason: in Slack, Deny of an approval opens a dialog
// (views.open with a text input) that asks why; its submission
// (view_submission) denies with that reason, which the channel shows.
// Someone outside the approving role is told they may not deny. The real
// binary against the fake Slack.
func TestServeDenyReason(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	fs := newFakeWorkspace(t)
	srv := startServe(t, fs, t.TempDir())
	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: status %d", status)
	}
	ch := incidentChannel(t, fs, "inc-")
	assess := mustMessage(t, fs, ch.ID, "the assess step", withButton("No", "assess"))
	srv.press(bob, assess, "No", fs.ResponseURL("decide"))
	approval := mustMessage(t, fs, ch.ID, "the approval request", withButton("Deny", "restore"))

	srv.press(mallo, approval, "Deny", fs.ResponseURL("refused"))
	if text, _ := waitResponse(t, fs, "refused")["text"].(string); !strings.Contains(text, "may deny this step") {
		t.Errorf("mallory's refusal = %q, want that she may not deny", text)
	}

	erinReq := mustMessage(t, fs, erin, "erin's approval request", withButton("Deny", "restore"))
	srv.press(erin, erinReq, "Deny", fs.ResponseURL("deny"))
	views, err := fs.WaitForOK("views.open", 1, wait)
	if err != nil {
		t.Fatal(err)
	}
	body := string(views[0].Body)
	for _, want := range []string{`"callback_id":"deny"`, `"private_metadata":"` + ch.ID + `"`, `"action_id":"deny_reason"`, `"type":"plain_text_input"`} {
		if !strings.Contains(body, want) {
			t.Errorf("views.open lacks %s: %s", want, body)
		}
	}
	for _, m := range fs.Messages(ch.ID) {
		if strings.Contains(m.AllText(), "denied step restore") {
			t.Fatalf("denied before the dialog was submitted: %s", m.AllText())
		}
	}
	submit := map[string]any{"type": "view_submission", "user": map[string]any{"id": erin}, "team": map[string]any{"id": fakeslack.TeamID},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": "deny", "private_metadata": ch.ID,
			"state": map[string]any{"values": map[string]any{
				"deny_reason": map[string]any{"deny_reason": map[string]any{"type": "plain_text_input", "value": "The snapshot predates the RPO <!channel>"}},
			}}}}
	if status := srv.interaction(submit); status != http.StatusOK {
		t.Fatalf("dialog submission: status %d", status)
	}
	mustMessage(t, fs, ch.ID, "the denial with its reason", containing("denied step restore", "Reason: The snapshot predates the RPO &lt;!channel&gt;."))
}
