package storage

import (
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

func TestTimers(t *testing.T) {
	s := openTest(t)
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	update(t, s, func(tx incident.Tx) error {
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

	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"nothing due", min(4), 0, nil},
		{"due is inclusive; same due by key", min(5), 0, []string{"inc/1/escalate/executor", "inc/2/escalate/executor"}},
		{"replaced timer has its new due", min(20), 0, []string{"inc/1/escalate/executor", "inc/2/escalate/executor", "inc/1/rto"}},
		{"limit", min(60), 2, []string{"inc/1/escalate/executor", "inc/2/escalate/executor"}},
		{"all", min(60), 0, []string{"inc/1/escalate/executor", "inc/2/escalate/executor", "inc/1/rto", "schedule/review"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			view(t, s, func(tx incident.Tx) error {
				due, err := tx.DueTimers(tt.now, tt.limit)
				for _, tm := range due {
					got = append(got, tm.Key)
				}
				return err
			})
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("DueTimers (-got +want):\n%s", diff)
			}
		})
	}

	view(t, s, func(tx incident.Tx) error {
		due, err := tx.DueTimers(min(20), 0)
		if err != nil {
			return err
		}
		want := incident.Timer{Key: "inc/1/rto", IncidentID: 1, Kind: "rto", Due: min(20), Data: "75"}
		if diff := cmp.Diff(due[2], want); diff != "" {
			t.Errorf("replaced timer (-got +want):\n%s", diff)
		}
		return nil
	})

	wantNext := func(want time.Time, wantOK bool) {
		t.Helper()
		view(t, s, func(tx incident.Tx) error {
			got, ok, err := tx.NextTimer()
			if !got.Equal(want) || ok != wantOK {
				t.Errorf("NextTimer: got %v %v, want %v %v", got, ok, want, wantOK)
			}
			return err
		})
	}
	wantNext(min(5), true)
	update(t, s, func(tx incident.Tx) error {
		if err := tx.DeleteTimer("inc/2/escalate/executor"); err != nil {
			return err
		}
		if err := tx.DeleteTimer("no such timer"); err != nil {
			return err
		}
		return tx.DeleteTimers(1)
	})
	wantNext(min(60), true)
	update(t, s, func(tx incident.Tx) error { return tx.DeleteTimer("schedule/review") })
	wantNext(time.Time{}, false)
}

func TestSetTimerNoKey(t *testing.T) {
	s := openTest(t)
	err := s.Update(t.Context(), func(tx incident.Tx) error { return tx.SetTimer(incident.Timer{Kind: "x"}) })
	wantCode(t, err, incident.EINVALID, "")
}
