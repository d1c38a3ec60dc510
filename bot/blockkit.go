package bot

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/drbot-dev/drbot/incident"
)

// Slack's Block Kit limits that rendering keeps within.
const (
	maxSectionText = 3000 // a section's text
	maxFieldText   = 2000 // one field of a section
	maxFields      = 10   // fields per section
	maxButtonLabel = 75   // a button's text
	maxButtonValue = 2000 // a button's value
	maxActionID    = 255
	maxButtons     = 25 // elements of an actions block
	maxBlocks      = 50 // blocks of a message
	maxFallback    = 3000
)

// renderError is returned when a message cannot be shown in Slack, e.g. a
// button's action that does not fit in its value: truncating it would
// make the press mean something else. Retrying cannot help.
type renderError struct{ msg string }

func (e *renderError) Error() string { return e.msg }

// Render turns an incident.Message into Block Kit blocks and the plain
// fallback text Slack uses for notifications (the message's first line).
// The message's text is already escaped mrkdwn.
func Render(m incident.Message) ([]slack.Block, string, error) {
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
	for i := 0; i < len(m.Buttons); i += maxButtons {
		var els []slack.BlockElement
		for j, b := range m.Buttons[i:min(i+maxButtons, len(m.Buttons))] {
			if utf8.RuneCountInString(b.Action) > maxButtonValue {
				return nil, "", &renderError{fmt.Sprintf("button %q: action of %d characters does not fit in a Slack button value", b.Label, len(b.Action))}
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
	if len(blocks) > maxBlocks {
		return nil, "", &renderError{fmt.Sprintf("message of %d blocks, Slack takes %d", len(blocks), maxBlocks)}
	}
	return blocks, fallback(m), nil
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

// splitText cuts text into pieces of at most max characters, at line
// breaks where it can.
func splitText(text string, max int) []string {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var out []string
	for utf8.RuneCountInString(text) > max {
		cut := byteIndexOfRune(text, max)
		if nl := strings.LastIndex(text[:cut], "\n"); nl > 0 {
			cut = nl
		}
		out = append(out, text[:cut])
		text = strings.TrimPrefix(text[cut:], "\n")
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// truncate shortens s to at most max characters, ending with "…" when cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return s[:byteIndexOfRune(s, max-1)] + "…"
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
// escapes whatever it posts, does not escape twice.
func Unescape(s string) string { return unescaper.Replace(s) }
