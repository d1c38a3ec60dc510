package incident

import (
	"sync"
	"time"
)

// createHold remembers, in memory only, until when Slack holds back
// conversations.create: a create answered 429 waits out its Retry-After,
// and every create behind it would be refused until then (Tier 2, about
// 20 a minute). The answer to a declaration waits a moment for its
// channel only while no such hold is on (DeclaredReply); a restart
// forgets the hold, and the next declaration waits its moment once more.
// Its zero value is ready to use.
type createHold struct {
	mu    sync.Mutex
	until time.Time
}

// hold records that creates are refused until until.
func (h *createHold) hold(until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if until.After(h.until) {
		h.until = until
	}
}

// held reports whether creates are refused at now.
func (h *createHold) held(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return now.Before(h.until)
}
