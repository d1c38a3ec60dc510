package incident_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// The outbox tests live in package incident_test because incidenttest
// imports incident.

type countingMetrics struct{ pages atomic.Int64 }

func (*countingMetrics) Declared(bool)              {}
func (*countingMetrics) Resolved()                  {}
func (m *countingMetrics) PageSent()                { m.pages.Add(1) }
func (*countingMetrics) Acknowledged(time.Duration) {}

type outboxEnv struct {
	svc     *incident.Engine
	store   *incidenttest.MemStore
	chat    *incidenttest.FakeChat
	clock   *incidenttest.Clock
	metrics *countingMetrics
}

var obT0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	e := &outboxEnv{
		store:   incidenttest.NewMemStore(),
		chat:    incidenttest.NewFakeChat(),
		clock:   incidenttest.NewClock(obT0),
		metrics: &countingMetrics{},
	}
	svc, err := incident.New(incident.Config{Plan: pmPlan(), Store: e.store, Chat: e.chat, Now: e.clock.Now, Metrics: e.metrics})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// incident creates incident 1, with channelID as its channel ("" for none
// yet).
func (e *outboxEnv) incident(t *testing.T, channelID string) {
	t.Helper()
	err := e.store.Update(context.Background(), func(tx incident.Tx) error {
		return tx.CreateIncident(&incident.Incident{
			Scenario: "db-corruption", State: incident.StateOpen, DeclaredAt: obT0, DeclaredBy: "U0ALICE01",
			ChannelID: channelID, ChannelName: map[bool]string{true: "inc-1-db-corruption"}[channelID != ""],
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *outboxEnv) enqueue(t *testing.T, os ...incident.Outgoing) {
	t.Helper()
	err := e.store.Update(context.Background(), func(tx incident.Tx) error {
		for _, o := range os {
			if err := tx.Enqueue(&o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deliver runs Deliver and checks how many messages it sent.
func (e *outboxEnv) deliver(t *testing.T, want int) {
	t.Helper()
	got, err := e.svc.Deliver(context.Background())
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got != want {
		t.Errorf("Deliver at +%v sent %d, want %d", e.clock.Now().Sub(obT0), got, want)
	}
}

func (e *outboxEnv) timeline(t *testing.T) []incident.Event {
	t.Helper()
	var evs []incident.Event
	err := e.store.View(context.Background(), func(tx incident.Tx) error {
		var err error
		evs, err = tx.Timeline(1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func (e *outboxEnv) message(t *testing.T, id int64) incidenttest.StoredOutgoing {
	t.Helper()
	for _, m := range e.store.Messages() {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no outbox message %d", id)
	return incidenttest.StoredOutgoing{}
}

func obPost(lane, text string) incident.Outgoing {
	return incident.Outgoing{Lane: lane, IncidentID: 1, Kind: incident.OutPost, Body: incident.OutBody{Message: &incident.Message{Text: text}}}
}

func obTexts(ms []incident.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestDeliverOrderWithinLane(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, obPost("inc/1", "a"), obPost("inc/1", "b"), obPost("inc/1", "c"))
	e.chat.FailNext(incidenttest.MethodPost, 1, errors.New("connection reset"))

	// "a" fails: "b" and "c" must not overtake it.
	e.deliver(t, 0)
	if got := len(e.chat.CallsOf(incidenttest.MethodPost)); got != 1 {
		t.Fatalf("%d posts tried after the lane's head failed, want 1", got)
	}
	e.clock.Advance(time.Second)
	e.deliver(t, 3)
	if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{"a", "b", "c"}); diff != "" {
		t.Errorf("posts (-got +want):\n%s", diff)
	}
	e.deliver(t, 0) // nothing is sent twice
}

func TestDeliverLanesIndependentAndRetryAfter(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t,
		obPost("inc/1", "step 1"),
		incident.Outgoing{Lane: "user/bob", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "bob", Message: &incident.Message{Text: "page 1"}}},
		incident.Outgoing{Lane: "user/bob", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "bob", Message: &incident.Message{Text: "page 2"}}},
	)
	e.chat.FailNext(incidenttest.MethodPost, 1, &incident.ChatError{Method: "chat.postMessage", Code: "ratelimited", RetryAfter: 30})

	// The 429 on the channel lane does not hold up bob's lane.
	e.deliver(t, 2)
	if diff := cmp.Diff(obTexts(e.chat.DMs("U0BOB0001")), []string{"page 1", "page 2"}); diff != "" {
		t.Errorf("DMs to bob (-got +want):\n%s", diff)
	}
	m := e.message(t, 1)
	if m.State != incidenttest.OutPending || m.Attempts != 1 || !m.Due.Equal(obT0.Add(30*time.Second)) {
		t.Errorf("rate-limited message: %+v, want pending, 1 attempt, due at +30s", m)
	}

	// Not before Retry-After ...
	e.clock.Advance(29 * time.Second)
	e.deliver(t, 0)
	if got := len(e.chat.CallsOf(incidenttest.MethodPost)); got != 1 {
		t.Errorf("%d posts tried before Retry-After ran out, want 1", got)
	}
	// ... and right after.
	e.clock.Advance(time.Second)
	e.deliver(t, 1)
	if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{"step 1"}); diff != "" {
		t.Errorf("posts (-got +want):\n%s", diff)
	}
}

func TestDeliverBackoff(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, obPost("inc/1", "summary"))
	e.chat.FailNext(incidenttest.MethodPost, 2, &incident.ChatError{Method: "chat.postMessage", Code: "internal_error"})
	e.chat.FailNext(incidenttest.MethodPost, 1, errors.New("dial tcp: i/o timeout"))

	// Fails at +0s, +1s, +3s (backoff 1s, 2s, 4s), goes at +7s.
	for _, step := range []struct {
		at       time.Duration
		sent     int
		attempts int
		due      time.Duration
	}{
		{0, 0, 1, time.Second},
		{time.Second - time.Millisecond, 0, 1, time.Second},
		{time.Second, 0, 2, 3 * time.Second},
		{3 * time.Second, 0, 3, 7 * time.Second},
		{7*time.Second - time.Millisecond, 0, 3, 7 * time.Second},
		{7 * time.Second, 1, 3, 7 * time.Second},
	} {
		e.clock.Set(obT0.Add(step.at))
		e.deliver(t, step.sent)
		m := e.message(t, 1)
		if m.Attempts != step.attempts || !m.Due.Equal(obT0.Add(step.due)) {
			t.Errorf("at +%v: attempts %d due +%v, want %d +%v", step.at, m.Attempts, m.Due.Sub(obT0), step.attempts, step.due)
		}
	}
	if m := e.message(t, 1); m.State != incidenttest.OutSent {
		t.Errorf("state after the errors passed = %s, want sent", m.State)
	}
	if got := len(e.chat.CallsOf(incidenttest.MethodPost)); got != 4 {
		t.Errorf("%d posts tried, want 4", got)
	}
	for _, ev := range e.timeline(t) {
		if ev.Kind == incident.KindDeliveryFailed {
			t.Errorf("a passing error was recorded as a failed delivery: %+v", ev)
		}
	}
}

func TestDeliverBackoffCapped(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, obPost("inc/1", "x"))
	// Twelve failures already: 2^12 s is over an hour; the cap is 5m.
	err := e.store.Update(context.Background(), func(tx incident.Tx) error {
		for range 12 {
			if err := tx.Retry(1, obT0, "earlier"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.chat.FailNext(incidenttest.MethodPost, 1, &incident.ChatError{Code: "service_unavailable"})
	e.deliver(t, 0)
	if m := e.message(t, 1); !m.Due.Equal(obT0.Add(5*time.Minute)) || m.State != incidenttest.OutPending {
		t.Errorf("after 13 failures: %s due +%v, want pending, +5m", m.State, m.Due.Sub(obT0))
	}
}

func TestDeliverPermanentFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(*incidenttest.FakeChat)
		wantLine string
	}{
		{
			name: "slack says user_not_found",
			setup: func(c *incidenttest.FakeChat) {
				c.SetEmail("frank@example.com", "U0FRANK01")
				c.FailNext(incidenttest.MethodDM, 1, &incident.ChatError{Method: "chat.postMessage", Code: "user_not_found", Permanent: true})
			},
			wantLine: "could not page frank: user_not_found",
		},
		{
			name:     "email unknown to slack",
			setup:    func(c *incidenttest.FakeChat) {},
			wantLine: "could not page frank: users_not_found",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOutboxEnv(t)
			e.incident(t, "C0001")
			tc.setup(e.chat)
			e.enqueue(t, incident.Outgoing{Lane: "user/frank", IncidentID: 1, Kind: incident.OutDM,
				Body: incident.OutBody{Contact: "frank", Purpose: "page frank", Message: &incident.Message{Text: "You are paged"}}})

			// The page is dropped; the notice about it is sent in the same call.
			e.deliver(t, 1)
			m := e.message(t, 1)
			if m.State != incidenttest.OutDropped {
				t.Errorf("page state %s, want dropped", m.State)
			}
			var failed []string
			for _, ev := range e.timeline(t) {
				if ev.Kind == incident.KindDeliveryFailed {
					failed = append(failed, ev.Text)
				}
			}
			if diff := cmp.Diff(failed, []string{tc.wantLine}); diff != "" {
				t.Errorf("delivery_failed events (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{":warning: " + tc.wantLine}); diff != "" {
				t.Errorf("channel posts (-got +want):\n%s", diff)
			}
			if got := e.metrics.pages.Load(); got != 0 {
				t.Errorf("PageSent counted %d for a page that failed", got)
			}
			// Nothing is retried.
			e.clock.Advance(time.Hour)
			before := len(e.chat.Calls())
			e.deliver(t, 0)
			if got := len(e.chat.Calls()); got != before {
				t.Errorf("%d more chat calls after a permanent failure", got-before)
			}
		})
	}
}

func TestDeliverWaitsForChannel(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "")
	e.enqueue(t, incident.Outgoing{Lane: "inc/1/topic", IncidentID: 1, Kind: incident.OutTopic, Body: incident.OutBody{Topic: "sev1 payments-db"}})

	e.deliver(t, 0)
	if got := len(e.chat.Calls()); got != 0 {
		t.Fatalf("%d chat calls without a channel", got)
	}
	m := e.message(t, 1)
	if m.State != incidenttest.OutPending || !m.Due.Equal(obT0.Add(time.Second)) || m.LastError != "waiting for the incident channel" {
		t.Errorf("waiting message = %+v", m)
	}

	e.enqueue(t, incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutCreateChannel, Body: incident.OutBody{Name: "inc-1-db-corruption"}})
	e.deliver(t, 1)
	var inc *incident.Incident
	err := e.store.View(context.Background(), func(tx incident.Tx) error {
		var err error
		inc, err = tx.Incident(1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inc.ChannelID != "C0001" || inc.ChannelName != "inc-1-db-corruption" {
		t.Errorf("incident channel = %q %q, want C0001 inc-1-db-corruption", inc.ChannelID, inc.ChannelName)
	}
	evs := e.timeline(t)
	if len(evs) != 1 || evs[0].Kind != incident.KindChannelCreated || evs[0].At != obT0 {
		t.Errorf("timeline = %+v, want one channel_created at obT0", evs)
	}

	e.clock.Advance(time.Second)
	e.deliver(t, 1)
	if got := e.chat.Topic("C0001"); got != "sev1 payments-db" {
		t.Errorf("topic = %q", got)
	}
}

func TestDeliverCreateChannelRefused(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "")
	e.enqueue(t, incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutCreateChannel, Body: incident.OutBody{Name: "inc-1-db-corruption"}})
	refused := &incident.ChatError{Method: "conversations.create", Code: "restricted_action", Permanent: true}
	e.chat.FailNext(incidenttest.MethodCreateChannel, 2, refused)

	// The declarer hears of it once; the channel is tried again until it
	// can be made.
	e.deliver(t, 1)
	e.clock.Advance(time.Second)
	e.deliver(t, 0)
	e.clock.Advance(2 * time.Second)
	e.deliver(t, 1)
	if diff := cmp.Diff(obTexts(e.chat.DMs("U0ALICE01")), []string{":warning: could not create the incident channel: restricted_action. drbot keeps trying; a Slack admin may need to fix the app's permissions."}); diff != "" {
		t.Errorf("DMs to the declarer (-got +want):\n%s", diff)
	}
	var kinds []incident.EventKind
	for _, ev := range e.timeline(t) {
		kinds = append(kinds, ev.Kind)
	}
	if diff := cmp.Diff(kinds, []incident.EventKind{incident.KindDeliveryFailed, incident.KindChannelCreated}); diff != "" {
		t.Errorf("timeline kinds (-got +want):\n%s", diff)
	}
}

func TestDeliverEmailLookupCached(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.chat.SetEmail("frank@example.com", "U0FRANK01")
	// A slow lookup: the other lanes reach frank while it is under way.
	e.chat.SetDelay(incidenttest.MethodLookupUserByEmail, 5*time.Millisecond)
	dm := func(lane, text string) incident.Outgoing {
		return incident.Outgoing{Lane: lane, IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "frank", Purpose: "page frank", Message: &incident.Message{Text: text}}}
	}
	// Three lanes that need frank's user, delivered at the same time.
	e.enqueue(t, dm("user/frank", "page"), dm("user/frank/reminder", "reminder"),
		incident.Outgoing{Lane: "inc/1/invite", IncidentID: 1, Kind: incident.OutInvite, Body: incident.OutBody{Contacts: []string{"frank", "bob"}}})
	e.deliver(t, 3)
	e.enqueue(t, dm("user/frank", "later"))
	e.deliver(t, 1)

	if got := len(e.chat.CallsOf(incidenttest.MethodLookupUserByEmail)); got != 1 {
		t.Errorf("LookupUserByEmail called %d times, want 1", got)
	}
	if diff := cmp.Diff(obTexts(e.chat.DMs("U0FRANK01")), []string{"page", "reminder", "later"}, obSorted); diff != "" {
		t.Errorf("DMs to frank (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(e.chat.Members("C0001"), []string{"U0FRANK01", "U0BOB0001"}); diff != "" {
		t.Errorf("invited (-got +want):\n%s", diff)
	}
	err := e.store.View(context.Background(), func(tx incident.Tx) error {
		for key, want := range map[string]string{"email/frank@example.com": "U0FRANK01", "user/U0FRANK01/contact": "frank"} {
			if got, ok, err := tx.Get(key); err != nil || !ok || got != want {
				t.Errorf("kv %s = %q %v %v, want %q", key, got, ok, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.metrics.pages.Load(); got != 3 {
		t.Errorf("PageSent counted %d, want 3", got)
	}
}

// obSorted compares string slices as sets: lanes go concurrently.
var obSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestDeliverInviteSkipsUnknown(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, incident.Outgoing{Lane: "inc/1/invite", IncidentID: 1, Kind: incident.OutInvite,
		Body: incident.OutBody{Contacts: []string{"bob", "frank"}, Users: []string{"U0EXTRA01", "U0BOB0001"}}})
	// frank's email is unknown to Slack: bob and the extra user are still invited.
	e.deliver(t, 2)
	if diff := cmp.Diff(e.chat.Members("C0001"), []string{"U0EXTRA01", "U0BOB0001"}); diff != "" {
		t.Errorf("invited (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{":warning: could not invite frank: users_not_found"}); diff != "" {
		t.Errorf("channel posts (-got +want):\n%s", diff)
	}
	if m := e.message(t, 1); m.State != incidenttest.OutSent {
		t.Errorf("invite state = %s, want sent", m.State)
	}
}

func TestDeliverUpdateViaRef(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	step := incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutPost, Body: incident.OutBody{
		Ref: "inc/1/step/assess", Pin: true,
		Message: &incident.Message{Text: "assess", Buttons: []incident.Button{{Label: "Done", Action: "done"}}},
	}}
	update := incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutUpdate, Body: incident.OutBody{
		UpdateRef: "inc/1/step/assess", Message: &incident.Message{Text: "assess: done by Alice"},
	}}
	e.chat.FailNext(incidenttest.MethodPin, 1, &incident.ChatError{Code: "not_pinnable", Permanent: true})
	e.enqueue(t, step, update)
	e.deliver(t, 2)
	if diff := cmp.Diff(e.chat.Posts("C0001"), []incident.Message{{Text: "assess: done by Alice"}}); diff != "" {
		t.Errorf("channel after the update (-got +want):\n%s", diff)
	}
	// The pin failed and was not retried, nor was the post repeated.
	if got, want := len(e.chat.CallsOf(incidenttest.MethodPin)), 1; got != want {
		t.Errorf("%d pins tried, want %d", got, want)
	}
	if got := len(e.chat.CallsOf(incidenttest.MethodPost)); got != 1 {
		t.Errorf("%d posts, want 1", got)
	}
}

func TestDeliverUpdateOfMissingRef(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, incident.Outgoing{Lane: "inc/1/updates", IncidentID: 1, Kind: incident.OutUpdate, Body: incident.OutBody{
		UpdateRef: "inc/1/never", Message: &incident.Message{Text: "x"},
	}})
	// It waits a few times (1s, 2s, 4s), then is dropped quietly.
	for i := range 4 {
		e.deliver(t, 0)
		e.clock.Advance(time.Minute)
		if st := e.message(t, 1).State; (i < 3) != (st == incidenttest.OutPending) {
			t.Fatalf("after %d looks the update is %s", i+1, st)
		}
	}
	if got := e.message(t, 1).State; got != incidenttest.OutDropped {
		t.Errorf("state = %s, want dropped", got)
	}
	if got := len(e.chat.Calls()); got != 0 {
		t.Errorf("%d chat calls for an update of nothing", got)
	}
	if evs := e.timeline(t); len(evs) != 0 {
		t.Errorf("timeline = %+v, want nothing (the post's own failure says it)", evs)
	}
}

func TestDeliverPageMetricAndWebhook(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t,
		incident.Outgoing{Lane: "user/bob", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "bob", Purpose: "page bob", Message: &incident.Message{Text: "paged"}}},
		incident.Outgoing{Lane: "user/bob", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{User: "U0BOB0001", Purpose: "remind bob", Message: &incident.Message{Text: "reminder"}}},
		// A webhook row of the older format, with its URL: still sent.
		incident.Outgoing{Lane: "webhook", IncidentID: 1, Kind: incident.OutWebhook, Body: incident.OutBody{WebhookURL: "https://hooks.example/page", WebhookBody: []byte(`{"a":1}`)}},
		incident.Outgoing{Lane: "inc/1/eph", IncidentID: 1, Kind: incident.OutEphemeral, Body: incident.OutBody{User: "U0BOB0001", Message: &incident.Message{Text: "only you"}}},
	)
	e.deliver(t, 4)
	if got := e.metrics.pages.Load(); got != 1 {
		t.Errorf("PageSent = %d, want 1", got)
	}
	hooks := e.chat.CallsOf(incidenttest.MethodWebhook)
	if len(hooks) != 1 || hooks[0].URL != "https://hooks.example/page" || string(hooks[0].Body) != `{"a":1}` {
		t.Errorf("webhook calls = %+v", hooks)
	}
	if eph := e.chat.CallsOf(incidenttest.MethodEphemeral); len(eph) != 1 || eph[0].Channel != "C0001" {
		t.Errorf("ephemeral calls = %+v", eph)
	}
}

func TestDeliverMalformedDropped(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, incident.Outgoing{Lane: "user/zed", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "zed", Message: &incident.Message{Text: "x"}}})
	e.deliver(t, 1) // the notice
	if m := e.message(t, 1); m.State != incidenttest.OutDropped {
		t.Errorf("DM to a contact not in the plan: %s, want dropped", m.State)
	}
	if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{":warning: could not send a direct message to zed: zed is not a contact of the plan"}); diff != "" {
		t.Errorf("channel posts (-got +want):\n%s", diff)
	}
}

// latentChat is a FakeChat whose calls take time on the test clock, as
// Slack's do: each moves the clock on by took, and the time each post,
// direct message and update was sent is recorded.
type latentChat struct {
	*incidenttest.FakeChat
	clock *incidenttest.Clock
	took  time.Duration

	mu   sync.Mutex
	sent []sentAt
}

type sentAt struct {
	method, conv, text string
	at                 time.Duration // since obT0
}

// newLatentEnv is an outbox environment with incident 1 (channel C0001)
// whose chat calls each take 100ms of the test clock, and an Engine
// delivering through it.
func newLatentEnv(t *testing.T) (*outboxEnv, *latentChat, *incident.Engine) {
	t.Helper()
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	chat := &latentChat{FakeChat: e.chat, clock: e.clock, took: 100 * time.Millisecond}
	svc, err := incident.New(incident.Config{Plan: pmPlan(), Store: e.store, Chat: chat, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e, chat, svc
}

func (c *latentChat) note(method, conv string, m incident.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sentAt{method, conv, m.Text, c.clock.Now().Sub(obT0)})
	c.clock.Advance(c.took)
}

func (c *latentChat) Post(ctx context.Context, ch string, m incident.Message) (string, error) {
	c.note(incidenttest.MethodPost, ch, m)
	return c.FakeChat.Post(ctx, ch, m)
}

func (c *latentChat) DM(ctx context.Context, user string, m incident.Message) (string, string, error) {
	c.note(incidenttest.MethodDM, user, m)
	return c.FakeChat.DM(ctx, user, m)
}

func (c *latentChat) Update(ctx context.Context, ch, ts string, m incident.Message) error {
	c.note(incidenttest.MethodUpdate, ch, m)
	return c.FakeChat.Update(ctx, ch, ts, m)
}

func (c *latentChat) sends() []sentAt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentAt(nil), c.sent...)
}

// TestDeliverPacesPostsPerConversation: Slack allows about one post a
// second per channel, counted as posts arrive, so drbot spaces its own
// posts in a conversation by a second from Slack's answer to the one
// before instead of learning the limit from 429s; an update is not paced,
// and another conversation (a page's DM) is not held up.
func TestDeliverPacesPostsPerConversation(t *testing.T) {
	e, chat, svc := newLatentEnv(t)
	first := obPost("inc/1", "a")
	first.Body.Ref = "a"
	e.enqueue(t,
		first,
		incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutUpdate, Body: incident.OutBody{UpdateRef: "a", Message: &incident.Message{Text: "a, edited"}}},
		obPost("inc/1", "b"), obPost("inc/1", "c"), obPost("inc/1", "d"), obPost("inc/1", "e"),
		incident.Outgoing{Lane: "user/bob", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{Contact: "bob", Message: &incident.Message{Text: "page"}}},
	)

	// Deliver as Run would: whenever something is due, the clock moving
	// on in steps of 50ms in between.
	for range 200 {
		if _, err := svc.Deliver(context.Background()); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		var depth int
		err := e.store.View(context.Background(), func(tx incident.Tx) error {
			var err error
			depth, err = tx.OutboxDepth()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			break
		}
		e.clock.Advance(50 * time.Millisecond)
	}

	var posts []sentAt
	var dm, update *sentAt
	for _, s := range chat.sends() {
		switch s.method {
		case incidenttest.MethodPost:
			posts = append(posts, s)
		case incidenttest.MethodDM:
			dm = &s
		case incidenttest.MethodUpdate:
			update = &s
		}
	}
	var texts []string
	for _, p := range posts {
		texts = append(texts, p.text)
	}
	if diff := cmp.Diff(texts, []string{"a", "b", "c", "d", "e"}); diff != "" {
		t.Fatalf("posts in C0001 (-got +want):\n%s", diff)
	}
	for i := 1; i < len(posts); i++ {
		gap := posts[i].at - posts[i-1].at
		// A second after Slack answered the post before (which took
		// 100ms), and not much more: the post waits for its turn, not
		// for a backoff.
		if gap < 1100*time.Millisecond || gap > 1200*time.Millisecond {
			t.Errorf("post %q went %v after %q, want 1.1s..1.2s", posts[i].text, gap, posts[i-1].text)
		}
	}
	if update == nil || update.at >= time.Second {
		t.Errorf("update of the first post: %+v, want it sent at once (updates are not paced)", update)
	}
	if dm == nil || dm.at >= time.Second {
		t.Errorf("DM to bob: %+v, want it sent at once (another conversation)", dm)
	}
}

// TestDeliverClockStandingStillNotPaced: the console's clock moves only
// when told (wait); its posts go at once, in order, so that the console
// shows them with the command that made them.
func TestDeliverClockStandingStillNotPaced(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	e.enqueue(t, obPost("inc/1", "a"), obPost("inc/1", "b"), obPost("inc/1", "c"), obPost("inc/1", "d"), obPost("inc/1", "e"))
	e.deliver(t, 5)
	if diff := cmp.Diff(obTexts(e.chat.Posts("C0001")), []string{"a", "b", "c", "d", "e"}); diff != "" {
		t.Errorf("posts (-got +want):\n%s", diff)
	}
	// A second later the clock has moved; the next post went at once
	// too (a second after the last).
	e.clock.Advance(time.Second)
	e.enqueue(t, obPost("inc/1", "f"))
	e.deliver(t, 1)
}

// TestDeliverUrgentFirst: in a pass with many lane heads, the page and the
// RTO alert (Body.Urgent) are sent before the topics queued ahead of them:
// they are the pass's first two calls.
func TestDeliverUrgentFirst(t *testing.T) {
	e := newOutboxEnv(t)
	e.incident(t, "C0001")
	var slow []incident.Outgoing
	for i := range 30 {
		lane := fmt.Sprintf("inc/1/setup/%d", i)
		slow = append(slow, incident.Outgoing{Lane: lane, IncidentID: 1, Kind: incident.OutTopic, Body: incident.OutBody{Topic: "t"}})
	}
	e.enqueue(t, slow...)
	e.enqueue(t,
		incident.Outgoing{Lane: "dm/U0BOB0001", IncidentID: 1, Kind: incident.OutDM, Body: incident.OutBody{
			User: "U0BOB0001", Message: &incident.Message{Text: "You are paged"}, Purpose: "page bob", Urgent: true}},
		incident.Outgoing{Lane: "inc/1", IncidentID: 1, Kind: incident.OutPost, Body: incident.OutBody{
			Message: &incident.Message{Text: "RTO 50%"}, Purpose: "post the RTO 50% alert", Urgent: true}},
	)
	e.deliver(t, 32)
	calls := e.chat.Calls()
	first := map[string]int{}
	for i, c := range calls {
		if _, seen := first[c.Method]; !seen {
			first[c.Method] = i
		}
	}
	for _, m := range []string{incidenttest.MethodDM, incidenttest.MethodPost} {
		if i, ok := first[m]; !ok || i >= 2 {
			t.Errorf("%s was call %d of %d, want one of the first two (urgent before 30 topics)", m, i, len(calls))
		}
	}
}

// TestRateLimitedTopicHoldsNothing: the channel's topic is refused with a
// 429 and Retry-After (conversations.setTopic is Tier 2); the summary and
// the first step, in the channel's own lane, are posted all the same.
func TestRateLimitedTopicHoldsNothing(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, svcPlan(t))
	e.chat.FailNext(incidenttest.MethodSetTopic, 1, &incident.ChatError{Method: "conversations.setTopic", Code: "ratelimited", RetryAfter: 40})
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	if posts := e.chat.Posts(ch); len(posts) < 2 {
		t.Fatalf("%d posts in the channel while its topic waits out a 429, want the summary and the first step", len(posts))
	}
	if e.chat.Topic(ch) != "" {
		t.Fatalf("topic set before Retry-After")
	}
	e.clock.Advance(40 * time.Second)
	e.tick()
	if e.chat.Topic(ch) == "" {
		t.Error("topic not set after Retry-After")
	}
	if pins := e.chat.Pins(ch); len(pins) != 1 {
		t.Errorf("%d pins, want the summary pinned once", len(pins))
	}
}

// TestDeliverPageNotBehindBacklog: a page that falls due while a delivery
// pass works through a backlog (30 posts in 30 channels, each taking
// Slack 100ms, 8 at once) goes with the next pass, ahead of the rest of
// the backlog, rather than after all of it: the last phase of a pass
// starts sends for restSlice only, then what is due is read again.
func TestDeliverPageNotBehindBacklog(t *testing.T) {
	e, chat, svc := newLatentEnv(t)
	const backlog = 30
	for i := range backlog {
		o := obPost(fmt.Sprintf("inc/1/l%d", i), fmt.Sprint("post ", i))
		o.Body.Channel = fmt.Sprintf("C1%03d", i)
		e.enqueue(t, o)
	}
	e.enqueue(t, incident.Outgoing{Lane: "dm/U0BOB0001", IncidentID: 1, Kind: incident.OutDM, Due: obT0.Add(250 * time.Millisecond),
		Body: incident.OutBody{User: "U0BOB0001", Urgent: true, Message: &incident.Message{Text: "page"}}})
	if n, err := svc.Deliver(context.Background()); err != nil || n != backlog+1 {
		t.Fatalf("Deliver = %d, %v; want %d sent", n, err, backlog+1)
	}
	after := -1
	for _, s := range chat.sends() {
		switch {
		case s.method == incidenttest.MethodDM:
			after = 0
		case after >= 0:
			after++
		}
	}
	if after < backlog/3 {
		t.Errorf("the page went with %d posts of the backlog left, want it ahead of most of them (at least %d)", after, backlog/3)
	}
}
