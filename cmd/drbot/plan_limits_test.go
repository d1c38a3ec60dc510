package main

import (
	"fmt"
	"strings"
	"testing"
)

// drbot plan check refuses ids that would break a message later (a
// 2,100-character step id used to pass, then its first step was posted
// without buttons: Slack answered invalid_blocks), and warns about what
// Slack cuts: an answer label over 75 characters, more than 100 scenarios.
func TestPlanCheckSlackLimits(t *testing.T) {
	long := strings.Repeat("s", 2100)
	label := strings.TrimSpace(strings.Repeat("Yes, and restore from the snapshot of last night ", 2)) // 97 characters
	var many strings.Builder
	for i := range 101 {
		fmt.Fprintf(&many, "  extra-%d: {title: Extra %d, severity: sev4, page: [commander], steps: [{id: look, do: Look.}]}\n", i, i)
	}
	for _, c := range []struct {
		name, plan string
		code       int
		want       []string
	}{
		{"a 2,100-character step id", strings.Replace(smallPlan, "id: swap, do:", "id: "+long+", do:", 1), 1,
			[]string{`step id "` + strings.Repeat("s", 80) + `…" is 2100 characters long: keep it to 100`}},
		{"a 101-character role id", strings.ReplaceAll(smallPlan, "commander", strings.Repeat("r", 101)), 1,
			[]string{`role id "` + strings.Repeat("r", 80) + `…" is 101 characters long: keep it to 100`}},
		{"a 101-character contact id", strings.ReplaceAll(smallPlan, "alice", strings.Repeat("a", 101)), 1,
			[]string{"contact id", "is 101 characters long: keep it to 100"}},
		{"a 100-character step id", strings.ReplaceAll(smallPlan, "swap", strings.Repeat("w", 100)), 0, nil},
		{"a 61-character scenario id", strings.Replace(smallPlan, "  chat:", "  "+strings.Repeat("c", 61)+":", 1), 1,
			[]string{"is 61 characters long: keep it to 60 so that the incident's Slack channel name fits"}},
		{"an answer of 97 characters", strings.Replace(smallPlan, `"Yes": swap`, `"`+label+`": swap`, 1), 0,
			[]string{"warning: answers:", "is 97 characters long; Slack buttons show at most 75"}},
		{"101 scenarios", smallPlan + many.String(), 0,
			[]string{"warning: scenarios: 103 of them; Slack menus show at most 100"}},
	} {
		code, stdout, stderr := runPlan(t, "check", writePlan(t, c.plan))
		out := stdout + stderr
		if code != c.code {
			t.Errorf("%s: exit %d, want %d:\n%.2000s", c.name, code, c.code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%.2000s", c.name, w, out)
			}
		}
	}
}
