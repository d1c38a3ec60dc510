package incident

import (
	"strings"
	"time"
)

// The headline time to acknowledge.
//
// It is the time from the declaration to the first acknowledgement that
// is not the declarer's of their own page (selfAck): whoever declares is
// there already, and their acknowledging the page the declaration sent
// them says nothing about how fast paging reaches people. It is null (nil) when nobody else acknowledged.
// The slowest role's time to acknowledge its page is shown beside it, and
// the roles that never acknowledged, since the first answer alone hides a
// role nobody answered for.

// ackFigures sets the headline time to acknowledge and the slowest role
// from b.pm.Acks and b.ra.
func (b *pmBuilder) ackFigures() {
	pm := b.pm
	var first time.Time
	for i, r := range b.inc.Roles {
		ra, a := b.ra[i], pm.Acks[i]
		switch {
		case !ra.acked:
			if r.Sent > 0 && !r.StoodDown {
				pm.NeverAcked = append(pm.NeverAcked, r.Role)
			}
			continue
		case a.AckSeconds > pm.SlowestAckSeconds || pm.SlowestAckRole == "":
			pm.SlowestAckRole, pm.SlowestAckSeconds = r.Role, a.AckSeconds
		}
		if b.selfAck(ra) {
			continue
		}
		if first.IsZero() || ra.ackAt.Before(first) {
			first, pm.FirstAckRole = ra.ackAt, r.Role
		}
	}
	if !first.IsZero() {
		s := max(pmSeconds(first.Sub(b.inc.DeclaredAt)), 0)
		pm.TimeToAckSeconds = &s
	}
}

// selfAck reports whether ra is the declarer acknowledging their own
// page: the first page of a role paged at the declaration, sent to them.
// A later page that reached them (an escalation) is paging at work, and
// counts.
func (b *pmBuilder) selfAck(ra roleAck) bool {
	return ra.ackActor != "" && ra.ackActor == b.inc.DeclaredBy && ra.pagesBefore == 1 && !ra.pagedAt.After(b.inc.DeclaredAt)
}

// AckText says the time to acknowledge for people: "5m (executor);
// slowest: approver 12m", "2m (executor); never: security", "only the
// declarer acknowledged (their own page)", "nobody acknowledged". Plain
// text: role names are as the plan spells them.
func (pm *Postmortem) AckText() string {
	var t string
	switch {
	case pm.TimeToAckSeconds != nil:
		t = pmDur(time.Duration(*pm.TimeToAckSeconds) * time.Second)
		if pm.FirstAckRole != "" {
			t += " (" + pm.FirstAckRole + ")"
		}
	case pm.SlowestAckRole != "":
		t = "only the declarer acknowledged (their own page)"
	default:
		return "nobody acknowledged"
	}
	if len(pm.NeverAcked) > 0 {
		return t + "; never: " + strings.Join(pm.NeverAcked, ", ")
	}
	sameTime := pm.TimeToAckSeconds != nil && pm.SlowestAckSeconds == *pm.TimeToAckSeconds
	if pm.SlowestAckRole != "" && pm.SlowestAckRole != pm.FirstAckRole && !sameTime {
		// "0s (executor); slowest: commander 0s" says nothing more.
		t += "; slowest: " + pm.SlowestAckRole + " " + pmDur(time.Duration(pm.SlowestAckSeconds)*time.Second)
	}
	return t
}
