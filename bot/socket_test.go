package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// TestSocketMode runs the same requests as the HTTP tests over a real
// Socket Mode WebSocket to fakeslack: the answers come back as the
// envelopes' acknowledgements.
func TestSocketMode(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.AddUser("U1", "one@example.com", "one", false)
	svc := newFakeEngine()
	svc.command = func(_ context.Context, req incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{Text: "You typed " + req.Text}, nil
	}
	m := NewMetrics(MetricsConfig{})
	runSocketMode(t, fs, Config{Engine: svc, Metrics: m})

	tests := []socketCase{
		{"slash command", fakeslack.SocketSlashCommands,
			map[string]any{"command": "/incident", "text": "status &amp; more", "user_id": "U1", "channel_id": "CINC1", "response_url": fs.ResponseURL("s1"), "trigger_id": "t"},
			`{"response_type":"ephemeral","text":"You typed status \u0026 more"}`},
		{"modal without a scenario", fakeslack.SocketInteractive, submission("", "", false),
			`{"errors":{"scenario":"Pick a scenario"},"response_action":"errors"}`},
		{"modal declared", fakeslack.SocketInteractive, submission("db-corruption", "replica lag", false), `null`},
		{"button", fakeslack.SocketInteractive, pressPayload("ack/1/executor", "U1", fs.ResponseURL("s2")), `null`},
		{"pin", fakeslack.SocketEventsAPI, pinEvent("EvS1", "U2", "U1", "noted over the socket"), `null`},
	}
	checkSocketAcks(t, fs, tests)
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

// runSocketMode runs a Server made from cfg (its Chat pointed at fs) over
// Socket Mode until the test ends, once connected.
func runSocketMode(t *testing.T, fs *fakeslack.Server, cfg Config) *Server {
	t.Helper()
	cfg.Chat = NewSlackChat(ChatConfig{Token: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fs.URL()})
	srv, err := NewServer(cfg)
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
	return srv
}

// TestSocketModePanics: a panic while handling a Socket Mode request, in
// the service or in drbot's own handling of its answer, is recovered and
// logged, the request is acknowledged, and the process goes on serving
// (an unrecovered panic in a goroutine would end this test binary).
func TestSocketModePanics(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.AddUser("U1", "one@example.com", "one", false)
	svc := newFakeEngine()
	svc.command = func(_ context.Context, req incident.CommandRequest) (incident.Reply, error) {
		switch req.Text {
		case "panic":
			panic("boom in the service")
		case "declare":
			return incident.Reply{OpenDeclareModal: true}, nil
		}
		return incident.Reply{Text: "You typed " + req.Text}, nil
	}
	svc.press = func(context.Context, incident.PressRequest) (incident.Reply, error) { panic("boom in a press") }
	svc.scenarios = func() []incident.ScenarioInfo { panic("boom in the handler") }
	var logs incidenttest.LogBuffer
	runSocketMode(t, fs, Config{Engine: svc, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	const token = "verification-token-SECRET"
	command := func(text string) map[string]any {
		return map[string]any{"token": token, "command": "/incident", "text": text, "user_id": "U1", "channel_id": "C0GENERAL", "response_url": fs.ResponseURL(text), "trigger_id": "t"}
	}
	press := pressPayload("ack/1/executor", "U1", fs.ResponseURL("press"))
	press["token"] = token
	internal := `{"response_type":"ephemeral","text":"` + incident.ErrorMessage(errors.New("x")) + `"}`
	tests := []socketCase{
		{"service panics on a command", fakeslack.SocketSlashCommands, command("panic"), internal},
		{"handler panics after the service answered", fakeslack.SocketSlashCommands, command("declare"), internal},
		{"service panics on a press", fakeslack.SocketInteractive, press, `null`},
		{"still serving", fakeslack.SocketSlashCommands, command("status"), `{"response_type":"ephemeral","text":"You typed status"}`},
	}
	checkSocketAcks(t, fs, tests)

	// Every panic is logged at error with what was being handled.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(logs.String(), "recovered") < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 panics logged:\n%s", logs.String())
		}
	}
	type record struct {
		Level, Msg, Panic string
		Type, Request     string
	}
	var got []record
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.Contains(r.Msg, "recovered") {
			got = append(got, record{Level: r.Level, Panic: r.Panic, Type: r.Type, Request: r.Request})
		}
	}
	slices.SortFunc(got, func(a, b record) int { return strings.Compare(a.Panic, b.Panic) })
	want := []record{
		{Level: "ERROR", Panic: "boom in a press", Request: "press"},
		{Level: "ERROR", Panic: "boom in the handler", Type: fakeslack.SocketSlashCommands},
		{Level: "ERROR", Panic: "boom in the service", Request: "command"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("panics logged (-got +want):\n%s", diff)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the payload's token is in the log:\n%s", logs.String())
	}
}

// socketCase is one request sent over Socket Mode and the payload of the
// acknowledgement drbot must answer it with.
type socketCase struct {
	name    string
	typ     string
	payload any
	want    string // the ack's payload
}

// checkSocketAcks sends each case through the fake Slack's WebSocket, in
// order, and compares drbot's acknowledgement with the case's.
func checkSocketAcks(t *testing.T, fs *fakeslack.Server, tests []socketCase) {
	t.Helper()
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
}
