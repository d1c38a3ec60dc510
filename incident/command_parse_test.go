package incident_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want incident.Command
		err  string // substring of the error message; "" for none
	}{
		{"", incident.Command{Name: "help"}, ""},
		{"   \t\n ", incident.Command{Name: "help"}, ""},
		{"help", incident.Command{Name: "help"}, ""},
		{"HELP me please", incident.Command{Name: "help"}, ""},
		{"declare", incident.Command{Name: "declare"}, ""},
		{"declare db-corruption", incident.Command{Name: "declare", Scenario: "db-corruption"}, ""},
		{"  Declare   db-corruption   Primary  is\tdown \n", incident.Command{Name: "declare", Scenario: "db-corruption", Text: "Primary  is\tdown"}, ""},
		{"declare db-corruption line one\nline two", incident.Command{Name: "declare", Scenario: "db-corruption", Text: "line one\nline two"}, ""},
		{"drill region-loss", incident.Command{Name: "drill", Scenario: "region-loss"}, ""},
		{"declare\u00a0db-corruption\u2003summary", incident.Command{Name: "declare", Scenario: "db-corruption", Text: "summary"}, ""},
		{"status", incident.Command{Name: "status"}, ""},
		{"status please", incident.Command{}, "/incident status takes nothing after it"},
		{"list", incident.Command{Name: "list"}, ""},
		{"scenarios", incident.Command{Name: "scenarios"}, ""},
		{"review", incident.Command{Name: "review"}, ""},
		{"note <!channel> & friends", incident.Command{Name: "note", Text: "<!channel> & friends"}, ""},
		{"note", incident.Command{}, "Write the note after the command"},
		{"note " + strings.Repeat("ø", 3000), incident.Command{Name: "note", Text: strings.Repeat("ø", 3000)}, ""},
		{"note " + strings.Repeat("ø", 3001), incident.Command{}, "The note is 3001 characters long; the limit is 3000."},
		{"page executor", incident.Command{Name: "page", Target: "executor"}, ""},
		{"page <@U123|Bob Dahl>", incident.Command{Name: "page", Target: "<@U123|Bob Dahl>"}, ""},
		{"page <@U123>", incident.Command{Name: "page", Target: "<@U123>"}, ""},
		{"page @bob", incident.Command{Name: "page", Target: "@bob"}, ""},
		{"page", incident.Command{}, "Say whom to page"},
		{"page a b", incident.Command{}, "Page one role or person at a time"},
		{"page <@U123|Bob> extra", incident.Command{}, "Page one role or person at a time"},
		{"resolve", incident.Command{Name: "resolve"}, ""},
		{"resolve restored from snapshot", incident.Command{Name: "resolve", Text: "restored from snapshot"}, ""},
		{"delcare db", incident.Command{}, "Unknown command \"delcare\". Did you mean `/incident declare`?"},
		{"acknowledge", incident.Command{Name: incident.CmdAck}, ""},
		{"Acknowledge now", incident.Command{}, "/incident ack takes nothing after it"},
		{"stauts", incident.Command{}, "Did you mean `/incident status`?"},
		{"<@U123>", incident.Command{}, `Unknown command "<@U123>"`},
		{"<!here>", incident.Command{}, `Unknown command "&lt;!here&gt;"`},
		{"note a\x00b\x1bc\u0085d", incident.Command{Name: "note", Text: "abcd"}, ""},
		{"note \xff\xfe", incident.Command{Name: "note", Text: "\uFFFD"}, ""}, // a sequence of bad bytes is one replacement
	}
	for _, tt := range tests {
		got, err := incident.ParseCommand(tt.text)
		if tt.err != "" {
			if incident.ErrorCode(err) != incident.EINVALID || !strings.Contains(incident.ErrorMessage(err), tt.err) {
				t.Errorf("ParseCommand(%.40q) error = %v, want EINVALID with %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCommand(%.40q): %v", tt.text, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCommand(%.40q) (-want +got):\n%s", tt.text, diff)
		}
	}
}

var commandNames = map[string]bool{
	"declare": true, "drill": true, "status": true, "note": true, "page": true, "resolve": true,
	"list": true, "scenarios": true, "review": true, "help": true, "ack": true, "deny": true, "web": true,
	"recovery-point": true, "began": true, "impact": true, "cause": true, "action": true, "stats": true,
}

// FuzzParseCommand: any text gives a known command or an EINVALID error,
// never a panic, and what it returns is clean.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "declare db-corruption x", "note <!here>", "page <@U1|a b>", "resolve \xff", "drill\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := incident.ParseCommand(text)
		if err != nil {
			if incident.ErrorCode(err) != incident.EINVALID {
				t.Fatalf("ParseCommand(%q): error %v is not EINVALID", text, err)
			}
			if !utf8.ValidString(incident.ErrorMessage(err)) {
				t.Fatalf("ParseCommand(%q): message is not UTF-8", text)
			}
			return
		}
		if !commandNames[c.Name] {
			t.Fatalf("ParseCommand(%q): unknown name %q", text, c.Name)
		}
		for _, s := range []string{c.Scenario, c.Target, c.Text} {
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
				t.Fatalf("ParseCommand(%q) = %+v: a field is not trimmed UTF-8", text, c)
			}
			if utf8.RuneCountInString(s) > incident.MaxText {
				t.Fatalf("ParseCommand(%q): a field is longer than %d", text, incident.MaxText)
			}
		}
		if strings.ContainsAny(c.Scenario, " \t\n") {
			t.Fatalf("ParseCommand(%q): scenario %q has spaces", text, c.Scenario)
		}
		again, err := incident.ParseCommand(text)
		if err != nil || again != c {
			t.Fatalf("ParseCommand(%q) is not deterministic", text)
		}
	})
}
