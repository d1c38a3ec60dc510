package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

func TestRender(t *testing.T) {
	m := incident.Message{
		Text:    "*You are paged* for inc-3\nsecond line",
		Fields:  []incident.Field{{Label: "Role", Value: "executor"}, {Label: "RTO", Value: "2h"}},
		Context: "drbot · incident 3",
		Buttons: []incident.Button{
			{Label: "Acknowledge", Action: "ack/3/executor", Style: "primary"},
			{Label: "Deny", Action: "deny/3/restore", Style: "danger"},
			{Label: "Skip", Action: "skip/3/restore"},
		},
	}
	blocks, text, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if text != "*You are paged* for inc-3" {
		t.Errorf("fallback text = %q", text)
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*You are paged* for inc-3\nsecond line"}},
		{"type": "section", "fields": []any{
			map[string]any{"type": "mrkdwn", "text": "*Role*\nexecutor"},
			map[string]any{"type": "mrkdwn", "text": "*RTO*\n2h"},
		}},
		{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": "drbot · incident 3"}}},
		{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "action_id": "drbot-0", "value": "ack/3/executor", "style": "primary", "text": map[string]any{"type": "plain_text", "text": "Acknowledge", "emoji": false}},
			map[string]any{"type": "button", "action_id": "drbot-1", "value": "deny/3/restore", "style": "danger", "text": map[string]any{"type": "plain_text", "text": "Deny", "emoji": false}},
			map[string]any{"type": "button", "action_id": "drbot-2", "value": "skip/3/restore", "text": map[string]any{"type": "plain_text", "text": "Skip", "emoji": false}},
		}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("blocks (-got +want):\n%s", diff)
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("line of text\n", 500) + "end" // 6503 characters
	var buttons []incident.Button
	for i := range 30 {
		buttons = append(buttons, incident.Button{Label: strings.Repeat("L", 100), Action: "a/" + strings.Repeat("x", i)})
	}
	var fields []incident.Field
	for range 12 {
		fields = append(fields, incident.Field{Label: "F", Value: strings.Repeat("v", 2500)})
	}
	// Text and buttons fit: the text is split, whole.
	blocks, _, err := Render(incident.Message{Text: long, Buttons: buttons})
	if err != nil {
		t.Fatal(err)
	}
	sections, _, actions, ids, chunks := checkBlocks(t, blocks)
	if sections != 3 || actions != 2 || len(ids) != 30 {
		t.Errorf("got %d text sections, %d action blocks, %d buttons; want 3, 2, 30", sections, actions, len(ids))
	}
	if got := strings.Join(chunks, "\n"); got != long {
		t.Errorf("the split text does not add up to the message (%d vs %d characters)", len(got), len(long))
	}

	// With 30,000 characters of fields the message is too heavy for
	// Slack: it is shortened, visibly, and keeps every button.
	blocks, _, err = Render(incident.Message{Text: long, Fields: fields, Buttons: buttons})
	if err != nil {
		t.Fatal(err)
	}
	sections, fieldSections, actions, ids, chunks := checkBlocks(t, blocks)
	if fieldSections != 2 || actions != 2 || len(ids) != 30 {
		t.Errorf("got %d text sections, %d field sections, %d action blocks, %d buttons; want 2 field sections, 2, 30", sections, fieldSections, actions, len(ids))
	}
	if text := strings.Join(chunks, "\n"); !strings.HasSuffix(text, ShortenedNote) {
		t.Errorf("shortened text does not say so: ends %q", text[max(0, len(text)-60):])
	}
	if w := weight(blocks); w > slacklimit.MessageBlockText {
		t.Errorf("message weighs %d, Slack takes %d", w, slacklimit.MessageBlockText)
	}

	_, _, err = Render(incident.Message{Text: "x", Buttons: []incident.Button{{Label: "Go", Action: strings.Repeat("a", 2001)}}})
	if err == nil {
		t.Errorf("a 2001-character action rendered; it must fail, not be cut")
	}
}

// checkBlocks checks each block against Slack's limits and counts them.
func checkBlocks(t *testing.T, blocks []slack.Block) (sections, fieldSections, actions int, ids map[string]bool, chunks []string) {
	t.Helper()
	ids = map[string]bool{}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				sections++
				if n := utf8.RuneCountInString(b.Text.Text); n > maxSectionText {
					t.Errorf("section of %d characters", n)
				}
				chunks = append(chunks, b.Text.Text)
			}
			if len(b.Fields) > 0 {
				fieldSections++
				if len(b.Fields) > maxFields {
					t.Errorf("section with %d fields", len(b.Fields))
				}
				for _, f := range b.Fields {
					if n := utf8.RuneCountInString(f.Text); n > maxFieldText {
						t.Errorf("field of %d characters", n)
					}
				}
			}
		case *slack.ActionBlock:
			actions++
			if n := len(b.Elements.ElementSet); n > maxButtons {
				t.Errorf("actions block of %d buttons", n)
			}
			for _, e := range b.Elements.ElementSet {
				btn := e.(*slack.ButtonBlockElement)
				if ids[btn.ActionID] {
					t.Errorf("duplicate action id %s", btn.ActionID)
				}
				ids[btn.ActionID] = true
				if n := utf8.RuneCountInString(btn.Text.Text); n > maxButtonLabel {
					t.Errorf("button label of %d characters", n)
				}
			}
		}
	}
	return sections, fieldSections, actions, ids, chunks
}

// A 3,000-character summary of &, < and > escapes to 15,000 characters:
// no piece of it may end inside an escape, and the pieces add up.
func TestSplitTextNeverCutsAnEscape(t *testing.T) {
	summary := strings.Repeat("&<>", 1000)
	text := "*Incident #1: API down*\n" + strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(summary)
	chunks := splitText(text, maxSectionText)
	for i, c := range chunks {
		if n := utf8.RuneCountInString(c); n > maxSectionText {
			t.Errorf("piece %d of %d characters", i, n)
		}
		if Unescape(c) == c && strings.ContainsAny(c, "&") {
			t.Errorf("piece %d holds a bare &", i)
		}
		if strings.Count(c, "&") != strings.Count(c, ";") {
			t.Errorf("piece %d cuts an escape: ends %q, starts %q", i, c[max(0, len(c)-8):], c[:min(8, len(c))])
		}
	}
	if got := strings.Join(chunks, ""); got != text {
		t.Errorf("pieces do not add up to the text")
	}
	// Mentions, links and multi-byte characters are whole in every piece.
	link := "<https://status.example/" + strings.Repeat("p", 40) + "|status page>"
	text = strings.Repeat("🚒 <@U0BEN0001|ben> "+link+" שלום ", 80)
	for i, c := range splitText(text, 500) {
		if !utf8.ValidString(c) {
			t.Errorf("piece %d cuts a character", i)
		}
		if strings.Count(c, "<") != strings.Count(c, ">") {
			t.Errorf("piece %d cuts a mention or link: %q", i, c)
		}
	}
	// A piece is cut at a line break, else at a space, when there is one.
	words := strings.Repeat("word ", 1000)
	for i, c := range splitText(words, maxSectionText) {
		if strings.HasSuffix(c, "wor") || strings.HasPrefix(c, "d") {
			t.Errorf("piece %d cuts a word", i)
		}
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		m    incident.Message
		want string
	}{
		{incident.Message{Text: "\n\nfirst\nsecond"}, "first"},
		{incident.Message{Fields: []incident.Field{{Label: "Role", Value: "exec"}}}, "Role: exec"},
		{incident.Message{Context: "small"}, "small"},
		{incident.Message{}, "drbot"},
	}
	for _, tt := range tests {
		if got := fallback(tt.m); got != tt.want {
			t.Errorf("fallback(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, escaped string }{
		{"<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;"},
		{"a &amp; b", "a &amp;amp; b"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.escaped {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.escaped)
		}
		if got := Unescape(Escape(tt.in)); got != tt.in {
			t.Errorf("Unescape(Escape(%q)) = %q", tt.in, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo wörld", 6); got != "héllo…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("short", 6); got != "short" {
		t.Errorf("truncate = %q", got)
	}
}

// A message that says where its rest is ends with that instead.
func TestRenderShortenedSaysWhere(t *testing.T) {
	m := incident.Message{Text: strings.Repeat("contact ", 3000), More: "…; the rest is in the plan file",
		Buttons: []incident.Button{{Label: "Confirm", Action: "review|confirm|1"}}}
	blocks, _, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	_, _, actions, _, chunks := checkBlocks(t, blocks)
	if text := strings.Join(chunks, "\n"); actions != 1 || !strings.HasSuffix(text, "\n…; the rest is in the plan file") {
		t.Errorf("%d action blocks; text ends %q", actions, text[max(0, len(text)-50):])
	}
}
