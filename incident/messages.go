package incident

// Every text drbot posts or answers is written here, so that messages read
// alike and a change of wording is made in one place. Message texts are
// Slack mrkdwn; everything that did not come from drbot itself goes
// through escape first.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/playbooks"
)

// drillPrefix begins every message and every page of a drill.
const drillPrefix = "[DRILL] "

// MaxText is the longest summary or note accepted, in characters: a Slack
// section holds 3000.
const MaxText = 3000

// mention is how drbot refers to a Slack member.
func mention(userID string) string {
	if userID == "" {
		return "drbot"
	}
	return "<@" + userID + ">"
}

// fmtDur says a duration the way people do: "1h30m", "45m", "1m35s", "0s".
// Past an hour the seconds are dropped.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	h := int64(d / time.Hour)
	m := int64(d % time.Hour / time.Minute)
	sec := int64(d % time.Minute / time.Second)
	var b strings.Builder
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(m, 10) + "m")
	}
	if sec > 0 || b.Len() == 0 {
		b.WriteString(strconv.FormatInt(sec, 10) + "s")
	}
	return b.String()
}

// clock says a time of day in the plan's time zone, with the zone's
// abbreviation ("10:03 CET"), and the day in front when it is not the day
// of ref ("Sun 22 Nov 00:15 CET"). Every time drbot shows people is
// written in the plan's zone and says which (a plan without timezone: is
// in UTC); only JSON has UTC RFC 3339. The abbreviation tells 02:30 CEST
// from 02:30 CET on the night the clocks go back.
func clock(t, ref time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	lt, lr := t.In(loc), ref.In(loc)
	if lt.YearDay() != lr.YearDay() || lt.Year() != lr.Year() {
		return lt.Format("Mon 2 Jan 15:04 MST")
	}
	return lt.Format("15:04 MST")
}

func (o *op) clock(t time.Time) string { return clock(t, o.inc.DeclaredAt, o.plan.Location) }

// clocks is o.clock of a projected finish and the RTO deadline, to the
// second when they differ within one minute: "13:00:01 CET is 1s past
// the RTO deadline 13:00:00 CET", not "13:00 CET is 1s past … 13:00 CET".
func (o *op) clocks(finish, deadline time.Time) (string, string) {
	f, d := o.clock(finish), o.clock(deadline)
	if f != d || finish.Equal(deadline) {
		return f, d
	}
	loc := o.plan.Location
	if loc == nil {
		loc = time.UTC
	}
	return finish.In(loc).Format("15:04:05 MST"), deadline.In(loc).Format("15:04:05 MST")
}

// channelLink refers to the incident's channel: a link once it exists.
func channelLink(inc *Incident) string {
	if inc.ChannelID != "" {
		return "<#" + inc.ChannelID + ">"
	}
	return "#" + inc.ChannelName
}

func incidentName(inc *Incident) string {
	return fmt.Sprintf("incident #%d: %s", inc.ID, escape(inc.Title))
}

// --- declaration

func topicText(inc *Incident, p *playbooks.Plan) string {
	parts := []string{inc.Severity, inc.Service}
	if inc.RTO > 0 {
		parts = append(parts, fmt.Sprintf("RTO deadline %s (%s)", clock(inc.DeclaredAt.Add(inc.RTO), inc.DeclaredAt, p.Location), fmtDur(inc.RTO)))
	} else {
		parts = append(parts, "no RTO set")
	}
	t := strings.Join(nonEmpty(parts), " · ")
	if inc.Drill {
		t = drillPrefix + t
	}
	return t
}

func resolvedTopicText(inc *Incident, recovered time.Duration) string {
	t := strings.Join(nonEmpty([]string{"Resolved", inc.Severity, inc.Service, "recovered in " + fmtDur(recovered)}), " · ")
	if inc.Drill {
		t = drillPrefix + t
	}
	return t
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// contactLine names a contact with the phone number the plan gives, for
// people to call when Slack is not enough.
func contactLine(c *playbooks.Contact) string {
	if c.Phone != "" {
		return fmt.Sprintf("%s (%s)", escape(c.Name), escape(c.Phone))
	}
	return escape(c.Name)
}

func (o *op) summaryMessage() Message {
	inc, p, sc := o.inc, o.plan, o.sc
	var b strings.Builder
	fmt.Fprintf(&b, "*Incident #%d: %s*\n", inc.ID, escape(inc.Title))
	if inc.Summary != "" {
		b.WriteString(escape(inc.Summary))
	} else {
		b.WriteString("_No summary given._")
	}
	if len(sc.Page) > 0 {
		b.WriteString("\n\n*Paged roles*")
		for _, role := range sc.Page {
			var names []string
			for _, c := range p.RoleContacts(role) {
				names = append(names, contactLine(c))
			}
			fmt.Fprintf(&b, "\n• %s: %s", escape(role), strings.Join(names, ", "))
		}
	}
	rto, rpo := "none set", "none set"
	if inc.RTO > 0 {
		rto = fmt.Sprintf("%s (%s)", o.clock(inc.DeclaredAt.Add(inc.RTO)), fmtDur(inc.RTO))
	}
	if svc := p.ServiceOf(sc); svc != nil && svc.RPO > 0 {
		rpo = fmtDur(svc.RPO)
	}
	worst, _ := sc.LongestPath()
	fields := []Field{
		{Label: "Severity", Value: escape(inc.Severity)},
		{Label: "Service", Value: escape(inc.Service)},
		{Label: "RTO deadline", Value: rto},
		{Label: "RPO", Value: rpo},
		{Label: "Declared by", Value: fmt.Sprintf("%s at %s", mention(inc.DeclaredBy), o.clock(inc.DeclaredAt))},
		{Label: "Playbook", Value: fmt.Sprintf("%s, %d steps, worst case %s", escape(sc.ID), len(sc.Steps), fmtDur(worst))},
	}
	ctx := "Commands here: /incident status · /incident ack · /incident note TEXT · /incident page ROLE|@user · /incident resolve"
	if u := o.s.IncidentURL(inc.ID); u != "" {
		ctx += fmt.Sprintf(" · <%s|Incident page> (sign in with /incident web)", u)
	}
	return Message{Text: b.String(), Fields: fields, Context: ctx}
}

// --- steps

// stepHead is "Step 2/4 · restore — Restore the last snapshot… (estimate
// 1h, owner: executor)".
func (o *op) stepHead(st *playbooks.Step) string {
	n := 0
	for i, s := range o.sc.Steps {
		if s.ID == st.ID {
			n = i + 1
		}
	}
	var extra []string
	if st.Estimate > 0 {
		extra = append(extra, "estimate "+fmtDur(st.Estimate))
	}
	if st.Owner != "" {
		extra = append(extra, "owner: "+escape(st.Owner))
	}
	t := fmt.Sprintf("Step %d/%d · %s — %s", n, len(o.sc.Steps), escape(st.ID), escape(st.Do))
	if len(extra) > 0 {
		t += " (" + strings.Join(extra, ", ") + ")"
	}
	if st.Ask != "" {
		t += "\n*" + escape(st.Ask) + "*"
	}
	return t
}

func (o *op) stepMessage(st *playbooks.Step, index int) Message {
	m := Message{Text: o.stepHead(st)}
	if len(st.Answers) > 0 {
		for i, a := range st.Answers {
			m.Buttons = append(m.Buttons, Button{Label: a.Label, Action: stepAction(actAnswer, o.inc.ID, st.ID, index, i)})
		}
		return m
	}
	m.Buttons = []Button{
		{Label: "Done", Action: stepAction(actDone, o.inc.ID, st.ID, index, 0), Style: "primary"},
		{Label: "Skip", Action: stepAction(actSkip, o.inc.ID, st.ID, index, 0)},
	}
	if st.RecoveryPoint {
		m.Context = "Done asks for the recovery point: the point in time the data was recovered to."
	}
	return m
}

// stepOutcome says who ended a step, how and when.
func (o *op) stepOutcome(rec *StepRecord, next string) string {
	took := ""
	if !rec.StartedAt.IsZero() {
		took = " (took " + fmtDur(rec.EndedAt.Sub(rec.StartedAt)) + ")"
	}
	switch rec.Outcome {
	case StepDone:
		return fmt.Sprintf(":white_check_mark: Done by %s at %s%s", mention(rec.By), o.clock(rec.EndedAt), took)
	case StepSkipped:
		return fmt.Sprintf(":fast_forward: Skipped by %s at %s%s", mention(rec.By), o.clock(rec.EndedAt), took)
	case StepAnswered:
		return fmt.Sprintf(":point_right: %s answered *%s* at %s%s → %s", mention(rec.By), escape(rec.Answer), o.clock(rec.EndedAt), took, escape(nextName(next)))
	}
	return ""
}

func nextName(id string) string {
	if id == playbooks.End {
		return "end"
	}
	return id
}

func (o *op) stepEndedMessage(st *playbooks.Step, rec *StepRecord, next string) Message {
	return Message{Text: o.stepHead(st) + "\n" + o.stepOutcome(rec, next)}
}

func (o *op) stepAlreadyText(rec *StepRecord) string {
	switch rec.Outcome {
	case StepDone:
		return fmt.Sprintf("This step was already marked done by %s at %s.", mention(rec.By), o.clock(rec.EndedAt))
	case StepSkipped:
		return fmt.Sprintf("This step was already skipped by %s at %s.", mention(rec.By), o.clock(rec.EndedAt))
	default:
		return fmt.Sprintf("This question was already answered *%s* by %s at %s.", escape(rec.Answer), mention(rec.By), o.clock(rec.EndedAt))
	}
}

const allDoneText = ":checkered_flag: All steps done. When service is restored: /incident resolve"

// --- approvals

func (o *op) approverNames(role string) string {
	var names []string
	for _, c := range o.plan.RoleContacts(role) {
		names = append(names, escape(c.Name))
	}
	return strings.Join(names, ", ")
}

func (o *op) approvalButtons(st *playbooks.Step, index, request int) []Button {
	return []Button{
		{Label: "Approve", Action: stepAction(actApprove, o.inc.ID, st.ID, index, request), Style: "primary"},
		{Label: "Deny", Action: stepAction(actDeny, o.inc.ID, st.ID, index, request), Style: "danger"},
	}
}

func (o *op) approvalText(st *playbooks.Step) string {
	return o.stepHead(st) + fmt.Sprintf("\n:lock: This step needs approval from the %s role before it starts: %s", escape(st.Approval), o.approverNames(st.Approval))
}

func (o *op) approvalMessage(st *playbooks.Step, index, request int) Message {
	return Message{Text: o.approvalText(st), Buttons: o.approvalButtons(st, index, request)}
}

// deniedMessage is the approval message of st once its request was
// denied: who denied it and why, and a button to ask again.
func (o *op) deniedMessage(st *playbooks.Step, rec *StepRecord, index int) Message {
	return Message{Text: o.approvalText(st) + "\n" + o.deniedLine(rec),
		Buttons: []Button{{Label: "Request approval again", Action: stepAction(actReapprove, o.inc.ID, st.ID, index, rec.ApprovalRequest)}}}
}

func (o *op) approvalDMMessage(st *playbooks.Step, index, request int) Message {
	t := fmt.Sprintf(":lock: Your approval is needed in %s (#%s), as %s:\n%s",
		incidentName(o.inc), o.inc.ChannelName, escape(st.Approval), o.stepHead(st))
	return Message{Text: t, Buttons: o.approvalButtons(st, index, request)}
}

func (o *op) approvedLine(by string) string {
	return fmt.Sprintf(":white_check_mark: Approved by %s at %s", mention(by), o.clock(o.now))
}

// deniedLine says who denied rec's approval, when, and why when they said.
func (o *op) deniedLine(rec *StepRecord) string {
	t := fmt.Sprintf(":no_entry: Denied by %s at %s", mention(rec.DeniedBy), o.clock(rec.DeniedAt))
	if rec.DenyReason != "" {
		t += ": " + escape(rec.DenyReason)
	}
	return t
}

func (o *op) deniedPost(st *playbooks.Step, by, reason string) string {
	why := ""
	if reason != "" {
		why = " Reason: " + escape(reason) + "."
	}
	return fmt.Sprintf(":no_entry: %s denied step %s: it does not start.%s When ready, press *Request approval again* on the approval message, or end the incident with /incident resolve.", mention(by), escape(st.ID), why)
}

// onlyApprovers answers a press of Approve or Deny (verb) by someone
// outside the approving role.
func (o *op) onlyApprovers(role, verb string) string {
	return fmt.Sprintf("Only the %s role may %s this step: %s", escape(role), verb, o.approverNames(role))
}

// --- RTO

// projectionText says the projected finish against the deadline.
func (o *op) projectionText(p projection) string {
	if p.done {
		return "All steps are done."
	}
	if !p.finish.After(o.now) {
		return "The current step is past its estimate and none follows: projected finish now."
	}
	if p.atDeadline() {
		return fmt.Sprintf("Projected finish %s, right at the RTO deadline.", o.clock(p.finish))
	}
	if p.late() {
		return fmt.Sprintf("Projected finish %s — %s past the RTO.", o.clock(p.finish), fmtDur(p.finish.Sub(p.deadline)))
	}
	return fmt.Sprintf("Projected finish %s — %s within the RTO.", o.clock(p.finish), fmtDur(p.deadline.Sub(p.finish)))
}

func (o *op) alertText(percent int, p projection) string {
	elapsed := o.now.Sub(o.inc.DeclaredAt)
	return fmt.Sprintf(":hourglass_flowing_sand: RTO %d%%: %s elapsed, %s left (deadline %s). %s",
		percent, fmtDur(elapsed), fmtDur(p.deadline.Sub(o.now)), o.clock(p.deadline), o.projectionText(p))
}

func (o *op) breachText(p projection, roles []string) string {
	t := fmt.Sprintf(":rotating_light: RTO breached: %s elapsed, the deadline %s has passed. %s",
		fmtDur(o.now.Sub(o.inc.DeclaredAt)), o.clock(p.deadline), o.projectionText(p))
	if len(roles) > 0 {
		t += " Paging " + escape(andList(roles)) + "."
	}
	return t
}

func (o *op) lateText(p projection) string {
	var steps []string
	for i, id := range p.path {
		st := o.sc.Step(id)
		switch {
		case st == nil:
		case i == 0 && p.started && p.left == 0:
			steps = append(steps, fmt.Sprintf("%s past its %s estimate", escape(id), fmtDur(st.Estimate)))
		case i == 0 && p.started && p.left < st.Estimate:
			// The current step counts only for what is left of it.
			steps = append(steps, fmt.Sprintf("%s %s left of %s", escape(id), fmtDur(p.left), fmtDur(st.Estimate)))
		default:
			steps = append(steps, fmt.Sprintf("%s %s", escape(id), fmtDur(st.Estimate)))
		}
	}
	finish, deadline := o.clocks(p.finish, p.deadline)
	t := fmt.Sprintf(":warning: Projected finish %s is %s past the RTO deadline %s.",
		finish, fmtDur(p.finish.Sub(p.deadline)), deadline)
	if len(steps) > 0 {
		t += " Still ahead on the longest path: " + strings.Join(steps, ", ") + "."
	}
	return t
}

func (o *op) onTrackText(p projection) string {
	finish, deadline := o.clocks(p.finish, p.deadline)
	if p.atDeadline() {
		return fmt.Sprintf(":white_check_mark: Back on track: projected finish %s, right at the RTO deadline %s.", finish, deadline)
	}
	return fmt.Sprintf(":white_check_mark: Back on track: projected finish %s, %s within the RTO deadline %s.",
		finish, fmtDur(p.deadline.Sub(p.finish)), deadline)
}

// --- notes, resolve

func notePost(by, text string) string {
	return fmt.Sprintf(":memo: Note from %s: %s", mention(by), escape(text))
}

func (o *op) resolvedMessage(pm *Postmortem, summary string) Message {
	inc := o.inc
	var b strings.Builder
	fmt.Fprintf(&b, ":white_check_mark: *Incident #%d resolved* by %s at %s.", inc.ID, mention(inc.ResolvedBy), o.clock(inc.ResolvedAt))
	if summary != "" {
		b.WriteString("\n" + escape(summary))
	}
	ack := escape(pm.AckText())
	rto := "none set"
	if pm.RTOSeconds > 0 {
		if pm.RTOMet {
			rto = fmt.Sprintf("met, %s to spare", fmtDur(secs(pm.RTOMarginSeconds)))
		} else {
			rto = fmt.Sprintf("missed by %s", fmtDur(secs(-pm.RTOMarginSeconds)))
		}
	}
	var over []string
	for _, st := range pm.Steps {
		if st.EstimateSeconds > 0 && st.ActualSeconds > st.EstimateSeconds {
			over = append(over, fmt.Sprintf("%s %s (estimate %s)", escape(st.ID), fmtDur(secs(st.ActualSeconds)), fmtDur(secs(st.EstimateSeconds))))
		}
	}
	overText := "none"
	if len(over) > 0 {
		overText = strings.Join(over, ", ")
	}
	return Message{
		Text: b.String(),
		Fields: []Field{
			{Label: "Time to acknowledge", Value: ack},
			{Label: "Time to recover", Value: fmtDur(secs(pm.TimeToRecoverSeconds))},
			{Label: "RTO", Value: rto},
			{Label: "RPO", Value: o.rpoField()},
			{Label: "Steps over their estimate", Value: overText},
		},
		Context: o.postmortemWhere(),
	}
}

// postmortemWhere says where the full postmortem is: the incident's web
// page when the pages are on, else the command on drbot's host.
func (o *op) postmortemWhere() string {
	id := o.inc.ID
	if u := o.s.IncidentURL(id); u != "" {
		return fmt.Sprintf("Full postmortem: <%s|incident page> (Markdown and JSON to download; sign in with /incident web), or `drbot postmortem %d`", u, id)
	}
	return fmt.Sprintf("Full postmortem: `drbot postmortem %d` (Markdown) or `drbot postmortem --format json %d`", id, id)
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// --- replies

const usageText = "Usage: /incident COMMAND\n" +
	"• `declare SCENARIO [summary]`: open an incident (no scenario: a dialog)\n" +
	"• `drill SCENARIO [summary]`: the same, as a drill\n" +
	"• `status`: in an incident channel: RTO, projected finish, current step, pages\n" +
	"• `ack`: in an incident channel: acknowledge every role you are paged for there\n" +
	"• `deny [REASON]`: in an incident channel: deny the approval the current step waits for, saying why\n" +
	"• `note TEXT`: in an incident channel: add TEXT to the timeline\n" +
	"• `page ROLE|@user`: in an incident channel: page a role of the plan, or someone\n" +
	"• `resolve [summary]`: in an incident channel: end the incident and post the postmortem summary\n" +
	"• `recovery-point WHEN`: in an incident channel: the time the data was recovered to (`10:45`, `2026-11-21 10:45`, `15m ago`)\n" +
	"• `began WHEN`: in an incident channel: when the failure began, if before it was declared\n" +
	"• `impact TEXT`, `cause TEXT`: in an incident channel: the impact, the root cause and trigger, for the postmortem\n" +
	"• `action [@owner] TEXT`: in an incident channel: an action item for the postmortem\n" +
	"• `list`: open incidents\n" +
	"• `stats [SINCE]`: figures across incidents (MTTA, MTTR, RTO and RPO met), drills apart; SINCE is 30d or 2026-10-01\n" +
	"• `scenarios`: the plan's scenarios\n" +
	"• `review`: send the contact-list review to the plan's review owners now\n" +
	"• `review needs TEXT`: say what needs to change in the contact list\n" +
	"• `web`: a sign-in link to drbot's web pages, only for you\n" +
	"• `help`: this"

func scenariosText(infos []ScenarioInfo) string {
	if len(infos) == 0 {
		return "The plan has no scenarios."
	}
	lines := make([]string, 0, len(infos))
	for _, s := range infos {
		rto := "no RTO"
		if s.RTO > 0 {
			rto = "RTO " + fmtDur(s.RTO)
		}
		parts := []string{escape(truncateRunes(s.Title, maxListTitle))}
		if s.Service != "" {
			parts = append(parts, escape(s.Service))
		}
		parts = append(parts, escape(s.Severity), rto)
		lines = append(lines, fmt.Sprintf("\n• `%s` — %s", escape(s.ID), strings.Join(parts, " · ")))
	}
	return listText("*Scenarios* (declare with `/incident declare SCENARIO summary`)", lines,
		"\n…and %d more: the `/incident declare` dialog finds any of them as you type part of its id or title.")
}

// scenarioIDs lists the plan's scenario ids for an error message: the
// first 30, then how many more.
func scenarioIDs(p *playbooks.Plan) string {
	const most = 30
	if len(p.ScenarioOrder) <= most {
		return strings.Join(p.ScenarioOrder, ", ")
	}
	return strings.Join(p.ScenarioOrder[:most], ", ") + fmt.Sprintf(" and %d more (/incident scenarios lists them)", len(p.ScenarioOrder)-most)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
