package web

import (
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// planOf returns the plan incident inc was declared with: kept in the
// Store by its hash, parsed once and cached. When the Store has none (an
// incident recorded before plans were kept) the current plan stands in.
func (s *Server) planOf(tx incident.Tx, inc *incident.Incident) *playbooks.Plan {
	cur := s.cfg.Plan()
	if inc.PlanHash == "" || cur != nil && cur.Hash == inc.PlanHash {
		return cur
	}
	s.mu.Lock()
	p, ok := s.plans[inc.PlanHash]
	s.mu.Unlock()
	if ok {
		return p
	}
	src, err := tx.PlanSource(inc.PlanHash)
	if err != nil {
		return cur
	}
	// The secret of paging.webhook is not needed to show a plan.
	p, diags := playbooks.ParseWith("plan "+inc.PlanHash[:min(12, len(inc.PlanHash))], src, playbooks.Options{UnsetIsWarning: true})
	if p == nil || diags.HasErrors() {
		return cur
	}
	s.mu.Lock()
	s.plans[inc.PlanHash] = p
	s.mu.Unlock()
	return p
}

// location is the timezone the pages show times in: the current plan's.
func (s *Server) location() *time.Location {
	if p := s.cfg.Plan(); p != nil && p.Location != nil {
		return p.Location
	}
	return time.UTC
}

// clock formats a time for the pages: "2026-11-21 10:45 CET" in the
// plan's timezone; "" for the zero time.
func (s *Server) clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.location()).Format("2006-01-02 15:04 MST")
}

// names maps Slack member IDs and contact ids to the names of plan p.
func names(p *playbooks.Plan) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		out[id] = c.Name
		if c.Slack != "" {
			out[c.Slack] = c.Name
		}
	}
	return out
}
