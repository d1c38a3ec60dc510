package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

func TestTimeline(t *testing.T) {
	s := openTest(t)
	a, b := newIncident(t, s, "a"), newIncident(t, s, "b")
	events := []*incident.Event{
		{IncidentID: a.ID, At: t0, Kind: incident.KindDeclared, Actor: "U0ALICE01", Text: "declared <db> & co"},
		{IncidentID: b.ID, At: t0.Add(time.Millisecond), Kind: incident.KindNote, Text: "other incident"},
		{IncidentID: a.ID, At: t0.Add(time.Minute), Kind: incident.KindPaged, Data: map[string]string{"role": "executor", "contact": "bob"}},
		// Appended later but stamped earlier: the order is the order of appending.
		{IncidentID: a.ID, At: t0.Add(-time.Second), Kind: incident.KindNote, Data: map[string]string{}},
	}
	update(t, s, func(tx incident.Tx) error {
		for _, e := range events {
			if err := tx.Append(e); err != nil {
				return err
			}
		}
		return nil
	})
	for i, e := range events {
		if e.ID != int64(i+1) {
			t.Errorf("event %d got ID %d, want %d", i, e.ID, i+1)
		}
	}
	// An empty Data comes back nil.
	want := []incident.Event{*events[0], *events[2], *events[3]}
	want[2].Data = nil
	var got []incident.Event
	view(t, s, func(tx incident.Tx) (err error) {
		got, err = tx.Timeline(a.ID)
		return err
	})
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Timeline (-got +want):\n%s", diff)
	}
	view(t, s, func(tx incident.Tx) (err error) {
		got, err = tx.Timeline(99)
		return err
	})
	if got != nil {
		t.Errorf("Timeline of no incident: got %v, want nil", got)
	}
}

func TestAppendErrors(t *testing.T) {
	s := openTest(t)
	newIncident(t, s, "a")
	err := s.Update(t.Context(), func(tx incident.Tx) error {
		return tx.Append(&incident.Event{IncidentID: 7, Kind: incident.KindNote})
	})
	wantCode(t, err, incident.ENOTFOUND, "incident #7 not found")
	err = s.Update(t.Context(), func(tx incident.Tx) error {
		return tx.Append(&incident.Event{IncidentID: 1})
	})
	wantCode(t, err, incident.EINVALID, "")
}

// TestTimelineAppendOnly goes around the Tx, with raw SQL on the write
// connection: the database itself refuses to change history.
func TestTimelineAppendOnly(t *testing.T) {
	s := openTest(t)
	inc := newIncident(t, s, "a")
	update(t, s, func(tx incident.Tx) error {
		return tx.Append(&incident.Event{IncidentID: inc.ID, At: t0, Kind: incident.KindNote, Text: "original"})
	})
	for _, stmt := range []string{
		"UPDATE timeline SET text = 'rewritten'",
		"DELETE FROM timeline",
		"INSERT OR REPLACE INTO timeline (id, incident_id, at, kind) VALUES (1, 1, 0, 'note')",
	} {
		_, err := s.write.Exec(stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only error", stmt, err)
		}
	}
	view(t, s, func(tx incident.Tx) error {
		got, err := tx.Timeline(inc.ID)
		if len(got) != 1 || got[0].Text != "original" {
			t.Errorf("timeline changed: %+v", got)
		}
		return err
	})
}
