package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func newClient(t *testing.T) (*Server, *slack.Client) {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s, slack.New(BotToken, slack.OptionAPIURL(s.URL()))
}

func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestAuth(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatalf("auth.test: %v", err)
	}
	if resp.UserID != BotUserID || resp.TeamID != TeamID {
		t.Errorf("auth.test = %+v, want user %s team %s", resp, BotUserID, TeamID)
	}

	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(s.URL()))
	for name, call := range map[string]func() error{
		"form token": func() error { _, err := bad.AuthTestContext(ctx); return err },
		"bearer token": func() error {
			_, err := bad.OpenViewContext(ctx, "trigger", slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "x", false, false)})
			return err
		},
	} {
		if got := slackCode(call()); got != "invalid_auth" {
			t.Errorf("%s with a wrong token: error %q, want invalid_auth", name, got)
		}
	}
	if got := len(s.Views()); got != 0 {
		t.Errorf("a view was opened with a wrong token")
	}
}

func TestCreateChannel(t *testing.T) {
	_, api := newClient(t)
	ctx := context.Background()
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if ch.ID == "" || ch.Name != "inc-1-db" {
		t.Errorf("created %+v", ch)
	}
	tests := []struct {
		name string
		want string
	}{
		{"inc-1-db", "name_taken"},
		{"", "invalid_name_required"},
		{strings.Repeat("a", 81), "invalid_name_maxlength"},
		{"Inc-2", "invalid_name_specials"},
		{"inc 2", "invalid_name_specials"},
		{"inc.2", "invalid_name_specials"},
		{"---", "invalid_name_punctuation"},
		{strings.Repeat("a", 80), ""},
		{"inc_2-x9", ""},
	}
	for _, tt := range tests {
		_, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: tt.name})
		if got := slackCode(err); got != tt.want {
			t.Errorf("create %q: error %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestListChannels(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	created, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-db"})
	if err != nil {
		t.Fatal(err)
	}
	s.AddChannel("C1OLD", "inc-0-old")
	if err := s.ArchiveChannel("C1OLD"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTopic(created.ID, "sev1"); err != nil {
		t.Fatal(err)
	}
	s.AddUser("U1", "", "one", false)
	if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.AddChannelBy(fmt.Sprintf("C2X%d", i), fmt.Sprintf("x-%d", i), "U1")
	}

	type row struct{ ID, Name, Creator, Topic string }
	list := func(params slack.GetConversationsParameters) (rows []row, pages int) {
		t.Helper()
		for {
			chans, next, err := api.GetConversationsContext(ctx, &params)
			if err != nil {
				t.Fatalf("conversations.list %+v: %v", params, err)
			}
			pages++
			for _, c := range chans {
				rows = append(rows, row{c.ID, c.Name, c.Creator, c.Topic.Value})
				if c.IsArchived != (c.ID == "C1OLD") {
					t.Errorf("%s is_archived = %v", c.ID, c.IsArchived)
				}
			}
			if next == "" {
				return rows, pages
			}
			params.Cursor = next
		}
	}
	all := []row{
		{GeneralID, "general", OwnerUserID, ""},
		{"C1OLD", "inc-0-old", OwnerUserID, ""},
		{created.ID, "inc-1-db", BotUserID, "sev1"},
		{"C2X0", "x-0", "U1", ""}, {"C2X1", "x-1", "U1", ""}, {"C2X2", "x-2", "U1", ""}, {"C2X3", "x-3", "U1", ""}, {"C2X4", "x-4", "U1", ""},
	}
	sortRows := func(rows []row) []row {
		slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.ID, b.ID) })
		return rows
	}
	all = sortRows(all)

	got, pages := list(slack.GetConversationsParameters{Types: []string{"public_channel"}, Limit: 3})
	if diff := cmp.Diff(got, all); diff != "" {
		t.Errorf("3 at a time (-got +want):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("%d pages of 3 for 8 channels, want 3", pages)
	}
	got, _ = list(slack.GetConversationsParameters{ExcludeArchived: true})
	want := slices.DeleteFunc(slices.Clone(all), func(r row) bool { return r.ID == "C1OLD" })
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("without archived (-got +want):\n%s", diff)
	}
	// The archived channel keeps its name.
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-0-old"}); slackCode(err) != "name_taken" {
		t.Errorf("create an archived channel's name: %v, want name_taken", err)
	}

	for _, tt := range []struct {
		params slack.GetConversationsParameters
		want   string
	}{
		{slack.GetConversationsParameters{Limit: 1001}, "invalid_limit"},
		{slack.GetConversationsParameters{Types: []string{"nope"}}, "invalid_types"},
		{slack.GetConversationsParameters{Cursor: "garbage"}, "invalid_cursor"},
	} {
		if _, _, err := api.GetConversationsContext(ctx, &tt.params); slackCode(err) != tt.want {
			t.Errorf("conversations.list %+v: %v, want %s", tt.params, err, tt.want)
		}
	}
}

func TestInvite(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	s.AddUser("U1", "one@example.com", "One", false)
	s.AddUser("U2", "two@example.com", "Two", false)
	s.AddUser("U3", "three@example.com", "Three", true)
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U1"); err != nil {
		t.Fatalf("invite U1: %v", err)
	}
	// Without force one bad user fails the whole call.
	_, err = api.InviteUsersToConversationContext(ctx, ch.ID, "U2", "U1")
	if got := slackCode(err); got != "already_in_channel" {
		t.Errorf("invite U2,U1: error %q, want already_in_channel", got)
	}
	if got, _ := s.Channel(ch.ID); contains(got.Members, "U2") {
		t.Errorf("U2 invited by a failed call without force")
	}
	// With force the valid ones are invited anyway.
	_, err = api.ForceInviteUsersToConversationContext(ctx, ch.ID, "U2", "U1", "U3", "UNOBODY", BotUserID)
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("forced invite: error %v, want a SlackErrorResponse", err)
	}
	var codes []string
	for _, e := range se.Errors {
		if e.ConversationsInviteResponseError != nil {
			codes = append(codes, e.ConversationsInviteResponseError.User+":"+e.ConversationsInviteResponseError.Error)
		}
	}
	want := []string{"U1:already_in_channel", "U3:user_is_deactivated", "UNOBODY:user_not_found", BotUserID + ":cant_invite_self"}
	if diff := cmp.Diff(codes, want); diff != "" {
		t.Errorf("per-user errors (-got +want):\n%s", diff)
	}
	got, _ := s.Channel(ch.ID)
	if diff := cmp.Diff(got.Members, []string{"U1", "U2", BotUserID}); diff != "" {
		t.Errorf("members (-got +want):\n%s", diff)
	}

	many := make([]string, 1001)
	for i := range many {
		many[i] = "U1"
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, many...); slackCode(err) != "too_many_users" {
		t.Errorf("invite 1001 users: %v, want too_many_users", err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, "CNOPE", "U1"); slackCode(err) != "channel_not_found" {
		t.Errorf("invite to an unknown channel: %v, want channel_not_found", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMessagesPinsAndHistory(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	s.AddUser("U1", "one@example.com", "One", false)
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, "sev1 payments"); err != nil {
		t.Fatalf("topic: %v", err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, strings.Repeat("x", 251)); slackCode(err) != "too_long" {
		t.Errorf("251-character topic: %v, want too_long", err)
	}
	blocks := slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*Step 1*", false, false), nil, nil),
		slack.NewActionBlock("a", slack.NewButtonBlockElement("done", "step/1/done", slack.NewTextBlockObject("plain_text", "Done", false, false)).WithStyle(slack.StylePrimary)),
	)
	gotCh, ts, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("Step 1", false), blocks)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if gotCh != ch.ID || ts == "" {
		t.Errorf("post returned %q %q", gotCh, ts)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, ts)); err != nil {
		t.Fatalf("pin: %v", err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, ts)); slackCode(err) != "already_pinned" {
		t.Errorf("second pin: %v, want already_pinned", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch.ID, ts, slack.MsgOptionText("Step 1 done by One", false)); err != nil {
		t.Fatalf("update: %v", err)
	}
	userTS, err := s.PostUserMessage(ch.ID, "U1", "the replica is fine")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch.ID, userTS, slack.MsgOptionText("x", false)); slackCode(err) != "cant_update_message" {
		t.Errorf("update of a person's message: %v, want cant_update_message", err)
	}

	msgs := s.Messages("#inc-1")
	if len(msgs) != 2 {
		t.Fatalf("messages = %+v, want 2", msgs)
	}
	if m := msgs[0]; m.Text != "Step 1 done by One" || !m.Edited || !m.Pinned || len(m.Buttons()) != 0 {
		t.Errorf("updated message = %+v", m)
	}
	c, _ := s.Channel(ch.ID)
	if c.Topic != "sev1 payments" {
		t.Errorf("topic = %q", c.Topic)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID, Latest: userTS, Inclusive: true, Limit: 1})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].Text != "the replica is fine" || hist.Messages[0].User != "U1" {
		t.Errorf("history = %+v", hist.Messages)
	}
	hist, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID, Latest: userTS, Inclusive: false, Limit: 1})
	if err != nil || len(hist.Messages) != 1 || hist.Messages[0].Timestamp != ts {
		t.Errorf("history before the user's message = %+v, %v", hist, err)
	}

	if _, err := api.PostEphemeralContext(ctx, ch.ID, "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatalf("ephemeral: %v", err)
	}
	if e := s.Ephemerals(); len(e) != 1 || e[0].For != "U1" || e[0].Text != "only you" {
		t.Errorf("ephemerals = %+v", e)
	}
	if _, _, err := api.PostMessageContext(ctx, "CNOPE", slack.MsgOptionText("x", false)); slackCode(err) != "channel_not_found" {
		t.Errorf("post to unknown channel: %v", err)
	}
}

func TestDM(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	s.AddUser("U1", "one@example.com", "One", false)
	s.AddUser("UGONE", "gone@example.com", "Gone", true)
	im, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	again, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || again.ID != im.ID || !already {
		t.Errorf("second open = %v %v %v, want the same conversation", again, already, err)
	}
	b := slack.NewActionBlock("", slack.NewButtonBlockElement("ack", "ack/1", slack.NewTextBlockObject("plain_text", "Acknowledge", false, false)))
	if _, _, err := api.PostMessageContext(ctx, im.ID, slack.MsgOptionText("You are paged", false), slack.MsgOptionBlocks(b)); err != nil {
		t.Fatalf("post DM: %v", err)
	}
	m, err := s.WaitForMessage("U1", time.Second, func(m Message) bool { return strings.Contains(m.Text, "paged") })
	if err != nil {
		t.Fatal(err)
	}
	if btn, ok := m.Button("Acknowledge"); !ok || btn.Value != "ack/1" || btn.ActionID != "ack" {
		t.Errorf("button = %+v %v", btn, ok)
	}
	for _, tt := range []struct{ user, want string }{{"UGONE", "user_disabled"}, {"UNOBODY", "user_not_found"}} {
		_, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{tt.user}})
		if got := slackCode(err); got != tt.want {
			t.Errorf("open %s: %q, want %q", tt.user, got, tt.want)
		}
	}
}

func TestUsers(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	s.AddUser("U1", "One@Example.com", "One", false)
	s.AddUser("UGONE", "gone@example.com", "Gone", true)
	u, err := api.GetUserByEmailContext(ctx, "one@example.com")
	if err != nil || u.ID != "U1" {
		t.Errorf("lookup = %v, %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(ctx, "nobody@example.com"); slackCode(err) != "users_not_found" {
		t.Errorf("lookup unknown: %v", err)
	}
	u, err = api.GetUserInfoContext(ctx, "UGONE")
	if err != nil || !u.Deleted || u.Profile.Email != "gone@example.com" {
		t.Errorf("info = %+v, %v", u, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "UNOBODY"); slackCode(err) != "user_not_found" {
		t.Errorf("info unknown: %v", err)
	}
}

func TestBlockLimits(t *testing.T) {
	_, api := newClient(t)
	ctx := context.Background()
	btn := func(id, value, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(id, value, slack.NewTextBlockObject("plain_text", label, false, false))
	}
	tests := []struct {
		name   string
		blocks []slack.Block
		want   string
	}{
		{"fine", []slack.Block{slack.NewActionBlock("", btn("a", "v", "A"), btn("b", "v", "B"))}, ""},
		{"duplicate action ids", []slack.Block{slack.NewActionBlock("", btn("a", "v", "A"), btn("a", "v", "B"))}, "invalid_blocks"},
		{"value over 2000", []slack.Block{slack.NewActionBlock("", btn("a", strings.Repeat("v", 2001), "A"))}, "invalid_blocks"},
		{"label over 75", []slack.Block{slack.NewActionBlock("", btn("a", "v", strings.Repeat("l", 76)))}, "invalid_blocks"},
		{"section over 3000", []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", strings.Repeat("x", 3001), false, false), nil, nil)}, "invalid_blocks"},
	}
	for _, tt := range tests {
		_, _, err := api.PostMessageContext(ctx, GeneralID, slack.MsgOptionText("x", false), slack.MsgOptionBlocks(tt.blocks...))
		if got := slackCode(err); got != tt.want {
			t.Errorf("%s: error %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFailures(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	s.FailNext("chat.postMessage", 2, http.StatusTooManyRequests, 7)
	s.FailNext("chat.postMessage", 1, http.StatusInternalServerError, 0)
	s.FailNextWith("chat.postMessage", 1, "channel_not_found")
	post := func() error {
		_, _, err := api.PostMessageContext(ctx, GeneralID, slack.MsgOptionText("x", false))
		return err
	}
	for i := range 2 {
		var rl *slack.RateLimitedError
		if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
			t.Errorf("call %d: %v, want rate limited for 7s", i, err)
		}
	}
	var sc slack.StatusCodeError
	if err := post(); !errors.As(err, &sc) || sc.Code != 500 {
		t.Errorf("third call: %v, want status 500", err)
	}
	if err := post(); slackCode(err) != "channel_not_found" {
		t.Errorf("fourth call: %v, want channel_not_found", err)
	}
	if err := post(); err != nil {
		t.Errorf("fifth call: %v, want success", err)
	}
	calls := s.CallsTo("chat.postMessage")
	var statuses []int
	for _, c := range calls {
		statuses = append(statuses, c.Status)
	}
	if diff := cmp.Diff(statuses, []int{429, 429, 500, 200, 200}); diff != "" {
		t.Errorf("statuses (-got +want):\n%s", diff)
	}
	if calls[3].OK() || !calls[4].OK() {
		t.Errorf("OK() of calls: %v %v", calls[3].OK(), calls[4].OK())
	}
	if got := calls[4].Params.Get("token"); got != "" {
		t.Errorf("the token was recorded with the call")
	}
}

func TestLatency(t *testing.T) {
	s, api := newClient(t)
	s.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if _, err := api.AuthTestContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("call took %s with 50ms latency", d)
	}
}

func TestRateLimits(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.SetRateLimits(true)
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
		return err
	}
	if err := post(GeneralID); err != nil {
		t.Fatal(err)
	}
	var rl *slack.RateLimitedError
	if err := post(GeneralID); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("second post within a second: %v, want rate limited", err)
	}
	if err := post("#general"); !errors.As(err, &rl) {
		t.Errorf("post by name within a second: %v, want rate limited", err)
	}
	s.AddChannel("COTHER", "other")
	if err := post("COTHER"); err != nil {
		t.Errorf("post in another channel: %v", err)
	}
	now = now.Add(time.Second)
	if err := post(GeneralID); err != nil {
		t.Errorf("post a second later: %v", err)
	}

	for i := range 20 {
		if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "c" + strings.Repeat("x", i+1)}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	now = now.Add(30 * time.Second)
	_, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "c21"})
	if !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Errorf("21st create within a minute: %v, want rate limited for 30s", err)
	}
	s.SetRateLimits(false)
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "c21"}); err != nil {
		t.Errorf("create with limits off: %v", err)
	}
}

func TestHooksAndWait(t *testing.T) {
	s, _ := newClient(t)
	go func() {
		body, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "text": "done"})
		resp, err := http.Post(s.ResponseURL("cmd-1"), "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
	}()
	calls, err := s.WaitFor(MethodResponseURL, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if calls[0].ID != "cmd-1" || calls[0].JSON()["text"] != "done" {
		t.Errorf("response call = %+v", calls[0])
	}
	start := time.Now()
	if _, err := s.WaitFor(MethodWebhook, 1, 20*time.Millisecond); err == nil {
		t.Errorf("WaitFor of a call that never comes succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("WaitFor took %s past its 20ms deadline", d)
	}
}

func TestViewsOpen(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Declare", false, false), CallbackID: "declare"}
	if _, err := api.OpenViewContext(ctx, "trigger-1", view); err != nil {
		t.Fatalf("views.open: %v", err)
	}
	views := s.Views()
	if len(views) != 1 || !strings.Contains(string(views[0]), `"callback_id":"declare"`) {
		t.Errorf("views = %s", views)
	}
	calls := s.CallsTo("views.open")
	if len(calls) != 1 || calls[0].JSON()["trigger_id"] != "trigger-1" {
		t.Errorf("views.open calls = %+v", calls)
	}
}

func TestSocketMode(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	api := slack.New(BotToken, slack.OptionAPIURL(s.URL()), slack.OptionAppLevelToken(AppToken))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = client.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				if evt.Type == socketmode.EventTypeSlashCommand {
					cmd := evt.Data.(slack.SlashCommand)
					_ = client.Ack(*evt.Request, map[string]any{"text": "got " + cmd.Text})
				}
			}
		}
	}()
	if err := s.WaitUntil(5*time.Second, func() bool { return s.SocketConnections() > 0 }); err != nil {
		t.Fatal(err)
	}
	id, err := s.SendSocket(SocketSlashCommands, map[string]any{"command": "/incident", "text": "status", "user_id": "U1", "channel_id": GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := s.WaitForAck(id, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(payload), `{"text":"got status"}`; got != want {
		t.Errorf("ack payload = %s, want %s", got, want)
	}
}

// TestRateLimitTiers: each method is held to its tier, on its own: a method
// past its tier answers 429 with Retry-After until the oldest call leaves
// the minute, and never holds up another method.
func TestRateLimitTiers(t *testing.T) {
	s, api := newClient(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.SetRateLimits(true)
	s.AddUser("U0BEN0001", "ben@example.com", "ben", false)
	var rl *slack.RateLimitedError
	for i := range Tier2 {
		if _, err := api.SetTopicOfConversationContext(ctx, GeneralID, "t"); err != nil {
			t.Fatalf("topic %d: %v", i, err)
		}
		now = now.Add(time.Second)
	}
	_, err := api.SetTopicOfConversationContext(ctx, GeneralID, "t")
	if !errors.As(err, &rl) || rl.RetryAfter != 40*time.Second {
		t.Fatalf("topic %d within a minute: %v, want 429 with Retry-After 40s", Tier2+1, err)
	}
	// Tier 3 and Tier 4 methods are not held up by conversations.setTopic.
	if _, err := api.GetUserInfoContext(ctx, "U0BEN0001"); err != nil {
		t.Errorf("users.info while setTopic is limited: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, GeneralID, slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("chat.postMessage while setTopic is limited: %v", err)
	}
	now = now.Add(40 * time.Second)
	if _, err := api.SetTopicOfConversationContext(ctx, GeneralID, "t"); err != nil {
		t.Errorf("topic after Retry-After: %v", err)
	}
	s.SetTier("users.info", 2)
	for i := range 2 {
		if _, err := api.GetUserInfoContext(ctx, "U0BEN0001"); err != nil && i == 0 {
			t.Fatalf("users.info: %v", err)
		}
	}
	if _, err := api.GetUserInfoContext(ctx, "U0BEN0001"); !errors.As(err, &rl) {
		t.Errorf("users.info past a tier of 2 set by SetTier: %v, want 429", err)
	}
}
