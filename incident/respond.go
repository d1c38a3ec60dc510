package incident

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Acknowledgement rules: what counts as a response.
//
// A role is acknowledged by one of its contacts pressing Acknowledge on a
// page of the role, and by a contact paged in the role's current callout who
// answers any other way: typing /incident ack in the incident channel,
// or working the incident (pressing Done, Skip, an answer, Approve or
// Deny; typing /incident note, status, page or resolve in its channel).
// Someone who works the incident is plainly responding, and paging them
// on would only teach people to distrust the pages.
//
// An acknowledgement stops the role's escalation, takes the Acknowledge
// button off its pages, is said in the channel and recorded
// (acknowledged, its text and data saying how), and stands down the
// commander's pages about the role: the commander paged because the role
// ran out (RolePage.About) is no longer needed once the role answers.

// mayAck reports whether Slack member userID may acknowledge for rp, and
// as whom (a contact id, or the member ID for a page of a non-contact).
func (o *op) mayAck(rp *RolePage, userID string) (string, bool) {
	if c := o.contactOf(userID); c != nil && slices.Contains(rp.Contacts, c.ID) {
		return c.ID, true
	}
	if slices.Contains(rp.Contacts, userID) {
		return userID, true
	}
	return "", false
}

// pagedIn returns as whom Slack member userID was paged in rp's current
// callout; ok is false when no page of the callout went to them.
func (o *op) pagedIn(rp *RolePage, userID string) (by string, ok bool) {
	by, ok = o.mayAck(rp, userID)
	if !ok {
		return "", false
	}
	ok = false
	rp.calloutPages(func(_ int, who string) { ok = ok || who == by })
	return by, ok
}

// acknowledge is the Acknowledge button of a page of role, pressed by
// userID. It returns the reply to the presser.
func (o *op) acknowledge(userID, role string) string {
	rp := o.rolePage(role)
	if rp == nil {
		return fmt.Sprintf("Incident #%d has no page for %s; nothing was done.", o.inc.ID, escape(role))
	}
	// Who may press comes first: a press by someone not paged for the
	// role is refused and recorded (unauthorized) whatever the page's state.
	by, ok := o.mayAck(rp, userID)
	if ok && rp.Acked {
		return fmt.Sprintf("Already acknowledged by %s at %s.", o.who(rp.AckedBy), o.clock(rp.AckedAt))
	}
	if !ok {
		o.event(KindUnauthorized, userID, fmt.Sprintf("%s pressed Acknowledge for %s but is not one of its contacts", o.memberPlain(userID), role),
			map[string]string{"action": "acknowledge", "role": role})
		var names []string
		for _, id := range rp.Contacts {
			names = append(names, o.who(id))
		}
		return fmt.Sprintf("Only the contacts paged as %s may acknowledge this page: %s", escape(role), strings.Join(names, ", "))
	}
	o.ackRole(rp, userID, by, "")
	return fmt.Sprintf("You acknowledged as %s for %s. Channel: %s", escape(role), incidentName(o.inc), channelLink(o.inc))
}

// workAck acknowledges, for Slack member userID who is working the
// incident, every role they were paged for in its current callout and that
// is not acknowledged yet. how says how ("by pressing Done on step
// restore"). It returns the roles acknowledged, in the incident's order.
// Role skip is left as it is: someone paging their own role asks for
// someone else, and does not answer it.
func (o *op) workAck(userID, how, skip string) []string {
	var roles []string
	for _, rp := range o.inc.Roles {
		if rp.Acked || rp.Role == skip || o.err != nil {
			continue
		}
		if by, ok := o.pagedIn(rp, userID); ok {
			o.ackRole(rp, userID, by, how)
			roles = append(roles, rp.Role)
		}
	}
	return roles
}

// ackCommand is "/incident ack": userID acknowledges every role they are
// paged for in this incident.
func (o *op) ackCommand(userID string) (Reply, error) {
	roles := o.workAck(userID, "with /incident ack", "")
	if len(roles) == 0 {
		return Reply{Text: fmt.Sprintf("You are not being paged in incident #%d; nothing to acknowledge.", o.inc.ID)}, nil
	}
	return Reply{Text: fmt.Sprintf("You acknowledged as %s for %s.", escape(strings.Join(roles, ", ")), incidentName(o.inc))}, nil
}

// ackRole records that contact by (Slack member userID) acknowledged rp,
// how ("" for the Acknowledge button), and does what follows from it.
func (o *op) ackRole(rp *RolePage, userID, by, how string) {
	role := rp.Role
	after := max(o.now.Sub(rp.WaitingSince), 0)
	rp.Acked, rp.AckedBy, rp.AckedAt = true, by, o.now
	rp.About, rp.Prev, rp.StoodDown = nil, nil, false
	stood := o.aboutAnswered(role)
	text := fmt.Sprintf("%s acknowledged as %s after %s", o.whoPlain(by), role, fmtDur(after))
	data := map[string]string{"role": role, "contact": by, "after_seconds": strconv.FormatInt(int64(after/time.Second), 10)}
	if how != "" {
		text += ", " + how
		data["how"] = how
	}
	var stoodRoles []string
	for _, sd := range stood {
		stoodRoles = append(stoodRoles, sd.Role)
	}
	if len(stoodRoles) > 0 {
		data["stood_down"] = strings.Join(stoodRoles, ",")
	}
	o.event(KindAcknowledged, userID, text, data)
	o.deleteTimer(o.escalateKey(role))
	mark := func(k int, who string) {
		o.edit(o.incDMLane(who), o.pageRef(role, k), o.pageAckedMessage(rp, userID, how), "mark the page of "+who+" acknowledged")
	}
	o.ranOutPages(rp, mark)
	rp.calloutPages(mark)
	for _, sd := range stood {
		o.standDown(sd, rp)
	}
	o.post(Message{Text: o.ackedText(rp, by, after, how, stoodRoles)}, "", "say that "+by+" acknowledged")
	o.webhook(hookAcknowledge, rp, by)
	o.after(func() { o.s.cfg.Metrics.Acknowledged(after) })
}

// pageAbout pages the commander role about rp, which ran out. A commander
// already paged about another role is paged about this one too; one
// paged in a callout of its own goes on as it is. It reports whether a
// new callout started.
func (o *op) pageAbout(rp *RolePage, reason string) bool {
	if cur := o.rolePage(commanderRole); cur != nil && cur.paging() {
		if len(cur.About) > 0 && !slices.Contains(cur.About, rp.Role) {
			cur.About = append(cur.About, rp.Role)
		}
		return false
	}
	_, started := o.pageCallout(commanderRole, o.plan.Roles[commanderRole], "", reason, []string{rp.Role})
	return started
}

// aboutAnswered returns the roles paged about role (RolePage.About), not
// acknowledged themselves, whose every such role is now acknowledged.
func (o *op) aboutAnswered(role string) []*RolePage {
	var out []*RolePage
	for _, rp := range o.inc.Roles {
		if rp.Acked || rp.StoodDown || !slices.Contains(rp.About, role) {
			continue
		}
		all := true
		for _, a := range rp.About {
			if r := o.rolePage(a); r == nil || !r.Acked {
				all = false
			}
		}
		if all {
			out = append(out, rp)
		}
	}
	return out
}

// standDown stops rp's callout about other roles now that they answered
// (because is the last of them): its escalation stops, its pages say they
// are no longer needed, and the role's state before the callout comes
// back, so that a commander who had acknowledged is still the one who
// acknowledged. A role never paged before the callout is StoodDown.
func (o *op) standDown(rp, because *RolePage) {
	o.deleteTimer(o.escalateKey(rp.Role))
	msg := o.pageStoodDownMessage(rp, because)
	rp.calloutPages(func(k int, who string) {
		o.edit(o.incDMLane(who), o.pageRef(rp.Role, k), msg, "tell "+who+" the page is no longer needed")
	})
	if prev := rp.Prev; prev != nil {
		rp.Acked, rp.AckedBy, rp.AckedAt, rp.Exhausted = prev.Acked, prev.AckedBy, prev.AckedAt, prev.Exhausted
		rp.About, rp.Prev = nil, nil
		return
	}
	rp.Exhausted, rp.StoodDown = false, true
}
