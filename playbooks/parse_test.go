package playbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseSpecExample parses the example of docs/plan.md, field by field.
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
	if got, want := p.Paging, (Paging{AckTimeout: 5 * time.Minute, Rounds: 2}); !cmp.Equal(got, want) {
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

// TestExamplePlan checks examples/plan.yaml: no error, exactly the one
// warning its comment promises, and a plan that answers what the seeds ask.
func TestExamplePlan(t *testing.T) {
	p, ds, err := Load("../examples/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ds.HasErrors() {
		t.Fatalf("errors:\n%v", ds.Err())
	}
	ws := ds.Warnings()
	if len(ws) != 1 || !strings.Contains(ws[0].Message, `scenario "site-loss": path`) || !strings.Contains(ws[0].Message, "RTO is 8h") {
		t.Fatalf("warnings:\n%s\nwant exactly the site-loss over-RTO one", diagText(ws))
	}
	if got, want := p.Timezone, "Europe/Oslo"; got != want {
		t.Errorf("Timezone = %q, want %q", got, want)
	}
	// Every scenario the seeds list.
	wantScenarios := []string{"site-loss", "region-loss", "db-corruption", "service-deleted", "service-unavailable",
		"accounts-compromised", "credential-expired", "vault-unavailable", "malware", "data-leak", "rogue-admin", "critical-vuln"}
	if diff := cmp.Diff(p.ScenarioOrder, wantScenarios); diff != "" {
		t.Errorf("scenarios (-got +want):\n%s", diff)
	}
	for _, id := range p.ScenarioOrder {
		sc := p.Scenarios[id]
		var decisions, approvals int
		for _, st := range sc.Steps {
			if len(st.Answers) > 0 {
				decisions++
			}
			if st.Approval != "" {
				approvals++
			}
			if st.Estimate == 0 {
				t.Errorf("scenario %s step %s has no estimate", id, st.ID)
			}
		}
		if decisions == 0 || approvals == 0 {
			t.Errorf("scenario %s has %d decisions and %d approvals, want at least one of each", id, decisions, approvals)
		}
	}
	for _, role := range []string{"commander", "executor", "approver", "security", "customer"} {
		if n := len(p.Roles[role]); n < 2 {
			t.Errorf("role %s has %d contacts, want at least 2", role, n)
		}
	}
	if c := p.Contacts[p.ContactOrder[0]]; c.ID != "alice" || c.Slack != "U0ALICE01" {
		t.Errorf("first contact = %+v, want alice with slack U0ALICE01", c)
	}
	emailOnly := 0
	for _, c := range p.Contacts {
		if c.Slack == "" && c.Email != "" {
			emailOnly++
		}
	}
	if emailOnly == 0 {
		t.Error("no contact has only an email")
	}
	// The console demo drives db-corruption: it must stay docs/plan.md's example.
	db := p.Scenarios["db-corruption"]
	if got, want := stepIDs(db), []string{"assess", "repair", "restore", "verify"}; !cmp.Equal(got, want) {
		t.Errorf("db-corruption steps = %v, want %v", got, want)
	}
	if got, want := db.Steps[0].Answers, []Answer{{"Yes", "repair"}, {"No", "restore"}}; !cmp.Equal(got, want) {
		t.Errorf("db-corruption answers = %v, want %v", got, want)
	}
	if got := db.Step("restore").Approval; got != "approver" {
		t.Errorf("db-corruption restore approval = %q, want approver", got)
	}
	if p.Review == nil || len(p.Drills) == 0 {
		t.Error("no review or drills")
	}
}

func TestParseResultFields(t *testing.T) {
	src := []byte(minimalPlan("\n      - {id: look, do: Look.}"))
	p, ds := Parse("x.yaml", src)
	if len(ds) != 0 {
		t.Fatalf("diagnostics:\n%s", diagText(ds))
	}
	if got, want := p.Hash, sha256Hex(src); got != want {
		t.Errorf("Hash = %q, want %q", got, want)
	}
	if string(p.Source) != string(src) || p.File != "x.yaml" {
		t.Errorf("Source or File not kept: %q %q", p.File, p.Source)
	}
	src[0] = 'X' // the caller's buffer is the caller's
	if p.Source[0] != 'v' {
		t.Error("Source aliases the caller's buffer")
	}
	if p.Timezone != "UTC" || p.Location != time.UTC {
		t.Errorf("timezone = %q %v, want UTC", p.Timezone, p.Location)
	}
	if p.Review != nil || p.Drills != nil || len(p.Services) != 0 {
		t.Errorf("absent sections not empty: %+v %+v %+v", p.Review, p.Drills, p.Services)
	}
}

func TestParseReviewDefaults(t *testing.T) {
	p, ds := Parse("x.yaml", []byte(minimalPlan("\n      - {id: look, do: Look.}")+`review:
  schedule: "@every 720h"
  owners: [alice]
  channel: "#dr-plan"
`))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	want := &Review{Schedule: "@every 720h", Owners: []string{"alice"}, OverdueAfter: 14 * 24 * time.Hour, Channel: "#dr-plan"}
	if diff := cmp.Diff(p.Review, want); diff != "" {
		t.Errorf("Review (-got +want):\n%s", diff)
	}
}

// TestParseNeverHalfLoaded: one error anywhere, and there is no plan.
func TestParseNeverHalfLoaded(t *testing.T) {
	src := minimalPlan("\n      - {id: look, do: Look., estimate: soon}")
	p, ds := Parse("x.yaml", []byte(src))
	if p != nil {
		t.Errorf("got a plan despite errors:\n%s", diagText(ds))
	}
	err := ds.Err()
	if err == nil || err.Error() != `x.yaml:13:41: estimate: bad duration "soon": want a Go duration such as 90s, 10m or 1h30m, or days such as 14d` {
		t.Errorf("Err() = %v", err)
	}
}

func TestDiagnostics(t *testing.T) {
	ds := Diagnostics{
		{File: "p.yaml", Line: 3, Col: 5, Severity: Error, Message: "bad one"},
		{File: "p.yaml", Line: 4, Col: 1, Severity: Warning, Message: "careful"},
		{Line: 9, Col: 2, Severity: Error, Message: "no file"},
	}
	if got, want := ds[0].String(), "p.yaml:3:5: bad one"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := ds[1].String(), "p.yaml:4:1: warning: careful"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := ds[2].String(), "9:2: no file"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !ds.HasErrors() || len(ds.Errors()) != 2 || len(ds.Warnings()) != 1 {
		t.Errorf("HasErrors %v, Errors %d, Warnings %d", ds.HasErrors(), len(ds.Errors()), len(ds.Warnings()))
	}
	if got, want := ds.Err().Error(), "p.yaml:3:5: bad one\n9:2: no file"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
	if ws := ds.Warnings(); ws.HasErrors() || ws.Err() != nil {
		t.Errorf("warnings only: HasErrors %v, Err %v", ws.HasErrors(), ws.Err())
	}
}

// TestParseAliasBomb: merge keys over anchors that would expand to a
// billion values are refused quickly instead of hanging.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("anchors:\n  - &a0 {name: Alice}\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  - &a%d {<<: [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString(strings.Replace(minimalPlan("\n      - {id: look, do: Look.}"), "{name: Alice,", "{<<: *a9,", 1))
	start := time.Now()
	p, ds := Parse("bomb.yaml", []byte(b.String()))
	if p != nil || !strings.Contains(diagText(ds), "too many values") {
		t.Errorf("diagnostics:\n%.2000s\nwant the too-many-values error", diagText(ds))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestParseAnchorsAndMerges: anchors, aliases and merge keys work as YAML
// says, with keys written out winning over merged ones.
func TestParseAnchorsAndMerges(t *testing.T) {
	p, ds, err := Load("testdata/good/anchors.yaml")
	if err != nil || ds.HasErrors() {
		t.Fatal(err, ds.Err())
	}
	want := &Contact{ID: "bob", Name: "Bob", Slack: "U0BOB0001", Phone: "+47 400 00 001"}
	if diff := cmp.Diff(p.Contacts["bob"], want); diff != "" {
		t.Errorf("bob (-got +want):\n%s", diff)
	}
	if got, want := p.Roles["executor"], []string{"alice", "bob"}; !cmp.Equal(got, want) {
		t.Errorf("executor = %v, want %v", got, want)
	}
	if got, want := stepIDs(p.Scenarios["other"]), []string{"look", "fix"}; !cmp.Equal(got, want) {
		t.Errorf("other's steps = %v, want %v", got, want)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
