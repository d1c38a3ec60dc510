package bot

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// A signed request stays valid for SignatureWindow: whoever obtains one
// (a log of request bodies and headers, a proxy) can send it again in that
// time, and the signature still holds. Slack itself never sends the same
// slash command or interaction twice, and a repeated "/incident declare"
// would declare a second incident, so an exact replay is refused.
//
// Replays are recognised by the signature, which covers the timestamp and
// the body: two different requests never share one. They are remembered
// in memory, not in the database: checking must not wait for the database
// (a locked database must not keep Slack waiting), and a restart forgetting
// them leaves a replay possible only within 5 minutes of a restart, for
// someone who already holds a signed request. Events are left out: they
// are deduplicated by event_id in the database, and an event Slack sends
// again after drbot failed to record it must not be refused.

// maxReplayEntries bounds the memory: far more signed requests than a
// workspace sends drbot in 5 minutes. Past it the oldest are forgotten.
const maxReplayEntries = 100_000

type replayEntry struct {
	sig    string
	forget time.Time
}

// replayGuard remembers the signatures of the requests accepted in the
// last SignatureWindow.
type replayGuard struct {
	mu    sync.Mutex
	seen  map[string]time.Time // signature -> when it may be forgotten
	order []replayEntry        // in the order they were seen
	max   int
}

func newReplayGuard() *replayGuard {
	return &replayGuard{seen: map[string]time.Time{}, max: maxReplayEntries}
}

// first records the signature and timestamp headers of a request that
// passed Verify, at now, and reports whether it is the first time they
// are seen.
func (g *replayGuard) first(signature, timestamp string, now time.Time) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return true // Verify refuses these; nothing to remember
	}
	// hex.DecodeString takes upper case too: the same signature in
	// another case must count as the same.
	sig := strings.ToLower(signature)
	// The request is accepted until its timestamp leaves the window.
	forget := time.Unix(ts, 0).Add(SignatureWindow)

	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(now)
	if until, ok := g.seen[sig]; ok && now.Before(until) {
		return false
	}
	for len(g.order) >= g.max {
		g.dropOldestLocked()
	}
	g.seen[sig] = forget
	g.order = append(g.order, replayEntry{sig, forget})
	return true
}

// pruneLocked forgets, from the oldest, the signatures past their window.
func (g *replayGuard) pruneLocked(now time.Time) {
	for len(g.order) > 0 && !now.Before(g.order[0].forget) {
		g.dropOldestLocked()
	}
	// Give the backing array back once it is mostly garbage.
	if cap(g.order) > 1024 && len(g.order) < cap(g.order)/4 {
		g.order = append([]replayEntry(nil), g.order...)
	}
}

func (g *replayGuard) dropOldestLocked() {
	e := g.order[0]
	g.order = g.order[1:]
	if g.seen[e.sig].Equal(e.forget) {
		delete(g.seen, e.sig)
	}
}
