package playbooks

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseSpecExample parses the example of plan.md, field by field.
func TestParseSpecExample(t *testing.T) {
	p, ds, err := Load("testdata/specexample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ds.HasErrors() {
		t.Fatalf("errors:\n%v", ds.Err())
	}
	if got, want := p.ContactOrder, []string{"alice", "bob", "erin", "frank"}; !cmp.Equal(got, want) {
		t.Errorf("ContactOrder = %v, want %v", got, want)
	}
	if got, want := p.RoleOrder, []string{"commander", "executor", "approver", "security", "customer"}; !cmp.Equal(got, want) {
		t.Errorf("RoleOrder = %v, want %v", got, want)
	}
	if got, want := *p.Contacts["frank"], (Contact{ID: "frank", Name: "Frank Moe", Email: "frank@example.com"}); got != want {
		t.Errorf("frank = %+v, want %+v", got, want)
	}
	if got, want := p.Location.String(), "Europe/Oslo"; got != want {
		t.Errorf("Location = %s, want %s", got, want)
	}
	if got, want := p.Paging, (Paging{AckTimeout: 5 * time.Minute, Rounds: 2}); got != want {
		t.Errorf("Paging = %+v, want %+v", got, want)
	}
	wantSvc := &Service{ID: "payments-db", RTO: 2 * time.Hour, RPO: 15 * time.Minute, BackupInterval: time.Hour,
		RestoreTime: 45 * time.Minute, Availability: 0.9995, DependsOn: []string{"object-store"}}
	if diff := cmp.Diff(p.Services["payments-db"], wantSvc, cmp.Comparer(approx)); diff != "" {
		t.Errorf("payments-db (-got +want):\n%s", diff)
	}
	sc := p.Scenarios["db-corruption"]
	wantSteps := []*Step{
		{ID: "assess", Do: "Check whether the primary still serves reads and when the last good backup ran.", Estimate: 10 * time.Minute,
			Owner: "executor", Ask: "Is the primary still serving reads?", Answers: []Answer{{"Yes", "repair"}, {"No", "restore"}}},
		{ID: "repair", Do: "Run the page-level repair on the replica, then fail over.", Estimate: 30 * time.Minute, Next: "verify"},
		{ID: "restore", Do: "Restore the last snapshot into a new instance and repoint the app.", Estimate: time.Hour, Approval: "approver"},
		{ID: "verify", Do: "Run the smoke tests and compare order counts with the payment provider.", Estimate: 10 * time.Minute, Next: End},
	}
	if diff := cmp.Diff(sc.Steps, wantSteps); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	if got, want := sc.RTOAlerts, []float64{0.5, 0.75, 0.9}; !cmp.Equal(got, want) {
		t.Errorf("RTOAlerts = %v, want %v", got, want)
	}
	if got, want := p.Review.OverdueAfter, 14*24*time.Hour; got != want {
		t.Errorf("OverdueAfter = %v, want %v", got, want)
	}
	if got, want := p.Drills, []Drill{{Scenario: "db-corruption", Schedule: "0 10 * * 3"}}; !cmp.Equal(got, want) {
		t.Errorf("Drills = %v, want %v", got, want)
	}
}

func approx(a, b float64) bool {
	d := a - b
	return d < 1e-12 && d > -1e-12
}
