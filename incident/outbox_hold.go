package incident

import (
	"sync"
	"time"
)

// kindHolds remembers, in memory only, until when the chat holds back
// each kind of outbox message whose limit is the chat method's, not a
// conversation's (sendSpec.heldTogether: Slack's tiers, per method and
// workspace): one answered 429 waits out its Retry-After, and every other
// of its kind would be refused until then, so they wait without a call.
// The answer to a declaration waits a moment for its channel only while
// channel creations are not held (DeclaredReply). A restart forgets the
// holds: at worst one call per kind is answered 429 again. Its zero value
// is ready to use.
type kindHolds struct {
	mu    sync.Mutex
	until map[OutKind]time.Time
}

// hold records that messages of kind are refused until until.
func (h *kindHolds) hold(kind OutKind, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until == nil {
		h.until = map[OutKind]time.Time{}
	}
	if until.After(h.until[kind]) {
		h.until[kind] = until
	}
}

// held reports whether messages of kind are refused at now, and until
// when.
func (h *kindHolds) held(kind OutKind, now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	until := h.until[kind]
	return until, now.Before(until)
}

// holdError says a message waits out its kind's hold: the lane's head is
// due again then, without a call.
type holdError struct {
	kind  OutKind
	until time.Time
}

func (e *holdError) Error() string {
	return "the chat holds back " + string(e.kind) + " messages (rate limited)"
}
