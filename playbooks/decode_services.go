package playbooks

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Decoding services: (what breaks, with its RTO and RPO) and the check that
// depends_on has no cycle.

func (p *parser) decodeServices(f field) {
	fs, _ := p.pairs(f.val, "services")
	for _, e := range fs {
		id := e.name()
		p.checkID(e.key, "service")
		what := fmt.Sprintf("service %q", id)
		s := &Service{ID: id}
		p.plan.Services[id] = s
		p.plan.ServiceOrder = append(p.plan.ServiceOrder, id)
		var m map[string]field
		// "id:" with nothing after it is a service with no objectives.
		if !isNull(deref(e.val)) {
			if m = p.object(e.val, what, serviceKeys); m == nil {
				continue
			}
		}
		durations := []struct {
			key string
			dst *time.Duration
		}{{"rto", &s.RTO}, {"rpo", &s.RPO}, {"backup_interval", &s.BackupInterval}, {"restore_time", &s.RestoreTime}}
		for _, d := range durations {
			if v, ok := m[d.key]; ok {
				*d.dst, _ = p.duration(v, false)
			}
		}
		if v, ok := m["availability"]; ok {
			if txt, ok := p.text(v); ok {
				if a, err := ParseAvailability(txt); err != nil {
					p.errorf(v.val, "%v", err)
				} else {
					s.Availability = a
				}
			}
		}
		if v, ok := m["depends_on"]; ok {
			deps := p.refList(v, "service", "depends_on of "+what)
			s.DependsOn = values(deps)
			p.serviceDeps[id] = deps
		}
		if s.RTO > 0 && s.RestoreTime > s.RTO {
			p.warnf(m["restore_time"].val, "restore_time %s is longer than rto %s, so a full restore cannot meet the RTO: make the restore faster (smaller backups, a warm standby) or raise rto",
				FormatDuration(s.RestoreTime), FormatDuration(s.RTO))
		}
		if s.RPO > 0 && s.BackupInterval > s.RPO {
			p.warnf(m["backup_interval"].val, "backup_interval %s is longer than rpo %s, so up to %s of data can be lost: back up at least every %s or raise rpo",
				FormatDuration(s.BackupInterval), FormatDuration(s.RPO), FormatDuration(s.BackupInterval), FormatDuration(s.RPO))
		}
	}
}

// checkServiceCycles reports each depends_on entry that closes a cycle:
// composite availability is a product along chains that must end.
func (p *parser) checkServiceCycles() {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(id string)
	visit = func(id string) {
		state[id] = active
		stack = append(stack, id)
		for _, n := range p.serviceDeps[id] {
			dep := n.Value
			if _, ok := p.plan.Services[dep]; !ok {
				continue // reported as undefined
			}
			switch state[dep] {
			case active:
				i := slices.Index(stack, dep)
				cycle := append(slices.Clone(stack[i:]), dep)
				p.errorf(n, "services depend on each other in a cycle: %s; a chain of depends_on must end", strings.Join(cycle, " → "))
			case unseen:
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
	}
	for _, id := range p.plan.ServiceOrder {
		if state[id] == unseen {
			visit(id)
		}
	}
}
