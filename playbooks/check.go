package playbooks

import "time"

// The periods allowed downtime is reported over.
const (
	Month = 30 * day
	Year  = 365 * day
)

// Report is the feasibility summary of a plan: can each scenario finish
// within its RTO, and how much downtime each service's availability allows.
type Report struct {
	Scenarios []ScenarioReport // in file order
	Services  []ServiceReport  // in file order
	Alerts    []*AlertRule     // the alerts: rules, first match wins
	// AlertChannel is where declare: ask rules post.
	AlertChannel string
}

// ScenarioReport is a scenario's worst case against its RTO.
type ScenarioReport struct {
	ID       string
	Title    string
	Service  string        // "" when the scenario names none
	Worst    time.Duration // longest path of step estimates, over every answer
	Path     []string      // the steps of that path
	RTO      time.Duration // the service's RTO; 0 when there is none
	Severity string
}

// OverRTO reports whether the worst case cannot finish within the RTO.
func (r ScenarioReport) OverRTO() bool { return r.RTO > 0 && r.Worst > r.RTO }

// ServiceReport is a service's availability and the downtime it allows.
type ServiceReport struct {
	ID            string
	Availability  float64 // its own; 0 when the plan sets none
	Composite     float64 // with everything it depends on, transitively
	DowntimeMonth time.Duration
	DowntimeYear  time.Duration
	// Unknown: neither the service nor anything it depends on sets an
	// availability, so Composite (1) and the downtimes (0) say nothing
	// and are shown as "-", not as 100%.
	Unknown bool
}

// Check summarizes a parsed plan's feasibility. The warnings themselves are
// in the Diagnostics that Parse returned.
func Check(p *Plan) Report {
	r := Report{
		Scenarios: make([]ScenarioReport, 0, len(p.ScenarioOrder)),
		Services:  make([]ServiceReport, 0, len(p.ServiceOrder)),
		Alerts:    p.Alerts, AlertChannel: p.AlertChannel,
	}
	for _, id := range p.ScenarioOrder {
		sc := p.Scenarios[id]
		worst, path := sc.LongestPath()
		r.Scenarios = append(r.Scenarios, ScenarioReport{
			ID: id, Title: sc.Title, Service: sc.Service, Severity: sc.Severity,
			Worst: worst, Path: path, RTO: p.RTO(sc),
		})
	}
	for _, id := range p.ServiceOrder {
		c, known := p.composite(id)
		r.Services = append(r.Services, ServiceReport{
			ID:            id,
			Availability:  p.Services[id].Availability,
			Composite:     c,
			DowntimeMonth: AllowedDowntime(c, Month),
			DowntimeYear:  AllowedDowntime(c, Year),
			Unknown:       !known,
		})
	}
	return r
}

// CompositeAvailability is the availability of service and everything it
// depends on, transitively, in series: the product of their availabilities,
// each service counted once however many paths lead to it. A service with
// no availability counts as 1. It returns 0 when there is no such service.
func (p *Plan) CompositeAvailability(service string) float64 {
	a, _ := p.composite(service)
	return a
}

// composite is CompositeAvailability, and whether any service it counts
// sets an availability.
func (p *Plan) composite(service string) (a float64, known bool) {
	if p.Services[service] == nil {
		return 0, false
	}
	seen := map[string]bool{}
	a = 1.0
	var visit func(id string)
	visit = func(id string) {
		s := p.Services[id]
		if s == nil || seen[id] {
			return
		}
		seen[id] = true
		if s.Availability > 0 {
			a *= s.Availability
			known = true
		}
		for _, dep := range s.DependsOn {
			visit(dep)
		}
	}
	visit(service)
	return a, known
}
