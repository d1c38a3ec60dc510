package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

func dialogSubmission(callbackID string, inputs map[string]string) map[string]any {
	values := map[string]any{}
	for k, v := range inputs {
		values[k] = map[string]any{k: map[string]any{"type": "plain_text_input", "value": v}}
	}
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "U1", "username": "one"},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": callbackID, "private_metadata": "C0INC1",
			"state": map[string]any{"values": values}},
	}
}

// TestResolveDialogSubmission: the dialog's answer goes to the engine as
// one ResolveRequest (all or nothing), as the submitter in the incident's
// channel, trimmed; a refusal keeps the dialog open with why under the
// field its Field names.
func TestResolveDialogSubmission(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]string
		refuse *incident.Error // what the engine answers
		want   string          // in the answer; "" for an empty one (the dialog closes)
		sent   bool            // whether the engine is asked
	}{
		{name: "all", inputs: map[string]string{"resolution": " Restored ", "impact": "Checkout down", "cause": "Firmware", "recovery_point": "10:45"}, sent: true},
		{name: "no resolution", inputs: map[string]string{"impact": "x"}, want: `{"response_action":"errors","errors":{"resolution":"Say what ended the incident"}}`},
		{name: "bad recovery point", inputs: map[string]string{"resolution": "Restored", "recovery_point": "soon"}, sent: true,
			refuse: &incident.Error{Code: incident.EINVALID, Message: "not a time", Field: incident.FieldRecoveryPoint},
			want:   `{"response_action":"errors","errors":{"recovery_point":"not a time"}}`},
		{name: "already resolved", inputs: map[string]string{"resolution": "Restored", "cause": "x"}, sent: true,
			refuse: &incident.Error{Code: incident.ECONFLICT, Message: "already resolved", Field: incident.FieldResolution},
			want:   `{"response_action":"errors","errors":{"resolution":"already resolved"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.resolve = func(context.Context, incident.ResolveRequest) (incident.Reply, error) {
				if tt.refuse != nil {
					return incident.Reply{}, tt.refuse
				}
				return incident.Reply{Text: "ok"}, nil
			}
			status, body := h.interaction(dialogSubmission(ResolveCallbackID, tt.inputs))
			if status != 200 || (tt.want == "" && strings.TrimSpace(body) != "") || !strings.Contains(body, tt.want) {
				t.Errorf("answer = %d %q, want 200 with %q", status, body, tt.want)
			}
			var want []incident.ResolveRequest
			if tt.sent {
				want = []incident.ResolveRequest{{UserID: "U1", ChannelID: "C0INC1", Resolution: strings.TrimSpace(tt.inputs["resolution"]),
					Impact: tt.inputs["impact"], Cause: tt.inputs["cause"], RecoveryPoint: tt.inputs["recovery_point"]}}
			}
			h.svc.mu.Lock()
			defer h.svc.mu.Unlock()
			if diff := cmp.Diff(want, h.svc.resolves); diff != "" {
				t.Errorf("resolve requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveDialogCannotOpen: when views.open fails, the person is told
// what to type instead.
func TestResolveDialogCannotOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{OpenResolveModal: true, Text: "Type /incident resolve TEXT."}, nil
	}
	h.fs.FailNextWith("views.open", 1, "expired_trigger_id")
	if status, body := h.command("resolve"); status != 200 || strings.TrimSpace(body) != "" {
		t.Fatalf("answer = %d %q, want an empty one (the dialog follows)", status, body)
	}
	calls, err := h.fs.WaitFor(fakeslack.MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := calls[0].JSON()["text"].(string); text != "The resolve dialog could not be opened. Type /incident resolve TEXT." {
		t.Errorf("answer = %q", text)
	}
}

// TestRecoveryPointDialog: Done of a recovery_point step opens the dialog
// with the trigger of the press; its submission is the command.
func TestRecoveryPointDialog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.press = func(context.Context, incident.PressRequest) (incident.Reply, error) {
		return incident.Reply{OpenRecoveryPointModal: true, Text: "Type /incident recovery-point WHEN."}, nil
	}
	h.interaction(pressPayload("done|1|0|0|restore", "U1", h.fs.ResponseURL("press")))
	views, err := h.fs.WaitFor("views.open", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if body := string(views[0].Body); !strings.Contains(body, `"callback_id":"recovery_point"`) || !strings.Contains(body, "Data recovered to") {
		t.Errorf("views.open = %s", body)
	}
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{Text: "ok"}, nil
	}
	if status, body := h.interaction(dialogSubmission(RecoveryPointCallbackID, map[string]string{"recovery_point": ""})); status != 200 || !strings.Contains(body, `"recovery_point":"Say when`) {
		t.Errorf("empty: %d %s", status, body)
	}
	if status, body := h.interaction(dialogSubmission(RecoveryPointCallbackID, map[string]string{"recovery_point": "15m ago"})); status != 200 || strings.TrimSpace(body) != "" {
		t.Errorf("submitted: %d %q", status, body)
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	if want := []incident.CommandRequest{{UserID: "U1", ChannelID: "C0INC1", Text: "recovery-point 15m ago", Dialog: "recovery point"}}; !cmp.Equal(want, h.svc.commands) {
		t.Errorf("commands %+v", h.svc.commands)
	}
}
