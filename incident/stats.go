package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Figures across incidents (drbot stats, /incident stats). Each incident
// is read through its postmortem, built from its timeline, so that the
// figures agree with the postmortems they summarise: the time to
// acknowledge leaves out the declarer's own page, the RPO counts only
// where a recovery point was recorded.

// Stats are the figures of the incidents declared in [Since, AsOf]:
// real incidents by severity and by scenario, drills apart, and each
// drill's score against its RTO, oldest first.
type Stats struct {
	Since      string       `json:"since"` // RFC 3339; "" for all
	AsOf       string       `json:"as_of"`
	All        StatsGroup   `json:"all"`         // every real incident
	BySeverity []StatsGroup `json:"by_severity"` // sev1 first
	ByScenario []StatsGroup `json:"by_scenario"` // by count, then id
	Drills     DrillStats   `json:"drills"`
}

// StatsGroup is the figures of a group of incidents. Each figure that has
// nothing to be computed from is null: no acknowledgement (mtta), nothing
// resolved (mttr), no RTO or recovery point to check (the percentages), no
// approval decided.
type StatsGroup struct {
	Key      string `json:"key"` // the severity or the scenario; "all"
	Count    int    `json:"count"`
	Resolved int    `json:"resolved"`
	// MTTA: mean time to the first acknowledgement by someone other than
	// the declarer, over the incidents acknowledged (Acknowledged).
	MTTASeconds  *int64 `json:"mtta_seconds"`
	Acknowledged int    `json:"acknowledged"`
	// MTTR: mean time to recover (declared to resolved) over those
	// resolved.
	MTTRSeconds *int64 `json:"mttr_seconds"`
	// RTOMetPercent: of the resolved with an RTO (RTOChecked).
	RTOMetPercent *float64 `json:"rto_met_percent"`
	RTOChecked    int      `json:"rto_checked"`
	// RPOMetPercent: of those with a recovery point and an RPO
	// (RPOChecked).
	RPOMetPercent *float64 `json:"rpo_met_percent"`
	RPOChecked    int      `json:"rpo_checked"`
	// Pages sent (escalations included), and per incident.
	Pages            int     `json:"pages"`
	PagesPerIncident float64 `json:"pages_per_incident"`
	Escalations      int     `json:"escalations"`
	// ApprovalWaitMedianSeconds: the median wait of the approvals
	// decided (Approvals), from the request to Approve or Deny.
	ApprovalWaitMedianSeconds *int64 `json:"approval_wait_median_seconds"`
	Approvals                 int    `json:"approvals"`
}

// DrillStats are the drills' figures, apart from real incidents.
type DrillStats struct {
	All        StatsGroup   `json:"all"`
	ByScenario []StatsGroup `json:"by_scenario"`
	Scores     []DrillScore `json:"scores"` // resolved drills, oldest first
}

// DrillScore is one drill's finish against its RTO.
type DrillScore struct {
	ID                   int64    `json:"id"`
	Scenario             string   `json:"scenario"`
	DeclaredAt           string   `json:"declared_at"`
	TimeToRecoverSeconds int64    `json:"time_to_recover_seconds"`
	RTOSeconds           int64    `json:"rto_seconds"` // 0: none set
	RTOPercent           *float64 `json:"rto_percent"` // time to recover in percent of the RTO; null without one
	RTOMet               *bool    `json:"rto_met"`     // null without an RTO
	TimeToAckSeconds     *int64   `json:"time_to_ack_seconds"`
}

// StatsInput is one incident, its timeline, and the plan it was declared
// with (nil: figures without the plan's names and estimates).
type StatsInput struct {
	Incident *Incident
	Events   []Event
	Plan     *playbooks.Plan
}

// ReadStatsInputs reads in tx the incidents f selects, newest first, each
// with its timeline and, when plan is not nil, plan(inc): what
// ComputeStats computes from.
func ReadStatsInputs(tx Tx, f Filter, plan func(*Incident) *playbooks.Plan) ([]StatsInput, error) {
	incs, err := tx.Incidents(f)
	if err != nil {
		return nil, err
	}
	in := make([]StatsInput, 0, len(incs))
	for _, inc := range incs {
		events, err := tx.Timeline(inc.ID)
		if err != nil {
			return nil, fmt.Errorf("timeline of incident %d: %w", inc.ID, err)
		}
		x := StatsInput{Incident: inc, Events: events}
		if plan != nil {
			x.Plan = plan(inc)
		}
		in = append(in, x)
	}
	return in, nil
}

// ComputeStats computes the figures of the incidents in in declared at or
// after since (zero: all), as of now. It reads nothing else.
func ComputeStats(in []StatsInput, since, now time.Time) *Stats {
	st := &Stats{AsOf: pmTime(now), BySeverity: []StatsGroup{}, ByScenario: []StatsGroup{},
		Drills: DrillStats{ByScenario: []StatsGroup{}, Scores: []DrillScore{}}}
	if !since.IsZero() {
		st.Since = pmTime(since)
	}
	var real, drills acc
	bySev, byScenario, drillScenario := map[string]*acc{}, map[string]*acc{}, map[string]*acc{}
	for _, x := range in {
		inc := x.Incident
		if inc == nil || inc.DeclaredAt.Before(since) {
			continue
		}
		pm := BuildPostmortem(inc, x.Events, x.Plan, now)
		if inc.Drill {
			drills.add(pm)
			group(drillScenario, inc.Scenario).add(pm)
			if inc.State == StateResolved {
				st.Drills.Scores = append(st.Drills.Scores, drillScore(pm, inc))
			}
			continue
		}
		real.add(pm)
		group(bySev, inc.Severity).add(pm)
		group(byScenario, inc.Scenario).add(pm)
	}
	st.All = real.group("all")
	st.BySeverity = groups(bySev, func(a, b StatsGroup) int { return cmp.Compare(a.Key, b.Key) })
	byCount := func(a, b StatsGroup) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key)) }
	st.ByScenario = groups(byScenario, byCount)
	st.Drills.All = drills.group("all")
	st.Drills.ByScenario = groups(drillScenario, byCount)
	slices.SortStableFunc(st.Drills.Scores, func(a, b DrillScore) int {
		return cmp.Or(cmp.Compare(a.DeclaredAt, b.DeclaredAt), cmp.Compare(a.ID, b.ID))
	})
	return st
}

func drillScore(pm *Postmortem, inc *Incident) DrillScore {
	d := DrillScore{ID: inc.ID, Scenario: inc.Scenario, DeclaredAt: pm.DeclaredAt, TimeToRecoverSeconds: pm.TimeToRecoverSeconds,
		RTOSeconds: pm.RTOSeconds, TimeToAckSeconds: pm.TimeToAckSeconds}
	if pm.RTOSeconds > 0 {
		d.RTOPercent = ptr(percent(float64(pm.TimeToRecoverSeconds), float64(pm.RTOSeconds)))
		d.RTOMet = ptr(pm.RTOMet)
	}
	return d
}

// acc accumulates the figures of a group.
type acc struct {
	count, resolved, acked, rtoChecked, rtoMet, rpoChecked, rpoMet int
	pages, escalations                                             int
	ackSum, recoverSum                                             int64
	waits                                                          []int64
}

func group(m map[string]*acc, key string) *acc {
	a := m[key]
	if a == nil {
		a = &acc{}
		m[key] = a
	}
	return a
}

func (a *acc) add(pm *Postmortem) {
	a.count++
	if pm.TimeToAckSeconds != nil {
		a.acked++
		a.ackSum += *pm.TimeToAckSeconds
	}
	if pm.State == StateResolved {
		a.resolved++
		a.recoverSum += pm.TimeToRecoverSeconds
		if pm.RTOSeconds > 0 {
			a.rtoChecked++
			if pm.RTOMet {
				a.rtoMet++
			}
		}
	}
	if pm.RPOMet != nil {
		a.rpoChecked++
		if *pm.RPOMet {
			a.rpoMet++
		}
	}
	for _, r := range pm.Acks {
		a.pages += r.Pages
	}
	for _, e := range pm.Escalations {
		if e.Kind == KindEscalated {
			a.escalations++
		}
	}
	for _, ap := range pm.Approvals {
		if ap.Outcome == "approved" || ap.Outcome == "denied" {
			a.waits = append(a.waits, ap.WaitSeconds)
		}
	}
}

func (a *acc) group(key string) StatsGroup {
	g := StatsGroup{Key: key, Count: a.count, Resolved: a.resolved, Acknowledged: a.acked, RTOChecked: a.rtoChecked,
		RPOChecked: a.rpoChecked, Pages: a.pages, Escalations: a.escalations, Approvals: len(a.waits)}
	if a.acked > 0 {
		g.MTTASeconds = ptr(a.ackSum / int64(a.acked))
	}
	if a.resolved > 0 {
		g.MTTRSeconds = ptr(a.recoverSum / int64(a.resolved))
	}
	if a.rtoChecked > 0 {
		g.RTOMetPercent = ptr(percent(float64(a.rtoMet), float64(a.rtoChecked)))
	}
	if a.rpoChecked > 0 {
		g.RPOMetPercent = ptr(percent(float64(a.rpoMet), float64(a.rpoChecked)))
	}
	if a.count > 0 {
		g.PagesPerIncident = float64(int(float64(a.pages)/float64(a.count)*10+0.5)) / 10
	}
	if n := len(a.waits); n > 0 {
		slices.Sort(a.waits)
		m := a.waits[n/2]
		if n%2 == 0 {
			m = (a.waits[n/2-1] + a.waits[n/2]) / 2
		}
		g.ApprovalWaitMedianSeconds = ptr(m)
	}
	return g
}

func groups(m map[string]*acc, order func(a, b StatsGroup) int) []StatsGroup {
	out := make([]StatsGroup, 0, len(m))
	for k, a := range m {
		out = append(out, a.group(k))
	}
	slices.SortFunc(out, order)
	return out
}

// percent is part of whole in percent, to one decimal.
func percent(part, whole float64) float64 {
	return float64(int(part/whole*1000+0.5)) / 10
}

// Stats computes the figures of the incidents declared at or after since
// (zero: all), as of now, from the store.
func (s *Engine) Stats(ctx context.Context, since time.Time) (*Stats, error) {
	var in []StatsInput
	err := s.cfg.Store.View(ctx, func(tx Tx) error {
		incs, err := tx.Incidents(Filter{})
		if err != nil {
			return err
		}
		for _, inc := range incs {
			if inc.DeclaredAt.Before(since) {
				continue
			}
			events, err := tx.Timeline(inc.ID)
			if err != nil {
				return fmt.Errorf("timeline of incident %d: %w", inc.ID, err)
			}
			p, err := s.planTx(tx, inc)
			if err != nil {
				p = nil // figures without names and estimates
			}
			in = append(in, StatsInput{Incident: inc, Events: events, Plan: p})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return ComputeStats(in, since, s.now()), nil
}
