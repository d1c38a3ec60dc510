package incident

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// ParseSince reads the --since of drbot stats (and /incident stats
// SINCE): a duration before now ("30d", "12h"), a date in loc
// ("2026-10-01", from its midnight), or RFC 3339. "" is zero: all
// incidents. A time after now is refused (EINVALID), as is anything else.
func ParseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	if d, err := playbooks.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err == nil {
		if t.After(now) {
			// Every figure would be over no incident at all: surely a typo.
			return time.Time{}, Errorf(EINVALID, "since %q is after now (%s): give a date in the past, or a duration such as 30d.", escape(truncateRunes(s, 40)), now.In(loc).Format("2006-01-02 15:04 MST"))
		}
		return t.UTC(), nil
	}
	return time.Time{}, Errorf(EINVALID, "since %q: want a duration such as 30d or 12h, a date such as 2026-10-01, or an RFC 3339 time.", escape(truncateRunes(s, 40)))
}

// Text is the figures as a plain-text report with aligned columns, times
// in loc (nil: UTC): what drbot stats prints and /incident stats shows in
// a code block.
func (st *Stats) Text(loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	when := "all time"
	if st.Since != "" {
		when = "since " + statsTime(st.Since, loc)
	}
	fmt.Fprintf(&b, "Incidents, %s, as of %s: %d (drills apart: %d)\n", when, statsTime(st.AsOf, loc), st.All.Count, st.Drills.All.Count)
	if st.All.Count > 0 {
		b.WriteString("\n")
		statsTable(&b, "By severity", append([]StatsGroup{st.All}, st.BySeverity...))
		b.WriteString("\n")
		statsTable(&b, "By scenario", st.ByScenario)
	}
	if st.Drills.All.Count == 0 {
		return b.String()
	}
	b.WriteString("\nDrills\n\n")
	statsTable(&b, "By scenario", append([]StatsGroup{st.Drills.All}, st.Drills.ByScenario...))
	if len(st.Drills.Scores) > 0 {
		b.WriteString("\nEach drill against its RTO, oldest first\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, d := range st.Drills.Scores {
			score := "no RTO set"
			if d.RTOPercent != nil {
				verdict := "met"
				if !*d.RTOMet {
					verdict = "missed"
				}
				score = fmt.Sprintf("%s%% of the RTO: %s", strconv.FormatFloat(*d.RTOPercent, 'f', -1, 64), verdict)
			}
			fmt.Fprintf(tw, "%s\t#%d\t%s\t%s of %s\t%s\n", statsTime(d.DeclaredAt, loc)[:10], d.ID, d.Scenario,
				fmtSeconds(&d.TimeToRecoverSeconds), rtoText(d.RTOSeconds), score)
		}
		tw.Flush()
	}
	return b.String()
}

func statsTable(b *strings.Builder, title string, gs []StatsGroup) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tcount\tMTTA\tMTTR\tRTO met\tRPO met\tpages/incident\tescalations\tapproval wait (median)\n", title)
	for _, g := range gs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", g.Key, g.Count, fmtSeconds(g.MTTASeconds), fmtSeconds(g.MTTRSeconds),
			percentOf(g.RTOMetPercent, g.RTOChecked), percentOf(g.RPOMetPercent, g.RPOChecked),
			strconv.FormatFloat(g.PagesPerIncident, 'f', 1, 64), g.Escalations, countOf(fmtSeconds(g.ApprovalWaitMedianSeconds), g.Approvals))
	}
	tw.Flush()
}

func fmtSeconds(s *int64) string {
	if s == nil {
		return "-"
	}
	return fmtDur(secs(*s))
}

func rtoText(s int64) string {
	if s == 0 {
		return "no RTO"
	}
	return fmtDur(secs(s))
}

// percentOf is "83% of 12", or "-" when nothing was checked.
func percentOf(p *float64, of int) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64) + "% of " + strconv.Itoa(of)
}

func countOf(v string, n int) string {
	if n == 0 {
		return v
	}
	return fmt.Sprintf("%s (%d)", v, n)
}

// statsTime shows an RFC 3339 time in loc: "2026-11-21 11:00 CET".
func statsTime(s string, loc *time.Location) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// statsReply answers /incident stats [SINCE]: the figures in a code
// block, only to who asked.
func (s *Engine) statsReply(ctx context.Context, since string) (Reply, error) {
	loc := s.Plan().Location
	from, err := ParseSince(since, s.now(), loc)
	if err != nil {
		return Reply{}, err
	}
	st, err := s.Stats(ctx, from)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: "*Figures across incidents* (`drbot stats --format json` has them all)\n```\n" + escape(st.Text(loc)) + "```"}, nil
}
