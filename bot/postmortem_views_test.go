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

// TestResolveDialogSubmission: the dialog runs recovery-point, impact,
// cause and resolve in that order, as the submitter in the incident's
// channel, leaving out what is empty; the first refusal keeps the dialog
// open with why under its field, and nothing after it runs.
func TestResolveDialogSubmission(t *testing.T) {
	tests := []struct {
		name     string
		inputs   map[string]string
		refuse   string // the command text prefix the engine refuses
		want     string // in the answer; "" for an empty one (the dialog closes)
		wantCmds []string
	}{
		{name: "all", inputs: map[string]string{"resolution": " Restored ", "impact": "Checkout down", "cause": "Firmware", "recovery_point": "10:45"},
			wantCmds: []string{"recovery-point 10:45", "impact Checkout down", "cause Firmware", "resolve Restored"}},
		{name: "only the resolution", inputs: map[string]string{"resolution": "Restored", "impact": " "},
			wantCmds: []string{"resolve Restored"}},
		{name: "no resolution", inputs: map[string]string{"impact": "x"}, want: `{"response_action":"errors","errors":{"resolution":"Say what ended the incident"}}`},
		{name: "bad recovery point", inputs: map[string]string{"resolution": "Restored", "impact": "x", "recovery_point": "soon"}, refuse: "recovery-point",
			want: `{"response_action":"errors","errors":{"recovery_point":"not a time"}}`, wantCmds: []string{"recovery-point soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.command = func(_ context.Context, req incident.CommandRequest) (incident.Reply, error) {
				if tt.refuse != "" && strings.HasPrefix(req.Text, tt.refuse) {
					return incident.Reply{}, incident.Errorf(incident.EINVALID, "not a time")
				}
				return incident.Reply{Text: "ok"}, nil
			}
			status, body := h.interaction(dialogSubmission(ResolveCallbackID, tt.inputs))
			if status != 200 || (tt.want == "" && strings.TrimSpace(body) != "") || !strings.Contains(body, tt.want) {
				t.Errorf("answer = %d %q, want 200 with %q", status, body, tt.want)
			}
			var want []incident.CommandRequest
			for _, c := range tt.wantCmds {
				want = append(want, incident.CommandRequest{UserID: "U1", ChannelID: "C0INC1", Text: c})
			}
			h.svc.mu.Lock()
			defer h.svc.mu.Unlock()
			if diff := cmp.Diff(want, h.svc.commands); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
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
	if want := []incident.CommandRequest{{UserID: "U1", ChannelID: "C0INC1", Text: "recovery-point 15m ago"}}; !cmp.Equal(want, h.svc.commands) {
		t.Errorf("commands %+v", h.svc.commands)
	}
}
