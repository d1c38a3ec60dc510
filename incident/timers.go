package incident

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Timers. Every deadline is a Timer row, so that time is data
// (docs/development.md):
//
//	inc/N/escalate/ROLE  page the next contact of ROLE (Data: the role)
//	inc/N/rto            the next RTO alert threshold (Data: its percent)
//	inc/N/projection     the moment the projected finish passes the RTO
//	schedule/...         the plan's review and drill schedules (schedule.go)
//
// A timer fires in the transaction that deletes (or moves) it and makes
// its effects, so a crash never fires it twice and never loses it.

const (
	// maxTimersPerTick bounds one Tick, so that a bug that keeps a timer
	// due cannot spin forever.
	maxTimersPerTick = 10000
	// timerRetry is how long a timer whose handling failed waits before it
	// is tried again: its failure is logged and it is kept, not lost.
	timerRetry = time.Minute
)

// Tick fires every timer that is due, then delivers every outbox message
// that is due, once each, and returns when both are done. Tests and the
// console call it after moving the clock; Run does the same in two loops
// of its own.
func (s *Engine) Tick(ctx context.Context) error {
	errTimers := s.fireDue(ctx)
	_, errDeliver := s.deliverDue(ctx)
	return errors.Join(errTimers, errDeliver)
}

// fireDue fires the timers due now, one caller at a time.
func (s *Engine) fireDue(ctx context.Context) error {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	return s.fireTimers(ctx, s.now())
}

// deliverDue delivers the outbox messages due now.
func (s *Engine) deliverDue(ctx context.Context) (int, error) {
	if s.cfg.Chat == nil {
		return 0, errors.New("deliver the outbox: no chat surface configured")
	}
	n, err := s.Deliver(ctx)
	if err != nil {
		return n, fmt.Errorf("deliver the outbox: %w", err)
	}
	return n, nil
}

// fireTimers fires the timers due at now, one transaction each, earliest
// first. Timers set while doing so are due after now and wait for the next
// Tick.
func (s *Engine) fireTimers(ctx context.Context, now time.Time) error {
	for range maxTimersPerTick {
		t, found, err := s.fireOne(ctx, now)
		switch {
		case !found && err != nil:
			return fmt.Errorf("read due timers: %w", err)
		case !found:
			return nil
		case err != nil:
			s.cfg.Logger.Error("timer failed; trying it again later", "timer", t.Key, "incident", t.IncidentID, "retry_in", timerRetry.String(), "err", err)
			t.Due = now.Add(timerRetry)
			if err2 := s.cfg.Store.Update(ctx, func(tx Tx) error { return tx.SetTimer(t) }); err2 != nil {
				return fmt.Errorf("timer %s: %w (and keeping it for later: %v)", t.Key, err, err2)
			}
		}
	}
	return nil
}

// fireOne fires the earliest timer due at now. found reports whether there
// was one; err with found is its handling failing (rolled back).
func (s *Engine) fireOne(ctx context.Context, now time.Time) (t Timer, found bool, err error) {
	var done *effects
	err = s.cfg.Store.Update(ctx, func(tx Tx) error {
		done = nil
		due, err := tx.DueTimers(now, 1)
		if err != nil || len(due) == 0 {
			return err
		}
		t, found = due[0], true
		if err := tx.DeleteTimer(t.Key); err != nil {
			return fmt.Errorf("delete timer %s: %w", t.Key, err)
		}
		done, err = s.handleTimer(tx, t)
		return err
	})
	if err == nil {
		s.apply(done)
	}
	return t, found, err
}

// handleTimer does what a due timer (already deleted) stands for. It
// returns what is left to do once committed, nil for nothing.
func (s *Engine) handleTimer(tx Tx, t Timer) (*effects, error) {
	switch t.Kind {
	case timerEscalate, timerRTO, timerProjection, timerApproval:
	case timerReview, timerReviewOverdue, timerDrill:
		return s.handleSchedule(tx, t)
	case timerHousekeeping:
		return s.housekeep(tx)
	default:
		// Other kinds (schedules, reviews) are added here by their owners.
		return nil, fmt.Errorf("unknown timer kind %q", t.Kind)
	}
	inc, err := tx.Incident(t.IncidentID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil // its incident is gone: nothing to do
	}
	if err != nil {
		return nil, err
	}
	if inc.State != StateOpen {
		return nil, nil
	}
	o, err := s.newOp(tx, inc)
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case timerEscalate:
		o.escalate(t.Data)
	case timerRTO:
		o.fireRTO()
	case timerProjection:
		o.checkProjection()
	case timerApproval:
		o.pageApproval(t.Data)
	}
	if err := o.save(); err != nil {
		return nil, fmt.Errorf("timer %s: %w", t.Key, err)
	}
	return &o.effects, nil
}
