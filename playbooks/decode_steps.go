package playbooks

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoding a scenario's steps: each step, its question's answers, and the
// checks over the step graph (ids, next:, reachability).

// stepSrc keeps the nodes of a step that the graph checks point at.
type stepSrc struct {
	id    *yaml.Node
	edges []edge
	rp    *yaml.Node // the recovery_point key, when true
}

// edge is one way out of a step; node is nil when the step simply goes on
// to the following one.
type edge struct {
	to   string
	node *yaml.Node
}

func (p *parser) decodeSteps(sc *Scenario, f field) []*Step {
	ns, ok := p.items(f)
	if !ok {
		return nil
	}
	if len(ns) == 0 {
		p.errorf(f.val, "steps: the scenario has none: say what to do")
		return nil
	}
	before := p.errs
	steps := make([]*Step, 0, len(ns))
	srcs := make([]stepSrc, 0, len(ns))
	index := make(map[string]int, len(ns))
	for i, n := range ns {
		st, src := p.decodeStep(n, i)
		if st == nil {
			continue
		}
		if st.ID != "" {
			if j, dup := index[st.ID]; dup {
				p.errorf(src.id, "duplicate step id %q (first at line %d)", st.ID, srcs[j].id.Line)
				continue
			}
			index[st.ID] = len(steps)
		}
		steps = append(steps, st)
		srcs = append(srcs, src)
		if src.rp != nil {
			p.later = append(p.later, func() { p.checkRPO(sc, st, src.rp) })
		}
	}
	sc.Steps = steps
	sc.stepIndex = index
	p.checkSteps(sc, srcs, index, before)
	return steps
}

func (p *parser) decodeStep(n *yaml.Node, i int) (*Step, stepSrc) {
	what := fmt.Sprintf("step %d", i+1)
	if m := deref(n); m.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(m.Content); j += 2 {
			if k, v := m.Content[j], deref(m.Content[j+1]); k.Value == "id" && v.Kind == yaml.ScalarNode && v.Value != "" {
				what = fmt.Sprintf("step %q", v.Value)
			}
		}
	}
	m := p.object(n, what, stepKeys)
	if m == nil {
		return nil, stepSrc{}
	}
	p.require(n, m, what, "id", "do")
	st := &Step{}
	src := stepSrc{id: n}
	if v, ok := m["id"]; ok {
		if s, ok := p.text(v); ok {
			src.id = v.val
			switch {
			case s == End:
				p.errorf(v.val, "step id %q is reserved: it is how next: and answers: end the playbook", End)
			default:
				p.checkID(v.val, "step")
				st.ID = s
			}
		}
	}
	if v, ok := m["do"]; ok {
		st.Do, _ = p.text(v)
	}
	if v, ok := m["estimate"]; ok {
		st.Estimate, _ = p.duration(v, true)
	}
	st.Owner = p.ref(m, "owner", "role", "owner of "+what)
	st.Approval = p.ref(m, "approval", "role", "approval of "+what)
	if v, ok := m["recovery_point"]; ok {
		st.RecoveryPoint, _ = p.boolean(v)
		if _, decision := m["answers"]; st.RecoveryPoint && decision {
			p.errorf(v.key, "%s has recovery_point and answers: the recovery point is asked when Done is pressed, and a decision has no Done button; put recovery_point on the step that restores the data", what)
		}
		if st.RecoveryPoint {
			src.rp = v.key
		}
	}
	ask, hasAsk := m["ask"]
	answers, hasAnswers := m["answers"]
	next, hasNext := m["next"]
	if hasAsk {
		st.Ask, _ = p.text(ask)
		if !hasAnswers {
			p.errorf(ask.key, "%s asks a question but has no answers: add answers: with one entry per button, each naming the next step", what)
		}
	}
	if hasAnswers {
		if !hasAsk {
			p.errorf(answers.key, "%s has answers but no ask: add the question the answers reply to", what)
		}
		if hasNext {
			p.errorf(next.key, "%s has both next and answers: the answer pressed picks the next step, so remove next", what)
		}
		st.Answers, src.edges = p.decodeAnswers(answers)
	}
	if hasNext {
		if s, ok := p.text(next); ok {
			st.Next = s
			if !hasAnswers {
				src.edges = []edge{{s, next.val}}
			}
		}
	}
	return st, src
}

func (p *parser) decodeAnswers(f field) ([]Answer, []edge) {
	fs, ok := p.pairs(f.val, "answers")
	if !ok {
		return nil, nil
	}
	if len(fs) == 0 {
		p.errorf(f.val, "answers: a decision needs at least one answer")
		return nil, nil
	}
	var out []Answer
	var edges []edge
	for _, e := range fs {
		label := strings.TrimSpace(e.name())
		if label == "" {
			p.errorf(e.key, "answers: an answer needs a label: it is the text of its button")
			continue
		}
		if n := len([]rune(label)); n > MaxAnswerLabel {
			p.warnf(e.key, "answers: %q is %d characters long; Slack buttons show at most %d, so its button is cut to fit: shorten it", label, n, MaxAnswerLabel)
		}
		next, ok := p.scalar(label, e.val)
		if !ok {
			continue
		}
		if strings.TrimSpace(next) == "" {
			p.errorf(e.val, "answers: %q leads nowhere: name the step it goes on to, or end", label)
			continue
		}
		out = append(out, Answer{Label: label, Next: next})
		edges = append(edges, edge{next, deref(e.val)})
	}
	return out, edges
}

// checkSteps resolves next and answers, and reports cycles and steps that
// no path reaches. srcs[i] belongs to sc.Steps[i]. errsBefore is the error
// count before the steps were decoded: when they have errors, a step may
// look unreachable only because a broken reference was dropped, so no
// step is called unreachable then.
func (p *parser) checkSteps(sc *Scenario, srcs []stepSrc, index map[string]int, errsBefore int) {
	n := len(sc.Steps)
	succ := make([][]int, n) // -1 is End
	edgeNode := make([][]*yaml.Node, n)
	for i, src := range srcs {
		edges := src.edges
		if edges == nil {
			edges = []edge{{End, nil}}
			if i+1 < n {
				edges[0].to = sc.Steps[i+1].ID
			}
		}
		for _, e := range edges {
			if e.to == End {
				succ[i] = append(succ[i], -1)
				edgeNode[i] = append(edgeNode[i], e.node)
				continue
			}
			j, ok := index[e.to]
			if !ok {
				if e.node != nil {
					p.errorf(e.node, "undefined step %q in scenario %q%s", e.to, sc.ID, suggestID(e.to, "step", append(stepIDs(sc), End)))
				}
				continue
			}
			succ[i] = append(succ[i], j)
			edgeNode[i] = append(edgeNode[i], e.node)
		}
	}

	const (
		unseen = iota
		active
		done
	)
	state := make([]int, n)
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = active
		stack = append(stack, i)
		for k, j := range succ[i] {
			if j < 0 {
				continue
			}
			switch state[j] {
			case active:
				at := edgeNode[i][k]
				if at == nil {
					at = srcs[i].id
				}
				var ids []string
				for _, s := range stack[slices.Index(stack, j):] {
					ids = append(ids, sc.Steps[s].ID)
				}
				ids = append(ids, sc.Steps[j].ID)
				p.errorf(at, "steps of scenario %q form a cycle: %s; every path must reach the end (point an answer or next at a later step or at end)", sc.ID, strings.Join(ids, " → "))
			case unseen:
				visit(j)
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	// Visiting from the first step marks exactly the reachable steps;
	// cycles among unreachable steps are found by the second loop.
	if n > 0 {
		visit(0)
	}
	clean := p.errs == errsBefore
	for i := range n {
		if state[i] == unseen {
			if clean {
				p.warnf(srcs[i].id, "step %q is never reached: no answer, next or preceding step leads to it; remove it or point a next or answer at it", sc.Steps[i].ID)
			}
			visit(i)
		}
	}
}

func stepIDs(sc *Scenario) []string {
	out := make([]string, len(sc.Steps))
	for i, st := range sc.Steps {
		out[i] = st.ID
	}
	return out
}

// checkRPO warns about a step that asks for the recovery point (at, its
// recovery_point key) in a scenario whose service has no rpo: the data
// lost would be measured against nothing.
func (p *parser) checkRPO(sc *Scenario, st *Step, at *yaml.Node) {
	svc := p.plan.Services[sc.Service]
	switch {
	case sc.Service == "" || svc == nil:
		p.warnf(at, "step %q of scenario %q asks for the recovery point, but the scenario has no service: give it a service with an rpo so that the data lost is checked", st.ID, sc.ID)
	case svc.RPO == 0:
		p.warnf(at, "step %q of scenario %q asks for the recovery point, but service %q has no rpo: set rpo so that the data lost is checked against it", st.ID, sc.ID, svc.ID)
	}
}
