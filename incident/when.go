package incident

import (
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// whenHelp says the forms ParseWhen takes, for the messages that refuse
// one.
const whenHelp = "`10:45` (in the plan's time zone, the latest one past, within 12 hours: typed at 00:10, `23:50` is yesterday's), `2026-11-21 10:45`, `2026-11-21T10:45:00Z` (RFC 3339) or `15m ago`"

// ParseWhen reads a point in time typed by a person (WHEN of /incident
// recovery-point and /incident began, docs/commands.md):
//
//   - "10:45" or "10:45:30": the latest such time of day in loc at or
//     before now (typed at 00:10, "23:50" is yesterday's), refused when
//     that is more than 12 hours back ("11:30" typed at 11:00 is a slip
//     far more often than yesterday; the date says yesterday);
//   - "2026-11-21 10:45" (or with seconds): a date and time in loc;
//   - RFC 3339, "2026-11-21T10:45:00Z" or with an offset;
//   - "15m ago", "1h30m ago", "2d ago": a duration (playbooks'
//     durations) before now.
//
// It returns the time in UTC, or an *Error (EINVALID) that shows the
// forms. A nil loc is UTC.
// bareTimeReach is how far back a time of day alone ("10:45") may reach:
// the latest such time at or before now, within 12 hours.
const bareTimeReach = 12 * time.Hour

func ParseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, Errorf(EINVALID, "Say when: %s.", whenHelp)
	}
	if d, ok := strings.CutSuffix(s, " ago"); ok {
		dur, err := playbooks.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur < 0 {
			return time.Time{}, Errorf(EINVALID, "%q is not a duration ago; write it as `15m ago`, `1h30m ago` or `2d ago`.", escape(truncateRunes(s, 40)))
		}
		return now.Add(-dur).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		clock, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		ln := now.In(loc)
		t := time.Date(ln.Year(), ln.Month(), ln.Day(), clock.Hour(), clock.Minute(), clock.Second(), 0, loc)
		if t.After(now) {
			t = time.Date(ln.Year(), ln.Month(), ln.Day()-1, clock.Hour(), clock.Minute(), clock.Second(), 0, loc)
		}
		if now.Sub(t) > bareTimeReach {
			// 11:30 typed at 11:00 is far more often a slip than
			// yesterday: ask for the date rather than guess.
			return time.Time{}, Errorf(EINVALID, "%s would be yesterday (%s %s); it is %s now. If you mean yesterday, write the date: `%s`.",
				escape(s), t.In(loc).Format("Mon 2 Jan 15:04"), t.In(loc).Format("MST"), now.In(loc).Format("15:04"), t.In(loc).Format("2006-01-02 15:04"))
		}
		return t.UTC(), nil
	}
	return time.Time{}, Errorf(EINVALID, "%q is not a time drbot reads; write %s.", escape(truncateRunes(s, 40)), whenHelp)
}
