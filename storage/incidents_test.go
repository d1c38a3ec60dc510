package storage

import (
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

// fullIncident has every field set, times at millisecond precision in
// several zones' worth of UTC.
func fullIncident() *incident.Incident {
	return &incident.Incident{
		Scenario: "db-corruption", Title: "Corrupted payments database", Summary: "checksum errors <b>&",
		Severity: "sev1", Service: "payments-db", Drill: true, State: incident.StateOpen,
		DeclaredAt: t0.Add(123 * time.Millisecond), DeclaredBy: "U0ALICE01",
		RTO: 2 * time.Hour, PlanHash: "abc123", ChannelID: "C0INC1", ChannelName: "inc-1-db-corruption",
		Roles: []*incident.RolePage{{
			Role: "executor", Contacts: []string{"bob", "carol"}, Sent: 2, Acked: true,
			AckedBy: "carol", AckedAt: t0.Add(95 * time.Second), PagedAt: t0.Add(time.Second),
		}},
		Steps: []*incident.StepRun{{
			StepID: "freeze", StartedAt: t0, EndedAt: t0.Add(10 * time.Minute), Outcome: "done", By: "U0BOB",
			Approval: "approved", ApprovalRequestedAt: t0.Add(time.Minute), ApprovedBy: "U0CAROL", ApprovedAt: t0.Add(2 * time.Minute),
		}},
		Current:       "restore",
		Alerts:        []int{50, 75},
		ProjectedLate: true,
	}
}

func TestIncidentRoundTrip(t *testing.T) {
	s := openTest(t)
	want := fullIncident()
	update(t, s, func(tx incident.Tx) error { return tx.CreateIncident(want) })
	if want.ID != 1 {
		t.Fatalf("first incident got number %d, want 1", want.ID)
	}
	var got *incident.Incident
	view(t, s, func(tx incident.Tx) (err error) {
		got, err = tx.Incident(1)
		return err
	})
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Incident (-got +want):\n%s", diff)
	}

	want.State, want.ResolvedAt, want.ResolvedBy = incident.StateResolved, t0.Add(90*time.Minute), "U0ALICE01"
	want.Roles[0].Exhausted = true
	update(t, s, func(tx incident.Tx) error { return tx.SaveIncident(want) })
	view(t, s, func(tx incident.Tx) (err error) {
		got, err = tx.Incident(1)
		return err
	})
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Incident after SaveIncident (-got +want):\n%s", diff)
	}
	var state string
	if err := s.read.QueryRow("SELECT state FROM incidents WHERE id = 1").Scan(&state); err != nil || state != incident.StateResolved {
		t.Errorf("state column: got %q (%v), want resolved", state, err)
	}
}

func TestCreateIncidentNumbers(t *testing.T) {
	s := openTest(t)
	var ids []int64
	update(t, s, func(tx incident.Tx) error {
		for range 3 {
			inc := &incident.Incident{Scenario: "x"}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			ids = append(ids, inc.ID)
		}
		return nil
	})
	ids = append(ids, newIncident(t, s, "y").ID)
	if diff := cmp.Diff(ids, []int64{1, 2, 3, 4}); diff != "" {
		t.Errorf("numbers (-got +want):\n%s", diff)
	}
}

func TestIncidentNotFound(t *testing.T) {
	s := openTest(t)
	newIncident(t, s, "x")
	tests := []struct {
		name string
		call func(incident.Tx) error
		msg  string
	}{
		{"Incident", func(tx incident.Tx) error { _, err := tx.Incident(7); return err }, "incident #7 not found"},
		{"IncidentByChannel", func(tx incident.Tx) error { _, err := tx.IncidentByChannel("C9"); return err }, "no incident has channel C9"},
		// An incident whose channel is not created yet has channel "".
		{"IncidentByChannel empty", func(tx incident.Tx) error { _, err := tx.IncidentByChannel(""); return err }, ""},
		{"SaveIncident", func(tx incident.Tx) error { return tx.SaveIncident(&incident.Incident{ID: 7}) }, "incident #7 not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, s.Update(t.Context(), tt.call), incident.ENOTFOUND, tt.msg)
		})
	}
}

func TestIncidentByChannel(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx incident.Tx) error {
		for _, ch := range []string{"C1", "C2", ""} {
			if err := tx.CreateIncident(&incident.Incident{Scenario: "s-" + ch, ChannelID: ch}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx incident.Tx) error {
		got, err := tx.IncidentByChannel("C2")
		if err != nil {
			return err
		}
		if got.ID != 2 || got.Scenario != "s-C2" {
			t.Errorf("got #%d %s, want #2 s-C2", got.ID, got.Scenario)
		}
		return nil
	})
}

func TestIncidentsFilter(t *testing.T) {
	s := openTest(t)
	// 1 open, 2 resolved, 3 open drill, 4 resolved drill, 5 open
	update(t, s, func(tx incident.Tx) error {
		for _, inc := range []incident.Incident{
			{State: incident.StateOpen},
			{State: incident.StateResolved},
			{State: incident.StateOpen, Drill: true},
			{State: incident.StateResolved, Drill: true},
			{State: incident.StateOpen},
		} {
			if err := tx.CreateIncident(&inc); err != nil {
				return err
			}
		}
		return nil
	})
	yes, no := true, false
	tests := []struct {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			view(t, s, func(tx incident.Tx) error {
				incs, err := tx.Incidents(tt.filter)
				for _, inc := range incs {
					got = append(got, inc.ID)
				}
				return err
			})
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}
