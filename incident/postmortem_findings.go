package incident

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Thresholds of the findings.
const (
	// A step is called slow when it took this much longer than its
	// estimate, relatively and absolutely: a 10-minute step that took 11
	// is not worth a line in a review.
	slowStepFactor = 1.25
	slowStepMin    = 5 * time.Minute
	// An approval that waited this long is worth a line.
	slowApproval = 10 * time.Minute
)

// findingLines collects the findings' lines.
type findingLines []string

func (f *findingLines) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

// findings writes what drbot found worth a line in the review: the RTO,
// the RPO, the acknowledgements, what could not be delivered, slow steps
// and approvals, presses by people not allowed to, and the playbook's
// longest path; a drill's score first.
func (b *pmBuilder) findings(ttr time.Duration) {
	var f findingLines
	b.rtoFinding(&f, ttr)
	f = append(f, b.rpoFindings()...)
	b.ackFindings(&f)
	for _, e := range b.events {
		if e.Kind == KindDeliveryFailed {
			f.add("%s; fix the contact or the Slack app's permissions", e.Text)
		}
	}
	b.stepFindings(&f)
	b.unauthorizedFindings(&f)
	if inc := b.inc; b.sc != nil && inc.RTO > 0 {
		if longest, _ := b.sc.LongestPath(); longest > inc.RTO {
			f.add("the playbook's longest path takes %s, more than the %s RTO; shorten it or agree a longer RTO", pmDur(longest), pmDur(inc.RTO))
		}
	}
	if b.inc.Drill {
		f = append(findingLines{b.drillScore(ttr)}, f...)
	}
	b.pm.Findings = append(b.pm.Findings, f...)
}

// rtoFinding says how the recovery went against the RTO.
func (b *pmBuilder) rtoFinding(f *findingLines, ttr time.Duration) {
	pm, inc := b.pm, b.inc
	resolved := inc.State == StateResolved
	switch {
	case inc.RTO == 0:
		f.add("no RTO is set for %s; set one in the plan so that incidents and drills are measured against it", pmOr(inc.Service, "this scenario's service"))
	case resolved && pm.RTOMet:
		f.add("RTO met: recovered in %s of %s, %s to spare", pmDur(ttr), pmDur(inc.RTO), pmDur(inc.RTO-ttr))
	case resolved:
		f.add("RTO missed by %s: recovered in %s against %s; find what took longest below, then shorten the playbook or agree a longer RTO", pmDur(ttr-inc.RTO), pmDur(ttr), pmDur(inc.RTO))
	case pm.RTOMet:
		f.add("still open after %s of the %s RTO", pmDur(ttr), pmDur(inc.RTO))
	default:
		f.add("still open, %s past the %s RTO", pmDur(ttr-inc.RTO), pmDur(inc.RTO))
	}
}

// ackFindings says which roles, or people paged alone, answered late or
// not at all.
func (b *pmBuilder) ackFindings(f *findingLines) {
	pm, inc := b.pm, b.inc
	for i, r := range inc.Roles {
		a, ra := pm.Acks[i], b.ra[i]
		took := time.Duration(a.AckSeconds) * time.Second
		// A person paged alone (/incident page @someone) is no role of
		// the plan: the findings name them, and have no contacts to check
		// or add.
		person, alone := pagedPerson(r)
		switch {
		case !a.Acknowledged && (r.Sent == 0 || r.StoodDown):
			// Never paged (the incident ended first), or paged only about
			// another role, which answered: nothing to say.
		case alone && !a.Acknowledged:
			f.add("the page to %s alone went unanswered (%s); check their contact details and how they are notified", b.name(person), pmPages(r.Sent))
		case alone && ra.pagesBefore > 1:
			f.add("the page to %s alone was answered only after %s (%s); check their contact details and how they are notified", b.name(person), pmPages(ra.pagesBefore), pmDur(took))
		case alone && b.plan != nil && b.plan.Paging.AckTimeout > 0 && took > b.plan.Paging.AckTimeout:
			f.add("the page to %s alone took %s to be answered, longer than the %s ack timeout; check how they are notified", b.name(person), pmDur(took), pmDur(b.plan.Paging.AckTimeout))
		case alone:
		case !a.Acknowledged:
			line := fmt.Sprintf("nobody acknowledged the %s role (%s); check its contacts and how they are notified", r.Role, pmPages(r.Sent))
			if len(r.Contacts) == 1 {
				line += ", and add a second contact to escalate to"
			}
			*f = append(*f, line)
		case ra.pagesBefore > 1 && len(r.Contacts) > 0 && r.Contacts[0] != ra.ackBy:
			f.add("the %s role's first contact did not answer within %s (the role answered after %s, %s); check their contact details or put a reachable contact first", r.Role, b.ackTimeout(), pmPages(ra.pagesBefore), pmDur(took))
		case ra.pagesBefore > 1:
			f.add("the %s role answered only after %s (%s); check that its contacts can be reached", r.Role, pmPages(ra.pagesBefore), pmDur(took))
		case b.plan != nil && b.plan.Paging.AckTimeout > 0 && took > b.plan.Paging.AckTimeout:
			f.add("the %s role took %s to answer its page, longer than the %s ack timeout; check how its contacts are notified", r.Role, pmDur(took), pmDur(b.plan.Paging.AckTimeout))
		}
	}
}

// stepFindings says which steps took much longer than their estimates,
// which approvals were denied and which waited long.
func (b *pmBuilder) stepFindings(f *findingLines) {
	pm := b.pm
	for _, s := range pm.Steps {
		est := time.Duration(s.EstimateSeconds) * time.Second
		act := time.Duration(s.ActualSeconds) * time.Second
		if s.Outcome == StepSkipped || est == 0 {
			continue
		}
		if act-est >= slowStepMin && float64(act) >= slowStepFactor*float64(est) {
			verb := "took"
			if s.Outcome == PMStepRunning {
				verb = "has taken"
			}
			f.add("%s %s %s against an estimate of %s; update the estimate or the RTO", s.ID, verb, pmDur(act), pmDur(est))
		}
	}
	for _, a := range pm.Approvals {
		wait := time.Duration(a.WaitSeconds) * time.Second
		switch {
		case a.Outcome == ApprovalDenied && a.Reason != "":
			f.add("approval of %s was denied (%s); decide whether the playbook should change", a.Step, a.Reason)
		case a.Outcome == ApprovalDenied:
			f.add("approval of %s was denied; record why, and whether the playbook should change", a.Step)
		case wait >= slowApproval && a.Outcome == ApprovalPending:
			f.add("approval of %s has waited %s; make sure someone in the %s role is reachable", a.Step, pmDur(wait), a.Role)
		case wait >= slowApproval:
			f.add("approval of %s took %s; make sure someone in the %s role is reachable, or pre-approve this step", a.Step, pmDur(wait), a.Role)
		}
	}
}

// unauthorizedFindings counts the presses by people not allowed to make
// them, by what they pressed.
func (b *pmBuilder) unauthorizedFindings(f *findingLines) {
	type press struct{ action, step, role string }
	unauthorized := map[press]int{}
	var presses []press
	for _, e := range b.events {
		if e.Kind != KindUnauthorized {
			continue
		}
		p := press{e.Data["action"], e.Data["step"], e.Data["role"]}
		if unauthorized[p] == 0 {
			presses = append(presses, p)
		}
		unauthorized[p]++
	}
	for _, p := range presses {
		n := "a press"
		if c := unauthorized[p]; c > 1 {
			n = strconv.Itoa(c) + " presses"
		}
		switch {
		case p.action == "acknowledge":
			f.add("%s of Acknowledge for the %s role came from someone not among its contacts; if they should answer its pages, add them to the role", n, p.role)
		case p.step != "":
			what := "Approve or Deny"
			if p.action != "" {
				what = strings.ToUpper(p.action[:1]) + p.action[1:]
			}
			f.add("%s of %s on %s came from someone outside the %s role; tell the team who may approve", n, what, p.step, pmOr(p.role, "approving"))
		default:
			f.add("%s came from someone not allowed to make it (%s)", n, pmOr(p.action, "a button"))
		}
	}
}

// ackTimeout is the plan's ack timeout for people ("5m"), or what it
// stands for when there is no plan.
func (b *pmBuilder) ackTimeout() string {
	if b.plan == nil || b.plan.Paging.AckTimeout <= 0 {
		return "the ack timeout"
	}
	return pmDur(b.plan.Paging.AckTimeout)
}

// drillScore is the one-line result of a drill: how fast each role
// answered, the finish against the RTO, and the steps slower than planned.
func (b *pmBuilder) drillScore(ttr time.Duration) string {
	pm, inc := b.pm, b.inc
	var acks []string
	for _, a := range pm.Acks {
		if a.Acknowledged {
			acks = append(acks, fmt.Sprintf("%s %s", a.Role, pmDur(time.Duration(a.AckSeconds)*time.Second)))
		} else {
			acks = append(acks, a.Role+" never")
		}
	}
	ackPart := "no role was paged"
	if len(acks) > 0 {
		ackPart = "time to acknowledge " + strings.Join(acks, ", ")
	}
	var finish string
	switch {
	case inc.RTO == 0:
		finish = "ran " + pmDur(ttr) + " with no RTO"
	case inc.State != StateResolved:
		finish = "not finished after " + pmDur(ttr) + " of the " + pmDur(inc.RTO) + " RTO"
	case pm.RTOMet:
		finish = "finished in " + pmDur(ttr) + " of the " + pmDur(inc.RTO) + " RTO"
	default:
		finish = "finished in " + pmDur(ttr) + ", " + pmDur(ttr-inc.RTO) + " past the " + pmDur(inc.RTO) + " RTO"
	}
	slower, timed := 0, 0
	for _, s := range pm.Steps {
		if s.Outcome == StepSkipped || s.EstimateSeconds == 0 {
			continue
		}
		timed++
		if s.ActualSeconds > s.EstimateSeconds {
			slower++
		}
	}
	return fmt.Sprintf("drill score: %s; %s; %d of %d timed steps slower than estimated", ackPart, finish, slower, timed)
}

func pmPages(n int) string {
	if n == 1 {
		return "1 page"
	}
	return strconv.Itoa(n) + " pages"
}
