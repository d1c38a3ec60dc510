package bot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/bot/slacklimit"
	"github.com/drbot-dev/drbot/incident"
)

// Block Kit limits rendering keeps within (package slacklimit says where
// each comes from).
const (
	maxSectionText = slacklimit.SectionText
	maxFieldText   = slacklimit.FieldText
	maxFields      = slacklimit.SectionFields
	maxButtonLabel = slacklimit.ButtonText
	maxButtonValue = slacklimit.ButtonValue
	maxButtons     = slacklimit.ActionsElements
	maxBlocks      = slacklimit.MessageBlocks
	// maxFallback bounds the notification text (chat text may hold
	// 40,000; a notification shows a line).
	maxFallback = 3000
)

// ShortenedNote ends a message's text that was cut to fit Slack's size of
// one message, so that people see something is missing and where it is,
// unless the message says otherwise (incident.Message.More).
const ShortenedNote = "…; the rest is in the postmortem"

// A bundled message's Acknowledge buttons fit in one actions block.
var _ [slacklimit.ActionsElements - incident.MaxBundle]struct{}

// renderError is returned when a message cannot be shown in Slack, e.g. a
// button's action that does not fit in its value: truncating it would
// make the press mean something else. Retrying cannot help.
type renderError struct{ msg string }

func (e *renderError) Error() string { return e.msg }

// Render turns an incident.Message into Block Kit blocks and the plain
// fallback text Slack uses for notifications (the message's first line).
// The message's text is already escaped mrkdwn.
//
// Long text is split into sections at line or word breaks, never inside
// an escape, a mention, a link or a character. A message heavier than
// Slack takes (slacklimit.MessageBlockText) keeps its buttons: its text
// is shortened and ends with ShortenedNote, then its fields are cut.
func Render(m incident.Message) ([]slack.Block, string, error) {
	buttons, err := buttonBlocks(m.Buttons)
	if err != nil {
		return nil, "", err
	}
	blocks := assemble(m, buttons)
	if over := weight(blocks) - slacklimit.MessageBlockText; over > 0 {
		note := m.More
		if note == "" {
			note = ShortenedNote
		}
		// A few tries: the pieces of the shorter text may drop fewer
		// line breaks and spaces at their cuts than the longer one did.
		for try := 0; try < 3 && over > 0; try++ {
			m.Text = shorten(m.Text, max(slacklimit.Len(m.Text)-over, 0), note)
			blocks = assemble(m, buttons)
			over = weight(blocks) - slacklimit.MessageBlockText
		}
		// Then the fields, each as much as the others, until it fits
		// (the "…" of each cut weighs too: a few tries).
		for try := 0; try < 4 && len(m.Fields) > 0; try++ {
			over := weight(blocks) - slacklimit.MessageBlockText
			if over <= 0 {
				break
			}
			per := max(textBudgetPerField(m.Fields, over+len(m.Fields)), 1)
			fields := make([]incident.Field, len(m.Fields))
			for i, f := range m.Fields {
				fields[i] = incident.Field{Label: truncate(f.Label, 100), Value: truncate(f.Value, per)}
			}
			m.Fields = fields
			blocks = assemble(m, buttons)
		}
		if w := weight(blocks); w > slacklimit.MessageBlockText {
			return nil, "", &renderError{fmt.Sprintf("message of %d characters of blocks, Slack takes about %d", w, slacklimit.MessageBlockText)}
		}
	}
	if len(blocks) > maxBlocks {
		return nil, "", &renderError{fmt.Sprintf("message of %d blocks, Slack takes %d", len(blocks), maxBlocks)}
	}
	return blocks, fallback(m), nil
}

// assemble lays a message out: its text in sections, its fields ten to a
// section, its small print, its buttons.
func assemble(m incident.Message, buttons []slack.Block) []slack.Block {
	var blocks []slack.Block
	for _, chunk := range splitText(m.Text, maxSectionText) {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil))
	}
	for i := 0; i < len(m.Fields); i += maxFields {
		var fields []*slack.TextBlockObject
		for _, f := range m.Fields[i:min(i+maxFields, len(m.Fields))] {
			text := truncate("*"+f.Label+"*\n"+f.Value, maxFieldText)
			fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	if strings.TrimSpace(m.Context) != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, truncate(m.Context, maxSectionText), false, false)))
	}
	return append(blocks, buttons...)
}

// buttonBlocks lays buttons out 25 to an actions block.
func buttonBlocks(buttons []incident.Button) ([]slack.Block, error) {
	var blocks []slack.Block
	for i := 0; i < len(buttons); i += maxButtons {
		var els []slack.BlockElement
		for j, b := range buttons[i:min(i+maxButtons, len(buttons))] {
			if n := slacklimit.Len(b.Action); n > maxButtonValue {
				return nil, &renderError{fmt.Sprintf("button %q: action of %d characters does not fit in a Slack button value (%d)", truncate(b.Label, 40), n, maxButtonValue)}
			}
			label := truncate(b.Label, maxButtonLabel)
			if strings.TrimSpace(label) == "" {
				label = "?"
			}
			// Action ids must be unique within a message; the action
			// itself travels in the value.
			el := slack.NewButtonBlockElement("drbot-"+strconv.Itoa(i+j), b.Action, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
			switch b.Style {
			case "primary":
				el = el.WithStyle(slack.StylePrimary)
			case "danger":
				el = el.WithStyle(slack.StyleDanger)
			}
			els = append(els, el)
		}
		blocks = append(blocks, slack.NewActionBlock("", els...))
	}
	return blocks, nil
}

// weight is what blocks weigh against slacklimit.MessageBlockText.
func weight(blocks []slack.Block) int {
	raw, err := json.Marshal(blocks)
	if err != nil {
		return 0
	}
	return slacklimit.BlockText(raw)
}

// textBudgetPerField is how long each field's value may stay for the
// fields to lose over characters between them.
func textBudgetPerField(fields []incident.Field, over int) int {
	total := 0
	for _, f := range fields {
		total += min(slacklimit.Len(f.Value), maxFieldText)
	}
	return (total - over) / len(fields)
}

// fallback is the notification text: the first non-empty line of the
// message, or of its fields when it has no text.
func fallback(m incident.Message) string {
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.TrimSpace(line) != "" {
			return truncate(line, maxFallback)
		}
	}
	for _, f := range m.Fields {
		return truncate(f.Label+": "+f.Value, maxFallback)
	}
	if m.Context != "" {
		return truncate(m.Context, maxFallback)
	}
	return "drbot"
}

// splitText cuts mrkdwn text into pieces of at most max characters, at a
// line break, else a space, where there is one in the second half of the
// piece, never inside an escape (&amp;), a mention or link (<…>) or a
// character. The line break or space cut at is dropped.
func splitText(text string, max int) []string {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var out []string
	for slacklimit.Len(text) > max {
		cut := cutPoint(text, max, true)
		out = append(out, text[:cut])
		text = text[cut:]
		if strings.HasPrefix(text, "\n") || strings.HasPrefix(text, " ") {
			text = text[1:]
		}
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// cutPoint returns the byte offset at which to cut s so that s[:cut] has
// at most max characters and ends at no escape, mention, link or
// character's middle; with breaks, at a line break or space when one is
// in the second half. It is never 0 for a non-empty s and max > 0, unless
// s starts with markup longer than max (then it cuts at max).
func cutPoint(s string, max int, breaks bool) int {
	limit := byteIndexOfRune(s, max)
	if limit >= len(s) {
		return len(s)
	}
	cut := limit
	if breaks {
		if nl := strings.LastIndexByte(s[:limit], '\n'); nl > limit/2 {
			cut = nl
		} else if sp := strings.LastIndexByte(s[:limit], ' '); sp > limit/2 {
			cut = sp
		}
	}
	// Inside <…>: cut before it.
	if lt := strings.LastIndexByte(s[:cut], '<'); lt >= 0 && !strings.Contains(s[lt:cut], ">") {
		cut = lt
	}
	// Inside &amp; &lt; &gt;: cut before it.
	if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && cut-amp < len("&amp;") && !strings.Contains(s[amp:cut], ";") {
		cut = amp
	}
	if cut == 0 {
		cut = limit
	}
	return cut
}

// shorten cuts mrkdwn text to at most max characters, note included, at
// a safe point (cutPoint) and ends it with the note.
func shorten(s string, max int, note string) string {
	if slacklimit.Len(s) <= max {
		return s
	}
	keep := max - slacklimit.Len(note) - 1
	if keep <= 0 {
		return note
	}
	return strings.TrimRight(s[:cutPoint(s, keep, true)], " \n") + "\n" + note
}

// truncate shortens s to at most max characters, ending with "…" when
// cut; mrkdwn is cut at a safe point (cutPoint).
func truncate(s string, max int) string {
	if slacklimit.Len(s) <= max {
		return s
	}
	return s[:cutPoint(s, max-1, false)] + "…"
}

// byteIndexOfRune returns the byte offset of the n-th rune of s.
func byteIndexOfRune(s string, n int) int {
	i := 0
	for pos := range s {
		if i == n {
			return pos
		}
		i++
	}
	return len(s)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes text safe to put in a Slack message: "<!channel>" typed by
// someone shows as typed and pings nobody.
func Escape(s string) string { return escaper.Replace(s) }

var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// Unescape undoes Slack's escaping of &, < and > in text it sends (slash
// command text, message text), so that the incident service, which
// escapes whatever it posts, does not escape twice. Slack's markup for
// members, channels and links (<@U…|name>) stays, and the service keeps
// it working (incident's text rule).
func Unescape(s string) string { return unescaper.Replace(s) }
