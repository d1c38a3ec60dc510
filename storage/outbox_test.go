package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/sqltx"
	"github.com/google/go-cmp/cmp"
)

// TestOutboxRowsKept: sent and dropped messages stay in the table with
// their attempts, errors, states and stamps (the suite checks the order in
// which they are due).
func TestOutboxRowsKept(t *testing.T) {
	s := openTest(t)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	update(t, s, func(tx incident.Tx) error {
		for _, o := range []*incident.Outgoing{
			{Lane: "A", Kind: incident.OutPost},
			{Lane: "A", Kind: incident.OutPost},
			{Lane: "B", Kind: incident.OutDM, Due: sec(10)},
			{Lane: "B", Kind: incident.OutDM},
			{Lane: "C", Kind: incident.OutTopic, Due: sec(0)},
		} {
			if err := tx.Enqueue(o); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx incident.Tx) error {
		for _, err := range []error{tx.Retry(1, sec(30), "ratelimited"), tx.Sent(5), tx.Drop(3, "user_not_found"),
			tx.Sent(1), tx.Sent(2), tx.Sent(4)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
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
	z, c := time.Time{}.UnixMilli(), ms(t0)
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

// TestDueOutgoingUsesIndex checks that the worker's queries reach outbox
// rows only through the (state, lane, id) index or the primary key: a
// full scan would read every sent message ever kept.
func TestDueOutgoingUsesIndex(t *testing.T) {
	s := openTest(t)
	for name, query := range sqltx.WorkerQueries {
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
