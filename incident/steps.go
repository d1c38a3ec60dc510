package incident

import (
	"fmt"
	"strconv"

	"github.com/drbot-dev/drbot/playbooks"
)

// Step rules.
//
// The current step is posted in the channel with Done and Skip, or one
// button per answer of an ask: step. Pressing one ends the step (done,
// skipped or answered), updates the message to say who pressed what and
// when, and posts the next step: the step's next:, the following step, or
// the answer's target. A step with approval: is not started when reached:
// it is posted with Approve and Deny, and the contacts of the approver role
// get the same buttons in a direct message. Only they may press them; a
// press by anyone else is refused and recorded (unauthorized). Deny is said
// in the channel, and the message then offers Request approval again.
//
// Every button names its incident, the index of its step record (its
// position in Incident.Steps) and, for approvals, the request; a press that does not
// match the current state changes nothing and is told why.

func (o *op) stepRef(id string, index int) string { return o.ref("step", id, strconv.Itoa(index)) }

func (o *op) approvalRef(id string, index, request int) string {
	return o.ref("approval", id, strconv.Itoa(index), strconv.Itoa(request))
}

func (o *op) approvalDMRef(id string, index, request int, contact string) string {
	return o.approvalRef(id, index, request) + "/" + contact
}

// enterStep makes id the current step: posts it, or asks for its approval,
// or (at the end) says that all steps are done.
func (o *op) enterStep(id string) {
	if id == playbooks.End || id == "" {
		o.inc.Current = ""
		o.post(Message{Text: allDoneText}, o.ref("end"), "say that all steps are done")
		return
	}
	st := o.sc.Step(id)
	if st == nil {
		o.fail(fmt.Errorf("incident %d: step %q is not in scenario %s", o.inc.ID, id, o.sc.ID))
		return
	}
	rec := &StepRecord{StepID: id}
	o.inc.Steps = append(o.inc.Steps, rec)
	o.inc.Current = id
	index := len(o.inc.Steps) - 1
	if st.Approval != "" {
		o.requestApproval(st, rec, index, "")
		return
	}
	o.startStep(st, rec, index)
}

func (o *op) startStep(st *playbooks.Step, rec *StepRecord, index int) {
	rec.StartedAt = o.now
	o.event(KindStepStarted, "", fmt.Sprintf("Step %s started: %s", st.ID, st.Do), map[string]string{"step": st.ID})
	o.post(o.stepMessage(st, index), o.stepRef(st.ID, index), "post step "+st.ID)
}

// requestApproval opens a new approval request of the step. actor is who
// asked again after a denial, "" when drbot asks on reaching the step.
func (o *op) requestApproval(st *playbooks.Step, rec *StepRecord, index int, actor string) {
	rec.Approval = ApprovalPending
	rec.ApprovalRequest++
	rec.ApprovalRequestedAt = o.now
	request := rec.ApprovalRequest
	o.event(KindApprovalRequested, actor, fmt.Sprintf("Step %s waits for approval by the %s role", st.ID, st.Approval),
		map[string]string{"step": st.ID, "role": st.Approval, "round": strconv.Itoa(request)})
	o.urgentPost(o.approvalMessage(st, index, request), o.approvalRef(st.ID, index, request), "ask for approval of step "+st.ID)
	approvers := o.plan.Roles[st.Approval]
	o.invite(approvers, nil)
	for _, c := range approvers {
		o.urgentDM(c, o.approvalDMMessage(st, index, request), o.approvalDMRef(st.ID, index, request, c), "ask "+c+" to approve step "+st.ID)
	}
	o.scheduleApprovalPage(st, index, request)
}

// checkRecord finds the StepRecord a step button refers to and says why the
// press cannot act, if it cannot.
func (o *op) checkRecord(a action) (*playbooks.Step, *StepRecord, string) {
	if a.index >= len(o.inc.Steps) || o.inc.Steps[a.index].StepID != a.step {
		return nil, nil, "This button is out of date; nothing was done."
	}
	st := o.sc.Step(a.step)
	if st == nil {
		return nil, nil, "This button is out of date; nothing was done."
	}
	return st, o.inc.Steps[a.index], ""
}

func (o *op) notCurrentText() string {
	if o.inc.Current == "" {
		return "This step is no longer current: all steps are done. When service is restored: /incident resolve"
	}
	return fmt.Sprintf("This step is no longer current; the current step is %s.", escape(o.inc.Current))
}

// pressStep is Done, Skip or an answer pressed by userID.
func (o *op) pressStep(userID string, a action) string {
	st, rec, why := o.checkRecord(a)
	if why != "" {
		return why
	}
	if rec.Outcome != StepRunning {
		return o.stepAlreadyText(rec)
	}
	if a.index != len(o.inc.Steps)-1 || o.inc.Current != a.step {
		return o.notCurrentText()
	}
	if rec.Approval == ApprovalPending || rec.Approval == ApprovalDenied {
		return fmt.Sprintf("Step %s has not started: it waits for approval by the %s role.", escape(st.ID), escape(st.Approval))
	}
	if a.verb == actAnswer && a.x >= len(st.Answers) {
		return "This button is out of date; nothing was done."
	}
	label := map[string]string{actDone: "Done", actSkip: "Skip"}[a.verb]
	if a.verb == actAnswer {
		label = st.Answers[a.x].Label
	}
	o.workAck(userID, fmt.Sprintf("by pressing %s on step %s", label, st.ID), "")
	var next string
	rec.EndedAt, rec.By = o.now, userID
	switch a.verb {
	case actDone:
		rec.Outcome = StepDone
		next = o.sc.After(st.ID)
		o.event(KindStepDone, userID, fmt.Sprintf("Step %s done", st.ID), map[string]string{"step": st.ID})
	case actSkip:
		rec.Outcome = StepSkipped
		next = o.sc.After(st.ID)
		o.event(KindStepSkipped, userID, fmt.Sprintf("Step %s skipped", st.ID), map[string]string{"step": st.ID})
	case actAnswer:
		ans := st.Answers[a.x]
		rec.Outcome, rec.Answer = StepAnswered, ans.Label
		next = ans.Next
		o.event(KindDecision, userID, fmt.Sprintf("%s — %s → %s", st.Ask, ans.Label, nextName(next)),
			map[string]string{"step": st.ID, "answer": ans.Label, "next": next})
	}
	o.edit(o.lane(), o.stepRef(st.ID, a.index), o.stepEndedMessage(st, rec, next), "mark step "+st.ID+" "+string(rec.Outcome))
	o.enterStep(next)
	o.checkProjection()
	return ""
}

// pressApproval is Approve or Deny pressed. Where dialogs open
// (req.TriggerID), Deny asks why first: the surface opens the deny
// dialog, which runs "/incident deny REASON" in the incident channel.
func (o *op) pressApproval(req PressRequest, a action) Reply {
	st, rec, why := o.checkApproval(req.UserID, a)
	if why != "" {
		return Reply{Text: why}
	}
	if a.verb == actDeny && req.TriggerID != "" {
		return Reply{OpenDenyModal: true, DialogChannel: o.inc.ChannelID,
			Text: fmt.Sprintf("To deny step %s, type /incident deny REASON in %s.", escape(st.ID), channelLink(o.inc))}
	}
	label := map[bool]string{true: "Approve", false: "Deny"}[a.verb == actApprove]
	o.decide(req.UserID, st, rec, a, "by pressing "+label+" on step "+st.ID, "")
	return Reply{}
}

// checkApproval finds the approval an Approve or Deny of userID answers,
// or says why it cannot act (a press by someone outside the approving
// role is recorded: unauthorized).
func (o *op) checkApproval(userID string, a action) (*playbooks.Step, *StepRecord, string) {
	st, rec, why := o.checkRecord(a)
	if why != "" {
		return nil, nil, why
	}
	if st.Approval == "" {
		return nil, nil, "This button is out of date; nothing was done."
	}
	verb := "approve"
	if a.verb == actDeny {
		verb = "deny"
	}
	if c := o.contactOf(userID); c == nil || !o.plan.HasRole(c.ID, st.Approval) {
		o.event(KindUnauthorized, userID, fmt.Sprintf("%s pressed %s on step %s but is not in the %s role", o.memberPlain(userID), verb, st.ID, st.Approval),
			map[string]string{"step": st.ID, "action": verb, "role": st.Approval})
		return nil, nil, o.onlyApprovers(st.Approval, verb)
	}
	switch {
	case rec.Approval == ApprovalApproved:
		return nil, nil, fmt.Sprintf("Already approved by %s at %s.", mention(rec.ApprovedBy), o.clock(rec.ApprovedAt))
	case a.x != rec.ApprovalRequest:
		return nil, nil, "This approval request was replaced by a newer one; use the newest approval message."
	case rec.Approval == ApprovalDenied:
		return nil, nil, fmt.Sprintf("Already denied by %s at %s. Press *Request approval again* on the approval message to ask again.", mention(rec.DeniedBy), o.clock(rec.DeniedAt))
	case rec.Approval != ApprovalPending || a.index != len(o.inc.Steps)-1:
		return nil, nil, o.notCurrentText()
	}
	return st, rec, ""
}

// decide records userID's Approve or Deny (a.verb) of the approval of
// st, how ("by pressing Approve on step restore"), with the reason of a
// denial ("" for none).
func (o *op) decide(userID string, st *playbooks.Step, rec *StepRecord, a action, how, reason string) {
	request := rec.ApprovalRequest
	approvers := o.plan.Roles[st.Approval]
	o.workAck(userID, how, "")
	o.approvalAnswersPage(st, userID, how)
	o.deleteTimer(o.approvalKey())
	if a.verb == actApprove {
		rec.Approval, rec.ApprovedBy, rec.ApprovedAt = ApprovalApproved, userID, o.now
		o.event(KindApproved, userID, fmt.Sprintf("Step %s approved", st.ID), map[string]string{"step": st.ID, "role": st.Approval})
		line := o.approvedLine(userID)
		o.edit(o.lane(), o.approvalRef(st.ID, a.index, request), Message{Text: o.approvalText(st) + "\n" + line}, "mark step "+st.ID+" approved")
		for _, c := range approvers {
			o.edit(o.incDMLane(c), o.approvalDMRef(st.ID, a.index, request, c), Message{Text: o.approvalDMMessage(st, a.index, request).Text + "\n" + line}, "mark step "+st.ID+" approved for "+c)
		}
		o.startStep(st, rec, a.index)
		o.checkProjection()
		return
	}
	rec.Approval, rec.DeniedBy, rec.DeniedAt, rec.DenyReason = ApprovalDenied, userID, o.now, reason
	text, data := fmt.Sprintf("Step %s denied", st.ID), map[string]string{"step": st.ID, "role": st.Approval}
	if reason != "" {
		text += ": " + reason
		data["reason"] = reason
	}
	o.event(KindDenied, userID, text, data)
	line := o.deniedLine(rec)
	o.edit(o.lane(), o.approvalRef(st.ID, a.index, request), o.deniedMessage(st, rec, a.index), "mark step "+st.ID+" denied")
	for _, c := range approvers {
		o.edit(o.incDMLane(c), o.approvalDMRef(st.ID, a.index, request, c), Message{Text: o.approvalDMMessage(st, a.index, request).Text + "\n" + line}, "mark step "+st.ID+" denied for "+c)
	}
	o.post(Message{Text: o.deniedPost(st, userID, reason)}, "", "say that step "+st.ID+" was denied")
}

// denyCommand is "/incident deny [REASON]": userID denies the approval
// the current step waits for, saying why.
func (o *op) denyCommand(userID, reason, how string) (Reply, error) {
	n := len(o.inc.Steps)
	var rec *StepRecord
	if n > 0 {
		rec = o.inc.Steps[n-1]
	}
	if rec == nil || rec.StepID != o.inc.Current || rec.Approval != ApprovalPending {
		return Reply{}, Errorf(EINVALID, "No approval is waiting in incident #%d; /incident deny answers the approval the current step waits for.", o.inc.ID)
	}
	a := action{verb: actDeny, incident: o.inc.ID, index: n - 1, x: rec.ApprovalRequest, step: rec.StepID}
	st, rec, why := o.checkApproval(userID, a)
	if why != "" {
		return Reply{Text: why}, nil
	}
	o.decide(userID, st, rec, a, how, reason)
	return Reply{Text: fmt.Sprintf("You denied step %s.", escape(st.ID))}, nil
}

// pressReapprove is "Request approval again" after a denial; anyone in the
// channel may press it.
func (o *op) pressReapprove(userID string, a action) string {
	st, rec, why := o.checkRecord(a)
	if why != "" {
		return why
	}
	if st.Approval == "" || rec.Approval != ApprovalDenied || a.x != rec.ApprovalRequest || a.index != len(o.inc.Steps)-1 {
		switch rec.Approval {
		case ApprovalApproved:
			return fmt.Sprintf("Already approved by %s at %s.", mention(rec.ApprovedBy), o.clock(rec.ApprovedAt))
		case ApprovalPending:
			return "Approval is already requested again; see the newest approval message."
		}
		return "This button is out of date; nothing was done."
	}
	old := rec.ApprovalRequest
	o.edit(o.lane(), o.approvalRef(st.ID, a.index, old), Message{
		Text: o.approvalText(st) + "\n" + o.deniedLine(rec) +
			fmt.Sprintf(" · approval requested again by %s at %s", mention(userID), o.clock(o.now)),
	}, "mark the approval of step "+st.ID+" requested again")
	o.requestApproval(st, rec, a.index, userID)
	o.checkProjection()
	return ""
}
