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

// StoreOpener opens the stores TestStore checks.
type StoreOpener struct {
	// New opens a new, empty store that the test's cleanup closes.
	New func(t *testing.T) incident.Store
	// Again, when set, opens a second store on the same data as s, as a
	// second process would (another drbot on the same database file or
	// server): the concurrent-writer test then writes through both.
	Again func(t *testing.T, s incident.Store) incident.Store
}

// TestStore checks that an implementation of incident.Store behaves as the
// engine relies on, like testing/fstest.TestFS for file systems: run it
// from the implementation's own tests,
//
//	func TestStore(t *testing.T) {
//		incidenttest.TestStore(t, incidenttest.StoreOpener{New: openTestStore})
//	}
//
// It checks: incident numbers (1, 2, 3 … with no gap, even after a rolled
// back transaction), lookups and their ENOTFOUND errors, rollback on error
// and on panic, read-only views, the append-only timeline in the order of
// appending, timers by due time then key, the outbox's lanes in order with
// retries, drops and their ECONFLICT on settling twice, times in UTC to the
// millisecond (the zero time kept as zero), key/value with PutIfAbsent
// and DeleteKeys by prefix and age,
// messages refs and plan sources, EINVALID input, cancelled contexts, and
// concurrent writers, also through two stores on the same data.
//
// IDs of events and outbox messages must increase in the order they are
// written; they need not be consecutive (a PostgreSQL sequence skips the
// ids of a rolled back transaction).
func TestStore(t *testing.T, o StoreOpener) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(*testing.T, StoreOpener)
	}{
		{"IncidentNumbers", testIncidentNumbers},
		{"IncidentRoundTrip", testIncidentRoundTrip},
		{"IncidentLookups", testIncidentLookups},
		{"IncidentsFilter", testIncidentsFilter},
		{"Copies", testCopies},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"Timeline", testTimeline},
		{"Timers", testTimers},
		{"OutboxRoundTrip", testOutboxRoundTrip},
		{"OutboxLanes", testOutboxLanes},
		{"OutboxSettle", testOutboxSettle},
		{"Times", testTimes},
		{"KeyValue", testKeyValue},
		{"DeleteKeys", testDeleteKeys},
		{"RefsAndPlans", testRefsAndPlans},
		{"Invalid", testInvalid},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentPutIfAbsent", testConcurrentPutIfAbsent},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, o) })
	}
}

// st0 is the suite's wall clock: whole milliseconds, UTC.
var st0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func mustUpdate(t *testing.T, s incident.Store, fn func(incident.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func mustView(t *testing.T, s incident.Store, fn func(incident.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

// wantCode fails unless err is an *incident.Error of code and, when msg is
// not empty, that message.
func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var e *incident.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: got error %v, want an *incident.Error %s", what, err, code)
		return
	}
	if e.Code != code || (msg != "" && e.Message != msg) {
		t.Errorf("%s: got %s %q, want %s %q", what, e.Code, e.Message, code, msg)
	}
}

// writeEach writes items in one transaction and returns the IDs write
// gives them.
func writeEach[T any](t *testing.T, s incident.Store, write func(incident.Tx, T) (int64, error), items ...T) []int64 {
	t.Helper()
	var ids []int64
	mustUpdate(t, s, func(tx incident.Tx) error {
		for _, it := range items {
			id, err := write(tx, it)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids
}

// create creates incidents and returns their numbers.
func create(t *testing.T, s incident.Store, incs ...*incident.Incident) []int64 {
	t.Helper()
	return writeEach(t, s, func(tx incident.Tx, inc *incident.Incident) (int64, error) {
		err := tx.CreateIncident(inc)
		return inc.ID, err
	}, incs...)
}

func testIncidentNumbers(t *testing.T, o StoreOpener) {
	s := o.New(t)
	ids := create(t, s, &incident.Incident{Scenario: "a"}, &incident.Incident{Scenario: "b"}, &incident.Incident{Scenario: "c"})
	ids = append(ids, create(t, s, &incident.Incident{Scenario: "d"})...)
	if diff := cmp.Diff(ids, []int64{1, 2, 3, 4}); diff != "" {
		t.Errorf("incident numbers (-got +want):\n%s", diff)
	}
	// A number handed out in a rolled back transaction is handed out
	// again: people say "incident #5", and #5 must not be missing.
	boom := errors.New("boom")
	inc := &incident.Incident{Scenario: "rolled back"}
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || inc.ID != 5 {
		t.Fatalf("rolled back create: %v, number %d; want boom, 5", err, inc.ID)
	}
	if got := create(t, s, &incident.Incident{Scenario: "e"}); got[0] != 5 {
		t.Errorf("number after a rolled back create = %d, want 5", got[0])
	}
}

// FullIncident returns an incident with every field set, times to the
// millisecond, so that a round trip through a store can be compared.
func FullIncident() *incident.Incident {
	return &incident.Incident{
		Scenario: "db-corruption", Title: "Corrupted payments database", Summary: "checksum errors <b>& \"quoted\" ünïcode",
		Severity: "sev1", Service: "payments-db", Drill: true, State: incident.StateOpen,
		DeclaredAt: st0.Add(123 * time.Millisecond), DeclaredBy: "U0ALICE01",
		RTO: 2 * time.Hour, PlanHash: "abc123", ChannelID: "C0INC1", ChannelName: "inc-1-db-corruption",
		Roles: []*incident.RolePage{{
			Role: "executor", Contacts: []string{"bob", "carol"}, Sent: 2, Acked: true,
			AckedBy: "carol", AckedAt: st0.Add(95 * time.Second), PagedAt: st0.Add(time.Second),
		}},
		Steps: []*incident.StepRecord{{
			StepID: "freeze", StartedAt: st0, EndedAt: st0.Add(10 * time.Minute), Outcome: "done", By: "U0BOB",
			Approval: "approved", ApprovalRequestedAt: st0.Add(time.Minute), ApprovedBy: "U0CAROL", ApprovedAt: st0.Add(2 * time.Minute),
		}},
		Current:       "restore",
		Alerts:        []int{50, 75},
		ProjectedLate: true,
		Invited:       []string{"bob", "U0CAROL"},
	}
}

func testIncidentRoundTrip(t *testing.T, o StoreOpener) {
	s := o.New(t)
	want := FullIncident()
	create(t, s, want)
	read := func() *incident.Incident {
		var got *incident.Incident
		mustView(t, s, func(tx incident.Tx) (err error) {
			got, err = tx.Incident(want.ID)
			return err
		})
		return got
	}
	if diff := cmp.Diff(read(), want); diff != "" {
		t.Errorf("Incident (-got +want):\n%s", diff)
	}
	want.State, want.ResolvedAt, want.ResolvedBy = incident.StateResolved, st0.Add(90*time.Minute), "U0ALICE01"
	want.Roles[0].Exhausted = true
	mustUpdate(t, s, func(tx incident.Tx) error { return tx.SaveIncident(want) })
	if diff := cmp.Diff(read(), want); diff != "" {
		t.Errorf("Incident after SaveIncident (-got +want):\n%s", diff)
	}
	mustView(t, s, func(tx incident.Tx) error {
		open, err := tx.Incidents(incident.Filter{State: incident.StateOpen})
		if len(open) != 0 {
			t.Errorf("a resolved incident is listed as open: %+v", open)
		}
		return err
	})
}

func testIncidentLookups(t *testing.T, o StoreOpener) {
	s := o.New(t)
	create(t, s, &incident.Incident{Scenario: "s-C1", ChannelID: "C1"}, &incident.Incident{Scenario: "s-C2", ChannelID: "C2"},
		&incident.Incident{Scenario: "s-none"}, &incident.Incident{Scenario: "s-C1-again", ChannelID: "C1"})
	mustView(t, s, func(tx incident.Tx) error {
		// Two incidents should never share a channel; if they do, the newest wins.
		for ch, want := range map[string]int64{"C1": 4, "C2": 2} {
			inc, err := tx.IncidentByChannel(ch)
			if err != nil || inc.ID != want {
				t.Errorf("IncidentByChannel(%s) = %+v, %v; want incident %d", ch, inc, err, want)
			}
		}
		for _, tc := range []struct {
			name string
			call func() error
			msg  string
		}{
			{"Incident(7)", func() error { _, err := tx.Incident(7); return err }, "incident #7 not found"},
			{"IncidentByChannel(C9)", func() error { _, err := tx.IncidentByChannel("C9"); return err }, "no incident has channel C9"},
			// An incident whose channel is not created yet has channel "".
			{"IncidentByChannel(empty)", func() error { _, err := tx.IncidentByChannel(""); return err }, ""},
			{"PlanSource(nope)", func() error { _, err := tx.PlanSource("nope"); return err }, "plan nope not found"},
		} {
			wantCode(t, tc.name, tc.call(), incident.ENOTFOUND, tc.msg)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx incident.Tx) error { return tx.SaveIncident(&incident.Incident{ID: 7}) })
	wantCode(t, "SaveIncident of an incident never created", err, incident.ENOTFOUND, "incident #7 not found")
	mustUpdate(t, s, func(tx incident.Tx) error {
		inc, err := tx.Incident(2)
		if err != nil {
			return err
		}
		inc.ChannelID = "C3"
		return tx.SaveIncident(inc)
	})
	mustView(t, s, func(tx incident.Tx) error {
		if _, err := tx.IncidentByChannel("C2"); incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("the old channel still finds the incident: %v", err)
		}
		inc, err := tx.IncidentByChannel("C3")
		if err != nil || inc.ID != 2 {
			t.Errorf("IncidentByChannel(C3) = %+v, %v; want incident 2", inc, err)
		}
		return nil
	})
}

func testIncidentsFilter(t *testing.T, o StoreOpener) {
	s := o.New(t)
	// 1 open, 2 resolved, 3 open drill, 4 resolved drill, 5 open
	create(t, s, &incident.Incident{State: incident.StateOpen}, &incident.Incident{State: incident.StateResolved},
		&incident.Incident{State: incident.StateOpen, Drill: true}, &incident.Incident{State: incident.StateResolved, Drill: true},
		&incident.Incident{State: incident.StateOpen})
	yes, no := true, false
	for _, tc := range []struct {
		name   string
		filter incident.Filter
		want   []int64
	}{
		{"all, newest first", incident.Filter{}, []int64{5, 4, 3, 2, 1}},
		{"open", incident.Filter{State: incident.StateOpen}, []int64{5, 3, 1}},
		{"resolved", incident.Filter{State: incident.StateResolved}, []int64{4, 2}},
		{"drills", incident.Filter{Drills: &yes}, []int64{4, 3}},
		{"no drills", incident.Filter{Drills: &no}, []int64{5, 2, 1}},
		{"open drills", incident.Filter{State: incident.StateOpen, Drills: &yes}, []int64{3}},
		{"limit", incident.Filter{Limit: 2}, []int64{5, 4}},
		{"open, limit", incident.Filter{State: incident.StateOpen, Limit: 1}, []int64{5}},
		{"none", incident.Filter{State: "nonsense"}, nil},
	} {
		var got []int64
		mustView(t, s, func(tx incident.Tx) error {
			incs, err := tx.Incidents(tc.filter)
			for _, inc := range incs {
				got = append(got, inc.ID)
			}
			return err
		})
		if diff := cmp.Diff(got, tc.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tc.name, diff)
		}
	}
}

// testCopies: values are copied in and out; changing what was passed in or
// read back changes nothing stored.
func testCopies(t *testing.T, o StoreOpener) {
	s := o.New(t)
	inc := &incident.Incident{Title: "stored", Roles: []*incident.RolePage{{Role: "executor"}}}
	create(t, s, inc)
	ev := &incident.Event{IncidentID: inc.ID, At: st0, Kind: incident.KindNote, Data: map[string]string{"n": "0"}}
	msg := &incident.Outgoing{Lane: "A", Kind: incident.OutPost, Body: incident.OutBody{Message: &incident.Message{Text: "a1", Buttons: []incident.Button{{Label: "Ack"}}}}}
	mustUpdate(t, s, func(tx incident.Tx) error {
		if err := tx.Append(ev); err != nil {
			return err
		}
		return tx.Enqueue(msg)
	})
	inc.Title, inc.Roles[0].Acked = "changed after create", true
	ev.Data["n"], msg.Body.Message.Text = "changed after append", "changed after enqueue"
	mustView(t, s, func(tx incident.Tx) error {
		got, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		got.Title, got.Roles[0].Sent = "changed after read", 7
		evs, err := tx.Timeline(inc.ID)
		if err != nil {
			return err
		}
		evs[0].Data["n"] = "changed after read"
		due, err := tx.DueOutgoing(st0, 0)
		if err != nil {
			return err
		}
		due[0].Body.Message.Buttons[0].Label = "changed after read"
		return nil
	})
	mustView(t, s, func(tx incident.Tx) error {
		got, _ := tx.Incident(inc.ID)
		want := &incident.Incident{ID: 1, Title: "stored", Roles: []*incident.RolePage{{Role: "executor"}}}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("stored incident (-got +want):\n%s", diff)
		}
		if evs, _ := tx.Timeline(inc.ID); len(evs) != 1 || evs[0].Data["n"] != "0" {
			t.Errorf("stored event = %+v, want data n=0", evs)
		}
		if due, _ := tx.DueOutgoing(st0, 0); len(due) != 1 || due[0].Body.Message.Text != "a1" || due[0].Body.Message.Buttons[0].Label != "Ack" {
			t.Errorf("stored message = %+v, want a1 with Ack", due)
		}
		return nil
	})
}

// writeAll runs the writes of a transaction and fails on the first error.
func writeAll(t *testing.T, what string, writes ...error) {
	t.Helper()
	for i, err := range writes {
		if err != nil {
			t.Fatalf("%s: write %d: %v", what, i, err)
		}
	}
}

func testRollbackOnError(t *testing.T, o StoreOpener) {
	s := o.New(t)
	mustUpdate(t, s, func(tx incident.Tx) error {
		writeAll(t, "baseline",
			tx.CreateIncident(&incident.Incident{Title: "before", ChannelID: "C1"}),
			tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindDeclared}),
			tx.SetTimer(incident.Timer{Key: "k", Due: st0}),
			tx.Put("kv", "before"),
			tx.SetRef("r", "C1", "1.1"),
			tx.Enqueue(&incident.Outgoing{Lane: "inc/1", Kind: incident.OutPost}))
		return nil
	})
	var first int64
	mustView(t, s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(st0, 0)
		if len(due) == 1 {
			first = due[0].ID
		}
		return err
	})
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		inc, err := tx.Incident(1)
		if err != nil {
			return err
		}
		inc.Title, inc.ChannelID = "after", "C2"
		writeAll(t, "failing transaction",
			tx.SaveIncident(inc),
			tx.CreateIncident(&incident.Incident{Title: "new"}),
			tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindNote}),
			tx.SetTimer(incident.Timer{Key: "k", Due: st0.Add(time.Hour)}),
			tx.SetTimer(incident.Timer{Key: "k2", Due: st0}),
			tx.Put("kv", "after"),
			tx.Put("kv2", "new"),
			tx.SetRef("r", "C2", "2.2"),
			tx.SavePlan("h", []byte("plan")),
			tx.Enqueue(&incident.Outgoing{Lane: "inc/2", Kind: incident.OutPost}),
			tx.Retry(first, st0.Add(time.Minute), "later"))
		return fmt.Errorf("later: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	mustView(t, s, func(tx incident.Tx) error {
		checkBaseline(t, tx, first)
		return nil
	})
}

// checkBaseline checks that what testRollbackOnError's failed transaction
// did left no trace.
func checkBaseline(t *testing.T, tx incident.Tx, first int64) {
	t.Helper()
	inc, err := tx.Incident(1)
	if err != nil || inc.Title != "before" || inc.ChannelID != "C1" {
		t.Errorf("incident after rollback: %+v, %v; want title before, channel C1", inc, err)
	}
	if _, err := tx.IncidentByChannel("C1"); err != nil {
		t.Errorf("channel C1 after rollback: %v", err)
	}
	if _, err := tx.IncidentByChannel("C2"); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("channel C2 found after rollback: %v", err)
	}
	if _, err := tx.Incident(2); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("incident 2 exists after rollback: %v", err)
	}
	if evs, _ := tx.Timeline(1); len(evs) != 1 {
		t.Errorf("timeline after rollback has %d events, want 1", len(evs))
	}
	due, _ := tx.DueTimers(st0.Add(24*time.Hour), 0)
	if diff := cmp.Diff(due, []incident.Timer{{Key: "k", Due: st0}}); diff != "" {
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
	msgs, _ := tx.DueOutgoing(st0.Add(24*time.Hour), 0)
	if len(msgs) != 1 || msgs[0].ID != first || msgs[0].Attempts != 0 || !msgs[0].Due.IsZero() || msgs[0].LastError != "" {
		t.Errorf("outbox after rollback = %+v, want message %d untouched", msgs, first)
	}
}

func testRollbackOnPanic(t *testing.T, o StoreOpener) {
	s := o.New(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic to go on", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx incident.Tx) error {
			writeAll(t, "panicking transaction", tx.CreateIncident(&incident.Incident{Scenario: "x"}), tx.Put("k", "v"))
			panic("boom")
		})
	}()
	mustView(t, s, func(tx incident.Tx) error {
		if _, ok, _ := tx.Get("k"); ok {
			t.Error("a write of a panicking transaction was kept")
		}
		if incs, _ := tx.Incidents(incident.Filter{}); len(incs) != 0 {
			t.Errorf("incidents of a panicking transaction were kept: %+v", incs)
		}
		return nil
	})
	// The store is usable afterwards (its connection went back clean).
	if got := create(t, s, &incident.Incident{Scenario: "after"}); got[0] != 1 {
		t.Errorf("number after a panic = %d, want 1", got[0])
	}
}

func testViewIsReadOnly(t *testing.T, o StoreOpener) {
	s := o.New(t)
	create(t, s, &incident.Incident{Scenario: "x"})
	mustUpdate(t, s, func(tx incident.Tx) error {
		return tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost})
	})
	inc := &incident.Incident{ID: 1, Scenario: "changed"}
	for name, write := range map[string]func(incident.Tx) error{
		"CreateIncident": func(tx incident.Tx) error { return tx.CreateIncident(&incident.Incident{}) },
		"SaveIncident":   func(tx incident.Tx) error { return tx.SaveIncident(inc) },
		"Append":         func(tx incident.Tx) error { return tx.Append(&incident.Event{IncidentID: 1, Kind: incident.KindNote}) },
		"SetTimer":       func(tx incident.Tx) error { return tx.SetTimer(incident.Timer{Key: "k"}) },
		"DeleteTimer":    func(tx incident.Tx) error { return tx.DeleteTimer("k") },
		"DeleteTimers":   func(tx incident.Tx) error { return tx.DeleteTimers(1) },
		"Enqueue":        func(tx incident.Tx) error { return tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost}) },
		"Sent":           func(tx incident.Tx) error { return tx.Sent(1) },
		"Retry":          func(tx incident.Tx) error { return tx.Retry(1, st0, "") },
		"Drop":           func(tx incident.Tx) error { return tx.Drop(1, "") },
		"SetRef":         func(tx incident.Tx) error { return tx.SetRef("r", "C1", "1.2") },
		"SavePlan":       func(tx incident.Tx) error { return tx.SavePlan("h", []byte("x")) },
		"Put":            func(tx incident.Tx) error { return tx.Put("k", "v") },
		"PutIfAbsent":    func(tx incident.Tx) error { _, err := tx.PutIfAbsent("k", "v"); return err },
		"DeleteKeys":     func(tx incident.Tx) error { _, err := tx.DeleteKeys("k", st0); return err },
	} {
		if err := s.View(context.Background(), write); err == nil {
			t.Errorf("%s in a View: got no error", name)
		}
	}
	mustView(t, s, func(tx incident.Tx) error {
		incs, _ := tx.Incidents(incident.Filter{})
		evs, _ := tx.Timeline(1)
		due, _ := tx.DueOutgoing(st0, 0)
		_, hasK, _ := tx.Get("k")
		if len(incs) != 1 || incs[0].Scenario != "x" || len(evs) != 0 || len(due) != 1 || due[0].Attempts != 0 || hasK {
			t.Errorf("a View changed the store: incidents %+v, events %+v, outbox %+v, k set %v", incs, evs, due, hasK)
		}
		return nil
	})
}
