package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

// Deny of an approval opens a dialog (views.open with the press's
// trigger_id) that asks why; its submission (view_submission) runs
// "/incident deny REASON" in the incident's channel.

func TestDenyDialogOpens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.press = func(context.Context, incident.PressRequest) (incident.Reply, error) {
		return incident.Reply{OpenDenyModal: true, DialogChannel: "CINC9", Text: "To deny step restore, type /incident deny REASON in <#CINC9>."}, nil
	}
	// Pressed in the approver's direct messages: the command runs in the
	// incident's channel all the same.
	if status, body := h.interaction(pressPayload("deny|1|2|1|restore", "U1", h.fs.ResponseURL("press"))); status != 200 || body != "" {
		t.Fatalf("answer = %d %q, want an empty 200", status, body)
	}
	calls, err := h.fs.WaitForOK("views.open", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req := calls[0].JSON()
	if req["trigger_id"] != "t1" {
		t.Errorf("trigger_id = %v, want the press's", req["trigger_id"])
	}
	view, _ := json.Marshal(req["view"])
	for _, want := range []string{`"callback_id":"deny"`, `"private_metadata":"CINC9"`, `"type":"plain_text_input"`, `"action_id":"deny_reason"`, `"optional":true`} {
		if !strings.Contains(string(view), want) {
			t.Errorf("view lacks %s:\n%s", want, view)
		}
	}
}

func denySubmission(text string) map[string]any {
	return viewSubmission("deny", "CINC9", "deny_reason", text)
}

func TestDenyDialogSubmission(t *testing.T) {
	tests := []struct {
		name, text string
		err        error
		want       string // in the answer
		wantCmd    string
	}{
		{name: "with a reason", text: " The snapshot is older than the RPO <!channel>\n ", wantCmd: "deny The snapshot is older than the RPO <!channel>"},
		{name: "without one", text: "  ", wantCmd: "deny"},
		{name: "refused", text: "x", err: incident.Errorf(incident.EINVALID, "No approval is waiting in incident #1."),
			want: `{"response_action":"errors","errors":{"deny_reason":"No approval is waiting in incident #1."}}`, wantCmd: "deny x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
				return incident.Reply{Text: "You denied step restore."}, tt.err
			}
			status, body := h.interaction(denySubmission(tt.text))
			if status != 200 || !strings.Contains(body, tt.want) {
				t.Errorf("answer = %d %s, want 200 with %q", status, body, tt.want)
			}
			h.svc.mu.Lock()
			defer h.svc.mu.Unlock()
			want := []incident.CommandRequest{{UserID: "U1", ChannelID: "CINC9", Text: tt.wantCmd, Dialog: "deny"}}
			if diff := cmp.Diff(want, h.svc.commands); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}
