package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// stepChart is an incident's steps drawn against time since declaration:
// for each step of the path taken a bar of its actual time beside a
// thinner one of its estimate, the steps still ahead on the worst-case
// path as dashed bars (the projection), and the RTO deadline and now as
// vertical lines. Coordinates are computed here; the template only draws.
type stepChart struct {
	Width, Height int
	Left          int // where the time axis starts (after the labels)
	Bars          []bar
	Lines         []vline
	Ticks         []tick
	Alt           string
}

type bar struct {
	Label     string
	Y         int   // top of the row
	LabelY    int   // baseline of the label
	ActualY   int   // top of the actual bar (14 high)
	EstimateY int   // top of the estimate bar (8 high)
	Actual    *span // nil when the step has not started
	Estimate  *span // nil when it has none
	Projected bool  // a step still ahead, drawn from the projection
	Running   bool
	Over      bool // took longer than its estimate
	Text      string
}

type span struct{ X, W int }

type vline struct {
	Class, Label string
	X            int
}

type tick struct {
	X     int
	Label string
}

// Chart geometry, in SVG user units.
const (
	chartLeft   = 170
	chartWidth  = 720
	chartRow    = 36
	chartTop    = 28
	chartBottom = 30
)

// seg is one row of the step chart, in time.
type seg struct {
	label              string
	start, stop        time.Time // actual; zero start: not started
	est                time.Duration
	estFrom            time.Time // where the estimate bar starts
	projected, running bool
}

// segments lists the steps walked (and, while open, those still ahead on
// the worst-case path from the projection) and returns when the chart
// ends and the projected finish.
func segments(inc *incident.Incident, sc *playbooks.Scenario, now time.Time) (segs []seg, end, finish time.Time) {
	end = now
	if inc.State == incident.StateResolved {
		end = inc.ResolvedAt
	}
	estimate := func(id string) time.Duration {
		if sc == nil {
			return 0
		}
		if st := sc.Step(id); st != nil {
			return st.Estimate
		}
		return 0
	}
	for i, rec := range inc.Steps {
		sg := seg{label: fmt.Sprintf("%d. %s", i+1, rec.StepID), est: estimate(rec.StepID), start: rec.StartedAt, stop: rec.EndedAt, estFrom: rec.StartedAt}
		if !rec.StartedAt.IsZero() && rec.EndedAt.IsZero() {
			sg.stop, sg.running = end, true
		}
		if sg.estFrom.IsZero() {
			sg.estFrom = end // waiting for approval: the estimate starts when it is given
		}
		segs = append(segs, sg)
	}
	finish = end
	if inc.State != incident.StateOpen || sc == nil {
		return segs, end, finish
	}
	pr := incident.Project(inc, sc, now)
	if pr.Done {
		return segs, end, finish
	}
	finish = pr.Finish
	t := now
	if n := len(segs); n > 0 {
		if e := segs[n-1].estFrom.Add(segs[n-1].est); e.After(t) {
			t = e
		}
	}
	for _, id := range pr.Path[min(1, len(pr.Path)):] {
		d := estimate(id)
		segs = append(segs, seg{label: "next: " + id, est: d, estFrom: t, projected: true})
		t = t.Add(d)
	}
	return segs, end, finish
}

// newStepChart draws inc with scenario sc (nil: no estimates) at now.
func newStepChart(inc *incident.Incident, sc *playbooks.Scenario, now time.Time) stepChart {
	segs, end, finish := segments(inc, sc, now)
	origin := inc.DeclaredAt
	total := max(end.Sub(origin), inc.RTO, finish.Sub(origin))
	for _, sg := range segs {
		total = max(total, sg.estFrom.Add(sg.est).Sub(origin))
	}
	total = total + total/12 + time.Minute
	scale := float64(chartWidth-chartLeft-10) / float64(total)
	x := func(t time.Time) int { return chartLeft + int(float64(t.Sub(origin))*scale) }
	w := func(d time.Duration) int { return max(2, int(float64(d)*scale)) }

	c := stepChart{Width: chartWidth, Left: chartLeft, Height: chartTop + len(segs)*chartRow + chartBottom}
	var words []string
	for i, sg := range segs {
		y := chartTop + i*chartRow
		b := bar{Label: sg.label, Y: y, LabelY: y + 17, ActualY: y + 4, EstimateY: y + 20, Projected: sg.projected, Running: sg.running}
		if sg.est > 0 {
			b.Estimate = &span{x(sg.estFrom), w(sg.est)}
		}
		est := playbooks.FormatDuration(sg.est)
		switch {
		case sg.projected:
			b.Text = "estimate " + est + ", still ahead"
		case sg.start.IsZero():
			b.Text = "not started (waiting for approval); estimate " + est
		default:
			took := sg.stop.Sub(sg.start)
			b.Actual = &span{x(sg.start), w(took)}
			b.Over = sg.est > 0 && took > sg.est
			b.Text = fmt.Sprintf("took %s against an estimate of %s", playbooks.FormatDuration(took.Round(time.Second)), est)
			if sg.running {
				b.Text = fmt.Sprintf("running for %s, estimate %s", playbooks.FormatDuration(took.Round(time.Second)), est)
			}
		}
		words = append(words, sg.label+": "+b.Text)
		c.Bars = append(c.Bars, b)
	}
	if inc.RTO > 0 {
		c.Lines = append(c.Lines, vline{Class: "deadline", Label: "RTO " + playbooks.FormatDuration(inc.RTO), X: x(origin.Add(inc.RTO))})
	}
	switch {
	case inc.State != incident.StateOpen:
		c.Lines = append(c.Lines, vline{Class: "now", Label: "resolved", X: x(end)})
	case finish.After(now):
		c.Lines = append(c.Lines, vline{Class: "now", Label: "now", X: x(now)}, vline{Class: "finish", Label: "projected", X: x(finish)})
	default:
		c.Lines = append(c.Lines, vline{Class: "now", Label: "now", X: x(now)})
	}
	c.Ticks = ticks(total, scale)
	c.Alt = "Steps against time since declaration. " + strings.Join(words, "; ") + "."
	return c
}

// ticks marks the time axis every round interval, at most 8 marks.
func ticks(total time.Duration, scale float64) []tick {
	steps := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if total/s <= 8 {
			step = s
			break
		}
	}
	var out []tick
	for t := time.Duration(0); t <= total; t += step {
		out = append(out, tick{X: chartLeft + int(float64(t)*scale), Label: playbooks.FormatDuration(t)})
	}
	if len(out) > 0 {
		out[0].Label = "0"
	}
	return out
}
