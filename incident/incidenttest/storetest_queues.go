package incidenttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

// The parts of TestStore about what happens in order: the timeline, the
// timers and the outbox.

func testTimeline(t *testing.T, o StoreOpener) {
	s := o.New(t)
	a, b := create(t, s, &incident.Incident{Scenario: "a"})[0], create(t, s, &incident.Incident{Scenario: "b"})[0]
	events := []*incident.Event{
		{IncidentID: a, At: st0, Kind: incident.KindDeclared, Actor: "U0ALICE01", Text: "declared <db> & co"},
		{IncidentID: b, At: st0.Add(time.Millisecond), Kind: incident.KindNote, Text: "other incident"},
		{IncidentID: a, At: st0.Add(time.Minute), Kind: incident.KindPaged, Data: map[string]string{"role": "executor", "contact": "bob"}},
		// Appended later but stamped earlier: the order is the order of appending.
		{IncidentID: a, At: st0.Add(-time.Second), Kind: incident.KindNote, Data: map[string]string{}},
	}
	mustUpdate(t, s, func(tx incident.Tx) error {
		for _, e := range events {
			if err := tx.Append(e); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 1; i < len(events); i++ {
		if events[i].ID <= events[i-1].ID {
			t.Errorf("event %d got ID %d after %d: IDs must increase in the order of appending", i, events[i].ID, events[i-1].ID)
		}
	}
	// Later writes to the incident change nothing in its history.
	mustUpdate(t, s, func(tx incident.Tx) error {
		inc, err := tx.Incident(a)
		if err != nil {
			return err
		}
		inc.State = incident.StateResolved
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		return tx.DeleteTimers(a)
	})
	// An empty Data comes back nil.
	want := []incident.Event{*events[0], *events[2], *events[3]}
	want[2].Data = nil
	mustView(t, s, func(tx incident.Tx) error {
		got, err := tx.Timeline(a)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("Timeline (-got +want):\n%s", diff)
		}
		if none, _ := tx.Timeline(99); none != nil {
			t.Errorf("timeline of no incident = %v, want nil", none)
		}
		return err
	})
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		return tx.Append(&incident.Event{IncidentID: 7, Kind: incident.KindNote})
	})
	wantCode(t, "Append to incident 7", err, incident.ENOTFOUND, "incident #7 not found")
}

func testTimers(t *testing.T, o StoreOpener) {
	s := o.New(t)
	min := func(n int) time.Time { return st0.Add(time.Duration(n) * time.Minute) }
	mustUpdate(t, s, func(tx incident.Tx) error {
		for _, tm := range []incident.Timer{
			{Key: "inc/1/rto", IncidentID: 1, Kind: "rto", Due: min(30), Data: "50"},
			{Key: "inc/1/escalate/executor", IncidentID: 1, Kind: "escalate", Due: min(5), Data: "executor"},
			{Key: "inc/2/escalate/executor", IncidentID: 2, Kind: "escalate", Due: min(5)},
			{Key: "schedule/review", Kind: "review", Due: min(60)},
			// Replaces the first: same key, new due and data.
			{Key: "inc/1/rto", IncidentID: 1, Kind: "rto", Due: min(20), Data: "75"},
		} {
			if err := tx.SetTimer(tm); err != nil {
				return err
			}
		}
		return nil
	})
	esc1, esc2 := "inc/1/escalate/executor", "inc/2/escalate/executor"
	for _, tc := range []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"nothing due", min(4), 0, nil},
		{"due is inclusive; same due by key", min(5), 0, []string{esc1, esc2}},
		{"replaced timer has its new due", min(20), 0, []string{esc1, esc2, "inc/1/rto"}},
		{"limit", min(60), 2, []string{esc1, esc2}},
		{"all", min(60), 0, []string{esc1, esc2, "inc/1/rto", "schedule/review"}},
	} {
		var got []string
		mustView(t, s, func(tx incident.Tx) error {
			due, err := tx.DueTimers(tc.now, tc.limit)
			for _, tm := range due {
				got = append(got, tm.Key)
			}
			return err
		})
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("DueTimers, %s (-got +want):\n%s", tc.name, diff)
		}
	}
	mustView(t, s, func(tx incident.Tx) error {
		due, err := tx.DueTimers(min(20), 0)
		if len(due) == 3 {
			want := incident.Timer{Key: "inc/1/rto", IncidentID: 1, Kind: "rto", Due: min(20), Data: "75"}
			if diff := cmp.Diff(due[2], want); diff != "" {
				t.Errorf("replaced timer (-got +want):\n%s", diff)
			}
		}
		return err
	})
	wantNextTimer(t, s, min(5), true)
	mustUpdate(t, s, func(tx incident.Tx) error {
		writeAll(t, "delete timers", tx.DeleteTimer(esc2), tx.DeleteTimer("no such timer"), tx.DeleteTimers(1))
		return nil
	})
	wantNextTimer(t, s, min(60), true)
	mustUpdate(t, s, func(tx incident.Tx) error { return tx.DeleteTimer("schedule/review") })
	wantNextTimer(t, s, time.Time{}, false)
}

func wantNextTimer(t *testing.T, s incident.Store, want time.Time, wantOK bool) {
	t.Helper()
	mustView(t, s, func(tx incident.Tx) error {
		got, ok, err := tx.NextTimer()
		if !got.Equal(want) || ok != wantOK {
			t.Errorf("NextTimer = %v %v, want %v %v", got, ok, want, wantOK)
		}
		return err
	})
}

// enqueue adds messages and returns their ids.
func enqueue(t *testing.T, s incident.Store, msgs ...*incident.Outgoing) []int64 {
	t.Helper()
	return writeEach(t, s, func(tx incident.Tx, o *incident.Outgoing) (int64, error) {
		err := tx.Enqueue(o)
		return o.ID, err
	}, msgs...)
}

func testOutboxRoundTrip(t *testing.T, o StoreOpener) {
	s := o.New(t)
	want := &incident.Outgoing{
		Lane: "user/frank", IncidentID: 3, Kind: incident.OutDM, Due: st0.Add(time.Second),
		Body: incident.OutBody{
			Contact: "frank", Purpose: "page frank", Ref: "inc/3/page/frank/1",
			Message: &incident.Message{
				Text:    "*Paged* for <#C1>",
				Fields:  []incident.Field{{Label: "Role", Value: "executor"}},
				Context: "small",
				Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack:3:executor", Style: "primary"}},
			},
			WebhookBody: []byte{0, 1, 2, 0xff},
			Review:      &incident.ReviewBody{Notice: 2, Owners: []string{"alice"}, Overdue: true},
		},
	}
	enqueue(t, s, want)
	mustView(t, s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(st0.Add(time.Second), 0)
		if diff := cmp.Diff(due, []incident.Outgoing{*want}); diff != "" {
			t.Errorf("DueOutgoing (-got +want):\n%s", diff)
		}
		return err
	})
}

// outboxProbe reads the outbox as the worker does.
type outboxProbe struct {
	t   *testing.T
	s   incident.Store
	ids []int64 // the messages' ids, by the index the test gives them
}

// due checks which messages DueOutgoing returns at now, by index.
func (p outboxProbe) due(name string, now time.Time, limit int, want ...int) {
	p.t.Helper()
	var got, wantIDs []int64
	mustView(p.t, p.s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(now, limit)
		for _, o := range due {
			got = append(got, o.ID)
		}
		return err
	})
	for _, i := range want {
		wantIDs = append(wantIDs, p.ids[i])
	}
	if diff := cmp.Diff(got, wantIDs); diff != "" {
		p.t.Errorf("%s: DueOutgoing (-got +want):\n%s", name, diff)
	}
}

func (p outboxProbe) next(want time.Time, wantOK bool, wantDepth int) {
	p.t.Helper()
	mustView(p.t, p.s, func(tx incident.Tx) error {
		got, ok, err := tx.NextOutgoing()
		if err != nil {
			return err
		}
		if !got.Equal(want) || ok != wantOK {
			p.t.Errorf("NextOutgoing = %v %v, want %v %v", got, ok, want, wantOK)
		}
		depth, err := tx.OutboxDepth()
		if depth != wantDepth {
			p.t.Errorf("OutboxDepth = %d, want %d", depth, wantDepth)
		}
		return err
	})
}

func (p outboxProbe) settle(fn func(tx incident.Tx, id func(int) int64) error) {
	p.t.Helper()
	mustUpdate(p.t, p.s, func(tx incident.Tx) error {
		return fn(tx, func(i int) int64 { return p.ids[i] })
	})
}

func testOutboxLanes(t *testing.T, o StoreOpener) {
	s := o.New(t)
	sec := func(n int) time.Time { return st0.Add(time.Duration(n) * time.Second) }
	p := outboxProbe{t: t, s: s, ids: enqueue(t, s,
		&incident.Outgoing{Lane: "A", Kind: incident.OutPost},               // 0: at once (zero Due)
		&incident.Outgoing{Lane: "A", Kind: incident.OutPost},               // 1: behind 0
		&incident.Outgoing{Lane: "B", Kind: incident.OutDM, Due: sec(10)},   // 2: later
		&incident.Outgoing{Lane: "B", Kind: incident.OutDM},                 // 3: due, but behind 2
		&incident.Outgoing{Lane: "C", Kind: incident.OutTopic, Due: sec(0)}, // 4
	)}
	for i := 1; i < len(p.ids); i++ {
		if p.ids[i] <= p.ids[i-1] {
			t.Fatalf("outbox ids %v: want them increasing in the order of enqueueing", p.ids)
		}
	}
	p.next(time.Time{}, true, 5) // lane A's head is due at once
	p.due("heads of A and C; B's head not due and 3 waits behind it", sec(0), 0, 0, 4)
	p.due("limit 1", sec(0), 1, 0)
	// Lane A's head fails: it waits 30 s, and 1 waits behind it.
	p.settle(func(tx incident.Tx, id func(int) int64) error { return tx.Retry(id(0), sec(30), "ratelimited") })
	p.due("A waits for its retry", sec(0), 0, 4)
	p.settle(func(tx incident.Tx, id func(int) int64) error { return tx.Sent(id(4)) })
	p.next(sec(10), true, 4)
	p.due("B's head is due", sec(10), 0, 2)
	p.due("A's head is due again, oldest first", sec(30), 0, 0, 2)
	p.settle(func(tx incident.Tx, id func(int) int64) error { return tx.Drop(id(2), "user_not_found") })
	p.due("B's next message moves up", sec(10), 0, 3)
	p.settle(func(tx incident.Tx, id func(int) int64) error { return tx.Sent(id(0)) })
	p.due("A's next message moves up", sec(10), 0, 1, 3)
	p.next(time.Time{}, true, 2)
	p.settle(func(tx incident.Tx, id func(int) int64) error {
		writeAll(t, "send the rest", tx.Sent(id(1)), tx.Sent(id(3)))
		return nil
	})
	p.next(time.Time{}, false, 0)
	p.due("nothing pending", sec(100), 0)
}

func testOutboxSettle(t *testing.T, o StoreOpener) {
	s := o.New(t)
	ids := enqueue(t, s, &incident.Outgoing{Lane: "A", Kind: incident.OutPost}, &incident.Outgoing{Lane: "B", Kind: incident.OutPost},
		&incident.Outgoing{Lane: "C", Kind: incident.OutPost})
	// Each failure counts an attempt and keeps its error; so does a drop.
	for i := 1; i <= 3; i++ {
		due := st0.Add(time.Duration(i) * time.Minute)
		mustUpdate(t, s, func(tx incident.Tx) error { return tx.Retry(ids[2], due, fmt.Sprintf("error %d", i)) })
		mustView(t, s, func(tx incident.Tx) error {
			got, err := tx.DueOutgoing(due, 0)
			if len(got) != 3 || got[2].ID != ids[2] || got[2].Attempts != i || got[2].LastError != fmt.Sprintf("error %d", i) || !got[2].Due.Equal(due) {
				t.Errorf("after retry %d: got %+v, want the third with attempts %d", i, got, i)
			}
			return err
		})
	}
	mustUpdate(t, s, func(tx incident.Tx) error {
		writeAll(t, "settle", tx.Sent(ids[0]), tx.Drop(ids[1], "channel_not_found"))
		return nil
	})
	missing := ids[2] + 1000
	for _, tc := range []struct {
		name string
		call func(incident.Tx) error
		code string
	}{
		{"Sent twice", func(tx incident.Tx) error { return tx.Sent(ids[0]) }, incident.ECONFLICT},
		{"Retry of sent", func(tx incident.Tx) error { return tx.Retry(ids[0], st0, "") }, incident.ECONFLICT},
		{"Drop of sent", func(tx incident.Tx) error { return tx.Drop(ids[0], "") }, incident.ECONFLICT},
		{"Sent of dropped", func(tx incident.Tx) error { return tx.Sent(ids[1]) }, incident.ECONFLICT},
		{"Retry of dropped", func(tx incident.Tx) error { return tx.Retry(ids[1], st0, "") }, incident.ECONFLICT},
		{"Sent of missing", func(tx incident.Tx) error { return tx.Sent(missing) }, incident.ENOTFOUND},
		{"Retry of missing", func(tx incident.Tx) error { return tx.Retry(missing, st0, "") }, incident.ENOTFOUND},
		{"Drop of missing", func(tx incident.Tx) error { return tx.Drop(missing, "") }, incident.ENOTFOUND},
	} {
		wantCode(t, tc.name, s.Update(context.Background(), tc.call), tc.code, "")
	}
	mustView(t, s, func(tx incident.Tx) error {
		n, err := tx.OutboxDepth()
		if n != 1 {
			t.Errorf("OutboxDepth = %d, want 1 (the retried message)", n)
		}
		return err
	})
}

// testTimes writes times through every kind of time the Tx keeps and reads
// them back: UTC, exact to the millisecond (rounded down), zero stays zero.
func testTimes(t *testing.T, o StoreOpener) {
	paris := time.FixedZone("CET", 3600)
	now := time.Now() // with a monotonic clock reading
	for _, tc := range []struct {
		name     string
		in, want time.Time
	}{
		{"whole seconds", st0, st0},
		{"milliseconds", st0.Add(999 * time.Millisecond), st0.Add(999 * time.Millisecond)},
		{"sub-millisecond dropped", st0.Add(1500 * time.Microsecond), st0.Add(time.Millisecond)},
		{"another zone comes back UTC", time.Date(2026, 11, 21, 11, 0, 0, 5e6, paris), st0.Add(5 * time.Millisecond)},
		{"monotonic reading dropped", now, now.Round(0).Truncate(time.Millisecond).UTC()},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 1e6, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 1e6, time.UTC)},
		{"zero", time.Time{}, time.Time{}},
	} {
		s := o.New(t)
		mustUpdate(t, s, func(tx incident.Tx) error {
			writeAll(t, tc.name,
				tx.CreateIncident(&incident.Incident{DeclaredAt: tc.in}),
				tx.Append(&incident.Event{IncidentID: 1, At: tc.in, Kind: incident.KindNote}),
				tx.SetTimer(incident.Timer{Key: "k", Due: tc.in}),
				tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost, Due: tc.in}))
			return nil
		})
		mustView(t, s, func(tx incident.Tx) error {
			events, _ := tx.Timeline(1)
			timers, _ := tx.DueTimers(tc.want, 0)
			out, _ := tx.DueOutgoing(tc.want, 0)
			next, _, _ := tx.NextTimer()
			nextOut, _, err := tx.NextOutgoing()
			if len(events) != 1 || len(timers) != 1 || len(out) != 1 {
				t.Fatalf("%s: got %d events, %d timers, %d messages, want one of each", tc.name, len(events), len(timers), len(out))
			}
			for i, got := range []time.Time{events[0].At, timers[0].Due, out[0].Due, next, nextOut} {
				// == rather than Equal: the location must be UTC too, and
				// zero must be time.Time{} itself.
				if got != tc.want {
					t.Errorf("%s: time %d = %v (%v), want %v", tc.name, i, got, got.Location(), tc.want)
				}
			}
			return err
		})
	}
	// A zero Due is before any time at all, so the message goes at once
	// whatever clock the worker runs on (the console's may be in the past).
	s := o.New(t)
	enqueue(t, s, &incident.Outgoing{Lane: "l", Kind: incident.OutPost})
	mustView(t, s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0)
		if len(due) != 1 {
			t.Errorf("a zero Due at 1900: got %v, want the message due", due)
		}
		return err
	})
}

func testCancelledContext(t *testing.T, o StoreOpener) {
	s := o.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	fn := func(incident.Tx) error { called = true; return nil }
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update with a cancelled context = %v, fn called %v; want context.Canceled, not called", err, called)
	}
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) || called {
		t.Errorf("View with a cancelled context = %v, fn called %v; want context.Canceled, not called", err, called)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
