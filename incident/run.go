package incident

import (
	"context"
	"sync"
	"time"
)

const (
	// maxSleep bounds Run's sleep: a change made by another process (a
	// console on the same database) is seen within it.
	maxSleep = 30 * time.Second
	// minSleep keeps Run from spinning when something stays due after a
	// pass (a lane waiting on a message the worker left for later).
	minSleep = 50 * time.Millisecond
)

// Run works the timers and the outbox until ctx ends, and returns nil
// then. It uses real timers: run it only with a real clock (tests and the
// console call Tick).
//
// Timers and the outbox have a loop each, so that a slow Slack (a send
// takes as long as Slack takes to answer, or to say 429) never holds up an
// escalation that falls due meanwhile. Each loop wakes at its earliest due
// time, when Wake is called, and at least every 30 s; errors are logged
// and retried with backoff.
func (s *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		s.loop(ctx, "fire timers", s.wakeTimers, func(ctx context.Context) error {
			return s.fireDue(ctx)
		}, Tx.NextTimer)
	})
	wg.Go(func() {
		s.loop(ctx, "deliver the outbox", s.wakeOutbox, func(ctx context.Context) error {
			_, err := s.deliverDue(ctx)
			return err
		}, Tx.NextOutgoing)
	})
	wg.Wait()
	return nil
}

// loop runs work, then sleeps until next says something is due (or
// Wake, or maxSleep), until ctx ends.
func (s *Engine) loop(ctx context.Context, what string, wake <-chan struct{}, work func(context.Context) error, next func(Tx) (time.Time, bool, error)) {
	failures := 0
	for ctx.Err() == nil {
		sleep := maxSleep
		if err := work(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			s.cfg.Logger.Error("incident engine: "+what+" failed", "err", err, "failures", failures)
		} else {
			failures = 0
		}
		due, ok, err := s.nextDue(ctx, next)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			failures++
			s.cfg.Logger.Error("incident engine: read the next due time to "+what, "err", err)
		case ok:
			sleep = min(max(due.Sub(s.cfg.Now()), minSleep), maxSleep)
		}
		if failures > 0 {
			// Back off while the store or the chat surface fails: 1 s, 2 s,
			// 4 s ... up to maxSleep.
			sleep = min(time.Second<<min(failures-1, 5), maxSleep)
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// nextDue reads the earliest due time next says (Tx.NextTimer,
// Tx.NextOutgoing).
func (s *Engine) nextDue(ctx context.Context, next func(Tx) (time.Time, bool, error)) (due time.Time, ok bool, err error) {
	err = s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		due, ok, err = next(tx)
		return err
	})
	return due, ok, err
}

// Wake tells Run that something new is due: a timer set, a message
// enqueued. It never blocks.
func (s *Engine) Wake() {
	for _, c := range []chan struct{}{s.wakeTimers, s.wakeOutbox} {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
