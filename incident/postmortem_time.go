package incident

import (
	"slices"
	"time"
)

// The times of a postmortem: the order its events are listed in, and the
// time it is computed as of.

// inOrder returns events in the order they happened (for what lists
// them: the postmortem, /incident status): by At, and in the
// order they were written for one At. The two orders differ when a send
// that took seconds records its outcome (stamped when Slack answered)
// after something that happened meanwhile was written. events is not
// changed.
func inOrder(events []Event) []Event {
	out := slices.Clone(events)
	slices.SortStableFunc(out, func(a, b Event) int { return a.At.Compare(b.At) })
	return out
}

// asOf is the time a postmortem is computed as of: now, or the last thing
// the incident knows (its resolution, its latest event) when that is
// later. A postmortem printed on a machine whose clock is behind the one
// the incident ran on (the console's --start) is never "as of" a time
// before its own resolution.
func asOf(inc *Incident, events []Event, now time.Time) time.Time {
	now = now.UTC()
	if inc.State == StateResolved && inc.ResolvedAt.After(now) {
		now = inc.ResolvedAt.UTC()
	}
	if n := len(events); n > 0 && events[n-1].At.After(now) {
		now = events[n-1].At.UTC()
	}
	return now
}
