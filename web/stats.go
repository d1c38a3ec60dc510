package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// statsLimit is how many resolved incidents the figures look back over.
const statsLimit = 200

// statsData is the figures across resolved incidents, from their
// timelines (the postmortem of each).
type statsData struct {
	Groups []statGroup
	Months monthChart
}

// statGroup is the figures of incidents, or of drills.
type statGroup struct {
	Name          string
	Count, Met    int
	WithRTO       int
	MedianRecover time.Duration
	MedianAck     time.Duration // over those acknowledged
	Acked         int
	Bars          []recoverBar // newest first, at most 20
	Height        int
}

// recoverBar is one incident's time to recover against its RTO, in a
// chart 600 units wide.
type recoverBar struct {
	ID          int64
	Label, Text string
	Y, TextY, W int
	RTOX        int // 0: no RTO
	Met         bool
}

type monthChart struct {
	Bars []monthBar
	Max  int
	Alt  string
}

type monthBar struct {
	Label           string
	Count           int
	X, Y, H, LabelY int
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, v viewer) error {
	var incs []*incident.Incident
	var pms []*incident.Postmortem
	err := s.cfg.Store.View(r.Context(), func(tx incident.Tx) error {
		var err error
		if incs, err = tx.Incidents(incident.Filter{State: incident.StateResolved, Limit: statsLimit}); err != nil {
			return err
		}
		for _, inc := range incs {
			ev, err := tx.Timeline(inc.ID)
			if err != nil {
				return err
			}
			pms = append(pms, incident.BuildPostmortem(inc, ev, s.planOf(tx, inc), s.cfg.Now()))
		}
		return nil
	})
	if err != nil {
		return err
	}
	d := statsData{Groups: []statGroup{group("Incidents", pms, false), group("Drills", pms, true)}}
	d.Months = s.months(incs, s.cfg.Now())
	return s.render(w, http.StatusOK, "stats", layoutData{Title: "Stats", Nav: "stats", Viewer: s.viewerName(v), Content: d})
}

func group(name string, pms []*incident.Postmortem, drills bool) statGroup {
	g := statGroup{Name: name}
	var rec, ack []time.Duration
	var longest time.Duration
	for _, pm := range pms {
		if pm.Drill != drills {
			continue
		}
		g.Count++
		took := time.Duration(pm.TimeToRecoverSeconds) * time.Second
		rec = append(rec, took)
		if pm.RTOSeconds > 0 {
			g.WithRTO++
			if pm.RTOMet {
				g.Met++
			}
		}
		if pm.TimeToAckSeconds != nil {
			ack = append(ack, time.Duration(*pm.TimeToAckSeconds)*time.Second)
		}
		if len(g.Bars) < 20 {
			longest = max(longest, took, time.Duration(pm.RTOSeconds)*time.Second)
			g.Bars = append(g.Bars, recoverBar{ID: pm.ID, Label: fmt.Sprintf("#%d %s", pm.ID, pm.Scenario), Met: pm.RTOSeconds == 0 || pm.RTOMet})
		}
	}
	g.Acked = len(ack)
	g.MedianRecover, g.MedianAck = median(rec), median(ack)
	scale := 0.0
	if longest > 0 {
		scale = 380 / float64(longest)
	}
	i := 0
	for _, pm := range pms {
		if pm.Drill != drills || i >= len(g.Bars) {
			continue
		}
		b := &g.Bars[i]
		took := time.Duration(pm.TimeToRecoverSeconds) * time.Second
		b.Y, b.TextY = 8+i*26, 8+i*26+14
		b.W = max(2, int(float64(took)*scale))
		b.Text = "took " + playbooks.FormatDuration(took)
		if pm.RTOSeconds > 0 {
			b.RTOX = 200 + int(float64(pm.RTOSeconds)*float64(time.Second)*scale)
			b.Text += " of RTO " + playbooks.FormatDuration(time.Duration(pm.RTOSeconds)*time.Second)
		}
		i++
	}
	g.Height = 16 + len(g.Bars)*26
	return g
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// months counts incidents and drills declared in each of the last 12
// months, in the plan's timezone.
func (s *Server) months(incs []*incident.Incident, now time.Time) monthChart {
	loc := s.location()
	now = now.In(loc)
	first := time.Date(now.Year(), now.Month()-11, 1, 0, 0, 0, 0, loc)
	counts := make([]int, 12)
	for _, inc := range incs {
		t := inc.DeclaredAt.In(loc)
		if t.Before(first) {
			continue
		}
		if m := (t.Year()-first.Year())*12 + int(t.Month()-first.Month()); m >= 0 && m < 12 {
			counts[m]++
		}
	}
	c := monthChart{Max: max(1, slices.Max(counts))}
	var words []string
	for i, n := range counts {
		m := first.AddDate(0, i, 0)
		h := n * 120 / c.Max
		c.Bars = append(c.Bars, monthBar{Label: m.Format("Jan"), Count: n, X: 10 + i*48, Y: 140 - h, H: h, LabelY: 158})
		words = append(words, fmt.Sprintf("%s %d", m.Format("Jan 2006"), n))
	}
	c.Alt = "Resolved incidents and drills declared per month: " + fmt.Sprint(words) + "."
	return c
}
