package incident

import "context"

// CurrentStep is the message of an open incident's current step as it
// stands now, with the buttons that act on it: Done and Skip, or a
// decision's answers; Approve and Deny while its approval is asked; or,
// after a denial, Request approval again. channelID is the incident's
// channel. ok is false when the incident is resolved or its steps are all
// done. It changes nothing: a chat surface that cannot press the buttons
// of earlier messages (the console, in a later session) shows it again.
// Errors: ENOTFOUND for an unknown incident.
func (s *Engine) CurrentStep(ctx context.Context, id int64) (channelID string, m Message, ok bool, err error) {
	err = s.cfg.Store.View(ctx, func(tx Tx) error {
		inc, err := tx.Incident(id)
		if err != nil || inc.State != StateOpen || inc.Current == "" || len(inc.Steps) == 0 {
			return err
		}
		o, err := s.newOp(tx, inc)
		if err != nil {
			return err
		}
		index := len(inc.Steps) - 1
		rec := inc.Steps[index]
		st := o.sc.Step(rec.StepID)
		if st == nil || rec.StepID != inc.Current {
			return nil
		}
		switch rec.Approval {
		case ApprovalPending:
			m = o.approvalMessage(st, index, rec.ApprovalRequest)
		case ApprovalDenied:
			m = o.deniedMessage(st, rec, index)
		default:
			m = o.stepMessage(st, index)
		}
		channelID, ok = inc.ChannelID, true
		return nil
	})
	return channelID, m, ok, err
}
