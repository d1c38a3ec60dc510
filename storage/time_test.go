package storage

import (
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// TestTimeRoundTrip writes times through every kind of time column and
// reads them back: UTC, exact to the millisecond, zero stays zero.
func TestTimeRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	now := time.Now() // with a monotonic clock reading
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"whole seconds", t0, t0},
		{"milliseconds", t0.Add(999 * time.Millisecond), t0.Add(999 * time.Millisecond)},
		{"sub-millisecond dropped", t0.Add(1500 * time.Microsecond), t0.Add(time.Millisecond)},
		{"another zone comes back UTC", time.Date(2026, 11, 21, 11, 0, 0, 5e6, paris), t0.Add(5 * time.Millisecond)},
		{"monotonic reading dropped", now, now.Round(0).Truncate(time.Millisecond).UTC()},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 1e6, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 1e6, time.UTC)},
		{"zero", time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			inc := &incident.Incident{DeclaredAt: tt.in}
			update(t, s, func(tx incident.Tx) error {
				if err := tx.CreateIncident(inc); err != nil {
					return err
				}
				if err := tx.Append(&incident.Event{IncidentID: inc.ID, At: tt.in, Kind: incident.KindNote}); err != nil {
					return err
				}
				if err := tx.SetTimer(incident.Timer{Key: "k", Due: tt.in}); err != nil {
					return err
				}
				return tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost, Due: tt.in})
			})
			var got []time.Time
			view(t, s, func(tx incident.Tx) error {
				events, err := tx.Timeline(inc.ID)
				if err != nil {
					return err
				}
				timers, err := tx.DueTimers(tt.want, 0)
				if err != nil {
					return err
				}
				out, err := tx.DueOutgoing(tt.want, 0)
				if err != nil {
					return err
				}
				next, _, err := tx.NextTimer()
				if err != nil {
					return err
				}
				if len(events) != 1 || len(timers) != 1 || len(out) != 1 {
					t.Fatalf("got %d events, %d timers, %d messages, want one of each", len(events), len(timers), len(out))
				}
				got = []time.Time{events[0].At, timers[0].Due, out[0].Due, next}
				return nil
			})
			for i, g := range got {
				// == rather than Equal: the location must be UTC too, and
				// zero must be time.Time{} itself.
				if g != tt.want {
					t.Errorf("time %d: got %v (%v), want %v", i, g, g.Location(), tt.want)
				}
			}
			var col int64
			if err := s.read.QueryRow("SELECT declared_at FROM incidents").Scan(&col); err != nil {
				t.Fatal(err)
			}
			if col != tt.want.UnixMilli() {
				t.Errorf("declared_at column: got %d, want %d", col, tt.want.UnixMilli())
			}
		})
	}
}

// A zero Due is before any time at all, so the message goes at once
// whatever clock the worker runs on (the console's may be in the past).
func TestZeroDueIsAtOnce(t *testing.T) {
	s := openTest(t)
	enqueue(t, s, &incident.Outgoing{Lane: "l", Kind: incident.OutPost})
	if got := dueIDs(t, s, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0); len(got) != 1 {
		t.Errorf("got %v, want the message due", got)
	}
}
