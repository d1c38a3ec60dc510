package incident

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// RTO rules.
//
// The clock starts at declaration. The timer inc/N/rto is due at the next
// threshold of the scenario's rto_alerts not yet alerted, then at 100%
// (the breach). Each alert says the time elapsed, the time left and the
// projected finish. If the process was down past several thresholds, only
// the highest one due is posted (the others are marked done): one message
// with the current numbers is worth more than three stale ones.
//
// The projected finish is now plus the longest path of estimates from the
// current step to the end, where the current step counts only for what is
// left of its estimate (never less than zero): an overrunning step pushes
// the finish out by the time that passes. A projection past the deadline
// is said as soon as it happens: after every step change, decision and
// approval, at declaration, and, with nothing pressed, at the moment the
// overrun makes it so (the timer inc/N/projection). It is said once; if
// the team catches up (a skipped step, a shorter branch) the channel is
// told it is back on track, and a later slip is said again. Both are
// recorded as rto_alert with data projection=late|on_track.
//
// A breach is recorded (rto_breached), posted, and pages the roles that
// approve the scenario's steps and the commander role.

const (
	timerRTO        TimerKind = "rto"
	timerProjection TimerKind = "projection"
)

// defaultRTOAlerts applies when a scenario leaves rto_alerts out (nil);
// an explicit empty list means only the breach.
var defaultRTOAlerts = []float64{0.5, 0.75, 0.9}

// thresholds returns the alert thresholds in percent, ascending, 100 last.
func (o *op) thresholds() []int { return rtoThresholds(o.sc) }

// rtoThresholds are the percentages of the RTO at which sc alerts, in
// order, 100 (the breach) last.
func rtoThresholds(sc *playbooks.Scenario) []int {
	fr := sc.RTOAlerts
	if fr == nil {
		fr = defaultRTOAlerts
	}
	var out []int
	for _, f := range fr {
		p := int(math.Round(f * 100))
		if p > 0 && p < 100 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return append(out, 100)
}

func (o *op) thresholdAt(pct int) time.Time {
	return o.inc.DeclaredAt.Add(time.Duration(int64(o.inc.RTO) * int64(pct) / 100))
}

func (o *op) rtoKey() string        { return o.ref(string(timerRTO)) }
func (o *op) projectionKey() string { return o.ref(string(timerProjection)) }

func (o *op) breached() bool { return slices.Contains(o.inc.Alerts, 100) }

// scheduleRTO sets the RTO timer at the next threshold not yet alerted.
func (o *op) scheduleRTO() {
	if o.inc.RTO <= 0 || o.inc.State != StateOpen {
		o.deleteTimer(o.rtoKey())
		return
	}
	for _, p := range o.thresholds() {
		if !slices.Contains(o.inc.Alerts, p) {
			o.setTimer(o.rtoKey(), timerRTO, o.thresholdAt(p), strconv.Itoa(p))
			return
		}
	}
	o.deleteTimer(o.rtoKey())
}

// projection is the projected finish of an incident at op's time.
type projection struct {
	finish, deadline time.Time
	path             []string // the steps still ahead on the longest path
	done             bool     // no step left
	// lateAt is when, with nothing pressed, the projection passes the
	// deadline; zero when it already has.
	lateAt time.Time
	// started: the current step (path[0]) is running, and left is what
	// remains of its estimate (never less than zero).
	started bool
	left    time.Duration
}

// onTime is how far from the deadline a projected finish still counts as
// right at it. People read these times to the second: a finish a few
// milliseconds past the deadline is not "0s past" it.
const onTime = time.Second

func (p projection) late() bool { return !p.done && p.finish.Sub(p.deadline) >= onTime }

// atDeadline reports whether the projected finish is right at the
// deadline, to the second.
func (p projection) atDeadline() bool {
	d := p.finish.Sub(p.deadline)
	return d > -onTime && d < onTime
}

func (o *op) project() projection { return projectAt(o.inc, o.sc, o.now) }

// projectAt is the projection of inc, walked with scenario sc, at now.
func projectAt(inc *Incident, sc *playbooks.Scenario, now time.Time) projection {
	p := projection{deadline: inc.DeclaredAt.Add(inc.RTO), finish: now}
	cur := inc.Current
	st := sc.Step(cur)
	if cur == "" || st == nil || inc.State != StateOpen {
		p.done = true
		return p
	}
	rem, path := sc.Remaining(cur)
	p.path = path
	rest := rem - st.Estimate // after the current step
	var rec *StepRecord
	if n := len(inc.Steps); n > 0 && inc.Steps[n-1].StepID == cur {
		rec = inc.Steps[n-1]
	}
	if rec == nil || rec.StartedAt.IsZero() {
		// Not started (waiting for approval): the whole estimate is ahead,
		// and slides with the clock.
		p.finish = now.Add(rem)
		p.lateAt = p.deadline.Add(-rem).Add(onTime)
	} else {
		p.started = true
		p.left = max(st.Estimate-now.Sub(rec.StartedAt), 0)
		p.finish = now.Add(p.left + rest)
		// Finish = max(start+estimate, t) + rest: constant until the
		// estimate runs out, then sliding.
		if rec.StartedAt.Add(st.Estimate+rest).Sub(p.deadline) < onTime {
			p.lateAt = p.deadline.Add(-rest).Add(onTime)
		}
	}
	if p.late() {
		p.lateAt = time.Time{}
	}
	return p
}

// checkProjection says a projection that just went past the deadline (or
// came back), and schedules the moment it would with nothing pressed.
func (o *op) checkProjection() {
	// Past the deadline the breach is due (the RTO timer may not have
	// fired yet, after downtime): it says the projection, and a "projected
	// past the RTO" before it would be stale news.
	deadline := o.inc.DeclaredAt.Add(o.inc.RTO)
	if o.inc.RTO <= 0 || o.inc.State != StateOpen || o.breached() || !o.now.Before(deadline) {
		o.deleteTimer(o.projectionKey())
		return
	}
	p := o.project()
	if p.done {
		o.deleteTimer(o.projectionKey())
		return
	}
	switch late := p.late(); {
	case late && !o.inc.ProjectedLate:
		o.inc.ProjectedLate = true
		finish, _ := o.clocks(p.finish, p.deadline)
		o.event(KindRTOAlert, "", fmt.Sprintf("Projected finish %s is %s past the RTO deadline", finish, fmtDur(p.finish.Sub(p.deadline))),
			o.projectionData(p, "late"))
		o.urgentPost(Message{Text: o.lateText(p)}, "", "say the projected finish is past the RTO")
	case !late && o.inc.ProjectedLate:
		o.inc.ProjectedLate = false
		within := fmtDur(p.deadline.Sub(p.finish)) + " within the RTO"
		if p.atDeadline() {
			within = "right at the RTO deadline"
		}
		o.event(KindRTOAlert, "", fmt.Sprintf("Back on track: projected finish %s, %s", o.clock(p.finish), within),
			o.projectionData(p, "on_track"))
		o.post(Message{Text: o.onTrackText(p)}, "", "say the projected finish is back within the RTO")
	}
	if p.lateAt.IsZero() {
		o.deleteTimer(o.projectionKey())
	} else {
		o.setTimer(o.projectionKey(), timerProjection, p.lateAt, "")
	}
}

func (o *op) projectionData(p projection, what string) map[string]string {
	return map[string]string{
		"projection":        what,
		"projected":         p.finish.Format(time.RFC3339),
		"elapsed_seconds":   secondsString(o.now.Sub(o.inc.DeclaredAt)),
		"remaining_seconds": secondsString(p.deadline.Sub(o.now)),
	}
}

func secondsString(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// fireRTO is the RTO timer falling due.
func (o *op) fireRTO() {
	if o.inc.RTO <= 0 {
		return
	}
	top := 0
	for _, pct := range o.thresholds() {
		if !slices.Contains(o.inc.Alerts, pct) && !o.thresholdAt(pct).After(o.now) {
			o.inc.Alerts = append(o.inc.Alerts, pct)
			top = pct
		}
	}
	if top == 0 {
		o.scheduleRTO()
		return
	}
	p := o.project()
	if top == 100 {
		o.breach(p)
		o.scheduleRTO()
		return
	}
	data := o.projectionData(p, "")
	delete(data, "projection")
	data["percent"] = strconv.Itoa(top)
	if p.done {
		delete(data, "projected")
	}
	o.event(KindRTOAlert, "", fmt.Sprintf("RTO %d%%: %s elapsed, %s left", top, fmtDur(o.now.Sub(o.inc.DeclaredAt)), fmtDur(p.deadline.Sub(o.now))), data)
	o.urgentPost(Message{Text: o.alertText(top, p)}, "", fmt.Sprintf("post the RTO %d%% alert", top))
	if p.late() {
		// The alert said it; checkProjection must not say it again.
		o.inc.ProjectedLate = true
	}
	o.scheduleRTO()
	o.checkProjection()
}

// breachRoles are the roles a breach pages: those approving the
// scenario's steps, and the commander.
func (o *op) breachRoles() []string {
	var roles []string
	for _, st := range o.sc.Steps {
		if st.Approval != "" && !slices.Contains(roles, st.Approval) && len(o.plan.Roles[st.Approval]) > 0 {
			roles = append(roles, st.Approval)
		}
	}
	if len(o.plan.Roles[commanderRole]) > 0 && !slices.Contains(roles, commanderRole) {
		roles = append(roles, commanderRole)
	}
	return roles
}

func (o *op) breach(p projection) {
	data := map[string]string{
		"percent":         "100",
		"elapsed_seconds": secondsString(o.now.Sub(o.inc.DeclaredAt)),
	}
	if !p.done {
		data["projected"] = p.finish.Format(time.RFC3339)
	}
	o.event(KindRTOBreached, "", fmt.Sprintf("RTO of %s breached", fmtDur(o.inc.RTO)), data)
	var paged []string
	for _, role := range o.breachRoles() {
		if _, started := o.pageRole(role, o.plan.Roles[role], "", "_The RTO of this incident was breached._"); started {
			paged = append(paged, role)
		}
	}
	o.urgentPost(Message{Text: o.breachText(p, paged)}, "", "post the RTO breach")
	o.deleteTimer(o.projectionKey())
}
