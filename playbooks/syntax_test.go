package playbooks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// syntaxPlan is a valid plan; each case below breaks one line of it the way
// people do, and the report must point at the cause with a fix.
const syntaxPlan = `version: 1
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob: {name: Bob Dahl, slack: U0BOB0001}
roles:
  commander: [alice, bob]
scenarios:
  outage:
    title: Outage
    severity: sev2
    page: [commander]
    steps:
      - id: check
        do: Check the dashboards.
      - id: fix
        do: Roll back the release.
`

func TestSyntaxErrorsPointAtTheirCause(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           string // "LINE:COL: YAML syntax: " + the start of the message
	}{
		{"tab", "        do: Check the dashboards.", "\tdo: Check the dashboards.",
			"14:1: YAML syntax: a tab indents this line: YAML indents with spaces only"},
		{"unclosed quote", "    title: Outage", `    title: "Outage`,
			"9:12: YAML syntax: this text opens a \" that is not closed on its line"},
		{"colon in text", "        do: Roll back the release.", "        do: Roll back: the release.",
			"16:22: YAML syntax: \": \" inside unquoted text starts a mapping in YAML: quote the text, as in \"Roll back: the release.\""},
		{"asterisk", "        do: Check the dashboards.", "        do: *Check* the dashboards.",
			"14:13: YAML syntax: unquoted text cannot start with * (YAML reads an alias (*name)): quote the text"},
		{"backquote", "        do: Roll back the release.", "        do: `kubectl rollout undo`",
			"16:13: YAML syntax: unquoted text cannot start with ` (YAML reads a reserved character)"},
		{"apostrophe in single quotes", "        do: Check the dashboards.", "        do: 'Don't panic, check the dashboards.'",
			"14:17: YAML syntax: this ' ends the quoted text 'Don', and more text follows it: to write ' inside '…', double it (Don''t)"},
		{"double quote in double quotes", "        do: Roll back the release.", `        do: "Say "rollback" in #ops"`,
			`16:18: YAML syntax: this " ends the quoted text "Say ", and more text follows it: to write " inside "…", escape it as \"`},
		{"leading dash", "        do: Roll back the release.", "        do: - roll back the release",
			`16:13: YAML syntax: unquoted text cannot start with "- " (YAML reads a list item): quote the text, as in "- roll back the release"`},
		{"list item left of the others", "      - id: fix\n        do: Roll back the release.", "    - id: fix\n      do: Roll back the release.",
			`15:5: YAML syntax: this list item's "-" is 2 left of the items above it: line it up with theirs (6 spaces)`},
		{"question mark in braces", "  bob: {name: Bob Dahl, slack: U0BOB0001}", "  bob: {name: Bob Dahl?, slack: U0BOB0001}",
			"4:23: YAML syntax: inside {…} a ? or , ends the text early"},
		// yaml.v3 names the line above an unclosed [ or {, in its own words.
		{"unclosed list", "    page: [commander]", "    page: [commander",
			"11:11: YAML syntax: this [ is not closed on its line: close it with ] at the end of the list"},
		{"unclosed mapping", "  bob: {name: Bob Dahl, slack: U0BOB0001}", "  bob: {name: Bob Dahl, slack: U0BOB0001",
			"4:8: YAML syntax: this { is not closed on its line: close it with } at the end of the mapping"},
		{"unclosed list on the last line", "        do: Roll back the release.", "        do: Roll back the release.\nreview:\n  owners: [alice",
			"18:11: YAML syntax: this [ is not closed on its line: close it with ] at the end of the list"},
		{"unclosed list on the first line", "version: 1", "version: [1",
			"1:10: YAML syntax: this [ is not closed on its line: close it with ] at the end of the list"},
		{"unclosed list inside a mapping, a quoted ] and a comment", "  bob: {name: Bob Dahl, slack: U0BOB0001}", "  bob: {name: \"Bob [Dahl]\", slack: [U0BOB0001} # [x]",
			"4:46: YAML syntax: this } cannot close the [ at column 36: close that with ]"},
		// yaml.v3 names the line below a key with no space after its colon.
		{"no space after a key's colon", "    title: Outage", "    title:API is down",
			`9:5: YAML syntax: a key needs ": " (a colon then a space) before its value: write title: API is down`},
		{"no space after the last key's colon", "        do: Roll back the release.", "        do:Roll back the release.",
			`16:9: YAML syntax: a key needs ": " (a colon then a space) before its value: write do: Roll back the release.`},
		{"no space after a key's colon, and a comment", "    severity: sev2", "    severity:sev1 # was sev2",
			`10:5: YAML syntax: a key needs ": " (a colon then a space) before its value: write severity: sev1`},
		{"no space after a block's first key's colon, and a comment", "    title: Outage", "    title:API is down\n    # the page",
			`9:5: YAML syntax: a key needs ": " (a colon then a space) before its value: write title: API is down`},
		{"no space after a list item key's colon", "      - id: fix", "      - id:fix\n\n",
			`15:9: YAML syntax: a key needs ": " (a colon then a space) before its value: write id: fix`},
		// yaml.v3 names no line for an alias of no anchor, a control
		// character or bytes that are not UTF-8, and the line a "…" began
		// on for a \ that starts no escape.
		{"alias of no anchor", "  commander: [alice, bob]", "  commander: *nope",
			"6:14: YAML syntax: *nope refers to no anchor &nope above it: define &nope before it, or quote the text if * was meant literally"},
		{"alias before its anchor, in a list", "  commander: [alice, bob]", "  commander: [alice, *b]\n  other: &b bob",
			"6:22: YAML syntax: *b refers to no anchor &b above it: define &b before it"},
		{"unknown escape", "        do: Roll back the release.", `        do: "Restart \q it"`,
			`16:22: YAML syntax: inside "…" a \ starts an escape (\n, \t, \", \\): write \\ for a backslash (C:\\path, a\\d+), or quote the text with ' instead, where \ is just a character`},
		{"a Windows path", "        do: Roll back the release.", `        do: "Run C:\users\ops\fix.bat"`,
			`16:20: YAML syntax: inside "…" a \ starts an escape`},
		{"a regex on the second line of a quoted text, after other quotes", "        do: Roll back the release.", "        do: {a: 'x\\q', b: \"y \\\\\", c: \"grep \\\n          a\\d+\"}",
			`17:12: YAML syntax: inside "…" a \ starts an escape`},
		{"a NUL byte", "        do: Roll back the release.", "        do: Roll back\x00 the release.",
			`16:22: YAML syntax: remove the control character (byte 0x00) at this column, just after "do: Roll back"; a plan is text`},
		{"a control character after other text", "    title: Outage", "    title: Outagé\x1b[0m",
			`9:18: YAML syntax: remove the control character (byte 0x1B) at this column, just after "title: Outagé"; a plan is text`},
		{"not UTF-8", "    title: Outage", "    title: Outag\xe9 \xe9",
			`9:17: YAML syntax: the file is not UTF-8 text (byte 0xE9): save it as UTF-8`},
		{"a broken UTF-8 sequence", "    title: Outage", "    title: Outagé\xc3",
			`9:18: YAML syntax: the file is not UTF-8 text (byte 0xC3): save it as UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := brokenPlanDiags(t, tc.old, tc.new)
			if len(got) == 0 || !strings.HasPrefix(got[0], "plan.yaml:"+tc.want) {
				t.Errorf("got %q\nwant plan.yaml:%s…", got, tc.want)
			}
		})
	}
	if _, diags := Parse("plan.yaml", []byte(syntaxPlan)); diags.Err() != nil {
		t.Fatalf("the base plan is not valid: %v", diags)
	}
}

// brokenPlanDiags parses syntaxPlan with old replaced by new and returns
// its diagnostics as plan check prints them.
func brokenPlanDiags(t *testing.T, old, new string) []string {
	t.Helper()
	src := strings.Replace(syntaxPlan, old, new, 1)
	if src == syntaxPlan {
		t.Fatalf("case does not change the plan")
	}
	_, diags := Parse("plan.yaml", []byte(src))
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	return got
}

// TestMissingDash: a list item written without its "-" merges into the item
// before it; that is said once, not as a duplicate key per field.
func TestMissingDash(t *testing.T) {
	src := strings.Replace(syntaxPlan, "      - id: fix", "        id: fix", 1)
	_, diags := Parse("plan.yaml", []byte(src))
	var dups []string
	for _, d := range diags {
		if strings.Contains(d.Message, "duplicate key") {
			dups = append(dups, d.String())
		}
	}
	if len(dups) != 1 || !strings.HasPrefix(dups[0], "plan.yaml:15:9: ") || !strings.Contains(dups[0], `begin it with "- "`) {
		t.Errorf("got %q; want one error at 15:9 saying a list item lacks its -", dups)
	}
}

func TestCommentCutsProse(t *testing.T) {
	got := brokenPlanDiags(t, "        do: Roll back the release.", "        do: Roll back (see runbook #42 first).")
	want := `plan.yaml:16:36: warning: do: YAML reads "#42 first)." as a comment, so the text ends at "Roll back (see runbook"; quote the whole text to keep it`
	if !slices.Contains(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	quoted := strings.Replace(syntaxPlan, "        do: Roll back the release.", `        do: "Roll back (see runbook #42 first)." # a real comment`, 1)
	if _, diags := Parse("plan.yaml", []byte(quoted)); len(diags) != 0 {
		t.Errorf("quoted text with a comment after it: %v, want nothing", diags)
	}
}

// TestFriendlierMessages: the smaller mistakes of a first plan, each said so
// that the fix is plain (issue 18, point 4).
func TestFriendlierMessages(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"a key short of its siblings below a list item with a colon", "        do: Roll back the release.", "        do: Roll back the release.\n      - db:5432\n   severity: sev2",
			"plan.yaml:18:4: YAML syntax: this key is indented 1 short of steps: above it, and lines up with no key there: line it up with steps: (4 spaces)"},
		{"indented too far", "        do: Check the dashboards.", "        do: Check the dashboards.\n         estimate: 5m",
			"plan.yaml:15:10: YAML syntax: this key is indented 1 more than do: above it, which already has its value: line it up with do: (8 spaces)"},
		{"indented too far under a list item", "        do: Roll back the release.", "         do: Roll back the release.",
			"plan.yaml:16:10: YAML syntax: this key is indented 1 more than id: above it, which already has its value: line it up with id: (8 spaces)"},
		{"indented too little", "        do: Check the dashboards.", "        do: Check the dashboards.\n      estimate: 5m",
			"plan.yaml:15:7: YAML syntax: this key is at the column of the list's \"-\": indent it 2 more to belong to the item above, or begin a new item with \"- \""},
		{"a key one space short of its siblings", "    severity: sev2", "   severity: sev2",
			"plan.yaml:10:4: YAML syntax: this key is indented 1 short of title: above it, and lines up with no key there: line it up with title: (4 spaces)"},
		{"a key one space further than the keys below it", "    title: Outage", "     title: Outage",
			"plan.yaml:9:6: YAML syntax: this key is indented 1 more than the keys below it: line it up with them (4 spaces)"},
		{"a step key between the list's - and the item's keys", "        do: Check the dashboards.", "        do: Check the dashboards.\n       estimate: 5m",
			"plan.yaml:15:8: YAML syntax: this key is indented 1 short of do: above it, and lines up with no key there: line it up with do: (8 spaces)"},
		{"percent without %", "    page: [commander]", "    page: [commander]\n    rto_alerts: [50, 80]",
			"plan.yaml:12:18: rto_alerts: 50 is not a fraction of the RTO: did you mean 50%?"},
		{"an id in another script", "  alice: {name: Alice Berg, slack: U0ALICE01}", "  أليس: {name: Alice Berg, slack: U0ALICE01}",
			`plan.yaml:3:3: contact id "أليس": use the letters a-z and A-Z (no accents or other scripts), digits, "-", "_" or ".", starting with a letter or digit (ids are typed in commands; names and titles may be in any script)`},
		{"a scenario id with an accent", "  outage:", "  panne-réseau:",
			`plan.yaml:8:3: scenario id "panne-réseau": use the lowercase letters a-z (no accents or other scripts), digits, "-" and "_", starting with a letter or digit: it becomes part of the incident's Slack channel name (the title may be in any script)`},
		{"a page of text where a word goes", "    severity: sev2", "    severity: " + strings.Repeat("S", 5000),
			`plan.yaml:10:15: severity: "` + strings.Repeat("S", 200) + `…" is not one of sev1, sev2, sev3, sev4`},
		{"a mapping of one key with no space after its colon", "  commander: [alice, bob]", "  commander:[alice, bob]",
			`plan.yaml:6:3: roles: want a mapping, got "commander:[alice, bob]": a key needs ": " (a colon then a space) before its value: write commander: [alice, bob]`},
		// Quoted text may go on over lines, and yaml.v3 reads it even
		// when its lines are not indented more than its key.
		{"a quote closed lines later swallows a key", "        do: Check the dashboards.", "        do: \"Check the dashboards\n        estimate: 10m\n        and the logs.\"",
			"plan.yaml:14:13: do: the \" opened here closes on line 16, so estimate: on line 15 is part of the text: close the quote on this line (text that goes on over lines: indent its lines more than do:)"},
		{"a quote closed lines later swallows the next step", "        do: Check the dashboards.", "        do: 'Check the dashboards\n      - id: logs\n        do: Read the logs.'",
			"plan.yaml:14:13: do: the ' opened here closes on line 16, so - id: on line 15 is part of the text: close the quote on this line (text that goes on over lines: indent its lines more than do:)"},
		{"a quote closed lines later swallows the next scenario", "    title: Outage", "    title: \"Outage\n  other:\n    title: Other\"",
			"plan.yaml:9:12: title: the \" opened here closes on line 11, so other: on line 10 is part of the text: close the quote on this line (text that goes on over lines: indent its lines more than title:)"},
		{"cron with seconds", "scenarios:", "review: {schedule: \"0 0 9 * * 1\", owners: [alice]}\nscenarios:",
			`plan.yaml:7:20: schedule: bad schedule "0 0 9 * * 1": 6 fields, but drbot's schedules have 5 (minute hour day month weekday): drop the seconds field, as in "0 9 * * 1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := brokenPlanDiags(t, tc.old, tc.new)
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestSpacelessKeyInBraces: inside {…} a key without the space after its
// colon is one key with no value to YAML ("name:Alice Berg"). That is said
// once, as for a key on its own line, and its value is checked as if
// written right: no "missing required key" or "unknown key" beside it.
func TestSpacelessKeyInBraces(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"a required key", "  alice: {name: Alice Berg, slack: U0ALICE01}", "  alice: {name:Alice Berg, slack: U0A}",
			[]string{`plan.yaml:3:11: contact "alice": a key needs ": " (a colon then a space) before its value: write name: Alice Berg`}},
		{"its value is checked where it is", "  alice: {name: Alice Berg, slack: U0ALICE01}", "  alice: {name: Alice Berg, slack:bad}",
			[]string{`plan.yaml:3:29: contact "alice": a key needs ": " (a colon then a space) before its value: write slack: bad`,
				`plan.yaml:3:35: slack: "bad" is not a Slack member ID: copy it from the person's Slack profile (⋮ → Copy member ID); it looks like U0123ABCD`}},
		{"in a step", "      - id: fix", "      - {id:fix, do: Roll back.}\n      - id: fix2",
			[]string{`plan.yaml:15:10: step 2: a key needs ": " (a colon then a space) before its value: write id: fix`}},
		{"a misspelt key", "  alice: {name: Alice Berg, slack: U0ALICE01}", "  alice: {nmae:Alice Berg, slack: U0ALICE01}",
			[]string{`plan.yaml:3:3: contact "alice": missing required key "name"`,
				`plan.yaml:3:11: unknown key "nmae" in contact "alice"; did you mean "name"? (and a key needs ": " (a colon then a space) before its value: write nmae: Alice Berg)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := brokenPlanDiags(t, tc.old, tc.new)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestSchemaExplainsPatterns: editors show words, not regular expressions.
func TestSchemaExplainsPatterns(t *testing.T) {
	s := string(Schema())
	for _, want := range []string{
		`"patternErrorMessage": "Write a duration such as 90s, 10m, 1h30m or 14d."`,
		`no seconds field`,
		`"patternErrorMessage": "A Slack member ID starts with U or W`,
		`"errorMessage": "A contact needs slack (a member ID such as U0ALICE01) or email`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the schema lacks %s", want)
		}
	}
	if strings.Count(s, `"pattern":`) != strings.Count(s, `"patternErrorMessage":`) {
		t.Errorf("%d patterns but %d patternErrorMessage: every pattern needs its words", strings.Count(s, `"pattern":`), strings.Count(s, `"patternErrorMessage":`))
	}
}

// TestMisalignedQuietOnValidPlans: the indentation check finds nothing in
// plans YAML reads, with lists at their key's column, block text, flow
// mappings over lines and plain text over lines.
func TestMisalignedQuietOnValidPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, "../examples/plan.yaml", "testdata/specexample.yaml")
	srcs := map[string]string{"inline": `scenarios:
  outage:
    title: Outage
    steps:
    - id: check
      do: |
        Check:
           the dashboards
      # a comment at any column
          # another
      ask: {question: Is it
        down?, x: y}
    - id: fix
      do: Roll back
        the release.
  other:
    title: Other
`}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = string(b)
	}
	for name, src := range srcs {
		lines := strings.Split(src, "\n")
		for line := 1; line <= len(lines); line++ {
			if c, ok := misaligned(lines, line); ok {
				t.Errorf("%s from line %d: %d:%d: %s", name, line, c.line, c.col, c.msg)
				break
			}
		}
	}
}

// TestQuoteSwallowsQuietOnValidPlans: quoted text over lines indented more
// than its key, or closed on its first line, is no mistake.
func TestQuoteSwallowsQuietOnValidPlans(t *testing.T) {
	src := strings.Replace(syntaxPlan, "        do: Check the dashboards.", `        do: "Check the dashboards:
          estimate: the one on the wall, not in the
          runbook; and \"the logs\"."
        ask: 'Is it down:
           it''s down: yes or no?'
        answers: {"yes: down": fix, 'no: up': fix}
        estimate: "10m"`, 1)
	if _, diags := Parse("plan.yaml", []byte(src)); len(diags) != 0 {
		t.Errorf("got %v, want nothing", diags)
	}
}
