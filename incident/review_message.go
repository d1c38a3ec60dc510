package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// reviewFindings lists what looks wrong, one line each, in the order
// people fix them: contacts Slack does not know, roles with nobody to
// escalate to, contacts nobody pages, roles that did not answer.
func reviewFindings(p *playbooks.Plan, checks map[string]contactCheck, unacked []unackedRole) []string {
	var out []string
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil || checks[id].problem == "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s (`%s`): %s", escape(c.Name), escape(id), checks[id].problem))
	}
	for _, role := range p.RoleOrder {
		switch cs := p.Roles[role]; len(cs) {
		case 0:
			out = append(out, fmt.Sprintf("the %s role has no contacts: nobody would be paged", escape(role)))
		case 1:
			out = append(out, fmt.Sprintf("the %s role has one contact (%s): nobody to escalate to", escape(role), reviewName(p, cs[0])))
		}
	}
	for _, id := range p.ContactOrder {
		if len(contactRoles(p, id)) == 0 && p.Contacts[id] != nil {
			out = append(out, fmt.Sprintf("%s is in no role: drbot never pages them", reviewName(p, id)))
		}
	}
	for _, u := range unacked {
		out = append(out, fmt.Sprintf("nobody acknowledged the %s role in incident #%d (%s, %s): check that its contacts can be reached",
			escape(u.role), u.inc.ID, stamp(u.inc.DeclaredAt, p), pmPages(u.pages)))
	}
	return out
}

func reviewName(p *playbooks.Plan, id string) string {
	if c := p.Contacts[id]; c != nil {
		return escape(c.Name)
	}
	return escape(id)
}

// contactRoles returns the roles a contact is in, in the plan's order.
func contactRoles(p *playbooks.Plan, id string) []string {
	var out []string
	for _, role := range p.RoleOrder {
		if slices.Contains(p.Roles[role], id) {
			out = append(out, role)
		}
	}
	return out
}

// The lines of the review DM that ask for an answer; confirmedReview
// takes them out once it is given.
const (
	reviewReminderLine = ":warning: *Reminder: the contact-list review is not confirmed yet.*\n"
	reviewAskLine      = "Are these still the right people, and can drbot reach them? Press *Confirm* if so, *Needs changes* if not.\n"
)

// confirmedReview is the review DM m once someone confirmed it: the
// contacts, roles and findings as they were sent, without the reminder,
// the request to press a button, or the buttons. It works on the message
// stored when the notice was delivered, by an earlier drbot too.
func confirmedReview(m Message) Message {
	m.Text = strings.Replace(strings.TrimPrefix(m.Text, reviewReminderLine), reviewAskLine, "", 1)
	m.Buttons = nil
	return m
}

// reviewMessage is the review DM: the contacts with how to reach them and
// their roles, the roles in escalation order, what looks wrong, and the
// buttons.
func reviewMessage(p *playbooks.Plan, rb *ReviewBody, checks map[string]contactCheck, unacked []unackedRole, conf ReviewConfirmation, sentAt time.Time) Message {
	var b strings.Builder
	if rb.Overdue {
		b.WriteString(reviewReminderLine)
	}
	fmt.Fprintf(&b, "*Contact-list review: %s*\n", escape(p.Name))
	b.WriteString(reviewAskLine)
	writeReviewContacts(&b, p, checks)
	writeReviewRoles(&b, p)

	findings := reviewFindings(p, checks, unacked)
	if len(findings) == 0 {
		b.WriteString("\n\n*What looks wrong*: nothing drbot can see.")
	} else {
		fmt.Fprintf(&b, "\n\n*What looks wrong* (%d)", len(findings))
		for _, f := range findings {
			b.WriteString("\n• " + f)
		}
	}
	return Message{
		Text:    b.String(),
		Context: reviewContext(p, rb, conf, sentAt),
		Buttons: []Button{
			{Label: "Confirm", Action: reviewAction(reviewConfirm, rb.Notice), Style: "primary"},
			{Label: "Needs changes", Action: reviewAction(reviewNeedsPress, rb.Notice)},
		},
		More: "…; the rest is in the plan file",
	}
}

// writeReviewContacts writes the review's contacts: how to reach each,
// their roles, and a warning sign where something looks wrong.
func writeReviewContacts(b *strings.Builder, p *playbooks.Plan, checks map[string]contactCheck) {
	b.WriteString("\n*Contacts*")
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		if c == nil {
			continue
		}
		var reach []string
		if u := checks[id].user; u != "" {
			reach = append(reach, mention(u))
		}
		if c.Email != "" {
			reach = append(reach, escape(c.Email))
		}
		if c.Phone != "" {
			reach = append(reach, escape(c.Phone))
		}
		roles := contactRoles(p, id)
		line := fmt.Sprintf("\n• *%s* (`%s`)", escape(c.Name), escape(id))
		if len(reach) > 0 {
			line += ": " + strings.Join(reach, " · ")
		}
		if len(roles) > 0 {
			line += " — " + escape(strings.Join(roles, ", "))
		} else {
			line += " — no role"
		}
		if checks[id].problem != "" {
			line += " :warning:"
		}
		b.WriteString(line)
	}
}

// writeReviewRoles writes the roles with their contacts in escalation order.
func writeReviewRoles(b *strings.Builder, p *playbooks.Plan) {
	b.WriteString("\n\n*Roles* (escalation order)")
	for _, role := range p.RoleOrder {
		var names []string
		for _, id := range p.Roles[role] {
			names = append(names, reviewName(p, id))
		}
		who := "nobody"
		if len(names) > 0 {
			who = strings.Join(names, " → ")
		}
		fmt.Fprintf(b, "\n• %s: %s", escape(role), who)
	}
}

// reviewContext is the review DM's context line: the last confirmation,
// who asked for it, and when the owners are reminded.
func reviewContext(p *playbooks.Plan, rb *ReviewBody, conf ReviewConfirmation, sentAt time.Time) string {
	ctx := "Never confirmed before."
	if !conf.At.IsZero() {
		ctx = fmt.Sprintf("Last confirmed %s by %s.", stamp(conf.At, p), mention(conf.By))
	}
	if rb.By != "" {
		ctx += " Sent at the request of " + mention(rb.By) + "."
	}
	if p.Review.OverdueAfter > 0 {
		ctx += fmt.Sprintf(" Unconfirmed by %s, you are reminded again", stamp(sentAt.Add(p.Review.OverdueAfter), p))
		if p.Review.Channel != "" {
			ctx += " and #" + escape(strings.TrimPrefix(p.Review.Channel, "#")) + " is told"
		}
		ctx += "."
	}
	return ctx
}
