package incident

import (
	"fmt"
)

// resolve ends the incident: it records who resolved it and when, stops
// every escalation and RTO timer, closes the pages and approvals still
// open, computes the postmortem and posts its summary in the channel.
func (o *op) resolve(userID, summary string) (Reply, error) {
	inc := o.inc
	if inc.State == StateResolved {
		return Reply{Text: fmt.Sprintf("Incident #%d is already resolved (by %s at %s).", inc.ID, mention(inc.ResolvedBy), o.clock(inc.ResolvedAt))}, nil
	}
	inc.State, inc.ResolvedAt, inc.ResolvedBy = StateResolved, o.now, userID
	if summary != "" {
		inc.Resolution = summary
	}
	text := "Resolved"
	if summary != "" {
		text += ": " + summary
	}
	o.event(KindResolved, userID, text, map[string]string{"summary": summary})
	if err := o.tx.DeleteTimers(inc.ID); err != nil {
		o.fail(fmt.Errorf("delete the timers of incident %d: %w", inc.ID, err))
	}
	for _, rp := range inc.Roles {
		if !rp.Acked {
			// Every page of the role still showing Acknowledge: the
			// current callout's, and those of earlier callouts that ran out,
			// which keep the button while the incident is open (a late
			// press still counts). An acknowledgement already marked
			// them all (acknowledge).
			closePage := func(k int, who string) {
				// A page not delivered yet never will be (afterResolve),
				// or its delivery closes it (closeLatePage).
				if o.delivered(o.pageRef(rp.Role, k)) {
					o.edit(o.incDMLane(who), o.pageRef(rp.Role, k), o.pageClosedMessage(rp), "close the page of "+who)
				}
			}
			o.ranOutPages(rp, closePage)
			rp.calloutPages(closePage)
		}
		o.webhook(hookResolve, rp, rp.AckedBy)
	}
	o.closeApproval()
	o.closeStep()

	events, err := o.tx.Timeline(inc.ID)
	if err != nil {
		o.fail(fmt.Errorf("timeline of incident %d: %w", inc.ID, err))
	}
	if o.err != nil {
		return Reply{}, o.err
	}
	pm := BuildPostmortem(inc, events, o.plan, o.now)
	o.post(o.resolvedMessage(pm, summary), o.ref("postmortem"), "post the postmortem summary")
	o.enqueue(o.setupLane(), OutTopic, OutBody{Topic: resolvedTopicText(inc, inc.ResolvedAt.Sub(inc.DeclaredAt)), Purpose: "mark the channel topic resolved"})
	o.event(KindPostmortemPosted, "", fmt.Sprintf("Postmortem summary posted; full text: drbot postmortem %d", inc.ID), nil)
	o.after(o.s.cfg.Metrics.Resolved)
	o.after(func() {
		o.s.cfg.Logger.Info("incident resolved", "incident", inc.ID, "by", userID, "recovered_in", inc.ResolvedAt.Sub(inc.DeclaredAt).String())
	})
	return Reply{Text: fmt.Sprintf("Incident #%d resolved; the postmortem summary is posted in %s.", inc.ID, channelLink(inc))}, nil
}

// closeApproval takes the buttons off an approval still waiting, so that
// nobody is asked for a decision that no longer matters.
func (o *op) closeApproval() {
	n := len(o.inc.Steps)
	if n == 0 {
		return
	}
	rec := o.inc.Steps[n-1]
	st := o.sc.Step(rec.StepID)
	if st == nil || st.Approval == "" || (rec.Approval != ApprovalPending && rec.Approval != ApprovalDenied) {
		return
	}
	index, request := n-1, rec.ApprovalRequest
	line := fmt.Sprintf("Incident resolved at %s; no approval needed any more.", o.clock(o.now))
	o.edit(o.lane(), o.approvalRef(st.ID, index, request), Message{Text: o.approvalText(st) + "\n" + line}, "close the approval of step "+st.ID)
	if rec.Approval == ApprovalPending {
		for _, c := range o.plan.Roles[st.Approval] {
			o.edit(o.incDMLane(c), o.approvalDMRef(st.ID, index, request, c), Message{Text: o.approvalDMMessage(st, index, request).Text + "\n" + line}, "close the approval of step "+st.ID+" for "+c)
		}
	}
}

// closeStep takes the buttons off the current step when it was started
// and not ended: its Done, Skip or answers would only be refused now.
func (o *op) closeStep() {
	n := len(o.inc.Steps)
	if n == 0 || o.inc.Current == "" {
		return
	}
	rec := o.inc.Steps[n-1]
	st := o.sc.Step(rec.StepID)
	if st == nil || rec.StepID != o.inc.Current || rec.Outcome != "" || rec.StartedAt.IsZero() {
		return
	}
	line := fmt.Sprintf("Incident resolved at %s; this step was not finished.", o.clock(o.now))
	o.edit(o.lane(), o.stepRef(st.ID, n-1), Message{Text: o.stepHead(st) + "\n" + line}, "close step "+st.ID)
}
