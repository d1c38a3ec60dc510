package incident

import (
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// What people record for the postmortem, any time while the incident is
// open or after: when the failure began and the point in time the data
// was recovered to, which measure the data lost against the service's
// RPO (the RTO's twin).

// serviceRPO is the rpo of service id in p, or 0.
func serviceRPO(p *playbooks.Plan, id string) time.Duration {
	if p == nil {
		return 0
	}
	if svc := p.Services[id]; svc != nil {
		return svc.RPO
	}
	return 0
}

// incidentRPO is the RPO the incident is measured against: the one kept
// when it was declared, else (an incident recorded before drbot kept it)
// its plan's.
func incidentRPO(inc *Incident, p *playbooks.Plan) time.Duration {
	if inc.RPO > 0 {
		return inc.RPO
	}
	return serviceRPO(p, inc.Service)
}

// beganAt is when the failure began: what /incident began said, else
// when the incident was declared.
func beganAt(inc *Incident) time.Time {
	if !inc.BeganAt.IsZero() {
		return inc.BeganAt
	}
	return inc.DeclaredAt
}

// dataLoss is the data lost, in time: from the recovery point to when the
// failure began, never below zero (data recovered to a point after the
// failure began lost nothing). known is false until a recovery point is
// recorded.
func dataLoss(inc *Incident) (lost time.Duration, known bool) {
	if inc.RecoveryPoint.IsZero() {
		return 0, false
	}
	return max(beganAt(inc).Sub(inc.RecoveryPoint), 0), true
}

// recoveryPoint is /incident recovery-point WHEN.
func (o *op) recoveryPoint(userID, when string) (Reply, error) {
	t, err := o.when(when, "the recovery point")
	if err != nil {
		return Reply{}, err
	}
	o.inc.RecoveryPoint = t
	o.event(KindRecoveryPoint, userID, "Recovery point: data recovered to "+o.clock(t), map[string]string{"at": pmTime(t)})
	line := o.dataLossText()
	o.post(Message{Text: fmt.Sprintf(":floppy_disk: %s recorded the recovery point: the data was recovered to %s.\n%s", mention(userID), o.clock(t), line)}, "", "say the recovery point")
	return Reply{Text: fmt.Sprintf("Recovery point of incident #%d: %s. %s", o.inc.ID, o.clock(t), line)}, nil
}

// began is /incident began WHEN.
func (o *op) began(userID, when string) (Reply, error) {
	t, err := o.when(when, "when the failure began")
	if err != nil {
		return Reply{}, err
	}
	if t.After(o.inc.DeclaredAt) {
		return Reply{}, Errorf(EINVALID, "%s is after the incident was declared (%s): /incident began says when the failure began, if earlier. Nothing was changed.", o.clock(t), o.clock(o.inc.DeclaredAt))
	}
	o.inc.BeganAt = t
	o.event(KindBegan, userID, "The failure began at "+o.clock(t), map[string]string{"at": pmTime(t)})
	line := fmt.Sprintf(":clock1: %s says the failure began at %s, %s before it was declared.", mention(userID), o.clock(t), fmtDur(o.inc.DeclaredAt.Sub(t)))
	if _, known := dataLoss(o.inc); known {
		line += "\n" + o.dataLossText()
	}
	o.post(Message{Text: line}, "", "say when the failure began")
	return Reply{Text: fmt.Sprintf("Incident #%d: the failure began at %s.", o.inc.ID, o.clock(t))}, nil
}

// when parses WHEN for what (a point in time, in the past) in the plan's
// time zone, to the second.
func (o *op) when(s, what string) (time.Time, error) {
	t, err := ParseWhen(s, o.now, o.plan.Location)
	if err != nil {
		return time.Time{}, err
	}
	t = t.Truncate(time.Second)
	if t.After(o.now) {
		return time.Time{}, Errorf(EINVALID, "%s is in the future; %s is a time already past. Nothing was changed.", o.clock(t), what)
	}
	return t, nil
}

// dataLossText says the data lost against the RPO, for people: "Data
// lost: 15m (10:45 → 11:00 CET); RPO 15m: met". Without a recovery point
// it says how to record one, and "" when there is no RPO either.
func (o *op) dataLossText() string {
	rpo := incidentRPO(o.inc, o.plan)
	lost, known := dataLoss(o.inc)
	if !known {
		if rpo == 0 {
			return ""
		}
		return fmt.Sprintf("Recovery point not recorded (RPO %s): /incident recovery-point WHEN", fmtDur(rpo))
	}
	return fmt.Sprintf("Data lost: %s (%s → %s); %s", fmtDur(lost), o.clock(o.inc.RecoveryPoint), o.clock(beganAt(o.inc)), rpoVerdict(lost, rpo))
}

// rpoVerdict is "RPO 15m: met", "RPO 15m: missed by 25m", or "no RPO
// set".
func rpoVerdict(lost, rpo time.Duration) string {
	switch {
	case rpo == 0:
		return "no RPO set"
	case lost <= rpo:
		return fmt.Sprintf("RPO %s: met", fmtDur(rpo))
	default:
		return fmt.Sprintf("RPO %s: missed by %s", fmtDur(rpo), fmtDur(lost-rpo))
	}
}

// rpoField is the RPO's field of the resolve summary, the twin of the
// RTO's: "met: 15m of data lost (10:45 → 11:00 CET), RPO 15m", "missed
// by 5m: …", "15m, not checked: no recovery point recorded", or "none
// set".
func (o *op) rpoField() string {
	rpo := incidentRPO(o.inc, o.plan)
	lost, known := dataLoss(o.inc)
	if !known {
		if rpo == 0 {
			return "none set"
		}
		return fmt.Sprintf("%s, not checked: no recovery point recorded (/incident recovery-point WHEN)", fmtDur(rpo))
	}
	what := fmt.Sprintf("%s of data lost (%s → %s)", fmtDur(lost), o.clock(o.inc.RecoveryPoint), o.clock(beganAt(o.inc)))
	switch {
	case rpo == 0:
		return "none set; " + what
	case lost <= rpo:
		return fmt.Sprintf("met: %s, RPO %s", what, fmtDur(rpo))
	}
	return fmt.Sprintf("missed by %s: %s, RPO %s", fmtDur(lost-rpo), what, fmtDur(rpo))
}

// askRecoveryPoint is the answer to Done on a step with recovery_point:
// the dialog that asks for it where there is one, the command elsewhere.
// Other steps get no answer.
func (o *op) askRecoveryPoint(stepID string) Reply {
	st := o.sc.Step(stepID)
	if st == nil || !st.RecoveryPoint {
		return Reply{}
	}
	text := fmt.Sprintf("Step %s is done. To what point in time was the data recovered? Type /incident recovery-point WHEN (`10:45`, `2026-11-21 10:45` or `15m ago`) in %s.", escape(st.ID), channelLink(o.inc))
	if !o.inc.RecoveryPoint.IsZero() {
		text += fmt.Sprintf(" Recorded so far: %s.", o.clock(o.inc.RecoveryPoint))
	}
	return Reply{Text: text, OpenRecoveryPointModal: true}
}
