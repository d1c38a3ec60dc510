package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

func newChat(t *testing.T) (*fakeslack.Server, *SlackChat, *Metrics) {
	t.Helper()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	m := NewMetrics(MetricsConfig{})
	return fs, NewSlackChat(ChatConfig{Token: fakeslack.BotToken, APIURL: fs.URL(), Metrics: m}), m
}

func TestCreateChannelSuffix(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	long := "inc-12-" + strings.Repeat("x", 80)
	tests := []struct{ ask, want string }{
		{"inc-1-db-corruption", "inc-1-db-corruption"},
		{"inc-1-db-corruption", "inc-1-db-corruption-2"},
		{"inc-1-db-corruption", "inc-1-db-corruption-3"},
		{"Inc-2 DB.Corruption!", "inc-2-db-corruption"},
		{long, long[:80]},
		{long, long[:78] + "-2"},
		{"#drill-3-x", "drill-3-x"},
	}
	for _, tt := range tests {
		id, name, err := chat.CreateChannel(ctx, tt.ask)
		if err != nil {
			t.Fatalf("CreateChannel(%q): %v", tt.ask, err)
		}
		if name != tt.want {
			t.Errorf("CreateChannel(%q) = %q, want %q", tt.ask, name, tt.want)
		}
		if ch, ok := fs.Channel(id); !ok || ch.Name != name {
			t.Errorf("channel %s = %+v, want name %q", id, ch, name)
		}
		// An incident channel drbot recorded has its topic set: not one
		// to adopt.
		if err := fs.SetTopic(id, "sev1 · recorded"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCreateChannelAdopts: on name_taken, a channel drbot's bot user
// created and never recorded (no topic: a process killed between Slack
// creating it and the outbox recording it) is adopted; any other channel
// of that name gets a suffix.
func TestCreateChannelAdopts(t *testing.T) {
	const name = "inc-7-db-corruption"
	tests := []struct {
		name     string
		setup    func(fs *fakeslack.Server)
		wantID   string // "" : a new channel
		wantName string
		wantList int // conversations.list calls
	}{
		{"free name", func(*fakeslack.Server) {}, "", name, 0},
		{"drbot's own, unrecorded", func(fs *fakeslack.Server) {
			fs.AddChannelBy("C0ORPHAN1", name, fakeslack.BotUserID)
		}, "C0ORPHAN1", name, 1},
		{"created by a person", func(fs *fakeslack.Server) {
			fs.AddChannelBy("C0PERSON1", name, "U0SOMEONE")
		}, "", name + "-2", 1},
		{"drbot's own with a topic (an earlier incident 7)", func(fs *fakeslack.Server) {
			fs.AddChannelBy("C0EARLIER", name, fakeslack.BotUserID)
			_ = fs.SetTopic("C0EARLIER", "sev1 · payments-db · RTO by 10:00 UTC")
		}, "", name + "-2", 1},
		{"drbot's own, archived", func(fs *fakeslack.Server) {
			fs.AddChannelBy("C0ARCHIVE", name, fakeslack.BotUserID)
			_ = fs.ArchiveChannel("C0ARCHIVE")
		}, "", name + "-2", 1},
		{"a person's, then drbot's own suffixed one", func(fs *fakeslack.Server) {
			fs.AddChannelBy("C0PERSON1", name, "U0SOMEONE")
			fs.AddChannelBy("C0ORPHAN2", name+"-2", fakeslack.BotUserID)
		}, "C0ORPHAN2", name + "-2", 1},
		{"drbot's own, on the second page", func(fs *fakeslack.Server) {
			for i := range 1200 {
				fs.AddChannel(fmt.Sprintf("C1%05d", i), fmt.Sprintf("team-%d", i))
			}
			fs.AddChannelBy("C9ORPHAN1", name, fakeslack.BotUserID)
		}, "C9ORPHAN1", name, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, chat, _ := newChat(t)
			tt.setup(fs)
			before := len(fs.Channels())
			id, got, err := chat.CreateChannel(context.Background(), name)
			if err != nil {
				t.Fatalf("CreateChannel: %v", err)
			}
			if got != tt.wantName {
				t.Errorf("name %q, want %q", got, tt.wantName)
			}
			created := len(fs.Channels()) - before
			if tt.wantID != "" {
				if id != tt.wantID || created != 0 {
					t.Errorf("got channel %s and %d new, want %s adopted and none new", id, created, tt.wantID)
				}
			} else if created != 1 {
				t.Errorf("%d channels created, want 1", created)
			}
			if ch, ok := fs.Channel(id); !ok || ch.Name != got {
				t.Errorf("channel %s = %+v, want name %q", id, ch, got)
			}
			list := fs.CallsTo("conversations.list")
			if len(list) != tt.wantList {
				t.Errorf("%d conversations.list calls, want %d", len(list), tt.wantList)
			}
			for _, c := range list {
				if c.Params.Get("types") != "public_channel" || c.Params.Get("exclude_archived") != "true" {
					t.Errorf("conversations.list %v, want public channels not archived", c.Params)
				}
			}
		})
	}
}

// TestCreateChannelLookupFails: a taken name that cannot be looked up is
// a temporary error (the outbox tries again), not a suffixed duplicate.
func TestCreateChannelLookupFails(t *testing.T) {
	fs, chat, _ := newChat(t)
	fs.AddChannelBy("C0ORPHAN1", "inc-1-x", fakeslack.BotUserID)
	fs.FailNext("conversations.list", 1, http.StatusInternalServerError, 0)
	before := len(fs.Channels())
	_, _, err := chat.CreateChannel(context.Background(), "inc-1-x")
	var ce *incident.ChatError
	if !errors.As(err, &ce) || ce.Permanent || ce.Code != "http_500" {
		t.Fatalf("CreateChannel = %v, want a temporary http_500", err)
	}
	if n := len(fs.Channels()) - before; n != 0 {
		t.Errorf("%d channels created", n)
	}
	id, _, err := chat.CreateChannel(context.Background(), "inc-1-x")
	if err != nil || id != "C0ORPHAN1" {
		t.Errorf("next try = %s, %v; want C0ORPHAN1 adopted", id, err)
	}
	fs.AddChannelBy("C0ORPHAN2", "inc-2-x", fakeslack.BotUserID)
	if id, _, err := chat.CreateChannel(context.Background(), "inc-2-x"); err != nil || id != "C0ORPHAN2" {
		t.Errorf("another = %s, %v; want C0ORPHAN2 adopted", id, err)
	}
	if n := len(fs.CallsTo("auth.test")); n != 1 {
		t.Errorf("%d auth.test calls, want 1 (the bot's id is kept)", n)
	}
}

func TestInviteBatches(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	var users []string
	for i := range 2500 {
		id := fmt.Sprintf("U%05d", i)
		fs.AddUser(id, id+"@example.com", id, false)
		users = append(users, id)
	}
	id, _, err := chat.CreateChannel(ctx, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	// Some already in, the bot itself, a duplicate: no error.
	if err := chat.Invite(ctx, id, users[:3]); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string{fakeslack.BotUserID}, users...), users[0])
	if err := chat.Invite(ctx, id, all); err != nil {
		t.Fatalf("Invite: %v", err)
	}
	calls := fs.CallsTo("conversations.invite")
	var sizes []int
	for _, c := range calls[1:] {
		sizes = append(sizes, len(strings.Split(c.Params.Get("users"), ",")))
	}
	if diff := cmp.Diff(sizes, []int{1000, 1000, 501}); diff != "" {
		t.Errorf("batch sizes (-got +want):\n%s", diff)
	}
	ch, _ := fs.Channel(id)
	if len(ch.Members) != 2501 {
		t.Errorf("%d members, want 2501", len(ch.Members))
	}
}

func TestInvitePermanentFailure(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	fs.AddUser("U1", "", "one", false)
	fs.AddUser("U2", "", "two", false)
	id, _, _ := chat.CreateChannel(ctx, "inc-1")
	err := chat.Invite(ctx, id, []string{"U1", "UGONE", "U2"})
	var ce *incident.ChatError
	if !errors.As(err, &ce) || !ce.Permanent || ce.Code != "user_not_found" || ce.User != "UGONE" {
		t.Fatalf("Invite = %v (user %q), want permanent user_not_found about UGONE", err, ce.User)
	}
	ch, _ := fs.Channel(id)
	if diff := cmp.Diff(ch.Members, []string{"U1", "U2", fakeslack.BotUserID}); diff != "" {
		t.Errorf("the others were not invited (-got +want):\n%s", diff)
	}
}

func TestErrorMapping(t *testing.T) {
	fs, chat, m := newChat(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func()
		want  *incident.ChatError // nil: a plain (temporary) error
	}{
		{"429 with Retry-After", func() { fs.FailNext("chat.postMessage", 1, 429, 30) }, &incident.ChatError{Method: "chat.postMessage", Code: "ratelimited", RetryAfter: 30}},
		{"429 without Retry-After", func() { fs.FailNext("chat.postMessage", 1, 429, -1) }, &incident.ChatError{Method: "chat.postMessage", Code: "http_429"}},
		{"500", func() { fs.FailNext("chat.postMessage", 1, 500, 0) }, &incident.ChatError{Method: "chat.postMessage", Code: "http_500"}},
		{"503", func() { fs.FailNext("chat.postMessage", 1, 503, 0) }, &incident.ChatError{Method: "chat.postMessage", Code: "http_503"}},
		{"channel_not_found", func() { fs.FailNextWith("chat.postMessage", 1, "channel_not_found") }, &incident.ChatError{Method: "chat.postMessage", Code: "channel_not_found", Permanent: true}},
		{"not_in_channel", func() { fs.FailNextWith("chat.postMessage", 1, "not_in_channel") }, &incident.ChatError{Method: "chat.postMessage", Code: "not_in_channel", Permanent: true}},
		{"is_archived", func() { fs.FailNextWith("chat.postMessage", 1, "is_archived") }, &incident.ChatError{Method: "chat.postMessage", Code: "is_archived", Permanent: true, Reason: incident.ReasonChannelArchived}},
		{"invalid_auth", func() { fs.FailNextWith("chat.postMessage", 1, "invalid_auth") }, &incident.ChatError{Method: "chat.postMessage", Code: "invalid_auth", Permanent: true}},
		{"account_inactive", func() { fs.FailNextWith("chat.postMessage", 1, "account_inactive") }, &incident.ChatError{Method: "chat.postMessage", Code: "account_inactive", Permanent: true, Reason: incident.ReasonUserDeactivated}},
		{"internal_error", func() { fs.FailNextWith("chat.postMessage", 1, "internal_error") }, &incident.ChatError{Method: "chat.postMessage", Code: "internal_error"}},
		{"ratelimited body", func() { fs.FailNextWith("chat.postMessage", 1, "ratelimited") }, &incident.ChatError{Method: "chat.postMessage", Code: "ratelimited"}},
	}
	for _, tt := range tests {
		tt.setup()
		_, err := chat.Post(ctx, fakeslack.GeneralID, incident.Message{Text: "hello"})
		var ce *incident.ChatError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want a ChatError", tt.name, err)
			continue
		}
		if diff := cmp.Diff(ce, tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}

	// A network failure is a plain error: temporary.
	down := NewSlackChat(ChatConfig{Token: "x", APIURL: "http://127.0.0.1:1/api/", HTTPClient: &http.Client{Timeout: time.Second}})
	_, err := down.Post(ctx, "C1", incident.Message{Text: "x"})
	var ce *incident.ChatError
	if err == nil || errors.As(err, &ce) {
		t.Errorf("network error = %v, want a plain error", err)
	}

	var buf bytes.Buffer
	m.WriteTo(ctx, &buf)
	for _, want := range []string{
		`drbot_slack_api_calls_total{method="chat.postMessage"} 11`,
		`drbot_slack_api_errors_total{error="ratelimited",method="chat.postMessage"} 2`,
		`drbot_slack_api_errors_total{error="channel_not_found",method="chat.postMessage"} 1`,
		`drbot_slack_api_errors_total{error="http_500",method="chat.postMessage"} 1`,
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

func TestPostUpdatePinEphemeral(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	fs.AddUser("U1", "one@example.com", "one", false)
	id, _, _ := chat.CreateChannel(ctx, "inc-1")
	if err := chat.SetTopic(ctx, id, strings.Repeat("t", 300)); err != nil {
		t.Fatalf("SetTopic of 300 characters: %v", err)
	}
	ts, err := chat.Post(ctx, id, incident.Message{Text: "Step *restore*", Buttons: []incident.Button{{Label: "Done", Action: "done/1/restore", Style: "primary"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Pin(ctx, id, ts); err != nil {
		t.Fatal(err)
	}
	if err := chat.Pin(ctx, id, ts); err != nil {
		t.Errorf("pinning again: %v, want nil (already_pinned is fine)", err)
	}
	if err := chat.Update(ctx, id, ts, incident.Message{Text: "Step *restore* done by <@U1>"}); err != nil {
		t.Fatal(err)
	}
	msgs := fs.Messages(id)
	if len(msgs) != 1 || !msgs[0].Pinned || !msgs[0].Edited || len(msgs[0].Buttons()) != 0 || !strings.Contains(msgs[0].AllText(), "done by <@U1>") {
		t.Errorf("messages = %+v", msgs)
	}
	if err := chat.Ephemeral(ctx, id, "U1", incident.Message{Text: "only you"}); err != nil {
		t.Fatal(err)
	}
	if e := fs.Ephemerals(); len(e) != 1 || e[0].For != "U1" {
		t.Errorf("ephemerals = %+v", e)
	}
	err = chat.Update(ctx, id, "1.000001", incident.Message{Text: "x"})
	var ce *incident.ChatError
	if !errors.As(err, &ce) || !ce.Permanent || ce.Code != "message_not_found" {
		t.Errorf("update of a missing message = %v", err)
	}
	_, err = chat.Post(ctx, id, incident.Message{Text: "x", Buttons: []incident.Button{{Label: "x", Action: strings.Repeat("a", 3000)}}})
	if !errors.As(err, &ce) || !ce.Permanent {
		t.Errorf("post with an oversized action = %v, want a permanent error", err)
	}
}

func TestDM(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	fs.AddUser("U1", "one@example.com", "one", false)
	fs.AddUser("UGONE", "gone@example.com", "gone", true)
	ch1, _, err := chat.DM(ctx, "U1", incident.Message{Text: "You are paged"})
	if err != nil {
		t.Fatal(err)
	}
	ch2, _, err := chat.DM(ctx, "U1", incident.Message{Text: "Again"})
	if err != nil || ch2 != ch1 {
		t.Fatalf("second DM = %s, %v; want %s", ch2, err, ch1)
	}
	if n := len(fs.CallsTo("conversations.open")); n != 0 {
		t.Errorf("%d conversations.open calls, want none: chat.postMessage to the member ID opens the DM", n)
	}
	if got := len(fs.Messages("U1")); got != 2 {
		t.Errorf("%d messages in the DM, want 2", got)
	}

	for _, tt := range []struct{ user, code string }{{"UGONE", "user_disabled"}, {"UNOBODY", "user_not_found"}} {
		_, _, err := chat.DM(ctx, tt.user, incident.Message{Text: "x"})
		var ce *incident.ChatError
		if !errors.As(err, &ce) || !ce.Permanent || ce.Code != tt.code {
			t.Errorf("DM %s = %v, want permanent %s", tt.user, err, tt.code)
		}
	}
}

func TestLookups(t *testing.T) {
	fs, chat, _ := newChat(t)
	ctx := context.Background()
	fs.AddUser("U1", "frank@example.com", "frank", false)
	fs.AddUser("UGONE", "gone@example.com", "gone", true)
	if id, err := chat.LookupUserByEmail(ctx, "frank@example.com"); err != nil || id != "U1" {
		t.Errorf("LookupUserByEmail = %q, %v", id, err)
	}
	for _, tt := range []struct{ email, code string }{{"nobody@example.com", "users_not_found"}, {"gone@example.com", "account_inactive"}} {
		_, err := chat.LookupUserByEmail(ctx, tt.email)
		var ce *incident.ChatError
		if !errors.As(err, &ce) || !ce.Permanent || ce.Code != tt.code {
			t.Errorf("LookupUserByEmail(%s) = %v, want permanent %s", tt.email, err, tt.code)
		}
	}
	u, err := chat.LookupUser(ctx, "UGONE")
	if err != nil || !u.Deleted || u.Email != "gone@example.com" {
		t.Errorf("LookupUser = %+v, %v", u, err)
	}
	if _, err := chat.LookupUser(ctx, "UNOBODY"); err == nil {
		t.Errorf("LookupUser of an unknown id succeeded")
	}
	if id, err := chat.AuthTest(ctx); err != nil || id != fakeslack.BotUserID {
		t.Errorf("AuthTest = %q, %v", id, err)
	}
}

func TestWebhook(t *testing.T) {
	_, chat, _ := newChat(t)
	ctx := context.Background()
	statuses := make(chan int, 1)
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		status := <-statuses
		if status == 429 {
			w.Header().Set("Retry-After", "12")
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	tests := []struct {
		status int
		want   *incident.ChatError
	}{
		{202, nil},
		{429, &incident.ChatError{Method: "webhook", Code: "ratelimited", RetryAfter: 12}},
		{500, &incident.ChatError{Method: "webhook", Code: "http_500"}},
		{400, &incident.ChatError{Method: "webhook", Code: "http_400", Permanent: true}},
	}
	for _, tt := range tests {
		statuses <- tt.status
		err := chat.Webhook(ctx, srv.URL, []byte(`{"event_action":"trigger"}`))
		var ce *incident.ChatError
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("status %d: %v", tt.status, err)
		case tt.want != nil && !errors.As(err, &ce):
			t.Errorf("status %d: %v, want %+v", tt.status, err, tt.want)
		case tt.want != nil:
			if diff := cmp.Diff(ce, tt.want); diff != "" {
				t.Errorf("status %d (-got +want):\n%s", tt.status, diff)
			}
		}
		if got := <-bodies; string(got) != `{"event_action":"trigger"}` {
			t.Errorf("body = %s", got)
		}
	}
}

// A webhook or response_url that cannot be reached gives an error that
// does not quote the URL: its path and query are credentials, and the
// error is logged.
func TestPostErrorHidesURL(t *testing.T) {
	_, chat, _ := newChat(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there now
	secretURL := base + "/services/T000/B000/s3cr3tPath?routing_key=s3cr3tKey"
	ctx := context.Background()
	errs := map[string]error{
		"webhook":      chat.Webhook(ctx, secretURL, []byte(`{}`)),
		"response_url": chat.Respond(ctx, secretURL, ResponseMessage{Text: "x"}),
	}
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error from a closed server", name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: error quotes the URL: %s", name, msg)
		}
		var ce *incident.ChatError
		if errors.As(err, &ce) {
			t.Errorf("%s: %v is a ChatError; a network error must stay retryable", name, err)
		}
	}
	// A timeout is still one.
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := chat.Webhook(ctx, secretURL, []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled webhook: %v, want context.Canceled", err)
	}
}
