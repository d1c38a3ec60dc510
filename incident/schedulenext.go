package incident

import (
	"time"

	"github.com/robfig/cron/v3"
)

// nextFire is the first instant after now at which sched fires, with a
// cron spec's fields read as wall-clock times in loc (or in the spec's
// own CRON_TZ=). The rule around daylight saving (the same as Vixie cron
// and cronie):
//
//   - a time the clocks jump over (02:30 on the night Europe/Oslo goes
//     from 02:00 CET to 03:00 CEST) fires once, at the first valid
//     instant after it: the jump itself, 03:00 CEST. Several such times
//     (*/15 2 * * *) fire once between them.
//   - a time that happens twice (02:30 on the night the clocks go from
//     03:00 CEST back to 02:00 CET) fires at its first occurrence only.
//
// robfig/cron's SpecSchedule.Next walks the wall clock by adding hours to
// an instant, so it never matches an hour that is skipped (the review of
// 02:30 does not fire that night, a Sunday 02:30 drill not that week) and
// matches an hour that repeats twice, an hour apart. Here Next runs on a
// clock with no daylight saving (the wall time written as UTC), and the
// wall time it returns is turned into an instant by the rule above.
//
// @every DURATION is elapsed time, not wall time: it fires DURATION after
// now whatever the clocks do. The result is in UTC; it is zero when the
// spec never fires (February 30th).
func nextFire(sched cron.Schedule, now time.Time, loc *time.Location) time.Time {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		t := sched.Next(now)
		if t.IsZero() {
			return t
		}
		return t.UTC()
	}
	if spec.Location != time.Local && spec.Location != nil {
		loc = spec.Location // CRON_TZ=
	}
	if loc == nil {
		loc = time.UTC
	}
	wallSpec := *spec
	wallSpec.Location = time.UTC
	w := wallOf(now, loc)
	for {
		// Each turn moves w forward; Next gives up (zero) after five
		// years, so the loop ends.
		w = wallSpec.Next(w)
		if w.IsZero() {
			return w
		}
		if t := instantOf(w, loc); t.After(now) {
			return t.UTC()
		}
		// w is the second occurrence of a repeated time whose first has
		// passed, or a skipped time whose jump has passed: not again.
	}
}

// wallOf is t's wall-clock reading in loc, written as a UTC time.
func wallOf(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	y, mo, d := lt.Date()
	h, mi, s := lt.Clock()
	return time.Date(y, mo, d, h, mi, s, lt.Nanosecond(), time.UTC)
}

// instantOf is the instant at which the clocks of loc read w (a wall time
// written as UTC): the earlier one when they read it twice, the instant
// they jump over it when they never read it.
func instantOf(w time.Time, loc *time.Location) time.Time {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	guess := time.Date(y, mo, d, h, mi, s, w.Nanosecond(), loc)
	start, end := guess.ZoneBounds()
	probes := []time.Time{guess}
	if !start.IsZero() {
		probes = append(probes, start.Add(-time.Second))
	}
	if !end.IsZero() {
		probes = append(probes, end)
	}
	var best time.Time
	for _, p := range probes {
		_, off := p.Zone()
		c := w.Add(-time.Duration(off) * time.Second)
		if wallOf(c, loc).Equal(w) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	// A gap: time.Date moved w by the length of the jump, to one side or
	// the other depending on the zone's offset; the jump is the edge of
	// guess's zone period on w's side.
	if wallOf(guess, loc).After(w) {
		return start
	}
	return end
}
