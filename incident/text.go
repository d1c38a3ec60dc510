package incident

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The text rule. Text drbot did not write (a summary, a note, a name or a
// step of the plan) is kept as typed: Slack's own markup for a member
// (<@U0BEN0001|ben>), a channel (<#C0OPS0001|ops>) and a link
// (<https://status.example|status page>, <mailto:…>) as Slack sent it,
// every other character as the person typed it (the bot unescapes what
// Slack escaped). Posting it, escape keeps those three working and escapes
// everything else once: &, < and > become &amp;, &lt; and &gt;, so a
// broadcast (<!channel>, <!here>, <!everyone>, <!subteam^…>) shows as
// typed and pings nobody. Readable turns the same text into what a
// person reads outside Slack (the Markdown postmortem): @Ben Dahl, #ops,
// [status page](https://status.example), @channel.

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// entity is one piece of Slack markup found in text: <KIND…|label>.
type entity struct {
	kind  byte   // '@' member, '#' channel, '!' broadcast or special, 'l' link
	id    string // member or channel id; the link's URL; what follows "!"
	label string // after "|", as typed (unescaped)
	has   bool   // a label was given
}

// scanText calls lit for each stretch of text that is no markup and ent for
// each entity, in order.
func scanText(s string, lit func(string), ent func(entity)) {
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			lit(s)
			return
		}
		j := strings.IndexAny(s[i+1:], "<>\n")
		if j < 0 || s[i+1+j] != '>' {
			lit(s[:i+1])
			s = s[i+1:]
			continue
		}
		e, ok := parseEntity(s[i+1 : i+1+j])
		if !ok {
			lit(s[:i+1])
			s = s[i+1:]
			continue
		}
		lit(s[:i])
		ent(e)
		s = s[i+1+j+1:]
	}
}

// parseEntity reads the inside of <…>: a member, channel, broadcast or link.
func parseEntity(in string) (entity, bool) {
	target, label, has := strings.Cut(in, "|")
	if target == "" {
		return entity{}, false
	}
	e := entity{label: label, has: has}
	switch {
	case target[0] == '@' && slackID(target[1:], "UW"):
		e.kind, e.id = '@', target[1:]
	case target[0] == '#' && slackID(target[1:], "CG"):
		e.kind, e.id = '#', target[1:]
	case target[0] == '!' && len(target) > 1:
		e.kind, e.id = '!', target[1:]
	case isLink(target):
		e.kind, e.id = 'l', target
	default:
		return entity{}, false
	}
	return e, true
}

// slackID reports whether s is a Slack id starting with one of first:
// upper-case letters and digits.
func slackID(s, first string) bool {
	if len(s) < 2 || !strings.ContainsRune(first, rune(s[0])) {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func isLink(s string) bool {
	lower := strings.ToLower(s)
	for _, p := range []string{"https://", "http://", "mailto:"} {
		if strings.HasPrefix(lower, p) && len(s) > len(p) && !strings.ContainsAny(s, " \t") {
			return true
		}
	}
	return false
}

// escape makes text safe to post in Slack mrkdwn by the text rule above:
// member, channel and link markup stays markup, everything else shows as
// typed ("<!channel>" pings nobody).
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	scanText(s, func(t string) { b.WriteString(escaper.Replace(t)) }, func(e entity) {
		if e.kind == '!' {
			b.WriteString(escaper.Replace(e.markup()))
			return
		}
		b.WriteString(e.slack())
	})
	return b.String()
}

// markup is the entity as it was typed.
func (e entity) markup() string {
	s := "<" + e.prefix() + e.id
	if e.has {
		s += "|" + e.label
	}
	return s + ">"
}

// slack is the entity as Slack wants it posted: its parts escaped.
func (e entity) slack() string {
	s := "<" + e.prefix() + escaper.Replace(e.id)
	if e.has {
		s += "|" + escaper.Replace(e.label)
	}
	return s + ">"
}

func (e entity) prefix() string {
	if e.kind == 'l' {
		return ""
	}
	return string(e.kind)
}

// Readable shows text outside Slack: members as "@" and their name (name
// returns "" when it knows none; then the label Slack sent, else the id),
// channels as "#name", links in Markdown ([label](url), or the bare
// URL), broadcasts as "@channel" and user groups by their label.
func Readable(s string, name func(userID string) string) string {
	same := func(t string) string { return t }
	return readable(s, name, same, same)
}

// readable is Readable with lit applied to all text it writes (between
// entities, labels, names) and url to the address of a link: the Markdown
// writer escapes there what Markdown would read, and not in the links it
// writes itself.
func readable(s string, name func(userID string) string, lit, url func(string) string) string {
	if !strings.Contains(s, "<") {
		return lit(s)
	}
	var b strings.Builder
	scanText(s, func(t string) { b.WriteString(lit(t)) }, func(e entity) {
		switch e.kind {
		case '@':
			n := ""
			if name != nil {
				n = name(e.id)
			}
			if n == "" && e.label != "" {
				n = strings.TrimPrefix(e.label, "@")
			}
			if n == "" {
				n = e.id
			}
			b.WriteString("@" + lit(n))
		case '#':
			if e.label != "" {
				b.WriteString("#" + lit(e.label))
			} else {
				b.WriteString("#" + e.id)
			}
		case '!':
			switch group, id, _ := strings.Cut(e.id, "^"); {
			case e.label != "":
				b.WriteString(lit(e.label))
			case group == "subteam" && id != "":
				b.WriteString("@" + lit(id)) // a user group Slack sent without its handle: its id
			default:
				b.WriteString("@" + lit(group))
			}
		default:
			if e.label != "" && e.label != e.id {
				b.WriteString("[" + lit(e.label) + "](" + url(e.id) + ")")
			} else {
				b.WriteString(lit(strings.TrimPrefix(e.id, "mailto:")))
			}
		}
	})
	return b.String()
}

// mentionedUsers returns the member ids mentioned in s, in order.
func mentionedUsers(s string) []string {
	var ids []string
	if !strings.Contains(s, "<@") {
		return nil
	}
	scanText(s, func(string) {}, func(e entity) {
		if e.kind == '@' {
			ids = append(ids, e.id)
		}
	})
	return ids
}

// Lists in answers ("/incident scenarios", "/incident list") stay
// readable and within one Slack message: a long title is cut to
// maxListTitle characters, and past maxListText characters the list
// stops and says how many more there are. 11,000 keeps the answer
// within Slack's block text of one message (12,000) with room for its
// head.
const (
	maxListText  = 11000
	maxListTitle = 60
)

// listText is head and then lines, as many as fit in maxListText; more
// (a format with one %d) says how many were left out.
func listText(head string, lines []string, more string) string {
	var b strings.Builder
	b.WriteString(head)
	n := utf8.RuneCountInString(head)
	for i, l := range lines {
		ln := utf8.RuneCountInString(l)
		if n+ln+utf8.RuneCountInString(more)+8 > maxListText {
			fmt.Fprintf(&b, more, len(lines)-i)
			break
		}
		b.WriteString(l)
		n += ln
	}
	return b.String()
}

// andList joins items as prose: "a", "a and b", "a, b and c" (no serial
// comma). Items are joined as they are; escape them first if needed.
func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
