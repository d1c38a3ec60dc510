package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// statsLimit is how many incidents (newest first) the page looks back
// over.
const statsLimit = 500

// statsData is /stats: the figures of "drbot stats" (incident.ComputeStats)
// as tables, and charts of them.
type statsData struct {
	Rows     []statRow    // every incident, by severity, by scenario, then the drills
	Recover  recoverChart // time to recover against the RTO, the latest resolved incidents
	Drills   recoverChart // each resolved drill's time to recover against its RTO
	Months   monthChart
	Resolved int
}

// statRow is one group of the figures, formatted.
type statRow struct {
	Group, Count, Resolved, MTTA, MTTR, RTOMet, RPOMet, Pages, Escalations, ApprovalWait string
	Head                                                                                 bool // a row that starts a part of the table
}

// recoverChart draws times to recover against their RTOs, a row each, in
// a chart 600 units wide.
type recoverChart struct {
	Bars   []recoverBar
	Height int
}

type recoverBar struct {
	ID          int64
	Label, Text string
	Y, TextY, W int
	RTOX        int // 0: no RTO
	Met         bool
}

type monthChart struct {
	Bars []monthBar
	Alt  string
}

type monthBar struct {
	Label           string
	Count           int
	X, Y, H, LabelY int
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, v viewer) error {
	var in []incident.StatsInput
	err := s.cfg.Store.View(r.Context(), func(tx incident.Tx) error {
		var err error
		in, err = incident.ReadStatsInputs(tx, incident.Filter{Limit: statsLimit}, func(inc *incident.Incident) *playbooks.Plan {
			return s.planOf(tx, inc)
		})
		return err
	})
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	st := incident.ComputeStats(in, time.Time{}, now)
	d := statsData{Rows: statRows(st), Months: s.months(in, now)}
	var real []recoverItem
	for _, x := range in {
		inc := x.Incident
		if !inc.Drill && inc.State == incident.StateResolved && len(real) < 20 {
			real = append(real, recoverItem{inc.ID, fmt.Sprintf("#%d %s", inc.ID, inc.Scenario), inc.ResolvedAt.Sub(inc.DeclaredAt), inc.RTO})
		}
	}
	d.Resolved = st.All.Resolved
	d.Recover = newRecoverChart(real)
	var drills []recoverItem
	for _, ds := range st.Drills.Scores {
		drills = append(drills, recoverItem{ds.ID, fmt.Sprintf("#%d %s", ds.ID, ds.Scenario), secs(ds.TimeToRecoverSeconds), secs(ds.RTOSeconds)})
	}
	d.Drills = newRecoverChart(drills)
	return s.render(w, http.StatusOK, "stats", layoutData{Title: "Stats", Nav: "stats", Viewer: s.viewerName(v), Content: d})
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// statRows formats the groups of st for the table.
func statRows(st *incident.Stats) []statRow {
	var rows []statRow
	add := func(name string, g incident.StatsGroup, head bool) {
		row := statRow{Group: name, Head: head, Count: fmt.Sprint(g.Count), Resolved: fmt.Sprint(g.Resolved),
			MTTA: secsOr(g.MTTASeconds), MTTR: secsOr(g.MTTRSeconds),
			RTOMet: pctOf(g.RTOMetPercent, g.RTOChecked), RPOMet: pctOf(g.RPOMetPercent, g.RPOChecked),
			Pages: fmt.Sprintf("%.1f", g.PagesPerIncident), Escalations: fmt.Sprint(g.Escalations), ApprovalWait: secsOr(g.ApprovalWaitMedianSeconds)}
		rows = append(rows, row)
	}
	add("All incidents", st.All, true)
	for i, g := range st.BySeverity {
		add("severity "+g.Key, g, i == 0)
	}
	for i, g := range st.ByScenario {
		add("scenario "+g.Key, g, i == 0)
	}
	add("All drills", st.Drills.All, true)
	for _, g := range st.Drills.ByScenario {
		add("drill of "+g.Key, g, false)
	}
	return rows
}

func secsOr(n *int64) string {
	if n == nil {
		return "–"
	}
	return playbooks.FormatDuration(secs(*n))
}

func pctOf(p *float64, of int) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f%% of %d", *p, of)
}

// recoverItem is one incident's time to recover and its RTO (0: none).
type recoverItem struct {
	ID        int64
	Label     string
	Took, RTO time.Duration
}

func newRecoverChart(items []recoverItem) recoverChart {
	var longest time.Duration
	for _, it := range items {
		longest = max(longest, it.Took, it.RTO)
	}
	scale := 0.0
	if longest > 0 {
		scale = 380 / float64(longest)
	}
	c := recoverChart{Height: 16 + len(items)*26}
	for i, it := range items {
		b := recoverBar{ID: it.ID, Label: it.Label, Y: 8 + i*26, TextY: 8 + i*26 + 14, W: max(2, int(float64(it.Took)*scale)),
			Text: "took " + playbooks.FormatDuration(it.Took), Met: it.RTO == 0 || it.Took <= it.RTO}
		if it.RTO > 0 {
			b.RTOX = 200 + int(float64(it.RTO)*scale)
			b.Text += " of RTO " + playbooks.FormatDuration(it.RTO)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// months counts incidents and drills declared in each of the last 12
// months, in the plan's timezone.
func (s *Server) months(in []incident.StatsInput, now time.Time) monthChart {
	loc := s.location()
	now = now.In(loc)
	first := time.Date(now.Year(), now.Month()-11, 1, 0, 0, 0, 0, loc)
	counts := make([]int, 12)
	for _, x := range in {
		t := x.Incident.DeclaredAt.In(loc)
		if m := (t.Year()-first.Year())*12 + int(t.Month()-first.Month()); !t.Before(first) && m < 12 {
			counts[m]++
		}
	}
	top := max(1, slices.Max(counts))
	var c monthChart
	var words []string
	for i, n := range counts {
		m := first.AddDate(0, i, 0)
		h := n * 120 / top
		c.Bars = append(c.Bars, monthBar{Label: m.Format("Jan"), Count: n, X: 10 + i*48, Y: 140 - h, H: h, LabelY: 158})
		words = append(words, fmt.Sprintf("%s: %d", m.Format("January 2006"), n))
	}
	c.Alt = "Incidents and drills declared per month. " + fmt.Sprint(words)
	return c
}
