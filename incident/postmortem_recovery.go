package incident

import (
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// recovery fills the RTO's twin: began_at, recovery_point, rpo_seconds,
// data_loss_seconds and rpo_met, each null when unknown.
func (b *pmBuilder) recovery() {
	pm, inc := b.pm, b.inc
	pm.BeganAt = pmTime(beganAt(inc))
	rpo := incidentRPO(inc, b.plan)
	if rpo > 0 {
		pm.RPOSeconds = ptr(pmSeconds(rpo))
	}
	lost, known := dataLoss(inc)
	if !known {
		return
	}
	pm.RecoveryPoint = ptr(pmTime(inc.RecoveryPoint))
	pm.DataLossSeconds = ptr(pmSeconds(lost))
	if rpo > 0 {
		pm.RPOMet = ptr(lost <= rpo)
	}
}

// service is the incident's service in its plan, or nil.
func (b *pmBuilder) service() *playbooks.Service {
	if b.plan == nil {
		return nil
	}
	return b.plan.Services[b.inc.Service]
}

func ptr[T any](v T) *T { return &v }

// rpoFindings are the findings of the data lost against the RPO: met,
// missed (with the backup interval that allows it), or not checked for
// want of a recovery point. They speak of the backups and the plan.
func (b *pmBuilder) rpoFindings() []string {
	inc := b.inc
	rpo := incidentRPO(inc, b.plan)
	lost, known := dataLoss(inc)
	switch {
	case rpo == 0:
		return nil
	case !known && inc.State == StateResolved:
		return []string{fmt.Sprintf("the RPO could not be checked: no recovery point was recorded against the %s RPO of %s; record it with /incident recovery-point WHEN, and mark the restoring step recovery_point: true so that Done asks for it", pmDur(rpo), pmOr(inc.Service, "service"))}
	case !known:
		return nil
	case recoveredAfterBegan(inc):
		return []string{"the data was recovered to a point after the failure began: check that the restore did not bring the damage back, or correct the recovery point or when the failure began"}
	case lost <= rpo:
		return []string{fmt.Sprintf("RPO met: data lost %s against an RPO of %s", pmDur(lost), pmDur(rpo))}
	}
	backups := "back up more often"
	if svc := b.service(); svc != nil && svc.BackupInterval > 0 {
		backups = fmt.Sprintf("back up more often (backup_interval %s)", pmDur(svc.BackupInterval))
	}
	return []string{fmt.Sprintf("data lost %s against an RPO of %s: %s or raise rpo", pmDur(lost), pmDur(rpo), backups)}
}

// dataLossRow is the Markdown's "Data lost" figure: "15m (10:45 CET →
// 11:00 CET); RPO 15m: met", in the plan's zone, or why it is not known.
func (pm *Postmortem) dataLossRow() string {
	rpo := time.Duration(0)
	if pm.RPOSeconds != nil {
		rpo = secs(*pm.RPOSeconds)
	}
	if pm.DataLossSeconds == nil || pm.RecoveryPoint == nil {
		if rpo == 0 {
			return "not known: no recovery point recorded, no RPO set"
		}
		return "not known: no recovery point recorded; RPO " + pmDur(rpo) + " not checked"
	}
	rp, _ := time.Parse(time.RFC3339, *pm.RecoveryPoint)
	began, _ := time.Parse(time.RFC3339, pm.BeganAt)
	if rp.After(began) {
		return fmt.Sprintf("none counted: recovered to %s, after the failure began (%s): check that the restore did not bring the damage back", clock(rp, began, pm.loc), clock(began, began, pm.loc))
	}
	return fmt.Sprintf("%s (%s → %s); %s", pmDur(secs(*pm.DataLossSeconds)), clock(rp, began, pm.loc), clock(began, began, pm.loc), rpoVerdict(secs(*pm.DataLossSeconds), rpo))
}
