package incident

import (
	"context"
	"time"
)

const (
	// maxSleep bounds Run's sleep: a change made by another process (a
	// console on the same database) is seen within it.
	maxSleep = 30 * time.Second
	// minSleep keeps Run from spinning when something stays due after a
	// Tick (a lane waiting on a message the worker left for later).
	minSleep = 50 * time.Millisecond
)

// Run works the timers and the outbox until ctx ends, waking at the
// earliest due time or when Wake is called, and at least every 30 s. It
// uses real timers: run it only with a real clock (tests and the console
// call Tick). Errors are logged and retried with backoff; Run returns nil
// when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		sleep := maxSleep
		if err := s.Tick(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			s.cfg.Logger.Error("incident engine tick failed", "err", err, "failures", failures)
		} else {
			failures = 0
		}
		next, ok, err := s.NextDue(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			failures++
			s.cfg.Logger.Error("read next due time", "err", err)
		case ok:
			sleep = min(max(next.Sub(s.cfg.Now()), minSleep), maxSleep)
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
			return nil
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Wake tells Run that something new is due. It never blocks.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
