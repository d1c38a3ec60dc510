package fakeslack

import (
	"net/url"
	"time"
)

// Slack's rate limits, as https://api.slack.com/apis/rate-limits and each
// method's reference page give them: most methods are in a tier of calls
// per minute, per app and workspace, with short bursts tolerated; a call
// past the limit is answered HTTP 429 with Retry-After in seconds.
// chat.postMessage has its own rule: about one message per second per
// channel (short bursts allowed) and a workspace-wide cap of several hundred
// a minute.
const (
	Tier1 = 1   // calls per minute
	Tier2 = 20  // conversations.create, conversations.setTopic, pins.add, conversations.list
	Tier3 = 50  // conversations.open, conversations.invite, chat.update, users.lookupByEmail, conversations.history
	Tier4 = 100 // users.info, chat.postEphemeral, views.open

	// PostsPerChannelBurst is how many chat.postMessage calls one channel
	// takes within a second before 429s. Slack allows "short bursts >1"
	// without promising them (https://api.slack.com/docs/rate-limits); the
	// fake allows none, so that a client pacing its posts badly is answered
	// 429 here rather than only now and then by Slack.
	PostsPerChannelBurst = 1
	// PostsPerMinute is the workspace-wide cap on chat.postMessage.
	PostsPerMinute = 600
)

// methodTiers is the tier of each method drbot calls. A method not listed
// (auth.test, apps.connections.open) is not limited here.
var methodTiers = map[string]int{
	"conversations.create":   Tier2,
	"conversations.setTopic": Tier2,
	"conversations.list":     Tier2,
	"pins.add":               Tier2,
	"conversations.open":     Tier3,
	"conversations.invite":   Tier3,
	"conversations.history":  Tier3,
	"chat.update":            Tier3,
	"users.lookupByEmail":    Tier3,
	"users.info":             Tier4,
	"chat.postEphemeral":     Tier4,
	"views.open":             Tier4,
}

// window counts accepted calls over a sliding span of time.
type window struct {
	span  time.Duration
	limit int
	calls []time.Time
}

// take records a call at now when the window has room, else returns how
// long until it has (rounded up to whole seconds, as Retry-After is).
func (w *window) take(now time.Time) (retryAfter int, ok bool) {
	kept := w.calls[:0]
	for _, t := range w.calls {
		if now.Sub(t) < w.span {
			kept = append(kept, t)
		}
	}
	w.calls = kept
	if len(w.calls) >= w.limit {
		wait := w.span - now.Sub(w.calls[0])
		return max(1, int((wait+time.Second-1)/time.Second)), false
	}
	w.calls = append(w.calls, now)
	return 0, true
}

// rateLimiter holds the windows of one fake workspace.
type rateLimiter struct {
	tiers    map[string]int     // method -> calls per minute; overrides methodTiers
	methods  map[string]*window // method -> its tier's window
	channels map[string]*window // channel id -> chat.postMessage per second
	posts    *window            // chat.postMessage, workspace-wide per minute
}

func newRateLimiter() *rateLimiter {
	return &rateLimiter{
		tiers:    map[string]int{},
		methods:  map[string]*window{},
		channels: map[string]*window{},
		posts:    &window{span: time.Minute, limit: PostsPerMinute},
	}
}

// rateLimitedLocked applies Slack's limits when they are switched on and
// returns the Retry-After seconds of a refused call.
func (s *Server) rateLimitedLocked(method string, p url.Values) (int, bool) {
	if !s.rateLimits {
		return 0, false
	}
	now, rl := s.now(), s.limits
	if method == "chat.postMessage" {
		key := p.Get("channel")
		if ch := s.resolveLocked(key); ch != nil {
			key = ch.ID
		}
		w := rl.channels[key]
		if w == nil {
			w = &window{span: time.Second, limit: PostsPerChannelBurst}
			rl.channels[key] = w
		}
		if retry, ok := w.take(now); !ok {
			return retry, true
		}
		if retry, ok := rl.posts.take(now); !ok {
			w.calls = w.calls[:len(w.calls)-1] // not sent after all
			return retry, true
		}
		return 0, false
	}
	limit, ok := rl.tiers[method]
	if !ok {
		limit, ok = methodTiers[method]
	}
	if !ok {
		return 0, false
	}
	w := rl.methods[method]
	if w == nil || w.limit != limit {
		w = &window{span: time.Minute, limit: limit}
		rl.methods[method] = w
	}
	retry, ok := w.take(now)
	return retry, !ok
}

// SetRateLimits switches Slack's rate limits on or off (off by default):
// each method's tier (methodTiers: calls per minute per workspace) and
// chat.postMessage's one per second per channel with its workspace-wide cap.
// Past them the server answers 429 with Retry-After, as Slack does.
func (s *Server) SetRateLimits(on bool) {
	s.mu.Lock()
	s.rateLimits = on
	s.mu.Unlock()
}

// SetTier sets method's limit to perMinute calls (with SetRateLimits on),
// for a test that wants a tier to bite sooner.
func (s *Server) SetTier(method string, perMinute int) {
	s.mu.Lock()
	s.limits.tiers[method] = perMinute
	s.mu.Unlock()
}
