package playbooks

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoding scenarios: what each is for, the service it restores, whom it
// pages, and its RTO alerts.

func (p *parser) decodeScenarios(f field) {
	fs, _ := p.pairs(f.val, "scenarios")
	for _, e := range fs {
		id := e.name()
		if !scenarioPattern.MatchString(id) {
			p.errorf(e.key, "scenario id %q: use the lowercase letters a-z (no accents or other scripts), digits, \"-\" and \"_\", starting with a letter or digit: it becomes part of the incident's Slack channel name (the title may be in any script)", id)
		} else if len(id) > maxScenarioID {
			p.errorf(e.key, "scenario id %q is %d characters long: keep it to %d so that the incident's Slack channel name fits", truncID(id), len(id), maxScenarioID)
		}
		p.plan.Scenarios[id] = p.decodeScenario(e)
		p.plan.ScenarioOrder = append(p.plan.ScenarioOrder, id)
	}
	if len(fs) > MaxScenarios {
		p.warnf(f.key, "scenarios: %d of them; Slack menus show at most %d, so the declare dialog asks people to type part of a scenario's id or title to find it: merge or remove scenarios to keep one menu", len(fs), MaxScenarios)
	}
	if len(fs) == 0 && !p.over {
		if n := deref(f.val); n.Kind == yaml.MappingNode {
			p.errorf(f.key, "scenarios: the plan has none: add at least one")
		}
	}
}

// decodeScenario returns the scenario, incomplete when it has errors.
func (p *parser) decodeScenario(e field) *Scenario {
	id := e.name()
	what := fmt.Sprintf("scenario %q", id)
	sc := &Scenario{ID: id, RTOAlerts: slices.Clone(DefaultRTOAlerts)}
	m := p.object(e.val, what, scenarioKeys)
	if m == nil {
		return sc
	}
	p.require(e.key, m, what, "title", "severity", "steps")
	if v, ok := m["title"]; ok {
		sc.Title, _ = p.text(v)
	}
	sc.Service = p.ref(m, "service", "service", "service of "+what)
	if v, ok := m["severity"]; ok {
		if s, ok := p.text(v); ok {
			if !slices.Contains(Severities, s) {
				p.errorf(v.val, "severity: %q is not one of %s", s, strings.Join(Severities, ", "))
			} else {
				sc.Severity = s
			}
		}
	}
	if v, ok := m["page"]; ok {
		sc.Page = values(p.refList(v, "role", "page of "+what))
	}
	if v, written := m["page"]; !written || deref(v.val).Kind == yaml.SequenceNode && len(deref(v.val).Content) == 0 {
		p.warnf(e.key, "%s pages no role, so nobody is called when it is declared: add page: [commander]", what)
	}
	if v, ok := m["rto_alerts"]; ok {
		sc.RTOAlerts = p.rtoAlerts(v)
	}
	if v, ok := m["steps"]; ok {
		before := p.errs
		sc.Steps = p.decodeSteps(sc, v)
		if p.errs == before {
			p.later = append(p.later, func() { p.checkRTO(e.key, sc) })
		}
	}
	return sc
}

func (p *parser) rtoAlerts(f field) []float64 {
	ns, ok := p.items(f)
	if !ok {
		return nil
	}
	out := []float64{}
	for _, n := range ns {
		s, ok := p.scalar(f.name(), n)
		if !ok {
			continue
		}
		a, err := parseFraction(s)
		switch {
		case err != nil:
			p.errorf(n, "rto_alerts: %v", err)
		case a > 1 && a < 100 && !strings.HasSuffix(s, "%"):
			p.errorf(n, "rto_alerts: %s is not a fraction of the RTO: did you mean %s%%?", s, s)
		case a <= 0 || a >= 1:
			p.errorf(n, "rto_alerts: %s is not between 0%% and 100%%: list thresholds before the breach (100%% is always alerted)", s)
		case slices.Contains(out, a):
			p.errorf(n, "rto_alerts: %s is listed twice", s)
		default:
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// checkRTO warns when the worst-case path of a scenario's steps cannot
// finish within its service's RTO.
func (p *parser) checkRTO(at *yaml.Node, sc *Scenario) {
	svc := p.plan.Services[sc.Service]
	if svc == nil || svc.RTO == 0 {
		return
	}
	d, path := sc.LongestPath()
	if d <= svc.RTO {
		return
	}
	var longest *Step
	for _, id := range path {
		if st := sc.Step(id); longest == nil || st.Estimate > longest.Estimate {
			longest = st
		}
	}
	p.warnf(at, "scenario %q: path %s takes %s, RTO is %s: shorten its steps (%s alone takes %s), add a faster branch, or raise the rto of service %q",
		sc.ID, strings.Join(path, " → "), FormatDuration(d), FormatDuration(svc.RTO), longest.ID, FormatDuration(longest.Estimate), svc.ID)
}
