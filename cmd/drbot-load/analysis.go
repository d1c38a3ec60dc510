package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// Analysis: after a phase, what the database and the fake Slack say
// happened, against what the load sent.

type pageKey struct {
	incident   int64
	role, user string
}

// unsentPages counts, per incident, role and contact, the pages of
// resolved incidents that never went out: drbot sends no page after
// resolve, and the K-th page of a role, once delivered, is remembered
// under the ref inc/N/page/ROLE/K.
func (p *phase) unsentPages(tx incident.Tx, incs []*incident.Incident, timelines map[int64][]incident.Event) (map[pageKey]int, error) {
	out := map[pageKey]int{}
	for _, inc := range incs {
		if inc.State != incident.StateResolved {
			continue
		}
		k := map[string]int{}
		for _, e := range timelines[inc.ID] {
			if e.Kind != incident.KindPaged && e.Kind != incident.KindEscalated {
				continue
			}
			role := e.Data["role"]
			k[role]++
			_, _, sent, err := tx.Ref(fmt.Sprintf("inc/%d/page/%s/%d", inc.ID, role, k[role]))
			if err != nil {
				return nil, err
			}
			if !sent {
				out[pageKey{inc.ID, role, cmp.Or(p.plan.Contacts[e.Data["contact"]], e.Data["contact"])}]++
			}
		}
	}
	return out, nil
}

// analyze compares drbot's timeline with what the fake Slack received.
func (p *phase) analyze(ctx context.Context, dbPath string, pr *PhaseReport) error {
	incs, timelines, notSent, err := p.readTimelines(ctx, dbPath)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latencyLocked(pr)
	firstPage := p.pagesLocked(pr, incs, timelines, notSent)
	p.declareTimesLocked(pr, firstPage)
	p.slackCallsLocked(pr)
	if pr.Unresolved > 0 {
		p.problemLocked("%d incidents were not resolved", pr.Unresolved)
	}
	if pr.Pages.Lost > 0 {
		p.problemLocked("%d pages recorded in the timeline never reached Slack", pr.Pages.Lost)
	}
	pr.Problems = slices.Clone(p.problems)
	return nil
}

// readTimelines reads every incident of the phase's database, its
// timeline, and the pages that were never sent.
func (p *phase) readTimelines(ctx context.Context, dbPath string) ([]*incident.Incident, map[int64][]incident.Event, map[pageKey]int, error) {
	store, err := openRead(ctx, dbPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open the database: %w", err)
	}
	defer store.Close()
	var (
		incs      []*incident.Incident
		timelines = map[int64][]incident.Event{}
		notSent   map[pageKey]int
	)
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		if incs, err = tx.Incidents(incident.Filter{}); err != nil {
			return err
		}
		for _, inc := range incs {
			if timelines[inc.ID], err = tx.Timeline(inc.ID); err != nil {
				return err
			}
		}
		notSent, err = p.unsentPages(tx, incs, timelines)
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the timelines: %w", err)
	}
	return incs, timelines, notSent, nil
}

// latencyLocked reports the answer latency per request kind.
func (p *phase) latencyLocked(pr *PhaseReport) {
	kinds := make([]string, 0, len(p.lat)+len(p.failed))
	for k := range p.lat {
		kinds = append(kinds, k)
	}
	for k := range p.failed {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.SortFunc(kinds, func(a, b string) int { return kindOrder(a) - kindOrder(b) })
	for _, k := range kinds {
		pr.Requests = append(pr.Requests, EndpointReport{Kind: k, Drbot: statsOf(p.lat[k]), Failed: p.failed[k]})
	}
	pr.LateAnswers = p.late
}

// pagesLocked sets the timeline's pages against the fake Slack's, per
// incident, role and contact, in time order (the n-th page to a contact
// for a role is matched with the n-th direct message), and how late
// escalations were. It returns each incident's first page seen.
func (p *phase) pagesLocked(pr *PhaseReport, incs []*incident.Incident, timelines map[int64][]incident.Event, notSent map[pageKey]int) map[int64]time.Time {
	delivered := map[pageKey][]time.Time{}
	firstPage := map[int64]time.Time{}
	for _, dm := range p.pages {
		k := pageKey{dm.incident, dm.role, dm.user}
		delivered[k] = append(delivered[k], dm.at)
		if f, ok := firstPage[dm.incident]; !ok || dm.at.Before(f) {
			firstPage[dm.incident] = dm.at
		}
	}
	for _, ts := range delivered {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	expected := map[pageKey][]time.Time{}
	var engineLate, dmLate []time.Duration
	for _, inc := range incs {
		pr.Incidents++
		if inc.State != incident.StateResolved {
			pr.Unresolved++
		}
		last := map[string]time.Time{} // role -> its previous page
		for _, e := range timelines[inc.ID] {
			switch e.Kind {
			case incident.KindDeliveryFailed:
				pr.Pages.FailedForGood++
				continue
			case incident.KindPaged, incident.KindEscalated:
			default:
				continue
			}
			role := e.Data["role"]
			user := p.plan.Contacts[e.Data["contact"]]
			if user == "" {
				user = e.Data["contact"] // a Slack member paged directly
			}
			k := pageKey{inc.ID, role, user}
			n := len(expected[k])
			expected[k] = append(expected[k], e.At)
			if e.Kind == incident.KindEscalated && !last[role].IsZero() {
				due := last[role].Add(p.plan.AckTimeout)
				engineLate = append(engineLate, e.At.Sub(due))
				if got := delivered[k]; n < len(got) {
					dmLate = append(dmLate, got[n].Sub(due))
				}
			}
			last[role] = e.At
		}
	}
	for k, exp := range expected {
		got, want := len(delivered[k]), len(exp)-notSent[k]
		pr.Pages.NotSent += notSent[k]
		pr.Pages.Expected += want
		pr.Pages.Delivered += min(got, want)
		pr.Pages.Lost += max(0, want-got)
	}
	for k, got := range delivered {
		pr.Pages.Doubled += max(0, len(got)-(len(expected[k])-notSent[k]))
	}
	pr.EscalationLateEngine = statsOf(engineLate)
	pr.EscalationLateDM = statsOf(dmLate)

	return firstPage
}

// declareTimesLocked reports how long from a declaration to its first
// page and to its channel.
func (p *phase) declareTimesLocked(pr *PhaseReport, firstPage map[int64]time.Time) {
	var toPage, toChannel []time.Duration
	for _, inc := range p.incs {
		if !inc.declared {
			continue
		}
		if inc.id == 0 {
			p.problemLocked("%s: declared, but no page and no answer says its number", inc.token)
			continue
		}
		if f, ok := firstPage[inc.id]; ok {
			toPage = append(toPage, f.Sub(inc.sentAt))
		}
		if ch, ok := p.channels[inc.id]; ok {
			toChannel = append(toChannel, ch.at.Sub(inc.sentAt))
		}
	}
	pr.DeclareToFirstPage = statsOf(toPage)
	pr.DeclareToChannel = statsOf(toChannel)

}

// slackCallsLocked counts the calls the fake Slack answered, by outcome.
func (p *phase) slackCallsLocked(pr *PhaseReport) {
	for _, c := range p.fs.Calls() {
		pr.Slack.Calls++
		switch {
		case c.Status == http.StatusTooManyRequests:
			pr.Slack.RateLimited++
		case c.Status >= 500:
			pr.Slack.ServerErrors++
		case c.Error != "":
			pr.Slack.Errors++
		}
	}
}

func kindOrder(k string) int {
	if i := slices.Index([]string{kindDeclare, kindAck, kindNote, kindStatus, kindResolve}, k); i >= 0 {
		return i
	}
	return 100
}
