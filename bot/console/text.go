package console

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// How the console shows what drbot posts: Slack mrkdwn as the text Slack
// would show, a message as terminal lines.

// renderText turns Slack mrkdwn into what Slack would show: mentions
// (<@U…>, <#C…|name>, <!channel>) become @name and #name, links become
// "text (url)", and the escapes &lt; &gt; &amp; become the characters they
// stand for. So user text that drbot escaped shows literally ("<!channel>")
// while a mention drbot made itself shows as one ("@channel").
func renderText(p *playbooks.Plan, s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(unescape(s))
			return b.String()
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			// An unescaped "<" with no end: not markup, show it as it is.
			b.WriteString(unescape(s))
			return b.String()
		}
		b.WriteString(unescape(s[:i]))
		b.WriteString(renderToken(p, s[i+1:i+j]))
		s = s[i+j+1:]
	}
}

// renderToken renders the inside of one <...> of mrkdwn.
func renderToken(p *playbooks.Plan, tok string) string {
	target, label, hasLabel := strings.Cut(tok, "|")
	label = unescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		// A member the plan does not know is shown by the name Slack
		// sent with the mention (<@U0XYZ|eva>), else by id.
		id := strings.TrimPrefix(target, "@")
		if contactByUser(p, id) == nil && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return userName(p, id)
	case strings.HasPrefix(target, "#"):
		if hasLabel && label != "" {
			return "#" + label
		}
		return convName(p, strings.TrimPrefix(target, "#"))
	case strings.HasPrefix(target, "!"):
		if hasLabel && label != "" {
			return label
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(target, "!"), "^")
		return "@" + name
	default:
		if hasLabel && label != "" {
			return label + " (" + unescape(target) + ")"
		}
		return unescape(target)
	}
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescape(s string) string { return unescaper.Replace(s) }

// messageLines renders a message as the lines the console prints: the
// text, the fields as "Label: value", the small print, then the buttons
// numbered from 1.
func messageLines(p *playbooks.Plan, m incident.Message) []string {
	var lines []string
	if t := strings.TrimRight(renderText(p, m.Text), "\n"); t != "" {
		lines = append(lines, strings.Split(t, "\n")...)
	}
	for _, f := range m.Fields {
		v := renderText(p, f.Value)
		lines = append(lines, strings.Split(renderText(p, f.Label)+": "+v, "\n")...)
	}
	if c := strings.TrimRight(renderText(p, m.Context), "\n"); c != "" {
		lines = append(lines, strings.Split(c, "\n")...)
	}
	if len(m.Buttons) > 0 {
		lines = append(lines, buttonLine(m.Buttons))
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// buttonLine renders buttons as "[1] Acknowledge  [2] ...".
func buttonLine(bs []incident.Button) string {
	parts := make([]string, len(bs))
	for i, btn := range bs {
		parts[i] = fmt.Sprintf("[%d] %s", i+1, unescape(btn.Label))
	}
	return strings.Join(parts, "  ")
}

// webhookTarget shows where a webhook goes without what may be secret in
// it: an incoming-webhook URL carries its token in the path, a PagerDuty
// body its routing key, so only the scheme and host are shown.
func webhookTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}
