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
// Every button names its incident, the run index of its step (its position
// in Incident.Steps) and, for approvals, the request; a press that does not
// match the current state changes nothing and is told why.

func (o *op) stepRef(id string, run int) string { return o.ref("step", id, strconv.Itoa(run)) }

func (o *op) approvalRef(id string, run, request int) string {
	return o.ref("approval", id, strconv.Itoa(run), strconv.Itoa(request))
}

func (o *op) approvalDMRef(id string, run, request int, contact string) string {
	return o.approvalRef(id, run, request) + "/" + contact
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
	sr := &StepRun{StepID: id}
	o.inc.Steps = append(o.inc.Steps, sr)
	o.inc.Current = id
	run := len(o.inc.Steps) - 1
	if st.Approval != "" {
		o.requestApproval(st, sr, run, "")
		return
	}
	o.startStep(st, sr, run)
}

func (o *op) startStep(st *playbooks.Step, sr *StepRun, run int) {
	sr.StartedAt = o.now
	o.event(KindStepStarted, "", fmt.Sprintf("Step %s started: %s", st.ID, st.Do), map[string]string{"step": st.ID})
	o.post(o.stepMessage(st, run), o.stepRef(st.ID, run), "post step "+st.ID)
}

// requestApproval opens a new approval request of the step. actor is who
// asked again after a denial, "" when drbot asks on reaching the step.
func (o *op) requestApproval(st *playbooks.Step, sr *StepRun, run int, actor string) {
	sr.Approval = ApprovalPending
	sr.ApprovalRequest++
	sr.ApprovalRequestedAt = o.now
	request := sr.ApprovalRequest
	o.event(KindApprovalRequested, actor, fmt.Sprintf("Step %s waits for approval by the %s role", st.ID, st.Approval),
		map[string]string{"step": st.ID, "role": st.Approval, "round": strconv.Itoa(request)})
	o.urgentPost(o.approvalMessage(st, run, request), o.approvalRef(st.ID, run, request), "ask for approval of step "+st.ID)
	approvers := o.plan.Roles[st.Approval]
	o.invite(approvers, nil)
	for _, c := range approvers {
		o.urgentDM(c, o.approvalDMMessage(st, run, request), o.approvalDMRef(st.ID, run, request, c), "ask "+c+" to approve step "+st.ID)
	}
	o.scheduleApprovalPage(st, run, request)
}

// checkRun finds the StepRun a step button refers to and says why the
// press cannot act, if it cannot.
func (o *op) checkRun(a action) (*playbooks.Step, *StepRun, string) {
	if a.run >= len(o.inc.Steps) || o.inc.Steps[a.run].StepID != a.step {
		return nil, nil, "This button is out of date; nothing was done."
	}
	st := o.sc.Step(a.step)
	if st == nil {
		return nil, nil, "This button is out of date; nothing was done."
	}
	return st, o.inc.Steps[a.run], ""
}

func (o *op) notCurrentText() string {
	if o.inc.Current == "" {
		return "This step is no longer current: all steps are done. When service is restored: /incident resolve"
	}
	return fmt.Sprintf("This step is no longer current; the current step is %s.", escape(o.inc.Current))
}

// pressStep is Done, Skip or an answer pressed by userID.
func (o *op) pressStep(userID string, a action) string {
	st, sr, why := o.checkRun(a)
	if why != "" {
		return why
	}
	if sr.Outcome != StepRunning {
		return o.stepAlreadyText(sr)
	}
	if a.run != len(o.inc.Steps)-1 || o.inc.Current != a.step {
		return o.notCurrentText()
	}
	if sr.Approval == ApprovalPending || sr.Approval == ApprovalDenied {
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
	sr.EndedAt, sr.By = o.now, userID
	switch a.verb {
	case actDone:
		sr.Outcome = StepDone
		next = o.sc.After(st.ID)
		o.event(KindStepDone, userID, fmt.Sprintf("Step %s done", st.ID), map[string]string{"step": st.ID})
	case actSkip:
		sr.Outcome = StepSkipped
		next = o.sc.After(st.ID)
		o.event(KindStepSkipped, userID, fmt.Sprintf("Step %s skipped", st.ID), map[string]string{"step": st.ID})
	case actAnswer:
		ans := st.Answers[a.x]
		sr.Outcome, sr.Answer = StepAnswered, ans.Label
		next = ans.Next
		o.event(KindDecision, userID, fmt.Sprintf("%s — %s → %s", st.Ask, ans.Label, nextName(next)),
			map[string]string{"step": st.ID, "answer": ans.Label, "next": next})
	}
	o.edit(o.lane(), o.stepRef(st.ID, a.run), o.stepEndedMessage(st, sr, next), "mark step "+st.ID+" "+string(sr.Outcome))
	o.enterStep(next)
	o.checkProjection()
	return ""
}

// pressApproval is Approve or Deny pressed. Where dialogs open
// (req.TriggerID), Deny asks why first: the surface opens the deny
// dialog, which runs "/incident deny REASON" in the incident channel.
func (o *op) pressApproval(req PressRequest, a action) Reply {
	st, sr, why := o.checkApproval(req.UserID, a)
	if why != "" {
		return Reply{Text: why}
	}
	if a.verb == actDeny && req.TriggerID != "" {
		return Reply{OpenDenyModal: true, DialogChannel: o.inc.ChannelID,
			Text: fmt.Sprintf("To deny step %s, type /incident deny REASON in %s.", escape(st.ID), channelLink(o.inc))}
	}
	label := map[bool]string{true: "Approve", false: "Deny"}[a.verb == actApprove]
	o.decide(req.UserID, st, sr, a, "by pressing "+label+" on step "+st.ID, "")
	return Reply{}
}

// checkApproval finds the approval an Approve or Deny of userID answers,
// or says why it cannot act (a press by someone outside the approving
// role is recorded: unauthorized).
func (o *op) checkApproval(userID string, a action) (*playbooks.Step, *StepRun, string) {
	st, sr, why := o.checkRun(a)
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
	case sr.Approval == ApprovalApproved:
		return nil, nil, fmt.Sprintf("Already approved by %s at %s.", mention(sr.ApprovedBy), o.clock(sr.ApprovedAt))
	case a.x != sr.ApprovalRequest:
		return nil, nil, "This approval request was replaced by a newer one; use the newest approval message."
	case sr.Approval == ApprovalDenied:
		return nil, nil, fmt.Sprintf("Already denied by %s at %s. Press *Request approval again* on the approval message to ask again.", mention(sr.DeniedBy), o.clock(sr.DeniedAt))
	case sr.Approval != ApprovalPending || a.run != len(o.inc.Steps)-1:
		return nil, nil, o.notCurrentText()
	}
	return st, sr, ""
}

// decide records userID's Approve or Deny (a.verb) of the approval of
// st, how ("by pressing Approve on step restore"), with the reason of a
// denial ("" for none).
func (o *op) decide(userID string, st *playbooks.Step, sr *StepRun, a action, how, reason string) {
	request := sr.ApprovalRequest
	approvers := o.plan.Roles[st.Approval]
	o.workAck(userID, how, "")
	o.approvalAnswersPage(st, userID, how)
	o.deleteTimer(o.approvalKey())
	if a.verb == actApprove {
		sr.Approval, sr.ApprovedBy, sr.ApprovedAt = ApprovalApproved, userID, o.now
		o.event(KindApproved, userID, fmt.Sprintf("Step %s approved", st.ID), map[string]string{"step": st.ID, "role": st.Approval})
		line := o.approvedLine(userID)
		o.edit(o.lane(), o.approvalRef(st.ID, a.run, request), Message{Text: o.approvalText(st) + "\n" + line}, "mark step "+st.ID+" approved")
		for _, c := range approvers {
			o.edit(o.incDMLane(c), o.approvalDMRef(st.ID, a.run, request, c), Message{Text: o.approvalDMMessage(st, a.run, request).Text + "\n" + line}, "mark step "+st.ID+" approved for "+c)
		}
		o.startStep(st, sr, a.run)
		o.checkProjection()
		return
	}
	sr.Approval, sr.DeniedBy, sr.DeniedAt, sr.DenyReason = ApprovalDenied, userID, o.now, reason
	text, data := fmt.Sprintf("Step %s denied", st.ID), map[string]string{"step": st.ID, "role": st.Approval}
	if reason != "" {
		text += ": " + reason
		data["reason"] = reason
	}
	o.event(KindDenied, userID, text, data)
	line := o.deniedLine(sr)
	o.edit(o.lane(), o.approvalRef(st.ID, a.run, request), Message{
		Text:    o.approvalText(st) + "\n" + line,
		Buttons: []Button{{Label: "Request approval again", Action: stepAction(actReapprove, o.inc.ID, st.ID, a.run, request)}},
	}, "mark step "+st.ID+" denied")
	for _, c := range approvers {
		o.edit(o.incDMLane(c), o.approvalDMRef(st.ID, a.run, request, c), Message{Text: o.approvalDMMessage(st, a.run, request).Text + "\n" + line}, "mark step "+st.ID+" denied for "+c)
	}
	o.post(Message{Text: o.deniedPost(st, userID, reason)}, "", "say that step "+st.ID+" was denied")
}

// denyCommand is "/incident deny [REASON]": userID denies the approval
// the current step waits for, saying why.
func (o *op) denyCommand(userID, reason string) (Reply, error) {
	n := len(o.inc.Steps)
	var sr *StepRun
	if n > 0 {
		sr = o.inc.Steps[n-1]
	}
	if sr == nil || sr.StepID != o.inc.Current || sr.Approval != ApprovalPending {
		return Reply{}, Errorf(EINVALID, "No approval is waiting in incident #%d; /incident deny answers the approval the current step waits for.", o.inc.ID)
	}
	a := action{verb: actDeny, incident: o.inc.ID, run: n - 1, x: sr.ApprovalRequest, step: sr.StepID}
	st, sr, why := o.checkApproval(userID, a)
	if why != "" {
		return Reply{Text: why}, nil
	}
	o.decide(userID, st, sr, a, "by typing /incident deny", reason)
	return Reply{Text: fmt.Sprintf("You denied step %s.", escape(st.ID))}, nil
}

// pressReapprove is "Request approval again" after a denial; anyone in the
// channel may press it.
func (o *op) pressReapprove(userID string, a action) string {
	st, sr, why := o.checkRun(a)
	if why != "" {
		return why
	}
	if st.Approval == "" || sr.Approval != ApprovalDenied || a.x != sr.ApprovalRequest || a.run != len(o.inc.Steps)-1 {
		switch sr.Approval {
		case ApprovalApproved:
			return fmt.Sprintf("Already approved by %s at %s.", mention(sr.ApprovedBy), o.clock(sr.ApprovedAt))
		case ApprovalPending:
			return "Approval is already requested again; see the newest approval message."
		}
		return "This button is out of date; nothing was done."
	}
	old := sr.ApprovalRequest
	o.edit(o.lane(), o.approvalRef(st.ID, a.run, old), Message{
		Text: o.approvalText(st) + "\n" + o.deniedLine(sr) +
			fmt.Sprintf(" · approval requested again by %s at %s", mention(userID), o.clock(o.now)),
	}, "mark the approval of step "+st.ID+" requested again")
	o.requestApproval(st, sr, a.run, userID)
	o.checkProjection()
	return ""
}
