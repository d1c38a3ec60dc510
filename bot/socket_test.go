package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// TestSocketMode runs the same requests as the HTTP tests over a real
// Socket Mode WebSocket to fakeslack: the answers come back as the
// envelopes' acknowledgements.
func TestSocketMode(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.AddUser("U1", "one@example.com", "one", false)
	svc := newFakeService()
	svc.command = func(_ context.Context, req incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{Text: "You typed " + req.Text}, nil
	}
	chat := NewSlackChat(ChatConfig{Token: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fs.URL()})
	m := NewMetrics(MetricsConfig{})
	srv, err := NewServer(Config{Service: svc, Chat: chat, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunSocketMode: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("RunSocketMode did not stop")
		}
		_ = srv.Close(context.Background())
	})
	if err := fs.WaitUntil(10*time.Second, func() bool { return fs.SocketConnections() > 0 }); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		typ     string
		payload any
		want    string // the ack's payload
	}{
		{"slash command", fakeslack.SocketSlashCommands,
			map[string]any{"command": "/incident", "text": "status &amp; more", "user_id": "U1", "channel_id": "CINC1", "response_url": fs.ResponseURL("s1"), "trigger_id": "t"},
			`{"response_type":"ephemeral","text":"You typed status \u0026 more"}`},
		{"modal without a scenario", fakeslack.SocketInteractive, submission("", "", false),
			`{"errors":{"scenario":"Pick a scenario"},"response_action":"errors"}`},
		{"modal declared", fakeslack.SocketInteractive, submission("db-corruption", "replica lag", false), `null`},
		{"button", fakeslack.SocketInteractive, pressPayload("ack/1/executor", "U1", fs.ResponseURL("s2")), `null`},
		{"pin", fakeslack.SocketEventsAPI, pinEvent("EvS1", "U2", "U1", "noted over the socket"), `null`},
	}
	for _, tt := range tests {
		id, err := fs.SendSocket(tt.typ, tt.payload)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := fs.WaitForAck(id, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(compactJSON(t, got), tt.want); diff != "" {
			t.Errorf("%s: ack (-got +want):\n%s", tt.name, diff)
		}
	}
	svc.waitUntil(t, "the press and the note", func() bool { return len(svc.presses) == 1 && len(svc.notes) == 1 })
	var buf bytes.Buffer
	m.WriteTo(context.Background(), &buf)
	for _, want := range []string{`drbot_answer_seconds_count{endpoint="commands"} 1`, `drbot_answer_seconds_count{endpoint="interactions"} 3`} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if diff := cmp.Diff(svc.notes, []string{"CINC1|U1|Pinned: noted over the socket"}); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
	if len(svc.declares) != 1 || svc.declares[0].Scenario != "db-corruption" {
		t.Errorf("declarations = %+v", svc.declares)
	}
	if len(svc.commands) != 1 || svc.commands[0].Text != "status & more" {
		t.Errorf("commands = %+v", svc.commands)
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("ack payload %s: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
