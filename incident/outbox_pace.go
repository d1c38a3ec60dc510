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
	last map[string]lastPost
}

// lastPost is when the last post in a conversation was reserved, and when
// Slack answered it (zero while in flight).
type lastPost struct {
	reserved, answered time.Time
}

// next is when the post after p may go: a postInterval after the later of
// its reservation and Slack's answer.
func (p lastPost) next() time.Time {
	if p.answered.After(p.reserved) {
		return p.answered.Add(postInterval)
	}
	return p.reserved.Add(postInterval)
}

// reserve claims the next post in conversation conv at time now and
// returns now (the reservation, for answered), or says when it may go. A clock that has not moved at all since the previous
// post was reserved is not a real one: the console's, and tests', stand
// still until told to move, and posts waiting on them would wait for the
// next command instead of being shown with the one that made them. Real
// clocks always move between two calls to Slack, so in serve every post
// is paced.
//
// While the last post is still on its way (no answer yet), the next waits
// for its answer, however long Slack takes: otherwise, on a slow Slack,
// two posts would be in flight at once and could arrive within a second.
// It then looks again inFlightRecheck later.
func (p *pacer) reserve(conv string, now time.Time) (until time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, seen := p.last[conv]; seen && now.After(last.reserved) {
		switch {
		case last.answered.IsZero():
			return later(last.reserved.Add(postInterval), now.Add(inFlightRecheck)), false
		case now.Before(last.next()):
			return last.next(), false
		}
	}
	if p.last == nil {
		p.last = map[string]lastPost{}
	}
	if len(p.last) >= paceForget {
		for c, t := range p.last {
			if !now.Before(t.next()) {
				delete(p.last, c)
			}
		}
	}
	p.last[conv] = lastPost{reserved: now}
	return now, true
}

// inFlightRecheck is how soon a post waiting for the previous one's answer
// looks again.
const inFlightRecheck = 50 * time.Millisecond

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// answered records at, the time Slack answered the post reserved last in
// conv, so that the next post goes a whole postInterval after this one
// reached Slack, however long each takes on the way: Slack counts posts as
// they arrive, and a post sent a second after the previous one was sent,
// but faster on the way, would arrive within the second and be answered
// 429, costing a whole Retry-After.
//
// reserved is the reservation the answer is to (reserve's time): an answer
// to an earlier post, whose entry was since forgotten and reserved anew,
// changes nothing.
func (p *pacer) answered(conv string, reserved, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, seen := p.last[conv]; seen && last.reserved.Equal(reserved) {
		last.answered = at
		p.last[conv] = last
	}
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

// paced makes post, a chat.postMessage in conv, when conv's pace allows
// it now, or returns a *paceError without calling it. The post's
// conversation is then paced from when Slack answered (pacer.answered).
// It reads the Engine clock afresh, not the delivery's start time: one
// Deliver sends a whole backlog, and the time its posts took to send is
// what counts.
func (d *delivery) paced(conv string, post func() error) error {
	reserved, ok := d.s.pace.reserve(conv, d.s.now())
	if !ok {
		return &paceError{conv: conv, until: reserved}
	}
	err := post()
	d.s.pace.answered(conv, reserved, d.s.now())
	return err
}
