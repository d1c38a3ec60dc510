package incident

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/drbot-dev/drbot/playbooks"
)

// Approvals are paged like roles.
//
// An approval request goes to every approver at once, as a direct message
// with Approve and Deny. One nobody decides within ack_timeout is paged:
// the channel is told the step still waits, and the approver role is
// paged (pageRole), so the request goes down the role's list one contact
// every ack_timeout, for the plan's rounds, and then to the commander, as
// any page does. A decision (Approve or Deny, by any approver) answers
// those pages. The timer is inc/N/approval, its data "INDEX|REQUEST" (the
// index of the step record, the number of the approval request): a request
// replaced by a newer one, or decided, is not paged.

const timerApproval TimerKind = "approval"

func (o *op) approvalKey() string { return o.ref(string(timerApproval)) }

// scheduleApprovalPage sets the approval's timer when the step has
// approvers to page.
func (o *op) scheduleApprovalPage(st *playbooks.Step, index, request int) {
	if len(o.plan.Roles[st.Approval]) == 0 {
		return
	}
	o.setTimer(o.approvalKey(), timerApproval, o.now.Add(o.ackTimeout()), strconv.Itoa(index)+"|"+strconv.Itoa(request))
}

// pageApproval is the approval timer falling due: the approval of step
// record index, request request (data "INDEX|REQUEST"), still waits.
func (o *op) pageApproval(data string) {
	r, x, _ := strings.Cut(data, "|")
	index, err1 := strconv.Atoi(r)
	request, err2 := strconv.Atoi(x)
	if err1 != nil || err2 != nil || index != len(o.inc.Steps)-1 || index < 0 {
		return
	}
	rec := o.inc.Steps[index]
	st := o.sc.Step(rec.StepID)
	if st == nil || st.Approval == "" || rec.Approval != "pending" || rec.ApprovalRequest != request {
		return
	}
	waited := o.now.Sub(rec.ApprovalRequestedAt)
	reason := emphasize("_", fmt.Sprintf("Step %s has waited %s for approval by the %s role: Approve or Deny it on the approval message in #%s or in your direct messages.",
		escape(st.ID), fmtDur(waited), escape(st.Approval), o.inc.ChannelName))
	rp, started := o.pageRole(st.Approval, o.plan.Roles[st.Approval], "", reason)
	text := fmt.Sprintf(":hourglass_flowing_sand: Step %s has waited %s for approval by the %s role (%s).",
		escape(st.ID), fmtDur(waited), escape(st.Approval), o.approverNames(st.Approval))
	if rp != nil {
		if started {
			text += fmt.Sprintf(" Paging %s as %s.", o.who(rp.current()), escape(st.Approval))
		} else {
			text += fmt.Sprintf(" %s is being paged already (page %d, to %s).", escape(st.Approval), rp.Sent-rp.CalloutStart, o.who(rp.current()))
		}
	}
	o.post(Message{Text: text}, "", "say that step "+st.ID+" still waits for approval")
}

// approvalAnswersPage acknowledges the approver role's page for userID,
// who decided the approval (how says how): any approver's decision
// answers the page, not only the paged one's.
func (o *op) approvalAnswersPage(st *playbooks.Step, userID, how string) {
	rp := o.rolePage(st.Approval)
	if rp == nil || !rp.paging() {
		return
	}
	if by, ok := o.mayAck(rp, userID); ok {
		o.ackRole(rp, userID, by, how)
	}
}
