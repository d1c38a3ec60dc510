package storage

import (
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
)

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
