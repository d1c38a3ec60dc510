package console

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

var start = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func testPlan() *playbooks.Plan {
	contacts := map[string]*playbooks.Contact{
		"alice": {ID: "alice", Name: "Alice Berg", Slack: "U0ALICE01", Email: "alice@example.com"},
		"bob":   {ID: "bob", Name: "Bob Dahl", Slack: "U0BOB0001"},
		"erin":  {ID: "erin", Name: "Erin Lund", Slack: "U0ERIN001"},
		"frank": {ID: "frank", Name: "Frank Moe", Email: "frank@example.com"},
	}
	return &playbooks.Plan{
		Name:         "Test plan",
		Timezone:     "UTC",
		Location:     time.UTC,
		Contacts:     contacts,
		ContactOrder: []string{"alice", "bob", "erin", "frank"},
	}
}

// fakeEngine records what the console asks and, on Tick, runs the
// deliveries that are due on the console's clock, in due order, as the
// real service's outbox and timers would.
type fakeEngine struct {
	now  func() time.Time
	chat incident.Chat

	commands []incident.CommandRequest
	presses  []incident.PressRequest
	ticks    []time.Time

	// reply answers commands and presses; nil answers nothing.
	reply func(text string) (incident.Reply, error)
	// onCommand and onPress may schedule deliveries.
	onCommand func(req incident.CommandRequest)
	onPress   func(req incident.PressRequest)

	due []delivery
}

type delivery struct {
	at time.Time
	fn func(ctx context.Context, ch incident.Chat)
}

func (f *fakeEngine) schedule(at time.Time, fn func(ctx context.Context, ch incident.Chat)) {
	f.due = append(f.due, delivery{at: at, fn: fn})
	sort.SliceStable(f.due, func(i, j int) bool { return f.due[i].at.Before(f.due[j].at) })
}

func (f *fakeEngine) answer(text string) (incident.Reply, error) {
	if f.reply == nil {
		return incident.Reply{}, nil
	}
	return f.reply(text)
}

func (f *fakeEngine) Command(ctx context.Context, req incident.CommandRequest) (incident.Reply, error) {
	f.commands = append(f.commands, req)
	if f.onCommand != nil {
		f.onCommand(req)
	}
	return f.answer(req.Text)
}

func (f *fakeEngine) Press(ctx context.Context, req incident.PressRequest) (incident.Reply, error) {
	f.presses = append(f.presses, req)
	if f.onPress != nil {
		f.onPress(req)
	}
	return f.answer(req.Action)
}

func (f *fakeEngine) Tick(ctx context.Context) error {
	now := f.now()
	f.ticks = append(f.ticks, now)
	for len(f.due) > 0 && !f.due[0].at.After(now) {
		d := f.due[0]
		f.due = f.due[1:]
		d.fn(ctx, f.chat)
	}
	return nil
}

func (f *fakeEngine) NextDue(ctx context.Context) (time.Time, bool, error) {
	if len(f.due) == 0 {
		return time.Time{}, false, nil
	}
	return f.due[0].at, true, nil
}

func (f *fakeEngine) Scenarios() []incident.ScenarioInfo {
	return []incident.ScenarioInfo{
		{ID: "db-corruption", Title: "Corrupted payments database", Service: "payments-db", Severity: "sev1", RTO: 2 * time.Hour},
		{ID: "region-down", Title: "Region down", Severity: "sev2"},
	}
}

func newTest(t *testing.T) (*Console, *fakeEngine, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	c := New(Config{Plan: testPlan(), Start: start, Out: &out})
	f := &fakeEngine{now: c.Now, chat: c.Chat()}
	c.SetEngine(f)
	return c, f, &out
}

func post(channel string, m incident.Message) func(context.Context, incident.Chat) {
	return func(ctx context.Context, ch incident.Chat) {
		if _, err := ch.Post(ctx, channel, m); err != nil {
			panic(err)
		}
	}
}

func dm(user string, m incident.Message) func(context.Context, incident.Chat) {
	return func(ctx context.Context, ch incident.Chat) {
		if _, _, err := ch.DM(ctx, user, m); err != nil {
			panic(err)
		}
	}
}

func TestRenderText(t *testing.T) {
	p := testPlan()
	tests := []struct {
		in, want string
	}{
		{"plain *bold*", "plain *bold*"},
		{"escaped &lt;!channel&gt; &amp; more", "escaped <!channel> & more"},
		{"<!channel> wake up", "@channel wake up"},
		{"paged <@U0BOB0001> and <@U-frank> and <@UNKNOWN1>", "paged @bob and @frank and @UNKNOWN1"},
		// Typed in Slack: a member outside the plan by the name Slack sent.
		{"ask <@U0EVA0001|eva> and <@U0BOB0001|bobby>", "ask @eva and @bob"},
		{"see <#C-inc-1-db|inc-1-db> or <#C-general>", "see #inc-1-db or #general"},
		{"<https://example.com/a?b=1&amp;c=2|the runbook>", "the runbook (https://example.com/a?b=1&c=2)"},
		{"<https://example.com>", "https://example.com"},
		{"<!subteam^S123|@oncall> and <!date^1392734382^{date}|Feb 18>", "@oncall and Feb 18"},
		{"a < b with no end", "a < b with no end"},
	}
	for _, tt := range tests {
		if got := renderText(p, tt.in); got != tt.want {
			t.Errorf("renderText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConversationNames(t *testing.T) {
	p := testPlan()
	tests := []struct {
		id, want string
	}{
		{ChannelID("#inc-3-db-corruption"), "#inc-3-db-corruption"},
		{ChannelID("general"), "#general"},
		{DMID("U0BOB0001"), "@bob"},
		{DMID("U-frank"), "@frank"},
		{DMID("UOTHER"), "@UOTHER"},
		{"dr-plan", "#dr-plan"},
	}
	for _, tt := range tests {
		if got := convName(p, tt.id); got != tt.want {
			t.Errorf("convName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestChatPrints(t *testing.T) {
	c, _, out := newTest(t)
	ctx := context.Background()
	ch := c.Chat()

	id, name, err := ch.CreateChannel(ctx, "inc-1-db-corruption")
	if err != nil {
		t.Fatal(err)
	}
	if id != "C-inc-1-db-corruption" || name != "inc-1-db-corruption" {
		t.Errorf("CreateChannel = %q, %q", id, name)
	}
	id2, name2, _ := ch.CreateChannel(ctx, "inc-1-db-corruption")
	if id2 != "C-inc-1-db-corruption-2" || name2 != "inc-1-db-corruption-2" {
		t.Errorf("second CreateChannel = %q, %q; want a suffix", id2, name2)
	}
	if err := ch.Invite(ctx, id, []string{"U0ALICE01", "U-frank"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.SetTopic(ctx, id, "sev1 | payments-db\n| RTO 12:00"); err != nil {
		t.Fatal(err)
	}
	ts, err := ch.Post(ctx, id, incident.Message{
		Text:    "*Corrupted payments database*\nSummary: &lt;!channel&gt; checksum errors",
		Fields:  []incident.Field{{Label: "Severity", Value: "sev1"}},
		Context: "declared by <@U0ALICE01>",
		Buttons: []incident.Button{{Label: "Yes", Action: "a1"}, {Label: "No", Action: "a2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Pin(ctx, id, ts); err != nil {
		t.Fatal(err)
	}
	dmID, dmTS, err := ch.DM(ctx, "U0BOB0001", incident.Message{Text: "You are paged", Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack"}}})
	if err != nil {
		t.Fatal(err)
	}
	if dmID != "D-U0BOB0001" {
		t.Errorf("DM channel = %q", dmID)
	}
	if err := ch.Update(ctx, dmID, dmTS, incident.Message{Text: "Acknowledged by <@U0BOB0001>"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Ephemeral(ctx, id, "U0ALICE01", incident.Message{Text: "just you"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Ephemeral(ctx, id, "U0ERIN001", incident.Message{Text: "just erin"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.(incident.Webhooks).Webhook(ctx, "https://hooks.example.com/services/T0/B0/secret?x=1", []byte(`{"routing_key":"secret"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Post(ctx, "dr-plan", incident.Message{Text: "review overdue"}); err != nil {
		t.Fatal(err)
	}

	want := `-- Sat 21 Nov 2026 (UTC) --
[10:00] #inc-1-db-corruption: (channel created)
[10:00] #inc-1-db-corruption-2: (channel created)
[10:00] #inc-1-db-corruption: (@alice, @frank joined)
[10:00] #inc-1-db-corruption: (topic) sev1 | payments-db | RTO 12:00
[10:00] #inc-1-db-corruption: *Corrupted payments database*
        Summary: <!channel> checksum errors
        Severity: sev1
        declared by @alice
        [1] Yes  [2] No
[10:00] #inc-1-db-corruption: (pinned) *Corrupted payments database*
[10:00] @bob: You are paged
        [1] Acknowledge
[10:00] @bob (updated): Acknowledged by @bob
[10:00] #inc-1-db-corruption (only you): just you
[10:00] #inc-1-db-corruption (only @erin): just erin
[10:00] (webhook) POST to https://hooks.example.com, 24 bytes (not sent from the console)
[10:00] #dr-plan: review overdue
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if strings.Contains(out.String(), "secret") {
		t.Error("the webhook's secret was printed")
	}
}

func TestLookupUserByEmail(t *testing.T) {
	c, _, _ := newTest(t)
	ctx := context.Background()
	tests := []struct {
		email, want string
		code        string
	}{
		{"alice@example.com", "U0ALICE01", ""},
		{"Frank@Example.com", "U-frank", ""},
		{"nobody@example.com", "", "users_not_found"},
	}
	for _, tt := range tests {
		got, err := c.Chat().(incident.Directory).LookupUserByEmail(ctx, tt.email)
		if got != tt.want {
			t.Errorf("LookupUserByEmail(%q) = %q, want %q", tt.email, got, tt.want)
		}
		var ce *incident.ChatError
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("LookupUserByEmail(%q): %v", tt.email, err)
		case tt.code != "" && (!errors.As(err, &ce) || ce.Code != tt.code || !ce.Permanent):
			t.Errorf("LookupUserByEmail(%q) error = %#v, want permanent %s", tt.email, err, tt.code)
		}
	}
}

func TestExecUsersAndConversations(t *testing.T) {
	tests := []struct {
		line     string
		wantUser string
		wantConv string
		wantErr  string
	}{
		{line: "", wantUser: "U0ALICE01", wantConv: "C-general"},
		{line: "# a comment", wantUser: "U0ALICE01", wantConv: "C-general"},
		{line: "as bob", wantUser: "U0BOB0001", wantConv: "C-general"},
		{line: "as @erin", wantUser: "U0ERIN001", wantConv: "C-general"},
		{line: "as frank", wantUser: "U-frank", wantConv: "C-general"},
		{line: "as zed", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `unknown contact "zed": the plan's contacts are alice, bob, erin, frank`},
		{line: "as", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `as "": want as CONTACT, one of alice, bob, erin, frank`},
		{line: "in #inc-3-db-corruption", wantUser: "U0ALICE01", wantConv: "C-inc-3-db-corruption"},
		{line: "in ops", wantUser: "U0ALICE01", wantConv: "C-ops"},
		{line: "in @bob", wantUser: "U0ALICE01", wantConv: "D-U0BOB0001"},
		{line: "in @zed", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `unknown contact "zed"`},
		{line: "in", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `in "": want in #CHANNEL or in @CONTACT`},
		{line: "dance", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `unknown line "dance"`},
		{line: "/deploy now", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: "unknown command /deploy"},
		{line: "wait soon", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: `wait: bad duration "soon"`},
		{line: "wait -5m", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: "the clock only goes forward"},
		{line: "press", wantUser: "U0ALICE01", wantConv: "C-general", wantErr: "press: want press N or press LABEL"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c, _, _ := newTest(t)
			err := c.Exec(context.Background(), tt.line)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Exec: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Exec error = %v, want one containing %q", err, tt.wantErr)
			}
			if got := c.User(); got != tt.wantUser {
				t.Errorf("user = %q, want %q", got, tt.wantUser)
			}
			if got := c.Conversation(); got != tt.wantConv {
				t.Errorf("conversation = %q, want %q", got, tt.wantConv)
			}
		})
	}
}

func TestQuit(t *testing.T) {
	c, _, _ := newTest(t)
	if err := c.Exec(context.Background(), "quit"); !errors.Is(err, ErrQuit) {
		t.Errorf("Exec(quit) = %v, want ErrQuit", err)
	}
}

func TestCommandSendsRequestAndPrintsReply(t *testing.T) {
	c, f, out := newTest(t)
	ctx := context.Background()
	f.reply = func(text string) (incident.Reply, error) {
		switch text {
		case "declare nope":
			return incident.Reply{}, incident.Errorf(incident.ENOTFOUND, "No scenario nope. Scenarios: db-corruption.")
		case "declare":
			return incident.Reply{OpenDeclareModal: true}, nil
		case "drill":
			return incident.Reply{Text: "Pick a scenario:", OpenDeclareModal: true}, nil
		case "list":
			return incident.Reply{Text: "No open incidents.", Public: true}, nil
		}
		return incident.Reply{Text: "Declared."}, nil
	}
	f.onCommand = func(req incident.CommandRequest) {
		if req.Text == "declare db-corruption &lt;!channel&gt; down" {
			f.schedule(c.Now(), post("C-inc-1-db-corruption", incident.Message{Text: "Incident 1"}))
		}
	}
	for _, line := range []string{
		"as bob",
		"in #ops",
		"/incident declare db-corruption &lt;!channel&gt; down",
		"/incident declare nope",
		"/incident declare",
		"/incident drill",
		"/incident list",
		"/incident",
	} {
		if err := c.Exec(ctx, line); err != nil {
			t.Fatalf("Exec(%q): %v", line, err)
		}
	}
	wantReqs := []incident.CommandRequest{
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: "declare db-corruption &lt;!channel&gt; down"},
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: "declare nope"},
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: "declare"},
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: "drill"},
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: "list"},
		{UserID: "U0BOB0001", ChannelID: "C-ops", Text: ""},
	}
	if diff := cmp.Diff(wantReqs, f.commands); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	want := `-- Sat 21 Nov 2026 (UTC) --
[10:00] #ops (only you): Declared.
[10:00] #inc-1-db-corruption: Incident 1
[10:00] #ops (only you): No scenario nope. Scenarios: db-corruption.
[10:00] #ops (only you): (In Slack this opens the declare dialog; here, type /incident declare SCENARIO [summary], or /incident drill SCENARIO for a drill.)
          db-corruption: Corrupted payments database (payments-db, sev1, RTO 2h)
          region-down: Region down (sev2)
[10:00] #ops (only you): Pick a scenario:
[10:00] #ops (only you): (In Slack this opens the declare dialog; here, type /incident declare SCENARIO [summary], or /incident drill SCENARIO for a drill.)
[10:00] #ops: No open incidents.
[10:00] #ops (only you): Declared.
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if len(f.ticks) == 0 {
		t.Error("the console never ticked after a command")
	}
}

func TestCommandInternalErrorFails(t *testing.T) {
	c, f, _ := newTest(t)
	f.reply = func(string) (incident.Reply, error) { return incident.Reply{}, errors.New("disk I/O error") }
	err := c.Exec(context.Background(), "/incident list")
	if err == nil || !strings.Contains(err.Error(), "disk I/O error") {
		t.Errorf("Exec = %v, want the internal error", err)
	}
}

// buttons posts the messages of a small incident: a step in the channel,
// a page to bob, an approval request to erin, and an ephemeral with a
// button only erin sees.
func buttons(t *testing.T) (*Console, *fakeEngine, *bytes.Buffer) {
	t.Helper()
	c, f, out := newTest(t)
	ctx := context.Background()
	ch := c.Chat()
	if _, _, err := ch.CreateChannel(ctx, "inc-1-db-corruption"); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []func(context.Context, incident.Chat){
		post("C-inc-1-db-corruption", incident.Message{Text: "Step assess", Buttons: []incident.Button{{Label: "Yes", Action: "yes"}, {Label: "No", Action: "no"}}}),
		post("C-inc-1-db-corruption", incident.Message{Text: "Step restore", Buttons: []incident.Button{{Label: "Approve", Action: "approve-ch"}, {Label: "Deny", Action: "deny-ch"}}}),
		dm("U0ERIN001", incident.Message{Text: "Approve restore?", Buttons: []incident.Button{{Label: "Approve", Action: "approve-dm"}, {Label: "Deny", Action: "deny-dm"}}}),
		dm("U0BOB0001", incident.Message{Text: "You are paged", Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack-bob"}}}),
	} {
		fn(ctx, ch)
	}
	if err := ch.Ephemeral(ctx, "C-inc-1-db-corruption", "U0ERIN001", incident.Message{Text: "only erin", Buttons: []incident.Button{{Label: "Secret", Action: "secret"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Post(ctx, "C-inc-1-db-corruption", incident.Message{Text: "no buttons here"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	return c, f, out
}

func TestPress(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		want    incident.PressRequest
		wantErr string
	}{
		{
			name:  "number counts the newest message with buttons",
			lines: []string{"press 1"},
			want:  incident.PressRequest{UserID: "U0ALICE01", ChannelID: "C-inc-1-db-corruption", Action: "secret"},
		},
		{
			name:    "number out of range",
			lines:   []string{"press 3"},
			wantErr: "no button 3: the newest message with buttons, in #inc-1-db-corruption, has 1",
		},
		{
			name:  "label in the current conversation beats the DMs",
			lines: []string{"as erin", "in #inc-1-db-corruption", "press approve"},
			want:  incident.PressRequest{UserID: "U0ERIN001", ChannelID: "C-inc-1-db-corruption", Action: "approve-ch"},
		},
		{
			name:  "label falls back to the user's direct messages",
			lines: []string{"as erin", "press Approve"},
			want:  incident.PressRequest{UserID: "U0ERIN001", ChannelID: "D-U0ERIN001", Action: "approve-dm"},
		},
		{
			name:  "label with quotes and a page",
			lines: []string{"as bob", `press "Acknowledge"`},
			want:  incident.PressRequest{UserID: "U0BOB0001", ChannelID: "D-U0BOB0001", Action: "ack-bob"},
		},
		{
			name:  "a non-approver presses the channel's Approve",
			lines: []string{"as bob", "in #inc-1-db-corruption", "press Approve"},
			want:  incident.PressRequest{UserID: "U0BOB0001", ChannelID: "C-inc-1-db-corruption", Action: "approve-ch"},
		},
		{
			name:    "another user's DM is out of reach",
			lines:   []string{"as alice", "press Acknowledge"},
			wantErr: `no button "Acknowledge" in #general or @alice's direct messages`,
		},
		{
			name:    "another user's ephemeral is out of reach",
			lines:   []string{"as bob", "in #inc-1-db-corruption", "press Secret"},
			wantErr: `no button "Secret" in #inc-1-db-corruption or @bob's direct messages`,
		},
		{
			name:    "a channel of another number gets a hint",
			lines:   []string{"as bob", "in #inc-9-db-corruption", "press Done"},
			wantErr: `no button "Done" in #inc-9-db-corruption or @bob's direct messages (nothing was shown in #inc-9-db-corruption in this session; channels opened: #inc-1-db-corruption)`,
		},
		{
			name:    "in a DM the message names only the DMs",
			lines:   []string{"as bob", "in @bob", "press Approve"},
			wantErr: `no button "Approve" in @bob's direct messages`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _ := buttons(t)
			var err error
			for _, l := range tt.lines {
				if err = c.Exec(context.Background(), l); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if len(f.presses) != 0 {
					t.Errorf("a failed press reached the service: %v", f.presses)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]incident.PressRequest{tt.want}, f.presses); diff != "" {
				t.Errorf("presses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPressPrintsWhoPressedAndTheReply(t *testing.T) {
	c, f, out := buttons(t)
	f.reply = func(action string) (incident.Reply, error) {
		if action == "approve-ch" {
			return incident.Reply{}, incident.Errorf(incident.EFORBIDDEN, "Only a contact of approver (erin, frank) may approve.")
		}
		return incident.Reply{}, nil
	}
	var pageTS string
	for _, s := range c.shown {
		if s.channel == "D-U0BOB0001" {
			pageTS = s.ts
		}
	}
	f.onPress = func(req incident.PressRequest) {
		if req.Action == "ack-bob" {
			f.schedule(c.Now(), func(ctx context.Context, ch incident.Chat) {
				_ = ch.Update(ctx, "D-U0BOB0001", pageTS, incident.Message{Text: "Acknowledged"})
			})
		}
	}
	for _, l := range []string{"as bob", "in #inc-1-db-corruption", "press Approve", "press Acknowledge"} {
		if err := c.Exec(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	want := `[10:00] #inc-1-db-corruption: @bob pressed [Approve]
[10:00] #inc-1-db-corruption (only you): Only a contact of approver (erin, frank) may approve.
[10:00] @bob: @bob pressed [Acknowledge]
[10:00] @bob (updated): Acknowledged
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	// The page lost its button: it cannot be pressed again.
	if err := c.Exec(context.Background(), "press Acknowledge"); err == nil {
		t.Error("pressed a button that the update removed")
	}
}

func TestWaitFiresDueWorkInOrderAtItsTime(t *testing.T) {
	c, f, out := newTest(t)
	ctx := context.Background()
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	f.schedule(at(7), dm("U0ALICE01", incident.Message{Text: "too late"}))
	f.schedule(at(5), dm("U0ERIN001", incident.Message{Text: "escalated to erin"}))
	f.schedule(at(3), func(ctx context.Context, ch incident.Chat) {
		_, _ = ch.Post(ctx, "C-inc-1", incident.Message{Text: "rto 50%"})
		// Work that falls due while waiting is done in the same wait.
		f.schedule(at(4), post("C-inc-1", incident.Message{Text: "follow-up"}))
	})
	if err := c.Exec(ctx, "wait 6m"); err != nil {
		t.Fatal(err)
	}
	want := `-- Sat 21 Nov 2026 (UTC) --
[10:03] #inc-1: rto 50%
[10:04] #inc-1: follow-up
[10:05] @erin: escalated to erin
[10:06] (6m later)
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if got, want := c.Now(), at(6); !got.Equal(want) {
		t.Errorf("clock = %v, want %v", got, want)
	}
	if len(f.due) != 1 {
		t.Errorf("%d deliveries left, want the one at 10:07", len(f.due))
	}

	out.Reset()
	if err := c.Exec(ctx, "wait 1d"); err != nil {
		t.Fatal(err)
	}
	want = `[10:07] @alice: too late
-- Sun 22 Nov 2026 (UTC) --
[10:06] (1d later)
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output after wait 1d (-want +got):\n%s", diff)
	}
}

func TestWaitShowsThePlanTimezone(t *testing.T) {
	var out bytes.Buffer
	p := testPlan()
	p.Location = time.FixedZone("CET", 3600)
	c := New(Config{Plan: p, Start: start, Out: &out})
	f := &fakeEngine{now: c.Now, chat: c.Chat()}
	c.SetEngine(f)
	f.schedule(start.Add(90*time.Second), post("C-x", incident.Message{Text: "due"}))
	if err := c.Exec(context.Background(), "wait 2m"); err != nil {
		t.Fatal(err)
	}
	want := "-- Sat 21 Nov 2026 (CET) --\n[11:01] #x: due\n[11:02] (2m later)\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// stuckEngine keeps something due now forever.
type stuckEngine struct{ fakeEngine }

func (s *stuckEngine) NextDue(ctx context.Context) (time.Time, bool, error) {
	return s.now(), true, nil
}

func TestSettleGivesUpOnWorkThatStaysDue(t *testing.T) {
	var out bytes.Buffer
	c := New(Config{Plan: testPlan(), Start: start, Out: &out})
	s := &stuckEngine{fakeEngine{now: c.Now, chat: c.Chat()}}
	c.SetEngine(s)
	err := c.Exec(context.Background(), "/incident list")
	if err == nil || !strings.Contains(err.Error(), "still due") {
		t.Errorf("Exec = %v, want it to give up", err)
	}
}

func TestRunScript(t *testing.T) {
	c, f, out := newTest(t)
	f.onCommand = func(req incident.CommandRequest) {
		f.schedule(c.Now(), dm("U0BOB0001", incident.Message{Text: "page", Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack"}}}))
	}
	script := "# declare\n/incident declare db-corruption\n\nas bob\npress Acknowledge\npress Approve\npress 1\n"
	err := c.Run(context.Background(), strings.NewReader(script), RunOptions{Name: "demo.script"})
	want := `demo.script:6: no button "Approve" in #general or @bob's direct messages`
	if err == nil || err.Error() != want {
		t.Fatalf("Run = %v, want %q", err, want)
	}
	if len(f.presses) != 1 {
		t.Errorf("%d presses, want 1: the script must stop at the bad line", len(f.presses))
	}
	for _, s := range []string{"# declare\n", "> /incident declare db-corruption\n", "\n> as bob\n", "> press Approve\n"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("transcript lacks %q:\n%s", s, out.String())
		}
	}
	if strings.Contains(out.String(), "> press 1") {
		t.Error("a line after the failing one ran")
	}
}

func TestRunStopsAtQuitAndEOF(t *testing.T) {
	for _, script := range []string{"as bob\nquit\nas zed\n", "as bob"} {
		c, _, _ := newTest(t)
		if err := c.Run(context.Background(), strings.NewReader(script), RunOptions{Name: "s"}); err != nil {
			t.Errorf("Run(%q) = %v", script, err)
		}
		if got := c.User(); got != "U0BOB0001" {
			t.Errorf("Run(%q): user = %q", script, got)
		}
	}
}

func TestRunInteractiveReportsAndGoesOn(t *testing.T) {
	c, _, out := newTest(t)
	err := c.Run(context.Background(), strings.NewReader("as zed\nas bob\n"), RunOptions{Interactive: true})
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := c.User(); got != "U0BOB0001" {
		t.Errorf("user = %q: the line after the error did not run", got)
	}
	for _, s := range []string{"> error: unknown contact \"zed\"", "You are @alice in #general."} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if strings.Contains(out.String(), "> as bob") {
		t.Error("interactive input was echoed")
	}
}

// blockingReader blocks until the test ends, as a terminal with nobody
// typing does.
type blockingReader struct{ done chan struct{} }

func (r blockingReader) Read(p []byte) (int, error) {
	<-r.done
	return 0, errors.New("closed")
}

func TestRunInteractiveEndsOnInterrupt(t *testing.T) {
	c, _, _ := newTest(t)
	r := blockingReader{done: make(chan struct{})}
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx, r, RunOptions{Interactive: true}); err != nil {
		t.Errorf("Run = %v, want nil after an interrupt", err)
	}
}
