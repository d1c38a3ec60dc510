package incident

import (
	"sync"
	"time"
)

// pacer remembers, in memory only, when drbot last posted in each
// conversation (a restart forgets it: at worst one post is answered 429
// and retried). Its zero value is ready to use.
type pacer struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// reserve claims the next post in conversation conv at time now, or says
// when it may go. A clock that has not moved at all since the previous
// post is not a real one: the console's, and tests', stand still until
// told to move, and posts waiting on them would wait for the next command
// instead of being shown with the one that made them. Real clocks always
// move between two calls to Slack, so in serve every post is paced.
func (p *pacer) reserve(conv string, now time.Time) (until time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, seen := p.last[conv]; seen && now.After(last) && now.Sub(last) < postInterval {
		return last.Add(postInterval), false
	}
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	if len(p.last) >= paceForget {
		for c, t := range p.last {
			if now.Sub(t) >= postInterval {
				delete(p.last, c)
			}
		}
	}
	p.last[conv] = now
	return time.Time{}, true
}

// paceError says a post must wait for its conversation's pace: the lane's
// head is due again then, and the lanes behind it are not held up.
type paceError struct {
	conv  string
	until time.Time
}

func (e *paceError) Error() string {
	return "pacing posts in " + e.conv + " (Slack allows about one a second)"
}

// pace reserves a post in conv now or returns a *paceError. It reads the
// Engine clock afresh, not the delivery's start time: one Deliver sends a
// whole backlog, and the time its posts took to send is what counts.
func (d *delivery) pace(conv string) error {
	if until, ok := d.s.pace.reserve(conv, d.s.now()); !ok {
		return &paceError{conv: conv, until: until}
	}
	return nil
}
