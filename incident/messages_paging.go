package incident

import (
	"fmt"
	"strings"
	"time"
)

// The texts of paging: pages, escalations, acknowledgements, callouts that
// ran out (messages.go holds the others).

func (o *op) pageText(role, reason string) string {
	inc := o.inc
	var b strings.Builder
	as := " as " + emphasize("*", escape(role))
	if _, person := rolePerson(role); person {
		as = "" // /incident page @henrik: paged in person, not as a role
	}
	fmt.Fprintf(&b, ":rotating_light: You are paged%s for %s (%s, %s)\nChannel: #%s",
		as, incidentName(inc), escape(inc.Severity), escape(inc.Service), inc.ChannelName)
	if inc.Summary != "" {
		b.WriteString("\nSummary: " + escape(inc.Summary))
	}
	if reason != "" {
		b.WriteString("\n" + reason)
	}
	return b.String()
}

func (o *op) pageMessage(rp *RolePage, reason string) Message {
	return Message{
		Text:    o.pageText(rp.Role, reason),
		Buttons: []Button{{Label: "Acknowledge", Action: ackAction(o.inc.ID, rp.Role), Style: "primary"}},
		Context: "Press Acknowledge to stop the escalation to the next contact.",
	}
}

// pageAckedMessage is a page once by acknowledged the role, how ("" for
// the Acknowledge button).
func (o *op) pageAckedMessage(rp *RolePage, by, how string) Message {
	t := o.pageText(rp.Role, "") + fmt.Sprintf("\n:white_check_mark: Acknowledged by %s at %s", mention(by), o.clock(o.now))
	if how != "" {
		t += " (" + escape(how) + ")"
	}
	return Message{Text: t}
}

// pageStoodDownMessage is a page about another role once it answered
// (because, the last of rp.About to).
func (o *op) pageStoodDownMessage(rp, because *RolePage) Message {
	return Message{Text: o.pageText(rp.Role, "") + fmt.Sprintf("\n:white_check_mark: No longer needed: %s acknowledged as %s at %s.",
		o.who(because.AckedBy), escape(because.Role), o.clock(because.AckedAt))}
}

// aboutText names the roles rp is paged about (RolePage.About): a role by
// its name, a person paged alone by theirs.
func (o *op) aboutText(rp *RolePage, who, esc func(string) string) string {
	return aboutText(rp, who, esc)
}

func aboutText(rp *RolePage, who, esc func(string) string) string {
	var names []string
	for _, r := range rp.About {
		if person, ok := rolePerson(r); ok {
			names = append(names, who(person))
		} else {
			names = append(names, esc(r))
		}
	}
	return andList(names)
}

// escalatedText tells the channel that rp's page went on from one
// contact to the next: "Bob Dahl did not acknowledge within 5m; paging
// Carol Nilsen as executor".
func (o *op) escalatedText(rp *RolePage, from, next string) string {
	why := "did not acknowledge within " + fmtDur(o.ackTimeout())
	if rp.Undelivered == rp.Sent-1 && rp.UndeliveredCode != "" {
		why = "could not be paged (" + escape(rp.UndeliveredCode) + ")"
	}
	t := fmt.Sprintf(":arrow_right: %s %s; paging %s as %s", o.who(from), why, o.who(next), escape(rp.Role))
	switch _, person := pagedPerson(rp); {
	case person:
		// "/incident page @carol": nobody else to go to.
		t = fmt.Sprintf(":arrow_right: %s %s; paging them again", o.who(from), why)
	case from == next:
		t = fmt.Sprintf(":arrow_right: %s %s; paging them again as %s", o.who(from), why, escape(rp.Role))
	}
	if len(rp.About) > 0 {
		t += " about " + o.aboutText(rp, o.who, escape)
	}
	return t
}

func (o *op) pageClosedMessage(rp *RolePage) Message {
	return Message{Text: o.pageText(rp.Role, "") + fmt.Sprintf("\n:white_check_mark: Incident resolved at %s; nothing more to do.", o.clock(o.now))}
}

func escalationReason(from string, after time.Duration) string {
	return fmt.Sprintf("_%s did not acknowledge within %s._", from, fmtDur(after))
}

// undeliveredReason is the line of a page sent early because the previous
// contact's page could not be delivered (code already escaped).
func undeliveredReason(from, code string) string {
	return fmt.Sprintf("_%s could not be paged (%s)._", from, code)
}

// unansweredLine says that nobody acknowledged rp's callout: "Nobody
// acknowledged the executor role after 4 pages (Bob Dahl, Alice Berg)",
// or for a person paged alone "Bob Dahl did not acknowledge after 2
// pages" (their pseudo role "@bob" is no role).
func (o *op) unansweredLine(rp *RolePage, pages int) string {
	return unansweredLine(rp, pages, o.who, escape) + o.unansweredSince(rp)
}

// unansweredPlain is unansweredLine for the timeline: no Slack markup.
func (o *op) unansweredPlain(rp *RolePage, pages int) string {
	return unansweredLine(rp, pages, o.whoPlain, func(s string) string { return s }) + o.unansweredSince(rp)
}

// unansweredSince says, for a role acknowledged in an earlier callout
// and paged again in its own right (an RTO breach, /incident page), since
// when nobody answered: the earlier acknowledgement stands, as /incident
// status says, and the channel must not seem to deny it.
func (o *op) unansweredSince(rp *RolePage) string {
	if _, person := pagedPerson(rp); person || len(rp.About) > 0 || rp.CalloutStart == 0 || !o.ackedBefore(rp.Role) {
		return ""
	}
	return ", since " + o.clock(rp.WaitingSince) + " (it acknowledged an earlier page)"
}

// ackedBefore reports whether role was acknowledged at some time in the
// incident's timeline.
func (o *op) ackedBefore(role string) bool {
	events, err := o.tx.Timeline(o.inc.ID)
	if err != nil {
		return false // only the wording depends on it
	}
	for _, e := range events {
		if e.Kind == KindAcknowledged && e.Data["role"] == role {
			return true
		}
	}
	return false
}

func unansweredLine(rp *RolePage, pages int, who, esc func(string) string) string {
	if person, ok := pagedPerson(rp); ok {
		return fmt.Sprintf("%s did not acknowledge after %d pages", who(person), pages)
	}
	var names []string
	for _, id := range rp.Contacts {
		names = append(names, who(id))
	}
	if len(rp.About) > 0 {
		// Pages about another role: the role itself may well have
		// acknowledged earlier, and must not be said not to have.
		return fmt.Sprintf("No %s acknowledged the pages about %s after %d pages (%s)", esc(rp.Role), aboutText(rp, who, esc), pages, strings.Join(names, ", "))
	}
	return fmt.Sprintf("Nobody acknowledged the %s role after %d pages (%s)", esc(rp.Role), pages, strings.Join(names, ", "))
}

// unansweredReason is the line of the commander's page saying why.
func (o *op) unansweredReason(rp *RolePage, pages int) string {
	if person, ok := pagedPerson(rp); ok {
		return emphasize("_", fmt.Sprintf("%s did not acknowledge after %d pages.", o.who(person), pages))
	}
	return emphasize("_", fmt.Sprintf("Nobody acknowledged the %s role after %d pages.", escape(rp.Role), pages))
}

// mrkdwnMarks open and close formatting in Slack mrkdwn.
const mrkdwnMarks = "*_~`"

// emphasize wraps s in mark ("*" bold, "_" italic) unless s holds a
// formatting character itself: mrkdwn has no escape for one, and a role
// named "on_call" inside "_..._" would end the italics early and leave
// stray underscores. Such text is said plain rather than garbled.
func emphasize(mark, s string) string {
	if strings.ContainsAny(s, mrkdwnMarks) {
		return s
	}
	return mark + s + mark
}

func (o *op) unansweredText(rp *RolePage, pages int, commander bool) string {
	t := ":warning: " + o.unansweredLine(rp, pages) + "."
	if commander {
		t += " Paging the commander role."
	}
	return t
}

// ackedText says in the channel that by acknowledged rp, how ("" for the
// Acknowledge button), and which roles paged about it stop (stood).
func (o *op) ackedText(rp *RolePage, by string, after time.Duration, how string, stood []string) string {
	t := fmt.Sprintf(":white_check_mark: %s acknowledged as %s after %s", o.who(by), escape(rp.Role), fmtDur(after))
	if how != "" {
		t += ", " + escape(how)
	}
	if len(stood) > 0 {
		t += fmt.Sprintf(". No longer paging %s about it.", escape(andList(stood)))
	}
	return t
}

func (o *op) pagedPostText(actor string, rp *RolePage, contact string) string {
	return fmt.Sprintf("%s paged %s: %s", mention(actor), escape(rp.Role), o.who(contact))
}
