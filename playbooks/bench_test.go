package playbooks

import (
	"fmt"
	"strings"
	"testing"
)

// generatedPlan returns a valid plan with n scenarios of ten steps each,
// every one with a decision, and a chain of services.
func generatedPlan(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: Generated\ntimezone: Europe/Oslo\ncontacts:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  c%d: {name: Contact %d, slack: U0C%06d}\n", i, i, i)
	}
	b.WriteString("roles:\n")
	for i := range 5 {
		fmt.Fprintf(&b, "  r%d: [c%d, c%d]\n", i, 2*i, 2*i+1)
	}
	b.WriteString("services:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  s%d:\n    rto: 8h\n    rpo: 1h\n    backup_interval: 30m\n    restore_time: 2h\n    availability: 99.95%%\n", i)
		switch { // a chain, with shortcuts that make diamonds
		case i >= 3:
			fmt.Fprintf(&b, "    depends_on: [s%d, s%d]\n", i-1, i/3)
		case i > 0:
			fmt.Fprintf(&b, "    depends_on: [s%d]\n", i-1)
		}
	}
	b.WriteString("scenarios:\n")
	for i := range n {
		fmt.Fprintf(&b, "  sc%d:\n    title: Scenario %d\n    service: s%d\n    severity: sev2\n    page: [r0, r1]\n    steps:\n", i, i, i%50)
		b.WriteString("      - id: assess\n        do: Look at it.\n        estimate: 10m\n        owner: r1\n        ask: Can it be repaired?\n        answers:\n          \"Yes\": repair\n          \"No\": restore\n")
		b.WriteString("      - {id: repair, do: Repair it., estimate: 30m, next: verify}\n")
		b.WriteString("      - {id: restore, do: Restore it., estimate: 1h, approval: r2}\n")
		for j := range 6 {
			fmt.Fprintf(&b, "      - {id: step%d, do: Do step %d., estimate: 5m, owner: r%d}\n", j, j, j%5)
		}
		b.WriteString("      - {id: verify, do: Check it works., estimate: 10m, next: end}\n")
	}
	b.WriteString("review:\n  schedule: \"0 9 1 */3 *\"\n  owners: [c0]\ndrills:\n  - {scenario: sc0, schedule: \"@monthly\"}\n")
	return []byte(b.String())
}

func TestGeneratedPlanIsValid(t *testing.T) {
	p, ds := Parse("gen.yaml", generatedPlan(200))
	// More than 100 scenarios is worth a warning (Slack's menus), only.
	if p == nil || len(ds) != 1 || ds[0].Severity != Warning || !strings.Contains(ds[0].Message, "200 of them") {
		t.Fatalf("diagnostics:\n%s", diagText(ds))
	}
	r := Check(p)
	if len(r.Scenarios) != 200 {
		t.Fatalf("%d scenarios", len(r.Scenarios))
	}
	if got := r.Scenarios[0].Path; len(got) != 9 || got[1] != "restore" {
		t.Errorf("worst path %v", got)
	}
}

// BenchmarkParseCheck parses and checks a 200-scenario plan.
func BenchmarkParseCheck(b *testing.B) {
	data := generatedPlan(200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, ds := Parse("gen.yaml", data)
		if p == nil {
			b.Fatal(ds.Err())
		}
		Check(p)
	}
}
