package incident

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Inputs are what Slack sends for text people typed (should_escape: true),
// once the bot has undone Slack's escaping of &, < and >.
func TestEscapeKeepsMentionsAndLinks(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ask <@U0BEN0001|ben> in <#C0OPS0001|ops>", "ask <@U0BEN0001|ben> in <#C0OPS0001|ops>"},
		{"see <https://status.example|status page>", "see <https://status.example|status page>"},
		{"mail <mailto:ops@example.com|ops@example.com>", "mail <mailto:ops@example.com|ops@example.com>"},
		{"<https://x.example/?a=1&b=2|R&D>", "<https://x.example/?a=1&amp;b=2|R&amp;D>"},
		{"<!channel> <!here> <!everyone> <!subteam^S0OPS|@oncall>", "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;!subteam^S0OPS|@oncall&gt;"},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"&amp; typed as is", "&amp;amp; typed as is"},
		{"<@u0lower> <@U> <#nope> <javascript:alert(1)|x>", "&lt;@u0lower&gt; &lt;@U&gt; &lt;#nope&gt; &lt;javascript:alert(1)|x&gt;"},
		{"<@<!channel>", "&lt;@&lt;!channel&gt;"},
		{"<https://a.example\n|x>", "&lt;https://a.example\n|x&gt;"},
		{"<@U0BEN0001|ben", "&lt;@U0BEN0001|ben"},
	} {
		if got := escape(c.in); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReadable(t *testing.T) {
	names := map[string]string{"U0BEN0001": "Ben Dahl"}
	for _, c := range []struct{ in, want string }{
		{"ask <@U0BEN0001|ben> in <#C0OPS0001|ops>", "ask @Ben Dahl in #ops"},
		{"<@U0EVA0001|eva> and <@U0XYZ0001>", "@eva and @U0XYZ0001"},
		{"see <https://status.example|status page> or <https://x.example>", "see [status page](https://status.example) or https://x.example"},
		{"<mailto:ops@example.com|ops@example.com>", "[ops@example.com](mailto:ops@example.com)"},
		{"<!channel> <!here> <!subteam^S0OPS|@oncall>", "@channel @here @oncall"},
		{"a < b & c", "a < b & c"},
	} {
		if got := Readable(c.in, func(id string) string { return names[id] }); got != c.want {
			t.Errorf("Readable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkdownShowsMentionsReadable(t *testing.T) {
	pm := &Postmortem{
		ID: 1, Title: "API down", Summary: "<!channel> ask <@U0BEN0001|ben> in <#C0OPS0001|ops>",
		Names:    map[string]string{"U0BEN0001": "Ben Dahl"},
		Timeline: []PMEvent{{At: "2026-11-21T10:00:00Z", Kind: "note", Text: "see <https://status.example|status page> | <@U0EVA0001|eva>"}},
	}
	md := pm.Markdown()
	for _, want := range []string{
		"@channel ask @Ben Dahl in #ops\n",
		`| see [status page](https://status.example) \| @eva |`,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// "/incident scenarios" with 120 long-titled scenarios (45,543 characters
// once) stays within one Slack message and says what it left out.
func TestScenariosTextManyLongTitles(t *testing.T) {
	var infos []ScenarioInfo
	for i := range 120 {
		infos = append(infos, ScenarioInfo{
			ID:      fmt.Sprintf("outage-of-the-payments-platform-in-region-%03d", i),
			Title:   strings.Repeat("🔥 Outage of the payments platform & <everything> behind it ", 6),
			Service: "שירות-תשלומים", Severity: "sev1", RTO: 2 * time.Hour,
		})
	}
	got := scenariosText(infos)
	if n := utf8.RuneCountInString(got); n > maxListText {
		t.Errorf("%d characters, want at most %d", n, maxListText)
	}
	shown := strings.Count(got, "\n• ")
	if shown < 50 || !strings.HasSuffix(got, fmt.Sprintf("…and %d more: the `/incident declare` dialog finds any of them as you type part of its id or title.", 120-shown)) {
		t.Errorf("%d shown; ends %q", shown, got[len(got)-200:])
	}
	if !strings.Contains(got, "🔥 Outage of the payments platform &amp; &lt;everything&gt; behind it …") {
		t.Errorf("titles not cut at %d characters, escaped once: %.300q", maxListTitle, got)
	}
	if strings.Contains(got, "&amp;amp;") {
		t.Errorf("escaped twice")
	}
}

func TestAndList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"commander"}, "commander"},
		{[]string{"commander", "executor"}, "commander and executor"},
		{[]string{"dba", "commander", "executor"}, "dba, commander and executor"},
	} {
		if got := andList(tc.in); got != tc.want {
			t.Errorf("andList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMarkdownOfTypedText: what people typed shows as typed in the
// postmortem's Markdown: HTML, link syntax and backslashes escaped, Slack's
// own links as Markdown links, a user group without its handle by its id,
// and right-to-left controls closed at the end of the text.
func TestMarkdownOfTypedText(t *testing.T) {
	w := &mdWriter{pm: &Postmortem{Names: map[string]string{"U1": "Ben [ops]"}}}
	for in, want := range map[string]string{
		"see [x](javascript:alert(1)) or <b>": `see \[x\](javascript:alert(1)) or \<b>`,
		`C:\path`:                             `C:\\path`,
		"<https://x.example/a?b=1|the [doc]>": `[the \[doc\]](https://x.example/a?b=1)`,
		"<@U1> and <!subteam^S0123>":          `@Ben \[ops\] and @S0123`,
		"abc \u202edcba":                      "abc \u202edcba\u202c",
		"\u2067rtl\u2069 done":                "\u2067rtl\u2069 done",
		"line one\nline two":                  "line one line two",
		// Typed, not Slack's: no link comes out of an entity's id or URL.
		"<![x](javascript:alert(1))>":                 `@\[x\](javascript:alert(1))`,
		"<!subteam^[x](javascript:alert(1))>":         `@\[x\](javascript:alert(1))`,
		"<https://a.example/)[x](javascript:a|label>": `[label](https://a.example/%29%5Bx%5D%28javascript:a)`,
	} {
		if got := w.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := w.cell("a|b <c>"); got != `a\|b \<c>` {
		t.Errorf("cell = %q", got)
	}
}
