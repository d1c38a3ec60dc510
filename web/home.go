package web

import (
	"net/http"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// countdown is an open incident's RTO clock, as the page first shows it
// and as countdown.js moves it (from the data-* attributes it is given).
type countdown struct {
	ID                           int64
	Title, Scenario, Severity    string
	Service, Current             string
	Drill                        bool
	RTO                          time.Duration
	Elapsed, Left                time.Duration
	Deadline, Finish             string // clock times; Finish "" when no step is left
	Late                         bool
	Percent                      int    // elapsed as a percentage of the RTO (may pass 100)
	Level                        string // ok, amber, red
	Amber, Red                   int    // thresholds in percent
	DeclaredMS, NowMS, StepEndMS int64
	RestMS                       int64 // projected finish = max(now, StepEnd) + Rest
	Done                         bool
	TZ                           string
}

// newCountdown computes inc's countdown at now.
func (s *Server) newCountdown(inc *incident.Incident, p *playbooks.Plan, now time.Time) countdown {
	c := countdown{
		ID: inc.ID, Title: inc.Title, Scenario: inc.Scenario, Severity: inc.Severity, Service: inc.Service,
		Current: inc.Current, Drill: inc.Drill, RTO: inc.RTO, Elapsed: now.Sub(inc.DeclaredAt),
		DeclaredMS: inc.DeclaredAt.UnixMilli(), NowMS: now.UnixMilli(), TZ: s.location().String(), Amber: 100, Red: 100,
	}
	var sc *playbooks.Scenario
	if p != nil {
		sc = p.Scenario(inc.Scenario)
	}
	if sc == nil {
		c.Done = true
		return c
	}
	pr := incident.Project(inc, sc, now)
	var ts []int
	for _, t := range pr.Thresholds {
		if t < 100 {
			ts = append(ts, t)
		}
	}
	if len(ts) > 0 {
		c.Amber = ts[0]
	}
	if len(ts) > 1 {
		c.Red = ts[len(ts)-1]
	}
	c.Done = pr.Done
	if inc.RTO > 0 {
		c.Deadline = s.clock(pr.Deadline)
		c.Left = pr.Deadline.Sub(now)
		c.Percent = int(c.Elapsed * 100 / inc.RTO)
		c.Level = level(c.Percent, c.Amber, c.Red)
	}
	if !pr.Done {
		c.Finish = s.clock(pr.Finish)
		c.Late = inc.RTO > 0 && pr.Late()
		from := now
		if n := len(inc.Steps); n > 0 && inc.Steps[n-1].StepID == inc.Current && !inc.Steps[n-1].StartedAt.IsZero() {
			if st := sc.Step(inc.Current); st != nil {
				end := inc.Steps[n-1].StartedAt.Add(st.Estimate)
				c.StepEndMS = end.UnixMilli()
				if end.After(now) {
					from = end
				}
			}
		}
		c.RestMS = pr.Finish.Sub(from).Milliseconds()
	}
	return c
}

// level is the colour of a countdown: amber from the scenario's first RTO
// alert threshold, red from its last one before the breach (or at the
// breach when it has one threshold or none). countdown.js has the same
// rule.
func level(pct, amber, red int) string {
	switch {
	case pct >= red:
		return "red"
	case pct >= amber:
		return "amber"
	}
	return "ok"
}

// row is an incident in a list.
type row struct {
	ID                        int64
	Title, Scenario, Severity string
	Drill                     bool
	Declared                  string
	Took                      time.Duration // time to recover
	RTO                       time.Duration
	Met                       bool
}

type homeData struct {
	Open   []countdown
	Recent []row
	Drills []row
}

const listLimit = 20

func (s *Server) home(w http.ResponseWriter, r *http.Request, v viewer) error {
	now := s.cfg.Now()
	var d homeData
	no, yes := false, true
	err := s.cfg.Store.View(r.Context(), func(tx incident.Tx) error {
		open, err := tx.Incidents(incident.Filter{State: incident.StateOpen})
		if err != nil {
			return err
		}
		for _, inc := range open {
			d.Open = append(d.Open, s.newCountdown(inc, s.planOf(tx, inc), now))
		}
		if d.Recent, err = s.rows(tx, incident.Filter{State: incident.StateResolved, Drills: &no, Limit: listLimit}); err != nil {
			return err
		}
		d.Drills, err = s.rows(tx, incident.Filter{State: incident.StateResolved, Drills: &yes, Limit: listLimit})
		return err
	})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "home", layoutData{Title: "Incidents", Nav: "home", Viewer: s.viewerName(v), Content: d})
}

func (s *Server) rows(tx incident.Tx, f incident.Filter) ([]row, error) {
	list, err := tx.Incidents(f)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(list))
	for _, inc := range list {
		took := inc.ResolvedAt.Sub(inc.DeclaredAt)
		out = append(out, row{
			ID: inc.ID, Title: inc.Title, Scenario: inc.Scenario, Severity: inc.Severity, Drill: inc.Drill,
			Declared: s.clock(inc.DeclaredAt), Took: took, RTO: inc.RTO, Met: inc.RTO == 0 || took <= inc.RTO,
		})
	}
	return out, nil
}

// viewerName is the signed-in person's name in the plan, else their
// Slack member ID.
func (s *Server) viewerName(v viewer) string {
	if v.user == "" {
		return ""
	}
	if n := names(s.cfg.Plan())[v.user]; n != "" {
		return n
	}
	return v.user
}
