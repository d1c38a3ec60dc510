package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

const testSecret = "test-signing-secret"

// fakeEngine is an Engine that records what it is asked and answers
// what the test says. It is safe for concurrent use.
type fakeEngine struct {
	mu        sync.Mutex
	commands  []incident.CommandRequest
	presses   []incident.PressRequest
	declares  []incident.DeclareRequest
	resolves  []incident.ResolveRequest
	notes     []string        // "channel|user|text"
	archived  []string        // "channel|user|archived"
	seen      map[string]bool // event ids recorded with their notes
	noteTries int
	changed   chan struct{}

	command func(context.Context, incident.CommandRequest) (incident.Reply, error)
	press   func(context.Context, incident.PressRequest) (incident.Reply, error)
	declare func(context.Context, incident.DeclareRequest) (*incident.Incident, error)
	resolve func(context.Context, incident.ResolveRequest) (incident.Reply, error)
	// scenarios replaces the three scenarios below when set.
	scenarios func() []incident.ScenarioInfo
	// noteErr fails AddNoteForEvent, which then records nothing (its
	// transaction rolled back).
	noteErr error
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{seen: map[string]bool{}, changed: make(chan struct{})}
}

func (f *fakeEngine) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeEngine) Command(ctx context.Context, req incident.CommandRequest) (incident.Reply, error) {
	f.mu.Lock()
	f.commands = append(f.commands, req)
	fn := f.command
	f.notifyLocked()
	f.mu.Unlock()
	if fn == nil {
		return incident.Reply{Text: "ok"}, nil
	}
	return fn(ctx, req)
}

func (f *fakeEngine) Press(ctx context.Context, req incident.PressRequest) (incident.Reply, error) {
	f.mu.Lock()
	f.presses = append(f.presses, req)
	fn := f.press
	f.notifyLocked()
	f.mu.Unlock()
	if fn == nil {
		return incident.Reply{}, nil
	}
	return fn(ctx, req)
}

func (f *fakeEngine) Declare(ctx context.Context, req incident.DeclareRequest) (*incident.Incident, error) {
	f.mu.Lock()
	f.declares = append(f.declares, req)
	fn := f.declare
	f.notifyLocked()
	f.mu.Unlock()
	if fn == nil {
		return &incident.Incident{ID: 1, Scenario: req.Scenario}, nil
	}
	return fn(ctx, req)
}

func (f *fakeEngine) Scenarios() []incident.ScenarioInfo {
	f.mu.Lock()
	fn := f.scenarios
	f.mu.Unlock()
	if fn != nil {
		return fn()
	}
	return []incident.ScenarioInfo{
		{ID: "db-corruption", Title: "Corrupted payments database", Service: "payments-db", Severity: "sev1", RTO: 2 * time.Hour},
		{ID: "region-down", Title: "Region outage", Service: "checkout", Severity: "sev1", RTO: 90 * time.Minute},
		{ID: "phish", Title: "Phishing", Severity: "sev3"},
	}
}

func (f *fakeEngine) ChannelArchived(ctx context.Context, channelID, by string, archived bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archived = append(f.archived, fmt.Sprintf("%s|%s|%v", channelID, by, archived))
	f.notifyLocked()
	return nil
}

func (f *fakeEngine) DeclaredReply(context.Context, int64) (string, bool, error) {
	return "", false, errors.New("the fake engine declares nothing")
}

func (f *fakeEngine) ResolveWith(ctx context.Context, r incident.ResolveRequest) (incident.Reply, error) {
	f.mu.Lock()
	f.resolves = append(f.resolves, r)
	resolve := f.resolve
	f.mu.Unlock()
	if resolve == nil {
		return incident.Reply{Text: "resolved"}, nil
	}
	return resolve(ctx, r)
}

func (f *fakeEngine) AddNoteForEvent(ctx context.Context, eventID, channelID, userID, text string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notifyLocked()
	f.noteTries++
	if f.noteErr != nil {
		return false, f.noteErr
	}
	if f.seen[eventID] {
		return true, nil
	}
	f.seen[eventID] = true
	f.notes = append(f.notes, channelID+"|"+userID+"|"+text)
	return false, nil
}

// waitUntil waits for cond, re-checked on every call the service gets.
func (f *fakeEngine) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok, ch := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type harness struct {
	t    *testing.T
	fs   *fakeslack.Server
	svc  *fakeEngine
	srv  *Server
	http *httptest.Server
	now  time.Time
	ping error
	m    *Metrics
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, fs: fakeslack.New(), svc: newFakeEngine(), now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	t.Cleanup(h.fs.Close)
	for _, u := range []string{"U1", "U2"} {
		h.fs.AddUser(u, strings.ToLower(u)+"@example.com", u, false)
	}
	h.m = NewMetrics(MetricsConfig{OpenIncidents: func(context.Context) (int, error) { return 2, nil }})
	chat := NewSlackChat(ChatConfig{Token: fakeslack.BotToken, APIURL: h.fs.URL(), Metrics: h.m})
	srv, err := NewServer(Config{
		Engine:        h.svc,
		Chat:          chat,
		SigningSecret: testSecret,
		Now:           func() time.Time { return h.now },
		Metrics:       h.m,
		Ping:          func(context.Context) error { return h.ping },
		AnswerWithin:  200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		h.http.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// post sends a request signed at signedAt (zero: h.now).
func (h *harness) post(path, contentType string, body []byte, signedAt time.Time, extra http.Header) (int, string) {
	h.t.Helper()
	if signedAt.IsZero() {
		signedAt = h.now
	}
	req, err := http.NewRequest(http.MethodPost, h.http.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range Sign(testSecret, signedAt, body) {
		req.Header[k] = v
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func commandForm(text, responseID string) []byte {
	return []byte(url.Values{
		"token": {"legacy"}, "team_id": {"T1"}, "channel_id": {"C0GENERAL"}, "channel_name": {"general"},
		"user_id": {"U1"}, "user_name": {"one"}, "command": {"/incident"}, "text": {text},
		"response_url": {responseID}, "trigger_id": {"trigger-" + responseID},
	}.Encode())
}

func (h *harness) command(text string) (int, string) {
	h.t.Helper()
	return h.post("/slack/commands", "application/x-www-form-urlencoded", commandForm(text, h.fs.ResponseURL("cmd")), time.Time{}, nil)
}

func (h *harness) interaction(payload any) (int, string) {
	h.t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), time.Time{}, nil)
}

func (h *harness) event(payload any, extra http.Header) (int, string) {
	h.t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.post("/slack/events", "application/json", raw, time.Time{}, extra)
}

func TestCommandAnswered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.command = func(_ context.Context, req incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{Text: "Declared *inc-1*", Public: true}, nil
	}
	status, body := h.command("declare db-corruption replica &lt;x&gt; &amp; <@U2|two>")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var got CommandResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	if diff := cmp.Diff(got, CommandResponse{ResponseType: "in_channel", Text: "Declared *inc-1*"}); diff != "" {
		t.Errorf("answer (-got +want):\n%s", diff)
	}
	// The trigger_id comes along, so that the engine may ask for a dialog.
	// The mention is labelled with the member's name as users.info says
	// it (the fake's U2 is named "U2"), for the postmortem (mentions.go).
	want := []incident.CommandRequest{{UserID: "U1", ChannelID: "C0GENERAL", Text: "declare db-corruption replica <x> & <@U2|U2>", TriggerID: "trigger-" + h.fs.ResponseURL("cmd")}}
	if diff := cmp.Diff(h.svc.commands, want); diff != "" {
		t.Errorf("requests (-got +want):\n%s", diff)
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"domain error", incident.Errorf(incident.ENOTFOUND, "No scenario %q. Scenarios: db-corruption, region-down.", "dbx"), `No scenario "dbx". Scenarios: db-corruption, region-down.`},
		{"internal error", fmt.Errorf("select incidents: %w", errors.New("database is locked (SQLITE_BUSY) /var/lib/drbot.db")), incident.ErrorMessage(errors.New("x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
				return incident.Reply{}, tt.err
			}
			status, body := h.command("declare dbx")
			var got CommandResponse
			if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
				t.Fatalf("status %d, answer %q: %v", status, body, err)
			}
			if got.ResponseType != "ephemeral" || got.Text != tt.want {
				t.Errorf("answer = %+v, want ephemeral %q", got, tt.want)
			}
			if strings.Contains(body, "SQLITE") || strings.Contains(body, "/var/lib") {
				t.Errorf("the answer leaks internals: %s", body)
			}
		})
	}
}

// TestServicePanicOverHTTP: net/http recovers a handler's own panic, not
// one in the goroutine that calls the service; that one is recovered too
// and answered as an internal error.
func TestServicePanicOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) { panic("boom") }
	status, body := h.command("status")
	if want := incident.ErrorMessage(errors.New("x")); status != 200 || !strings.Contains(body, want) {
		t.Errorf("answer %d %s, want 200 with %q", status, body, want)
	}
}

func TestCommandSlowAnswersLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	release := make(chan struct{})
	h.svc.command = func(ctx context.Context, req incident.CommandRequest) (incident.Reply, error) {
		<-release // the database is locked by another process
		return incident.Reply{Text: "Open incidents: none"}, nil
	}
	start := time.Now()
	status, body := h.command("list")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answer took %s", d)
	}
	var got CommandResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
		t.Fatalf("status %d, answer %q: %v", status, body, err)
	}
	if got.Text != WorkingText || got.ResponseType != "ephemeral" {
		t.Errorf("answer = %+v, want %q", got, WorkingText)
	}
	if n := len(h.fs.CallsTo(fakeslack.MethodResponseURL)); n != 0 {
		t.Fatalf("response_url used before the command finished")
	}
	close(release)
	calls, err := h.fs.WaitFor(fakeslack.MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := calls[0].JSON(); got["text"] != "Open incidents: none" || got["response_type"] != "ephemeral" {
		t.Errorf("late answer = %v", got)
	}
}

func TestDeclareModalOpens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{OpenDeclareModal: true}, nil
	}
	status, body := h.command("declare")
	if status != 200 || body != "" {
		t.Errorf("answer = %d %q, want an empty 200", status, body)
	}
	calls, err := h.fs.WaitFor("views.open", 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req := calls[0].JSON()
	if req["trigger_id"] != "trigger-"+h.fs.ResponseURL("cmd") {
		t.Errorf("trigger_id = %v", req["trigger_id"])
	}
	view, _ := json.Marshal(req["view"])
	for _, want := range []string{
		`"callback_id":"declare"`,
		`"private_metadata":"C0GENERAL"`,
		`Corrupted payments database — payments-db, RTO 2h`,
		`Region outage — checkout, RTO 1h30m`,
		`"text":"Phishing"`,
		`"value":"db-corruption"`,
		`"max_length":3000`,
		`"type":"checkboxes"`,
	} {
		if !strings.Contains(string(view), want) {
			t.Errorf("view lacks %s:\n%s", want, view)
		}
	}
}

func TestDeclareModalFailureSaidByResponseURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.command = func(context.Context, incident.CommandRequest) (incident.Reply, error) {
		return incident.Reply{OpenDeclareModal: true}, nil
	}
	h.fs.FailNextWith("views.open", 1, "expired_trigger_id")
	h.command("declare")
	calls, err := h.fs.WaitFor(fakeslack.MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := calls[0].JSON()["text"].(string); !strings.Contains(text, "/incident declare SCENARIO") {
		t.Errorf("answer = %q", text)
	}
}

func submission(scenario, summary string, drill bool) map[string]any {
	values := map[string]any{
		"summary": map[string]any{"summary": map[string]any{"type": "plain_text_input", "value": summary}},
		"drill":   map[string]any{"drill": map[string]any{"type": "checkboxes", "selected_options": []any{}}},
	}
	if scenario != "" {
		values["scenario"] = map[string]any{"scenario": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": scenario, "text": map[string]any{"type": "plain_text", "text": scenario}}}}
	} else {
		values["scenario"] = map[string]any{"scenario": map[string]any{"type": "static_select", "selected_option": nil}}
	}
	if drill {
		values["drill"] = map[string]any{"drill": map[string]any{"type": "checkboxes", "selected_options": []any{map[string]any{"value": "drill", "text": map[string]any{"type": "plain_text", "text": "Drill"}}}}}
	}
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "U1", "username": "one"},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": "declare", "private_metadata": "C0GENERAL", "state": map[string]any{"values": values}},
	}
}

func TestDeclareSubmission(t *testing.T) {
	tests := []struct {
		name       string
		payload    map[string]any
		declareErr error
		want       string // answer body ("" closes the modal)
		wantReq    *incident.DeclareRequest
	}{
		{"no scenario", submission("", "x", false), nil, `{"response_action":"errors","errors":{"scenario":"Pick a scenario"}}`, nil},
		{"summary too long", submission("db-corruption", strings.Repeat("é", 3001), false), nil, `{"response_action":"errors","errors":{"summary":"Keep the summary under 3000 characters"}}`, nil},
		{"declared", submission("db-corruption", "  replica lag <!channel>  ", true), nil, "",
			&incident.DeclareRequest{Scenario: "db-corruption", Summary: "replica lag <!channel>", Drill: true, UserID: "U1", ChannelID: "C0GENERAL", Confirm: true}},
		{"unknown scenario", submission("gone", "", false), incident.Errorf(incident.ENOTFOUND, "No scenario gone"), `{"response_action":"errors","errors":{"scenario":"No scenario gone"}}`,
			&incident.DeclareRequest{Scenario: "gone", UserID: "U1", ChannelID: "C0GENERAL", Confirm: true}},
		// A dialog's errors are plain text: shown as typed, not as &lt;.
		{"error naming what was typed", submission("a<b", "", false), incident.Errorf(incident.ENOTFOUND, `Unknown scenario "a&lt;b&amp;c"`), `{"response_action":"errors","errors":{"scenario":"Unknown scenario \"a\u003cb\u0026c\""}}`,
			&incident.DeclareRequest{Scenario: "a<b", UserID: "U1", ChannelID: "C0GENERAL", Confirm: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.declare = func(context.Context, incident.DeclareRequest) (*incident.Incident, error) {
				if tt.declareErr != nil {
					return nil, tt.declareErr
				}
				return &incident.Incident{ID: 1}, nil
			}
			status, body := h.interaction(tt.payload)
			if status != 200 || strings.TrimSpace(body) != tt.want {
				t.Errorf("answer = %d %s, want 200 %s", status, body, tt.want)
			}
			var want []incident.DeclareRequest
			if tt.wantReq != nil {
				want = append(want, *tt.wantReq)
			}
			if diff := cmp.Diff(h.svc.declares, want); diff != "" {
				t.Errorf("declarations (-got +want):\n%s", diff)
			}
		})
	}
}

func pressPayload(value, user, responseURL string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
		"container":    map[string]any{"type": "message", "channel_id": "CINC1", "message_ts": "1.1"},
		"channel":      map[string]any{"id": "CINC1", "name": "inc-1-db"},
		"response_url": responseURL, "trigger_id": "t1",
		"actions": []any{map[string]any{"type": "button", "action_id": "drbot-0", "block_id": "b", "value": value, "text": map[string]any{"type": "plain_text", "text": "Approve"}, "action_ts": "1.2"}},
	}
}

func TestPress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	release := make(chan struct{})
	h.svc.press = func(_ context.Context, req incident.PressRequest) (incident.Reply, error) {
		<-release
		if req.UserID != "U2" {
			return incident.Reply{}, incident.Errorf(incident.EFORBIDDEN, "Only an approver can approve this step.")
		}
		return incident.Reply{}, nil
	}
	// The answer does not wait for the service.
	status, body := h.interaction(pressPayload("approve/1/restore", "U1", h.fs.ResponseURL("press-1")))
	if status != 200 || body != "" {
		t.Errorf("answer = %d %q, want an empty 200", status, body)
	}
	status, _ = h.interaction(pressPayload("approve/1/restore", "U2", h.fs.ResponseURL("press-2")))
	if status != 200 {
		t.Errorf("status %d", status)
	}
	close(release)
	h.svc.waitUntil(t, "two presses", func() bool { return len(h.svc.presses) == 2 })
	calls, err := h.fs.WaitFor(fakeslack.MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := calls[0].JSON()
	want := map[string]any{"response_type": "ephemeral", "text": "Only an approver can approve this step.", "replace_original": false}
	if diff := cmp.Diff(got, want); diff != "" || calls[0].ID != "press-1" {
		t.Errorf("refusal to %s (-got +want):\n%s", calls[0].ID, diff)
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	for _, p := range h.svc.presses {
		if p.Action != "approve/1/restore" || p.ChannelID != "CINC1" {
			t.Errorf("press = %+v", p)
		}
	}
	if n := len(h.fs.CallsTo(fakeslack.MethodResponseURL)); n != 1 {
		t.Errorf("%d response_url posts, want 1 (the accepted press says nothing)", n)
	}
}

func callback(id string, event map[string]any) map[string]any {
	return map[string]any{"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": id, "event_time": 1, "event": event}
}

func pinEvent(id, pinner, author, text string) map[string]any {
	return callback(id, map[string]any{
		"type": "pin_added", "user": pinner, "channel_id": "CINC1", "event_ts": "1.2",
		"item": map[string]any{"type": "message", "channel": "CINC1", "created_by": pinner,
			"message": map[string]any{"type": "message", "user": author, "text": text, "ts": "1.1"}},
	})
}

func TestEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fs.AddChannel("CINC1", "inc-1-db")

	status, body := h.event(map[string]any{"token": "x", "challenge": "abc123", "type": "url_verification"}, nil)
	if status != 200 || !strings.Contains(body, `"challenge":"abc123"`) {
		t.Errorf("url_verification = %d %s", status, body)
	}

	if status, _ := h.event(pinEvent("Ev1", "U2", "U1", "replica &amp; primary &lt;ok&gt;"), nil); status != 200 {
		t.Errorf("pin_added status %d", status)
	}
	h.svc.waitUntil(t, "a note", func() bool { return len(h.svc.notes) == 1 })

	// Slack's retry of the same event, and a second delivery of it.
	retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
	if status, _ := h.event(pinEvent("Ev1", "U2", "U1", "replica &amp; primary &lt;ok&gt;"), retry); status != 200 {
		t.Errorf("retry status %d", status)
	}

	ts, err := h.fs.PostUserMessage("CINC1", "U2", "restore started from snapshot 04:00")
	if err != nil {
		t.Fatal(err)
	}
	react := func(id, reaction, user string) map[string]any {
		return callback(id, map[string]any{"type": "reaction_added", "user": user, "reaction": reaction, "item_user": "U2",
			"item": map[string]any{"type": "message", "channel": "CINC1", "ts": ts}, "event_ts": "2.1"})
	}
	h.event(react("Ev2", "thumbsup", "U1"), nil)
	h.event(react("Ev3", "pushpin", "U1"), nil)
	h.svc.waitUntil(t, "a second note", func() bool { return len(h.svc.notes) == 2 })
	// Another :pushpin: on the same message notes nothing new.
	h.event(react("Ev4", "pushpin", "U2"), nil)
	// drbot pinning its own summary is not a note.
	h.event(pinEvent("Ev5", fakeslack.BotUserID, fakeslack.BotUserID, "Incident summary"), nil)
	// An event drbot does not handle.
	if status, _ := h.event(callback("Ev6", map[string]any{"type": "app_mention", "user": "U1", "text": "hi", "ts": "3.1", "channel": "CINC1"}), nil); status != 200 {
		t.Errorf("app_mention status %d", status)
	}
	if status, _ := h.event(callback("Ev7", map[string]any{"type": "no_such_event_type"}), nil); status != 200 {
		t.Errorf("unknown event status %d", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"CINC1|U1|Pinned: replica & primary <ok>",
		"CINC1|U2|Pinned: restore started from snapshot 04:00",
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	if diff := cmp.Diff(h.svc.notes, want); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
	if n := len(h.fs.CallsTo("conversations.history")); n != 2 {
		t.Errorf("%d conversations.history calls, want 2", n)
	}
}

// TestEventNoteNotWrittenIsRetried: a note that could not be written
// leaves its message unmarked, so that it is noted when Slack sends the
// event again (a pin: answered 503) or someone adds another :pushpin:
// (a reaction, noted after the answer). Marked as seen before the note was
// written, the message would be lost to the timeline for good.
func TestEventNoteNotWrittenIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fs.AddChannel("CINC1", "inc-1-db")
	// As after a start that reached Slack: a pin is then noted before
	// the answer (without its member id, drbot notes after it).
	h.srv.chat.rememberBotUserID(fakeslack.BotUserID)
	setErr := func(err error) {
		h.svc.mu.Lock()
		h.svc.noteErr = err
		h.svc.mu.Unlock()
	}
	setErr(errors.New("database is locked"))
	if status, _ := h.event(pinEvent("Ev1", "U2", "U1", "x"), nil); status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503 so that Slack sends it again", status)
	}
	ts, err := h.fs.PostUserMessage("CINC1", "U2", "failover done")
	if err != nil {
		t.Fatal(err)
	}
	react := func(id, user string) map[string]any {
		return callback(id, map[string]any{"type": "reaction_added", "user": user, "reaction": "pushpin", "item_user": "U2",
			"item": map[string]any{"type": "message", "channel": "CINC1", "ts": ts}, "event_ts": "2.1"})
	}
	if status, _ := h.event(react("Ev2", "U1"), nil); status != 200 {
		t.Errorf(":pushpin: status %d", status)
	}
	h.svc.waitUntil(t, "the :pushpin: note tried", func() bool { return h.svc.noteTries == 2 })
	setErr(nil)

	if status, _ := h.event(pinEvent("Ev1", "U2", "U1", "x"), http.Header{"X-Slack-Retry-Num": {"1"}}); status != 200 {
		t.Errorf("retry status %d", status)
	}
	h.event(react("Ev3", "U2"), nil)
	h.svc.waitUntil(t, "both notes", func() bool { return len(h.svc.notes) == 2 })
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	want := []string{"CINC1|U1|Pinned: x", "CINC1|U2|Pinned: failover done"}
	if diff := cmp.Diff(h.svc.notes, want); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
}

func TestRefusedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := commandForm("declare db-corruption", h.fs.ResponseURL("cmd"))
	event, _ := json.Marshal(pinEvent("Ev1", "U2", "U1", "x"))
	press, _ := json.Marshal(pressPayload("approve/1/x", "U1", h.fs.ResponseURL("p")))
	pressForm := []byte(url.Values{"payload": {string(press)}}.Encode())
	bodies := map[string][]byte{"/slack/commands": form, "/slack/events": event, "/slack/interactions": pressForm}

	for path, body := range bodies {
		tests := []struct {
			name   string
			header http.Header
		}{
			{"stale", Sign(testSecret, h.now.Add(-6*time.Minute), body)},
			{"future", Sign(testSecret, h.now.Add(6*time.Minute), body)},
			{"forged", Sign("not-the-secret", h.now, body)},
			{"missing", http.Header{}},
			{"signature of another body", Sign(testSecret, h.now, append([]byte("x"), body...))},
		}
		for _, tt := range tests {
			req, _ := http.NewRequest(http.MethodPost, h.http.URL+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s: status %d, want 401", path, tt.name, resp.StatusCode)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.srv.Close(ctx)
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	if len(h.svc.commands)+len(h.svc.presses)+len(h.svc.notes)+len(h.svc.seen) != 0 {
		t.Errorf("refused requests reached the service: %+v %+v %+v %+v", h.svc.commands, h.svc.presses, h.svc.notes, h.svc.seen)
	}
	if calls := h.fs.Calls(); len(calls) != 0 {
		t.Errorf("refused requests called Slack: %+v", calls)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := commandForm("note "+strings.Repeat("x", MaxBody), "r")
	status, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", body, time.Time{}, nil)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
	if len(h.svc.commands) != 0 {
		t.Errorf("an oversized request reached the service")
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, err := http.Get(h.http.URL + "/slack/commands")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /slack/commands: %d, want 405", resp.StatusCode)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	get := func() (int, string) {
		resp, err := http.Get(h.http.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(); status != 200 || body != "ok" {
		t.Errorf("healthz = %d %q, want 200 ok", status, body)
	}
	h.ping = errors.New("disk I/O error")
	if status, body := get(); status != 503 || strings.Contains(body, "disk") {
		t.Errorf("healthz with a broken database = %d %q, want 503 without details", status, body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.command("help")
	h.m.PageSent()
	h.m.Declared(true)
	h.m.Acknowledged(95 * time.Second)
	h.m.SlackCall("chat.postMessage", "ratelimited")
	resp, err := http.Get(h.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"drbot_open_incidents 2",
		"drbot_pages_sent_total 1",
		`drbot_incidents_declared_total{drill="true"} 1`,
		`drbot_time_to_ack_seconds_bucket{le="60"} 0`,
		`drbot_time_to_ack_seconds_bucket{le="120"} 1`,
		`drbot_time_to_ack_seconds_bucket{le="+Inf"} 1`,
		"drbot_time_to_ack_seconds_sum 95",
		`drbot_answer_seconds_count{endpoint="commands"} 1`,
		`drbot_slack_api_calls_total{method="chat.postMessage"} 1`,
		`drbot_slack_api_errors_total{error="ratelimited",method="chat.postMessage"} 1`,
		"# TYPE drbot_slack_api_calls_total counter",
		"# TYPE drbot_answer_seconds histogram",
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(b), "drbot_outbox_depth") {
		t.Errorf("a gauge with no source is shown")
	}
}

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	r    io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// A request whose headers already fail verification is refused with 401
// before its body is read; a signed one that declares more than MaxBody
// gets 413, also unread.
func TestRefusedBeforeReadingBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := commandForm("declare db-corruption", "r")
	big := commandForm("note "+strings.Repeat("x", MaxBody), "r")
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		want   int
	}{
		{"missing", body, http.Header{}, http.StatusUnauthorized},
		{"stale", body, Sign(testSecret, h.now.Add(-6*time.Minute), body), http.StatusUnauthorized},
		{"not v0", body, http.Header{HeaderTimestamp: {fmt.Sprint(h.now.Unix())}, HeaderSignature: {"v1=00"}}, http.StatusUnauthorized},
		{"unsigned and oversized", big, http.Header{}, http.StatusUnauthorized},
		{"signed and oversized", big, Sign(testSecret, h.now, big), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			cb := &countingBody{r: bytes.NewReader(tt.body)}
			req := httptest.NewRequest(http.MethodPost, path, cb)
			req.ContentLength = int64(len(tt.body))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if got := rec.Code; got != tt.want {
				t.Errorf("%s %s: status %d, want %d", tt.name, path, got, tt.want)
			}
			if cb.read != 0 {
				t.Errorf("%s %s: %d bytes of the body read before refusing", tt.name, path, cb.read)
			}
		}
	}
	if len(h.svc.commands)+len(h.svc.presses)+len(h.svc.notes) != 0 {
		t.Errorf("refused requests reached the service")
	}
}

// A pin_added event is answered without waiting for Slack, even when
// drbot's member id is not known yet (auth.test failed at start): the
// note, and telling drbot's own pins, come after the answer.
func TestPinAnsweredWithoutWaitingForSlack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fs.AddChannel("CINC1", "inc-1-db")
	h.srv.cfg.AnswerWithin = 5 * time.Second
	h.fs.SetLatency(time.Second)

	start := time.Now()
	status, _ := h.event(pinEvent("Ev1", "U2", "U1", "failover started"), nil)
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("pin_added answered after %v: it waited for Slack", elapsed)
	}
	if status != http.StatusOK {
		t.Errorf("pin_added status %d, want 200", status)
	}
	h.event(pinEvent("Ev2", fakeslack.BotUserID, fakeslack.BotUserID, "Incident summary"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	if diff := cmp.Diff(h.svc.notes, []string{"CINC1|U1|Pinned: failover started"}); diff != "" {
		t.Errorf("notes (-got +want):\n%s", diff)
	}
}
