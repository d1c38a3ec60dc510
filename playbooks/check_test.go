package playbooks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// steps builds a scenario from "id estimate [-> next] [? label=next ...]".
func steps(t *testing.T, specs ...string) *Scenario {
	t.Helper()
	sc := &Scenario{ID: "s"}
	for _, spec := range specs {
		f := strings.Fields(spec)
		d, err := ParseDuration(f[1])
		if err != nil {
			t.Fatal(err)
		}
		st := &Step{ID: f[0], Estimate: d}
		for i := 2; i < len(f); i++ {
			switch f[i] {
			case "->":
				st.Next = f[i+1]
				i++
			case "?":
				for _, a := range f[i+1:] {
					label, next, _ := strings.Cut(a, "=")
					st.Answers = append(st.Answers, Answer{Label: label, Next: next})
				}
				i = len(f)
			}
		}
		sc.Steps = append(sc.Steps, st)
	}
	return sc
}

func TestLongestPath(t *testing.T) {
	tests := []struct {
		name     string
		steps    []string
		from     string // "" for LongestPath
		want     time.Duration
		wantPath []string
	}{
		{name: "linear", steps: []string{"a 10m", "b 20m", "c 5m"}, want: 35 * time.Minute, wantPath: []string{"a", "b", "c"}},
		{name: "no steps", want: 0},
		{name: "next skips a step", steps: []string{"a 10m -> c", "b 5h", "c 5m"}, want: 15 * time.Minute, wantPath: []string{"a", "c"}},
		{name: "next to end", steps: []string{"a 10m -> end", "b 5h"}, want: 10 * time.Minute, wantPath: []string{"a"}},
		{
			name:  "branch takes the longer answer",
			steps: []string{"assess 10m ? Yes=repair No=restore", "repair 30m -> verify", "restore 1h", "verify 10m -> end"},
			want:  80 * time.Minute, wantPath: []string{"assess", "restore", "verify"},
		},
		{
			name:  "branch where the first answer is longer",
			steps: []string{"assess 10m ? Yes=repair No=restore", "repair 3h -> verify", "restore 1h", "verify 10m"},
			want:  200 * time.Minute, wantPath: []string{"assess", "repair", "verify"},
		},
		{
			name:  "an answer that ends",
			steps: []string{"ask 5m ? Stop=end Go=work", "work 2h"},
			want:  125 * time.Minute, wantPath: []string{"ask", "work"},
		},
		{
			name: "nested decisions and a diamond",
			steps: []string{
				"a 10m ? x=b y=c", "b 20m ? p=d q=e", "c 1h -> e", "d 5m -> f", "e 15m", "f 1m",
			},
			// a→c→e→f = 10+60+15+1; a→b→e→f = 10+20+15+1; a→b→d→f = 10+20+5+1.
			want: 86 * time.Minute, wantPath: []string{"a", "c", "e", "f"},
		},
		{
			name:  "remaining from a middle step",
			steps: []string{"assess 10m ? Yes=repair No=restore", "repair 30m -> verify", "restore 1h", "verify 10m"},
			from:  "repair", want: 40 * time.Minute, wantPath: []string{"repair", "verify"},
		},
		{name: "remaining from end", steps: []string{"a 10m"}, from: End, want: 0},
		{name: "remaining from an unknown step", steps: []string{"a 10m"}, from: "zz", want: 0},
		{name: "a cycle is cut", steps: []string{"a 10m", "b 5m -> a"}, want: 15 * time.Minute, wantPath: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := steps(t, tt.steps...)
			var got time.Duration
			var path []string
			if tt.from == "" {
				got, path = sc.LongestPath()
			} else {
				got, path = sc.Remaining(tt.from)
			}
			if got != tt.want || !cmp.Equal(path, tt.wantPath, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, " ") == strings.Join(b, " ") })) {
				t.Errorf("got %v %v, want %v %v", got, path, tt.want, tt.wantPath)
			}
		})
	}
}

// TestStepIndex checks that the index Parse builds gives the same answers
// as a scan, and that a scenario changed after parsing is not misread.
func TestStepIndex(t *testing.T) {
	p, ds := Parse("p.yaml", []byte(minimalPlan(`
      - {id: a, do: A., estimate: 10m}
      - {id: b, do: B., estimate: 20m}
      - {id: c, do: C., estimate: 30m}`)))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	sc := p.Scenarios["outage"]
	for i, id := range []string{"a", "b", "c"} {
		if got := sc.Step(id); got != sc.Steps[i] {
			t.Errorf("Step(%q) = %v, want step %d", id, got, i)
		}
	}
	if got := sc.Step("zz"); got != nil {
		t.Errorf("Step(zz) = %v, want nil", got)
	}
	// Reorder the steps by hand: the stale index must not be trusted.
	sc.Steps[0], sc.Steps[2] = sc.Steps[2], sc.Steps[0]
	if got := sc.Step("a"); got == nil || got.ID != "a" {
		t.Errorf("after reordering, Step(a) = %v", got)
	}
	if got, want := sc.After("c"), "b"; got != want {
		t.Errorf("after reordering, After(c) = %q, want %q", got, want)
	}
}

func TestCompositeAvailability(t *testing.T) {
	p := &Plan{Services: map[string]*Service{
		"web":   {ID: "web", Availability: 0.999, DependsOn: []string{"api", "cdn"}},
		"api":   {ID: "api", Availability: 0.9995, DependsOn: []string{"db", "cache"}},
		"cdn":   {ID: "cdn", Availability: 0.9999, DependsOn: []string{"db"}}, // a diamond: db counted once
		"db":    {ID: "db", Availability: 0.9995},
		"cache": {ID: "cache"}, // no availability: counts as 1
		"loop":  {ID: "loop", Availability: 0.9, DependsOn: []string{"loop"}},
	}}
	tests := []struct {
		service string
		want    float64
	}{
		{"db", 0.9995},
		{"cache", 1},
		{"api", 0.9995 * 0.9995},
		{"web", 0.999 * 0.9995 * 0.9999 * 0.9995},
		{"loop", 0.9},
		{"nosuch", 0},
	}
	for _, tt := range tests {
		if got := p.CompositeAvailability(tt.service); !approx(got, tt.want) {
			t.Errorf("CompositeAvailability(%q) = %v, want %v", tt.service, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	p, ds := Parse("plan.yaml", []byte(`version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, slack: U0BOB0001}
roles:
  commander: [alice, bob]
services:
  db: {rto: 1h, availability: 99.9%, depends_on: [disk]}
  disk: {availability: 99.9%}
  web: {}
scenarios:
  slow:
    title: Slow
    service: db
    severity: sev2
    page: [commander]
    steps:
      - id: a
        do: A.
        estimate: 30m
        ask: Is it fast?
        answers: {"Yes": b, "No": c}
      - {id: b, do: B., estimate: 10m, next: end}
      - {id: c, do: C., estimate: 45m}
  other:
    title: Other
    severity: sev3
    page: [commander]
    steps:
      - {id: x, do: X., estimate: 5m}
`))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	if got := diagText(ds); !strings.Contains(got, `path a → c takes 1h15m, RTO is 1h`) {
		t.Errorf("diagnostics:\n%s\nwant the over-RTO warning", got)
	}
	got := Check(p)
	both := 0.999 * 0.999
	want := Report{
		Scenarios: []ScenarioReport{
			{ID: "slow", Title: "Slow", Service: "db", Severity: "sev2", Worst: 75 * time.Minute, Path: []string{"a", "c"}, RTO: time.Hour},
			{ID: "other", Title: "Other", Severity: "sev3", Worst: 5 * time.Minute, Path: []string{"x"}},
		},
		Services: []ServiceReport{
			{ID: "db", Availability: 0.999, Composite: both, DowntimeMonth: AllowedDowntime(both, Month), DowntimeYear: AllowedDowntime(both, Year)},
			{ID: "disk", Availability: 0.999, Composite: 0.999, DowntimeMonth: 43*time.Minute + 12*time.Second, DowntimeYear: 8*time.Hour + 45*time.Minute + 36*time.Second},
			{ID: "web", Composite: 1, Unknown: true}, // no availability anywhere: not 100%
		},
	}
	if diff := cmp.Diff(got, want, cmp.Comparer(approx), cmp.Comparer(func(a, b time.Duration) bool {
		d := a - b
		return d < time.Microsecond && d > -time.Microsecond
	})); diff != "" {
		t.Errorf("Check (-got +want):\n%s", diff)
	}
	if !got.Scenarios[0].OverRTO() || got.Scenarios[1].OverRTO() {
		t.Errorf("OverRTO = %v, %v; want true, false", got.Scenarios[0].OverRTO(), got.Scenarios[1].OverRTO())
	}
}

// minimalPlan returns a valid plan whose one scenario, outage, has the
// given steps (YAML list entries indented by six spaces).
func minimalPlan(stepsYAML string) string {
	return fmt.Sprintf(`version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, slack: U0BOB0001}
roles:
  commander: [alice, bob]
scenarios:
  outage:
    title: Outage
    severity: sev2
    page: [commander]
    steps:%s
`, stepsYAML)
}
