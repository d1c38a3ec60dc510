package playbooks

import (
	"gopkg.in/yaml.v3"
)

// Decoding review: (the contact-list review) and drills:, with the cron
// schedule both use.

func (p *parser) decodeReview(f field) {
	m := p.object(f.val, "review", reviewKeys)
	if m == nil {
		return
	}
	p.require(f.key, m, "review", "schedule", "owners")
	r := &Review{OverdueAfter: DefaultOverdueAfter}
	if v, ok := m["schedule"]; ok {
		r.Schedule, _ = p.schedule(v)
	}
	if v, ok := m["owners"]; ok {
		owners := p.refList(v, "contact", "owners of review")
		if len(owners) == 0 && deref(v.val).Kind == yaml.SequenceNode {
			p.errorf(v.val, "owners: name at least one contact to confirm the contact list")
		}
		r.Owners = values(owners)
	}
	if v, ok := m["overdue_after"]; ok {
		if d, ok := p.duration(v, false); ok {
			r.OverdueAfter = d
		}
	}
	if v, ok := m["channel"]; ok {
		r.Channel, _ = p.text(v)
	}
	p.plan.Review = r
}

func (p *parser) schedule(f field) (string, bool) {
	s, ok := p.text(f)
	if !ok {
		return "", false
	}
	if _, err := ParseSchedule(s); err != nil {
		p.errorf(f.val, "%s: %v", f.name(), err)
		return "", false
	}
	return s, true
}

func (p *parser) decodeDrills(f field) {
	p.listObjects(f, "drill", drillKeys, []string{"scenario", "schedule"}, func(_ *yaml.Node, m map[string]field, what string) {
		var d Drill
		d.Scenario = p.ref(m, "scenario", "scenario", what)
		if v, ok := m["schedule"]; ok {
			d.Schedule, _ = p.schedule(v)
		}
		p.plan.Drills = append(p.plan.Drills, d)
	})
}
