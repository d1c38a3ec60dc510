package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// The review's Needs changes button opens a dialog with the press's
// trigger_id; what is typed in it goes to the service as
// "/incident review needs TEXT".

const needsText = "What needs to change? Type `/incident review needs TEXT`."

func needsChanges(context.Context, incident.PressRequest) (incident.Reply, error) {
	return incident.Reply{Text: needsText, OpenReviewModal: true}, nil
}

func TestReviewDialogOpens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.press = needsChanges
	if status, body := h.interaction(pressPayload("review|changes|1", "U1", h.fs.ResponseURL("press"))); status != 200 || body != "" {
		t.Fatalf("answer = %d %q, want an empty 200", status, body)
	}
	calls, err := h.fs.WaitFor("views.open", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req := calls[0].JSON()
	if req["trigger_id"] != "t1" {
		t.Errorf("trigger_id = %v, want the press's", req["trigger_id"])
	}
	view, _ := json.Marshal(req["view"])
	for _, want := range []string{`"callback_id":"review_needs"`, `"private_metadata":"CINC1"`, `"action_id":"review_note"`, `"multiline":true`, `"max_length":3000`} {
		if !strings.Contains(string(view), want) {
			t.Errorf("view lacks %s:\n%s", want, view)
		}
	}
	h.svc.mu.Lock()
	got := h.svc.presses[0].TriggerID
	h.svc.mu.Unlock()
	if got != "t1" {
		t.Errorf("press TriggerID = %q, want t1", got)
	}
	// The dialog asks; the text would say the same twice. Close waits
	// for the work after the answer.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fs.CallsTo(fakeslack.MethodResponseURL)); n != 0 {
		t.Errorf("%d response_url posts besides the dialog", n)
	}
}

func TestReviewDialogFailureSaysTheCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.press = needsChanges
	h.fs.FailNextWith("views.open", 1, "expired_trigger_id")
	h.interaction(pressPayload("review|changes|1", "U1", h.fs.ResponseURL("press")))
	calls, err := h.fs.WaitFor(fakeslack.MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := calls[0].JSON()["text"].(string); text != needsText {
		t.Errorf("answer = %q, want %q", text, needsText)
	}
}

func reviewSubmission(text string) map[string]any {
	return viewSubmission("review_needs", "D0U1", "review_note", text)
}

// viewSubmission is the view_submission of a dialog with one text input,
// block (and action) id block, typed text.
func viewSubmission(callback, metadata, block, text string) map[string]any {
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "U1", "username": "one"},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": callback, "private_metadata": metadata,
			"state": map[string]any{"values": map[string]any{block: map[string]any{block: map[string]any{"type": "plain_text_input", "value": text}}}}},
	}
}

func TestReviewDialogSubmission(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		err     error
		want    string // in the answer
		wantCmd string // "" when the service is not called
	}{
		{name: "empty", text: "  ", want: `{"response_action":"errors","errors":{"review_note":"Say what needs to change"}}`},
		{name: "too long", text: strings.Repeat("é", 3001), want: `"review_note":"Keep it under 3000 characters"`},
		{name: "recorded", text: " frank left <!channel>\nerin is alone ", want: `"response_action":"update"`, wantCmd: "review needs frank left <!channel>\nerin is alone"},
		{name: "refused", text: "x", err: incident.Errorf(incident.EINVALID, "No review in the plan."), want: `{"response_action":"errors","errors":{"review_note":"No review in the plan."}}`, wantCmd: "review needs x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
				return incident.Reply{Text: "Noted, and posted in #dr-plan."}, tt.err
			}
			status, body := h.interaction(reviewSubmission(tt.text))
			if status != 200 || !strings.Contains(body, tt.want) {
				t.Errorf("answer = %d %s, want 200 with %s", status, body, tt.want)
			}
			if tt.wantCmd != "" && tt.err == nil && !strings.Contains(body, "Noted, and posted in #dr-plan.") {
				t.Errorf("the dialog does not show the answer: %s", body)
			}
			var want []incident.CommandRequest
			if tt.wantCmd != "" {
				want = append(want, incident.CommandRequest{UserID: "U1", ChannelID: "D0U1", Text: tt.wantCmd})
			}
			h.svc.mu.Lock()
			defer h.svc.mu.Unlock()
			if diff := cmp.Diff(want, h.svc.commands); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}
