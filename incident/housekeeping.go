package incident

import (
	"context"
	"fmt"
	"time"
)

// Housekeeping deletes the small key/value entries that are kept for a
// while only, so that a database serving for years does not grow with
// every Slack request it ever checked. It is a timer like any other
// deadline (time is data): due HousekeepingEvery, it runs at most once
// per interval whatever the restarts, and a restart after a long stop
// runs it once, not once per missed hour.
const timerHousekeeping TimerKind = "housekeeping"

const (
	housekeepingKey = "housekeeping"
	// HousekeepingEvery is how often the old entries are deleted.
	HousekeepingEvery = time.Hour
)

// kvRetention says, per kind of key, how long after it was last set an
// entry is kept. Each is far past the time the entry can matter.
var kvRetention = []struct {
	prefix string
	keep   time.Duration
}{
	// A signed request is valid for 5 minutes (Slack's rule, SignatureWindow).
	{"request/", time.Hour},
	// Slack retries an event for about an hour (its Events API docs:
	// three retries, the last after 5 minutes, then hourly backoff on
	// failing apps), and then stops.
	{"event/", 24 * time.Hour},
	// A sign-in link is valid for SignInLinkTTL, used or not.
	{kvWebLink, 24 * time.Hour},
	{kvWebLinkUsed, 24 * time.Hour},
	// A session lasts WebSessionTTL.
	{kvWebSession, 2 * WebSessionTTL},
	// An alert group no rule matches is logged once per this long.
	{alertUnmatchedPrefix, 7 * 24 * time.Hour},
}

// ensureHousekeeping sets the housekeeping timer when there is none, due
// HousekeepingEvery from now.
func (s *Engine) ensureHousekeeping(ctx context.Context) error {
	return s.cfg.Store.Update(ctx, func(tx Tx) error {
		all, err := tx.DueTimers(endOfTime, 0)
		if err != nil {
			return fmt.Errorf("read timers: %w", err)
		}
		for _, t := range all {
			if t.Key == housekeepingKey {
				return nil
			}
		}
		return tx.SetTimer(Timer{Key: housekeepingKey, Kind: timerHousekeeping, Due: s.now().Add(HousekeepingEvery)})
	})
}

// housekeep deletes the entries past their retention and sets the next
// housekeeping; it logs what it deleted once committed.
func (s *Engine) housekeep(tx Tx) (*effects, error) {
	now := s.now()
	deleted := map[string]int{}
	total := 0
	for _, r := range kvRetention {
		n, err := tx.DeleteKeys(r.prefix, now.Add(-r.keep))
		if err != nil {
			return nil, fmt.Errorf("housekeeping: %w", err)
		}
		if n > 0 {
			deleted[r.prefix] = n
			total += n
		}
	}
	if err := tx.SetTimer(Timer{Key: housekeepingKey, Kind: timerHousekeeping, Due: now.Add(HousekeepingEvery)}); err != nil {
		return nil, err
	}
	fx := &effects{changed: true}
	if total > 0 {
		fx.after(func() { s.cfg.Logger.Info("housekeeping: deleted old entries", "total", total, "by_prefix", deleted) })
	}
	return fx, nil
}
