package incidenttest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

func TestFakeChatRecordsAndFails(t *testing.T) {
	ctx := context.Background()
	f := incidenttest.NewFakeChat()
	f.SetEmail("frank@example.com", "U0FRANK01")

	id, name, err := f.CreateChannel(ctx, "inc-1-db")
	if err != nil || id != "C0001" || name != "inc-1-db" {
		t.Fatalf("CreateChannel = %q %q %v", id, name, err)
	}
	// The same name again gets a suffix.
	id2, name2, _ := f.CreateChannel(ctx, "inc-1-db")
	if id2 != "C0002" || name2 != "inc-1-db-2" {
		t.Errorf("second CreateChannel = %q %q, want C0002 inc-1-db-2", id2, name2)
	}
	if got := f.ChannelID("#inc-1-db-2"); got != "C0002" {
		t.Errorf("ChannelID = %q", got)
	}

	limited := &incident.ChatError{Method: "chat.postMessage", Code: "ratelimited", RetryAfter: 30}
	f.FailNext(incidenttest.MethodPost, 2, limited)
	for i := range 2 {
		if _, err := f.Post(ctx, id, incident.Message{Text: "x"}); !errors.Is(err, limited) {
			t.Errorf("post %d: err %v, want %v", i, err, limited)
		}
	}
	ts, err := f.Post(ctx, id, incident.Message{Text: "step", Buttons: []incident.Button{{Label: "Done", Action: "done:1"}, {Label: "Skip", Action: "skip:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Post(ctx, id, incident.Message{Text: "no buttons"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.LastButtons(id), []incident.Button{{Label: "Done", Action: "done:1"}, {Label: "Skip", Action: "skip:1"}}); diff != "" {
		t.Errorf("LastButtons (-got +want):\n%s", diff)
	}
	if err := f.Update(ctx, id, ts, incident.Message{Text: "step (done)"}); err != nil {
		t.Fatal(err)
	}
	if got := f.LastButtons(id); got != nil {
		t.Errorf("LastButtons after the update removed them = %v, want none", got)
	}
	if diff := cmp.Diff(f.Posts(id), []incident.Message{{Text: "step (done)"}, {Text: "no buttons"}}); diff != "" {
		t.Errorf("Posts (-got +want):\n%s", diff)
	}
	var ce *incident.ChatError
	if err := f.Update(ctx, id, "9.9", incident.Message{}); !errors.As(err, &ce) || ce.Code != "message_not_found" || !ce.Permanent {
		t.Errorf("Update of unknown ts = %v, want permanent message_not_found", err)
	}

	ch, dts, err := f.DM(ctx, "U0BOB0001", incident.Message{Text: "page", Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack"}}})
	if err != nil || ch != "DU0BOB0001" || dts == "" {
		t.Fatalf("DM = %q %q %v", ch, dts, err)
	}
	if b, ok := f.FindButton(incidenttest.DMChannel("U0BOB0001"), "Acknowledge"); !ok || b.Action != "ack" {
		t.Errorf("FindButton = %+v %v", b, ok)
	}
	if got := len(f.DMs("U0BOB0001")); got != 1 {
		t.Errorf("DMs = %d, want 1", got)
	}

	if u, err := f.LookupUserByEmail(ctx, "frank@example.com"); err != nil || u != "U0FRANK01" {
		t.Errorf("LookupUserByEmail = %q %v", u, err)
	}
	if _, err := f.LookupUserByEmail(ctx, "nobody@example.com"); !errors.As(err, &ce) || !ce.Permanent {
		t.Errorf("LookupUserByEmail(unknown) = %v, want permanent error", err)
	}

	network := errors.New("connection reset")
	f.FailNext(incidenttest.MethodInvite, 1, network)
	if err := f.Invite(ctx, id, []string{"U1"}); !errors.Is(err, network) {
		t.Errorf("Invite = %v, want %v", err, network)
	}
	if err := f.Invite(ctx, id, []string{"U1", "U2"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.Members(id), []string{"U1", "U2"}); diff != "" {
		t.Errorf("Members (-got +want):\n%s", diff)
	}
	_ = f.SetTopic(ctx, id, "sev1")
	_ = f.Pin(ctx, id, ts)
	_ = f.Ephemeral(ctx, id, "U1", incident.Message{Text: "only you"})
	_ = f.Webhook(ctx, "https://hooks.example/x", []byte(`{}`))
	if f.Topic(id) != "sev1" || len(f.Pins(id)) != 1 || len(f.Ephemerals("U1")) != 1 {
		t.Errorf("topic %q pins %v ephemerals %v", f.Topic(id), f.Pins(id), f.Ephemerals("U1"))
	}

	var methods []string
	for _, c := range f.Calls() {
		methods = append(methods, c.Method)
	}
	want := []string{"CreateChannel", "CreateChannel", "Post", "Post", "Post", "Post", "Update", "Update",
		"DM", "LookupUserByEmail", "LookupUserByEmail", "Invite", "Invite", "SetTopic", "Pin", "Ephemeral", "Webhook"}
	if diff := cmp.Diff(methods, want); diff != "" {
		t.Errorf("calls (-got +want):\n%s", diff)
	}
	if got := len(f.CallsOf(incidenttest.MethodPost)); got != 4 {
		t.Errorf("CallsOf(Post) = %d, want 4", got)
	}
}

func TestFakeChatConcurrent(t *testing.T) {
	f := incidenttest.NewFakeChat()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _, _ = f.DM(context.Background(), "U1", incident.Message{Text: "x"}) })
	}
	wg.Wait()
	if got := len(f.DMs("U1")); got != 20 {
		t.Errorf("DMs = %d, want 20", got)
	}
}

func TestClock(t *testing.T) {
	c := incidenttest.NewClock(time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)))
	if got, want := c.Now(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Now = %v, want %v in UTC", got, want)
	}
	c.Advance(5 * time.Minute)
	if got := c.Now().Minute(); got != 5 {
		t.Errorf("after Advance(5m) minute = %d", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set = %v", c.Now())
	}
}
