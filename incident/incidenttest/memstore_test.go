package incidenttest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func update(t *testing.T, s *incidenttest.MemStore, fn func(incident.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, s *incidenttest.MemStore, fn func(incident.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func TestMemStoreIncidentIDsAndLookups(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		for i, sc := range []string{"a", "b", "c"} {
			inc := &incident.Incident{Scenario: sc, State: incident.StateOpen, Drill: i == 1}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			if got, want := inc.ID, int64(i+1); got != want {
				t.Errorf("id of incident %d: got %d, want %d", i, got, want)
			}
		}
		inc, err := tx.Incident(2)
		if err != nil {
			return err
		}
		inc.ChannelID = "C0002"
		inc.State = incident.StateResolved
		return tx.SaveIncident(inc)
	})
	view(t, s, func(tx incident.Tx) error {
		inc, err := tx.IncidentByChannel("C0002")
		if err != nil {
			return err
		}
		if inc.ID != 2 {
			t.Errorf("IncidentByChannel: got incident %d, want 2", inc.ID)
		}
		for name, f := range map[string]func() error{
			"Incident(9)":              func() error { _, err := tx.Incident(9); return err },
			"IncidentByChannel(C9)":    func() error { _, err := tx.IncidentByChannel("C9"); return err },
			"IncidentByChannel(empty)": func() error { _, err := tx.IncidentByChannel(""); return err },
			"PlanSource(unknown)":      func() error { _, err := tx.PlanSource("nope"); return err },
		} {
			if got := incident.ErrorCode(f()); got != incident.ENOTFOUND {
				t.Errorf("%s: error code %q, want %q", name, got, incident.ENOTFOUND)
			}
		}

		ids := func(f incident.Filter) []int64 {
			incs, err := tx.Incidents(f)
			if err != nil {
				t.Fatalf("incidents %+v: %v", f, err)
			}
			var out []int64
			for _, inc := range incs {
				out = append(out, inc.ID)
			}
			return out
		}
		yes, no := true, false
		for _, tc := range []struct {
			f    incident.Filter
			want []int64
		}{
			{incident.Filter{}, []int64{3, 2, 1}},
			{incident.Filter{Limit: 2}, []int64{3, 2}},
			{incident.Filter{State: incident.StateOpen}, []int64{3, 1}},
			{incident.Filter{Drills: &yes}, []int64{2}},
			{incident.Filter{Drills: &no, Limit: 1}, []int64{3}},
		} {
			if diff := cmp.Diff(ids(tc.f), tc.want); diff != "" {
				t.Errorf("Incidents(%+v) (-got +want):\n%s", tc.f, diff)
			}
		}
		return nil
	})
	// Saving an incident that was never created is an error.
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		return tx.SaveIncident(&incident.Incident{ID: 42})
	})
	if got := incident.ErrorCode(err); got != incident.ENOTFOUND {
		t.Errorf("SaveIncident of unknown incident: code %q, want %q", got, incident.ENOTFOUND)
	}
}

func TestMemStoreCopiesIncidents(t *testing.T) {
	s := incidenttest.NewMemStore()
	inc := &incident.Incident{Title: "stored", Roles: []*incident.RolePage{{Role: "executor"}}}
	update(t, s, func(tx incident.Tx) error { return tx.CreateIncident(inc) })
	// Changing the value passed in, or one read back, changes nothing stored.
	inc.Title = "changed after create"
	inc.Roles[0].Acked = true
	view(t, s, func(tx incident.Tx) error {
		got, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		got.Title = "changed after read"
		got.Roles[0].Sent = 7
		return nil
	})
	view(t, s, func(tx incident.Tx) error {
		got, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		want := &incident.Incident{ID: 1, Title: "stored", Roles: []*incident.RolePage{{Role: "executor"}}}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("stored incident (-got +want):\n%s", diff)
		}
		return nil
	})
}

func TestMemStoreRollback(t *testing.T) {
	s := incidenttest.NewMemStore()
	// A committed baseline that the failed transaction changes.
	update(t, s, func(tx incident.Tx) error {
		inc := &incident.Incident{Title: "before", ChannelID: "C1"}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		if err := tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindDeclared}); err != nil {
			return err
		}
		if err := tx.SetTimer(incident.Timer{Key: "k", Due: t0}); err != nil {
			return err
		}
		if err := tx.Put("kv", "before"); err != nil {
			return err
		}
		if err := tx.SetRef("r", "C1", "1.1"); err != nil {
			return err
		}
		return tx.Enqueue(&incident.Outgoing{Lane: "inc/1", Kind: incident.OutPost})
	})
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		inc, err := tx.Incident(1)
		if err != nil {
			return err
		}
		inc.Title, inc.ChannelID = "after", "C2"
		steps := []error{
			tx.SaveIncident(inc),
			tx.CreateIncident(&incident.Incident{Title: "new"}),
			tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindNote}),
			tx.SetTimer(incident.Timer{Key: "k", Due: t0.Add(time.Hour)}),
			tx.SetTimer(incident.Timer{Key: "k2", Due: t0}),
			tx.Put("kv", "after"),
			tx.Put("kv2", "new"),
			tx.SetRef("r", "C2", "2.2"),
			tx.SavePlan("h", []byte("plan")),
			tx.Enqueue(&incident.Outgoing{Lane: "inc/1", Kind: incident.OutPost}),
			tx.Retry(1, t0.Add(time.Minute), "later"),
		}
		for i, err := range steps {
			if err != nil {
				t.Fatalf("write %d in failing transaction: %v", i, err)
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want %v", err, boom)
	}
	view(t, s, func(tx incident.Tx) error {
		inc, err := tx.Incident(1)
		if err != nil {
			return err
		}
		if inc.Title != "before" || inc.ChannelID != "C1" {
			t.Errorf("incident after rollback: title %q channel %q, want before, C1", inc.Title, inc.ChannelID)
		}
		if _, err := tx.IncidentByChannel("C1"); err != nil {
			t.Errorf("channel index after rollback: %v", err)
		}
		if _, err := tx.IncidentByChannel("C2"); incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("C2 still indexed after rollback: %v", err)
		}
		if _, err := tx.Incident(2); incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("incident 2 exists after rollback: %v", err)
		}
		evs, _ := tx.Timeline(1)
		if len(evs) != 1 {
			t.Errorf("timeline after rollback has %d events, want 1", len(evs))
		}
		due, _ := tx.DueTimers(t0, 0)
		if diff := cmp.Diff(due, []incident.Timer{{Key: "k", Due: t0}}); diff != "" {
			t.Errorf("timers after rollback (-got +want):\n%s", diff)
		}
		if v, _, _ := tx.Get("kv"); v != "before" {
			t.Errorf("kv after rollback = %q, want before", v)
		}
		if _, ok, _ := tx.Get("kv2"); ok {
			t.Error("kv2 exists after rollback")
		}
		if ch, ts, _, _ := tx.Ref("r"); ch != "C1" || ts != "1.1" {
			t.Errorf("ref after rollback = %s %s, want C1 1.1", ch, ts)
		}
		if _, err := tx.PlanSource("h"); err == nil {
			t.Error("plan exists after rollback")
		}
		if n, _ := tx.OutboxDepth(); n != 1 {
			t.Errorf("outbox depth after rollback = %d, want 1", n)
		}
		return nil
	})
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Attempts != 0 || !msgs[0].Due.IsZero() || msgs[0].LastError != "" {
		t.Errorf("outbox after rollback = %+v, want one untouched message", msgs)
	}
	// Ids handed out in the failed transaction are handed out again.
	update(t, s, func(tx incident.Tx) error {
		inc := &incident.Incident{}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		if inc.ID != 2 {
			t.Errorf("next incident id = %d, want 2", inc.ID)
		}
		o := &incident.Outgoing{Lane: "x", Kind: incident.OutPost}
		if err := tx.Enqueue(o); err != nil {
			return err
		}
		if o.ID != 2 {
			t.Errorf("next outbox id = %d, want 2", o.ID)
		}
		return nil
	})
}

func TestMemStorePanicRollsBack(t *testing.T) {
	s := incidenttest.NewMemStore()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic did not propagate")
			}
		}()
		_ = s.Update(context.Background(), func(tx incident.Tx) error {
			_ = tx.Put("k", "v")
			panic("boom")
		})
	}()
	view(t, s, func(tx incident.Tx) error {
		if _, ok, _ := tx.Get("k"); ok {
			t.Error("write of a panicking transaction was kept")
		}
		return nil
	})
}

func TestMemStoreViewIsReadOnly(t *testing.T) {
	s := incidenttest.NewMemStore()
	err := s.View(context.Background(), func(tx incident.Tx) error {
		return tx.Put("k", "v")
	})
	if err == nil {
		t.Fatal("Put in View succeeded")
	}
}

func TestMemStoreTimeline(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		if err := tx.CreateIncident(&incident.Incident{}); err != nil {
			return err
		}
		if err := tx.CreateIncident(&incident.Incident{}); err != nil {
			return err
		}
		for i := range 3 {
			e := &incident.Event{IncidentID: int64(1 + i%2), At: t0.Add(time.Duration(i) * time.Minute), Kind: incident.KindNote, Text: fmt.Sprint(i), Data: map[string]string{"n": fmt.Sprint(i)}}
			if err := tx.Append(e); err != nil {
				return err
			}
			if e.ID != int64(i+1) {
				t.Errorf("event %d got id %d", i, e.ID)
			}
		}
		err := tx.Append(&incident.Event{IncidentID: 9, Kind: incident.KindNote})
		if incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("append to unknown incident: %v, want not found", err)
		}
		return nil
	})
	view(t, s, func(tx incident.Tx) error {
		got, err := tx.Timeline(1)
		if err != nil {
			return err
		}
		want := []incident.Event{
			{ID: 1, IncidentID: 1, At: t0, Kind: incident.KindNote, Text: "0", Data: map[string]string{"n": "0"}},
			{ID: 3, IncidentID: 1, At: t0.Add(2 * time.Minute), Kind: incident.KindNote, Text: "2", Data: map[string]string{"n": "2"}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("timeline (-got +want):\n%s", diff)
		}
		got[0].Data["n"] = "changed"
		again, _ := tx.Timeline(1)
		if again[0].Data["n"] != "0" {
			t.Error("changing a returned event changed the stored one")
		}
		return nil
	})
}

func TestMemStoreTimers(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		for _, tm := range []incident.Timer{
			{Key: "b", IncidentID: 1, Due: t0.Add(time.Minute)},
			{Key: "a", IncidentID: 1, Due: t0.Add(time.Minute)},
			{Key: "c", IncidentID: 2, Due: t0},
			{Key: "d", IncidentID: 1, Due: t0.Add(time.Hour)},
			// Replaces the first "b".
			{Key: "b", IncidentID: 1, Due: t0.Add(2 * time.Minute), Data: "replaced"},
		} {
			if err := tx.SetTimer(tm); err != nil {
				return err
			}
		}
		return nil
	})
	keys := func(ts []incident.Timer) []string {
		var out []string
		for _, tm := range ts {
			out = append(out, tm.Key)
		}
		return out
	}
	view(t, s, func(tx incident.Tx) error {
		for _, tc := range []struct {
			now   time.Time
			limit int
			want  []string
		}{
			{t0.Add(-time.Second), 0, nil},
			{t0, 0, []string{"c"}},
			{t0.Add(time.Minute), 0, []string{"c", "a"}},
			{t0.Add(2 * time.Minute), 0, []string{"c", "a", "b"}},
			{t0.Add(2 * time.Minute), 2, []string{"c", "a"}},
			{t0.Add(24 * time.Hour), 0, []string{"c", "a", "b", "d"}},
		} {
			got, err := tx.DueTimers(tc.now, tc.limit)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(keys(got), tc.want); diff != "" {
				t.Errorf("DueTimers(%v, %d) (-got +want):\n%s", tc.now.Sub(t0), tc.limit, diff)
			}
		}
		next, ok, err := tx.NextTimer()
		if err != nil || !ok || !next.Equal(t0) {
			t.Errorf("NextTimer = %v %v %v, want %v true nil", next, ok, err, t0)
		}
		return nil
	})
	update(t, s, func(tx incident.Tx) error {
		if err := tx.DeleteTimers(1); err != nil {
			return err
		}
		return tx.DeleteTimer("nonexistent")
	})
	if diff := cmp.Diff(keys(s.Timers()), []string{"c"}); diff != "" {
		t.Errorf("timers after DeleteTimers(1) (-got +want):\n%s", diff)
	}
	update(t, s, func(tx incident.Tx) error { return tx.DeleteTimer("c") })
	view(t, s, func(tx incident.Tx) error {
		if _, ok, _ := tx.NextTimer(); ok {
			t.Error("NextTimer found a timer in an empty store")
		}
		return nil
	})
}

func TestMemStoreOutbox(t *testing.T) {
	s := incidenttest.NewMemStore()
	// Lane A: 1 (now), 3 (now). Lane B: 2 (in 1 min), 4 (now). Lane C: 5 (in 1h).
	update(t, s, func(tx incident.Tx) error {
		for _, o := range []incident.Outgoing{
			{Lane: "A", Kind: incident.OutPost, Body: incident.OutBody{Message: &incident.Message{Text: "a1", Buttons: []incident.Button{{Label: "Ack"}}}}},
			{Lane: "B", Kind: incident.OutDM, Due: t0.Add(time.Minute), Body: incident.OutBody{Users: []string{"U1"}}},
			{Lane: "A", Kind: incident.OutPost},
			{Lane: "B", Kind: incident.OutDM},
			{Lane: "C", Kind: incident.OutPost, Due: t0.Add(time.Hour)},
		} {
			if err := tx.Enqueue(&o); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(now time.Time, limit int) []int64 {
		var out []int64
		view(t, s, func(tx incident.Tx) error {
			os, err := tx.DueOutgoing(now, limit)
			for _, o := range os {
				out = append(out, o.ID)
			}
			return err
		})
		return out
	}
	next := func() (time.Time, bool) {
		var at time.Time
		var ok bool
		view(t, s, func(tx incident.Tx) error {
			var err error
			at, ok, err = tx.NextOutgoing()
			return err
		})
		return at, ok
	}
	depth := func() int {
		var n int
		view(t, s, func(tx incident.Tx) error {
			var err error
			n, err = tx.OutboxDepth()
			return err
		})
		return n
	}

	// Lane B's head (2) is not due, so 4 waits behind it.
	if diff := cmp.Diff(ids(t0, 0), []int64{1}); diff != "" {
		t.Errorf("due at t0 (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ids(t0.Add(time.Minute), 0), []int64{1, 2}); diff != "" {
		t.Errorf("due at t0+1m (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ids(t0.Add(time.Hour), 2), []int64{1, 2}); diff != "" {
		t.Errorf("due at t0+1h limit 2 (-got +want):\n%s", diff)
	}
	if at, ok := next(); !ok || !at.IsZero() {
		t.Errorf("NextOutgoing = %v %v, want zero time (at once) true", at, ok)
	}
	if got := depth(); got != 5 {
		t.Errorf("depth = %d, want 5", got)
	}

	// A returned message is a copy.
	view(t, s, func(tx incident.Tx) error {
		os, _ := tx.DueOutgoing(t0, 0)
		os[0].Body.Message.Text = "changed"
		os[0].Body.Message.Buttons[0].Label = "changed"
		return nil
	})
	if m := s.Messages()[0].Body.Message; m.Text != "a1" || m.Buttons[0].Label != "Ack" {
		t.Errorf("changing a returned message changed the stored one: %+v", m)
	}

	update(t, s, func(tx incident.Tx) error {
		if err := tx.Sent(1); err != nil {
			return err
		}
		if err := tx.Retry(3, t0.Add(30*time.Second), "ratelimited"); err != nil {
			return err
		}
		if err := tx.Retry(3, t0.Add(40*time.Second), "ratelimited again"); err != nil {
			return err
		}
		return tx.Drop(2, "user_not_found")
	})
	// A: 3 waits until +40s. B: 2 dropped, so 4 is the head and due.
	if diff := cmp.Diff(ids(t0, 0), []int64{4}); diff != "" {
		t.Errorf("due at t0 after Sent/Retry/Drop (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ids(t0.Add(40*time.Second), 0), []int64{3, 4}); diff != "" {
		t.Errorf("due at t0+40s (-got +want):\n%s", diff)
	}
	if got := depth(); got != 3 {
		t.Errorf("depth = %d, want 3", got)
	}
	got := s.Messages()
	type state struct {
		ID       int64
		State    string
		Attempts int
		Err      string
	}
	var states []state
	for _, m := range got {
		states = append(states, state{m.ID, m.State, m.Attempts, m.LastError})
	}
	want := []state{
		{1, incidenttest.OutSent, 0, ""},
		{2, incidenttest.OutDropped, 1, "user_not_found"},
		{3, incidenttest.OutPending, 2, "ratelimited again"},
		{4, incidenttest.OutPending, 0, ""},
		{5, incidenttest.OutPending, 0, ""},
	}
	if diff := cmp.Diff(states, want); diff != "" {
		t.Errorf("outbox states (-got +want):\n%s", diff)
	}

	update(t, s, func(tx incident.Tx) error {
		for _, id := range []int64{3, 4} {
			if err := tx.Sent(id); err != nil {
				return err
			}
		}
		return nil
	})
	if at, ok := next(); !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextOutgoing = %v %v, want %v true", at, ok, t0.Add(time.Hour))
	}
	for name, tc := range map[string]struct {
		fn   func(incident.Tx) error
		want string
	}{
		"Sent(99)":         {func(tx incident.Tx) error { return tx.Sent(99) }, incident.ENOTFOUND},
		"Sent of sent":     {func(tx incident.Tx) error { return tx.Sent(1) }, incident.ECONFLICT},
		"Retry of dropped": {func(tx incident.Tx) error { return tx.Retry(2, t0, "x") }, incident.ECONFLICT},
		"Drop of sent":     {func(tx incident.Tx) error { return tx.Drop(3, "x") }, incident.ECONFLICT},
	} {
		err := s.Update(context.Background(), tc.fn)
		if got := incident.ErrorCode(err); got != tc.want {
			t.Errorf("%s: %v, want code %s", name, err, tc.want)
		}
	}
}

func TestMemStoreInvalid(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error { return tx.CreateIncident(&incident.Incident{}) })
	for name, fn := range map[string]func(incident.Tx) error{
		"Enqueue without lane":  func(tx incident.Tx) error { return tx.Enqueue(&incident.Outgoing{Kind: incident.OutPost}) },
		"Enqueue without kind":  func(tx incident.Tx) error { return tx.Enqueue(&incident.Outgoing{Lane: "x"}) },
		"SetTimer without key":  func(tx incident.Tx) error { return tx.SetTimer(incident.Timer{Due: t0}) },
		"SavePlan without hash": func(tx incident.Tx) error { return tx.SavePlan("", []byte("x")) },
		"Append without kind":   func(tx incident.Tx) error { return tx.Append(&incident.Event{IncidentID: 1}) },
	} {
		err := s.Update(context.Background(), fn)
		if got := incident.ErrorCode(err); got != incident.EINVALID {
			t.Errorf("%s: %v, want code %s", name, err, incident.EINVALID)
		}
	}
}

// Times are kept as the SQLite store keeps them: UTC, to the millisecond.
func TestMemStoreTimes(t *testing.T) {
	s := incidenttest.NewMemStore()
	oslo := time.FixedZone("Oslo", 3600)
	fine := time.Date(2026, 11, 21, 11, 0, 0, 123456789, oslo)
	want := time.Date(2026, 11, 21, 10, 0, 0, 123000000, time.UTC)
	update(t, s, func(tx incident.Tx) error {
		if err := tx.CreateIncident(&incident.Incident{}); err != nil {
			return err
		}
		if err := tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindNote, At: fine}); err != nil {
			return err
		}
		if err := tx.SetTimer(incident.Timer{Key: "k", Due: fine}); err != nil {
			return err
		}
		return tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost, Due: fine})
	})
	view(t, s, func(tx incident.Tx) error {
		evs, _ := tx.Timeline(1)
		timers, _ := tx.DueTimers(want, 0)
		outs, _ := tx.DueOutgoing(want, 0)
		if len(evs) != 1 || len(timers) != 1 || len(outs) != 1 {
			t.Fatalf("got %d events, %d timers, %d messages; want one each", len(evs), len(timers), len(outs))
		}
		for name, got := range map[string]time.Time{"event": evs[0].At, "timer": timers[0].Due, "outgoing": outs[0].Due} {
			if !got.Equal(want) || got.Location() != time.UTC || got.Nanosecond() != want.Nanosecond() {
				t.Errorf("%s time = %v, want %v", name, got, want)
			}
		}
		if evs, _ := tx.Timeline(99); evs != nil {
			t.Errorf("timeline of no incident = %v, want nil", evs)
		}
		return nil
	})
}

func TestMemStoreSharedChannelNewestWins(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		for range 3 {
			if err := tx.CreateIncident(&incident.Incident{ChannelID: "C1"}); err != nil {
				return err
			}
		}
		inc, err := tx.Incident(3)
		if err != nil {
			return err
		}
		inc.ChannelID = "C2"
		return tx.SaveIncident(inc)
	})
	view(t, s, func(tx incident.Tx) error {
		for ch, want := range map[string]int64{"C1": 2, "C2": 3} {
			inc, err := tx.IncidentByChannel(ch)
			if err != nil || inc.ID != want {
				t.Errorf("IncidentByChannel(%s) = %v %v, want incident %d", ch, inc, err, want)
			}
		}
		return nil
	})
}

func TestMemStoreKVRefsPlans(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		for _, tc := range []struct {
			key, value string
			want       bool
		}{
			{"event/Ev1", "1", true},
			{"event/Ev1", "2", false},
			{"event/Ev2", "1", true},
		} {
			got, err := tx.PutIfAbsent(tc.key, tc.value)
			if err != nil {
				return err
			}
			if got != tc.want {
				t.Errorf("PutIfAbsent(%s, %s) = %v, want %v", tc.key, tc.value, got, tc.want)
			}
		}
		if err := tx.Put("email/a@x", "U1"); err != nil {
			return err
		}
		if err := tx.SetRef("inc/1/summary", "C1", "1.0001"); err != nil {
			return err
		}
		if err := tx.SavePlan("h1", []byte("v1")); err != nil {
			return err
		}
		return tx.SavePlan("h1", []byte("v1"))
	})
	view(t, s, func(tx incident.Tx) error {
		if v, ok, _ := tx.Get("event/Ev1"); !ok || v != "1" {
			t.Errorf("Get(event/Ev1) = %q %v, want 1 true (first value kept)", v, ok)
		}
		if v, ok, _ := tx.Get("email/a@x"); !ok || v != "U1" {
			t.Errorf("Get(email/a@x) = %q %v", v, ok)
		}
		if _, ok, _ := tx.Get("missing"); ok {
			t.Error("Get(missing) found a value")
		}
		if ch, ts, ok, _ := tx.Ref("inc/1/summary"); !ok || ch != "C1" || ts != "1.0001" {
			t.Errorf("Ref = %s %s %v", ch, ts, ok)
		}
		if _, _, ok, _ := tx.Ref("missing"); ok {
			t.Error("Ref(missing) found")
		}
		if b, err := tx.PlanSource("h1"); err != nil || string(b) != "v1" {
			t.Errorf("PlanSource = %q %v", b, err)
		}
		return nil
	})
}

func TestMemStoreConcurrentUpdates(t *testing.T) {
	s := incidenttest.NewMemStore()
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.Update(context.Background(), func(tx incident.Tx) error {
				inc := &incident.Incident{}
				if err := tx.CreateIncident(inc); err != nil {
					return err
				}
				return tx.Enqueue(&incident.Outgoing{Lane: fmt.Sprintf("inc/%d", inc.ID), Kind: incident.OutPost})
			})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			_ = s.View(context.Background(), func(tx incident.Tx) error {
				_, err := tx.Incidents(incident.Filter{})
				return err
			})
		})
	}
	wg.Wait()
	view(t, s, func(tx incident.Tx) error {
		incs, _ := tx.Incidents(incident.Filter{})
		if len(incs) != n || incs[0].ID != n {
			t.Errorf("after %d concurrent creates: %d incidents, newest %d", n, len(incs), incs[0].ID)
		}
		due, _ := tx.DueOutgoing(t0, 0)
		if len(due) != n {
			t.Errorf("%d lanes due, want %d", len(due), n)
		}
		return nil
	})
}

func TestMemStoreCanceledContext(t *testing.T) {
	s := incidenttest.NewMemStore()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, func(incident.Tx) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update with canceled context = %v, fn called %v", err, called)
	}
}

func TestMemStorePing(t *testing.T) {
	s := incidenttest.NewMemStore()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	down := errors.New("disk gone")
	s.SetPingError(down)
	if err := s.Ping(context.Background()); !errors.Is(err, down) {
		t.Errorf("Ping = %v, want %v", err, down)
	}
}
