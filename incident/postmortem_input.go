package incident

import (
	"fmt"
	"strings"
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

// recoveredAfterBegan reports whether the data was recovered to a point
// after the failure began: no loss is counted, and every place that says
// the data lost says so instead of a backwards range (10:50 → 10:30).
func recoveredAfterBegan(inc *Incident) bool {
	return !inc.RecoveryPoint.IsZero() && inc.RecoveryPoint.After(beganAt(inc))
}

// DataLoss is the data the incident lost, in time: from its recovery
// point to when the failure began (began_at), never below zero. ok is
// false until a recovery point is recorded.
func (inc *Incident) DataLoss() (lost time.Duration, ok bool) { return dataLoss(inc) }

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
	if recoveredAfterBegan(o.inc) {
		return fmt.Sprintf("Data lost: none counted: the data was recovered to %s, after the failure began (%s); check that the restore did not bring the damage back, or correct the times (/incident recovery-point, /incident began)",
			o.clock(o.inc.RecoveryPoint), o.clock(beganAt(o.inc)))
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
	if recoveredAfterBegan(o.inc) {
		return fmt.Sprintf("none counted: recovered to %s, after the failure began (%s); check the restore did not bring the damage back",
			o.clock(o.inc.RecoveryPoint), o.clock(beganAt(o.inc)))
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

// ActionItem is something the team means to do after the incident
// (/incident action [@owner] TEXT).
type ActionItem struct {
	Owner string    `json:"owner,omitempty"` // contact id or Slack member ID; "" for nobody yet
	Text  string    `json:"text"`            // as typed
	At    time.Time `json:"at"`
	By    string    `json:"by"` // Slack member ID of who recorded it
}

// How an incident was detected (Detection.Source).
const (
	DetectPerson   = "person"   // someone declared it (/incident declare, the dialog)
	DetectDrill    = "drill"    // someone started a drill
	DetectSchedule = "schedule" // a drill of the plan's drills: schedule
	DetectAlert    = "alert"    // a monitoring alert (the alerts intake)
)

// Detection says how an incident started, for the postmortem's Detection
// section. The alerts intake fills Alert; Declare fills the rest.
type Detection struct {
	Source string `json:"source"`          // one of the Detect constants
	By     string `json:"by,omitempty"`    // Slack member ID of who declared, or accepted the alert
	Alert  string `json:"alert,omitempty"` // "alert PaymentsDBDown from Alertmanager"
	// Labels and Links are the alert's, as monitoring sent them.
	Labels map[string]string `json:"labels,omitempty"`
	Links  []Link            `json:"links,omitempty"`
}

// detectionOf is how a declaration says it was detected: what the request
// says, else a person or a drill, or the schedule when nobody declared.
func detectionOf(req DeclareRequest) Detection {
	if req.Detection != nil {
		return *req.Detection
	}
	switch {
	case req.Drill && req.UserID == "":
		return Detection{Source: DetectSchedule}
	case req.Drill:
		return Detection{Source: DetectDrill, By: req.UserID}
	}
	return Detection{Source: DetectPerson, By: req.UserID}
}

// impact is /incident impact TEXT: who and what was affected, and how
// much. It replaces the impact recorded before; the timeline keeps both.
func (o *op) impact(userID, text string) (Reply, error) {
	o.inc.Impact = text
	o.event(KindImpact, userID, text, nil)
	o.post(Message{Text: fmt.Sprintf(":bar_chart: Impact, recorded by %s for the postmortem: %s", mention(userID), escape(text))}, "", "say the impact")
	return Reply{Text: fmt.Sprintf("Impact recorded for the postmortem of incident #%d.", o.inc.ID)}, nil
}

// rootCause is /incident cause TEXT: the root cause and what triggered
// it. It replaces the cause recorded before; the timeline keeps both.
func (o *op) rootCause(userID, text string) (Reply, error) {
	o.inc.RootCause = text
	o.event(KindRootCause, userID, text, nil)
	o.post(Message{Text: fmt.Sprintf(":mag: Root cause and trigger, recorded by %s for the postmortem: %s", mention(userID), escape(text))}, "", "say the root cause")
	return Reply{Text: fmt.Sprintf("Root cause recorded for the postmortem of incident #%d.", o.inc.ID)}, nil
}

// actionItem is /incident action [@owner] TEXT.
func (o *op) actionItem(userID, owner, text string) (Reply, error) {
	if owner != "" {
		_, cs, err := pageTarget(o.plan, owner, o.contactOf)
		if err != nil || len(cs) != 1 {
			return Reply{}, Errorf(EINVALID, "Unknown owner %q: name a contact of the plan (@%s) or mention someone, or leave the owner out. Nothing was recorded.",
				escape(owner), escape(strings.Join(o.plan.ContactOrder, ", @")))
		}
		owner = cs[0]
	}
	o.inc.ActionItems = append(o.inc.ActionItems, ActionItem{Owner: owner, Text: text, At: o.now, By: userID})
	o.event(KindActionItem, userID, text, map[string]string{"owner": owner})
	who := "no owner yet"
	if owner != "" {
		who = "owner " + o.who(owner)
	}
	o.post(Message{Text: fmt.Sprintf(":pushpin: Action item %d, recorded by %s (%s): %s", len(o.inc.ActionItems), mention(userID), who, escape(text))}, "", "say the action item")
	return Reply{Text: fmt.Sprintf("Action item %d recorded for the postmortem of incident #%d.", len(o.inc.ActionItems), o.inc.ID)}, nil
}

// resolveDialogReply answers "/incident resolve" with no text where a
// dialog opens: the dialog asks for the resolution, impact, root cause
// and recovery point; nothing is resolved until it is submitted.
func resolveDialogReply(inc *Incident) Reply {
	return Reply{
		OpenResolveModal: true,
		Text:             fmt.Sprintf("To resolve incident #%d, say how: /incident resolve TEXT (and /incident impact, cause, recovery-point for the postmortem).", inc.ID),
	}
}

// reviewSoFar says, for /incident status, what the team has recorded for
// the postmortem: "For the postmortem: impact recorded, root cause not
// yet, 2 action items". "" until something is.
func reviewSoFar(inc *Incident) string {
	if inc.Impact == "" && inc.RootCause == "" && len(inc.ActionItems) == 0 {
		return ""
	}
	said := func(what, text string) string {
		if text == "" {
			return what + " not yet"
		}
		return what + " recorded"
	}
	items := fmt.Sprintf("%d action items", len(inc.ActionItems))
	if len(inc.ActionItems) == 1 {
		items = "1 action item"
	}
	return "For the postmortem: " + said("impact", inc.Impact) + ", " + said("root cause", inc.RootCause) + ", " + items
}
