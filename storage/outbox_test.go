package storage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

// enqueue adds messages and returns their ids.
func enqueue(tb testing.TB, s *Store, os ...*incident.Outgoing) []int64 {
	tb.Helper()
	var ids []int64
	update(tb, s, func(tx incident.Tx) error {
		for _, o := range os {
			if err := tx.Enqueue(o); err != nil {
				return err
			}
			ids = append(ids, o.ID)
		}
		return nil
	})
	return ids
}

// dueIDs returns the ids DueOutgoing returns at now.
func dueIDs(tb testing.TB, s *Store, now time.Time, limit int) []int64 {
	tb.Helper()
	var ids []int64
	view(tb, s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(now, limit)
		for _, o := range due {
			ids = append(ids, o.ID)
		}
		return err
	})
	return ids
}

func TestOutboxRoundTrip(t *testing.T) {
	s := openTest(t)
	want := &incident.Outgoing{
		Lane: "user/frank", IncidentID: 3, Kind: incident.OutDM, Due: t0.Add(time.Second),
		Body: incident.OutBody{
			Contact: "frank", Purpose: "page frank", Ref: "inc/3/page/frank/1",
			Message: &incident.Message{
				Text:    "*Paged* for <#C1>",
				Fields:  []incident.Field{{Label: "Role", Value: "executor"}},
				Context: "small",
				Buttons: []incident.Button{{Label: "Acknowledge", Action: "ack:3:executor", Style: "primary"}},
			},
			WebhookBody: []byte{0, 1, 2, 0xff},
		},
	}
	enqueue(t, s, want)
	view(t, s, func(tx incident.Tx) error {
		due, err := tx.DueOutgoing(t0.Add(time.Second), 0)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(due, []incident.Outgoing{*want}); diff != "" {
			t.Errorf("DueOutgoing (-got +want):\n%s", diff)
		}
		return nil
	})
}

func TestOutboxLanes(t *testing.T) {
	s := openTest(t)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	ids := enqueue(t, s,
		&incident.Outgoing{Lane: "A", Kind: incident.OutPost},               // 1: at once (zero Due)
		&incident.Outgoing{Lane: "A", Kind: incident.OutPost},               // 2: behind 1
		&incident.Outgoing{Lane: "B", Kind: incident.OutDM, Due: sec(10)},   // 3: later
		&incident.Outgoing{Lane: "B", Kind: incident.OutDM},                 // 4: due, but behind 3
		&incident.Outgoing{Lane: "C", Kind: incident.OutTopic, Due: sec(0)}, // 5
	)
	if diff := cmp.Diff(ids, []int64{1, 2, 3, 4, 5}); diff != "" {
		t.Fatalf("ids (-got +want):\n%s", diff)
	}
	depth := func(want int) {
		t.Helper()
		view(t, s, func(tx incident.Tx) error {
			got, err := tx.OutboxDepth()
			if got != want {
				t.Errorf("OutboxDepth: got %d, want %d", got, want)
			}
			return err
		})
	}
	next := func(want time.Time, wantOK bool) {
		t.Helper()
		view(t, s, func(tx incident.Tx) error {
			got, ok, err := tx.NextOutgoing()
			if !got.Equal(want) || ok != wantOK {
				t.Errorf("NextOutgoing: got %v %v, want %v %v", got, ok, want, wantOK)
			}
			return err
		})
	}
	step := func(name string, now time.Time, want []int64) {
		t.Helper()
		if diff := cmp.Diff(dueIDs(t, s, now, 0), want); diff != "" {
			t.Errorf("%s: DueOutgoing (-got +want):\n%s", name, diff)
		}
	}

	depth(5)
	next(time.Time{}, true) // lane A's head is due at once
	step("heads of A and C; B's head not due and 4 waits behind it", sec(0), []int64{1, 5})
	if diff := cmp.Diff(dueIDs(t, s, sec(0), 1), []int64{1}); diff != "" {
		t.Errorf("limit 1 (-got +want):\n%s", diff)
	}

	// Lane A's head fails: it waits 30 s, and 2 waits behind it.
	update(t, s, func(tx incident.Tx) error { return tx.Retry(1, sec(30), "ratelimited") })
	step("A waits for its retry", sec(0), []int64{5})
	update(t, s, func(tx incident.Tx) error { return tx.Sent(5) })
	next(sec(10), true)
	step("B's head is due", sec(10), []int64{3})
	step("A's head is due again, oldest first", sec(30), []int64{1, 3})

	update(t, s, func(tx incident.Tx) error { return tx.Drop(3, "user_not_found") })
	step("B's next message moves up", sec(10), []int64{4})
	update(t, s, func(tx incident.Tx) error { return tx.Sent(1) })
	step("A's next message moves up", sec(10), []int64{2, 4})
	depth(2)
	update(t, s, func(tx incident.Tx) error {
		if err := tx.Sent(2); err != nil {
			return err
		}
		return tx.Sent(4)
	})
	depth(0)
	next(time.Time{}, false)
	step("nothing pending", sec(100), nil)

	// Kept for the record: attempts, errors, states and stamps.
	type row struct {
		ID            int64
		State         string
		Attempts      int
		LastError     string
		Sent, Dropped bool
		Due, Created  int64
	}
	var got []row
	rows, err := s.read.Query(`SELECT id, state, attempts, last_error, sent_at IS NOT NULL, dropped_at IS NOT NULL, due, created FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ID, &r.State, &r.Attempts, &r.LastError, &r.Sent, &r.Dropped, &r.Due, &r.Created); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	z, c := zeroMillis, ms(t0)
	want := []row{
		{1, "sent", 1, "ratelimited", true, false, ms(sec(30)), c},
		{2, "sent", 0, "", true, false, z, c},
		{3, "dropped", 1, "user_not_found", false, true, ms(sec(10)), c},
		{4, "sent", 0, "", true, false, z, c},
		{5, "sent", 0, "", true, false, ms(sec(0)), c},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("outbox rows (-got +want):\n%s", diff)
	}
}

func TestOutboxRetryCountsAttempts(t *testing.T) {
	s := openTest(t)
	enqueue(t, s, &incident.Outgoing{Lane: "A", Kind: incident.OutPost})
	for i := 1; i <= 3; i++ {
		due := t0.Add(time.Duration(i) * time.Minute)
		update(t, s, func(tx incident.Tx) error { return tx.Retry(1, due, fmt.Sprintf("error %d", i)) })
		view(t, s, func(tx incident.Tx) error {
			got, err := tx.DueOutgoing(due, 0)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Attempts != i || got[0].LastError != fmt.Sprintf("error %d", i) || !got[0].Due.Equal(due) {
				t.Errorf("after retry %d: got %+v", i, got)
			}
			return nil
		})
	}
}

func TestOutboxSettleErrors(t *testing.T) {
	s := openTest(t)
	enqueue(t, s, &incident.Outgoing{Lane: "A", Kind: incident.OutPost}, &incident.Outgoing{Lane: "B", Kind: incident.OutPost})
	update(t, s, func(tx incident.Tx) error {
		if err := tx.Sent(1); err != nil {
			return err
		}
		return tx.Drop(2, "channel_not_found")
	})
	tests := []struct {
		name string
		call func(incident.Tx) error
		code string
	}{
		{"Sent twice", func(tx incident.Tx) error { return tx.Sent(1) }, incident.ECONFLICT},
		{"Retry sent", func(tx incident.Tx) error { return tx.Retry(1, t0, "") }, incident.ECONFLICT},
		{"Drop sent", func(tx incident.Tx) error { return tx.Drop(1, "") }, incident.ECONFLICT},
		{"Sent dropped", func(tx incident.Tx) error { return tx.Sent(2) }, incident.ECONFLICT},
		{"Sent missing", func(tx incident.Tx) error { return tx.Sent(9) }, incident.ENOTFOUND},
		{"Retry missing", func(tx incident.Tx) error { return tx.Retry(9, t0, "") }, incident.ENOTFOUND},
		{"Enqueue without lane", func(tx incident.Tx) error {
			return tx.Enqueue(&incident.Outgoing{Kind: incident.OutPost})
		}, incident.EINVALID},
		{"Enqueue without kind", func(tx incident.Tx) error {
			return tx.Enqueue(&incident.Outgoing{Lane: "A"})
		}, incident.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, s.Update(t.Context(), tt.call), tt.code, "")
		})
	}
}

// TestDueOutgoingUsesIndex checks that the worker's queries reach outbox
// rows only through the (state, lane, id) index or the primary key: a
// full scan would read every sent message ever kept.
func TestDueOutgoingUsesIndex(t *testing.T) {
	s := openTest(t)
	for name, query := range map[string]string{
		"DueOutgoing":  sqlDueOutgoing,
		"NextOutgoing": sqlNextOutgoing,
		"OutboxDepth":  sqlOutboxDepth,
	} {
		rows, err := s.read.Query("EXPLAIN QUERY PLAN "+query, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN") && strings.Contains(line, "outbox") && !strings.Contains(line, "INDEX outbox_lane") {
				t.Errorf("%s scans the outbox:\n%s", name, text)
			}
		}
		if !strings.Contains(text, "outbox_lane") {
			t.Errorf("%s does not use outbox_lane:\n%s", name, text)
		}
		t.Logf("%s:\n%s", name, text)
	}
}
