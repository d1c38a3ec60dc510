package plandoc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drbot-dev/drbot/playbooks"
)

// lineRange is the lines [from, to) a part of the plan file takes.
type lineRange struct{ from, to int }

func (r lineRange) has(line int) bool { return line >= r.from && line < r.to }

// scenarioLines finds, in the plan's source, the lines of each scenario
// and of each service, keyed "scenario/ID" and "service/ID", so that a
// warning can be shown under the scenario it is about. A source that
// cannot be read gives no ranges (the warnings are still in the
// findings).
func scenarioLines(p *playbooks.Plan) map[string]lineRange {
	out := map[string]lineRange{}
	var doc yaml.Node
	if yaml.Unmarshal(p.Source, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return out
	}
	end := 1 << 30
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		next := end
		if i+2 < len(root.Content) {
			next = root.Content[i+2].Line
		}
		var prefix string
		switch k.Value {
		case "scenarios":
			prefix = "scenario/"
		case "services":
			prefix = "service/"
		default:
			continue
		}
		if v.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			to := next
			if j+2 < len(v.Content) {
				to = v.Content[j+2].Line
			}
			out[prefix+v.Content[j].Value] = lineRange{v.Content[j].Line, to}
		}
	}
	return out
}

// scenario lays out one scenario's section.
func scenario(ctx context.Context, p *playbooks.Plan, sc *playbooks.Scenario, lines map[string]lineRange, diags playbooks.Diagnostics) (Scenario, error) {
	rto := p.RTO(sc)
	worst, path := sc.LongestPath()
	out := Scenario{
		ID: sc.ID, Title: sc.Title, Severity: sc.Severity, Service: sc.Service,
		RTO: dur(rto), Worst: playbooks.FormatDuration(worst), WorstPath: path,
		Over: rto > 0 && worst > rto,
	}
	switch {
	case rto == 0:
		out.Verdict = "no RTO set"
	case out.Over:
		out.Verdict = "OVER the RTO by " + playbooks.FormatDuration(worst-rto)
	case worst == rto:
		out.Verdict = "exactly the RTO, none to spare"
	default:
		out.Verdict = playbooks.FormatDuration(rto-worst) + " to spare"
	}
	for _, r := range sc.Page {
		role := Role{Name: r}
		for _, c := range p.RoleContacts(r) {
			role.Chain = append(role.Chain, c.Name)
		}
		out.Paged = append(out.Paged, role)
	}
	out.Steps = steps(sc, path)
	for _, d := range diags {
		in := lines["scenario/"+sc.ID]
		svc := lines["service/"+sc.Service]
		if in.has(d.Line) || sc.Service != "" && svc.has(d.Line) {
			out.Warnings = append(out.Warnings, diagText(d))
		}
	}
	chart, err := flowchart(ctx, sc, out)
	if err != nil {
		return out, err
	}
	out.Chart = chart
	return out, nil
}

// steps numbers a scenario's steps and says where each one goes.
func steps(sc *playbooks.Scenario, worst []string) []Step {
	num := map[string]int{}
	for i, st := range sc.Steps {
		num[st.ID] = i + 1
	}
	then := func(id string) string {
		if id == playbooks.End || num[id] == 0 {
			return "the end"
		}
		return fmt.Sprintf("step %d (%s)", num[id], id)
	}
	var out []Step
	for i, st := range sc.Steps {
		s := Step{
			N: i + 1, ID: st.ID, Do: st.Do, Estimate: dur(st.Estimate), Owner: st.Owner,
			Ask: st.Ask, Approval: st.Approval, Worst: slices.Contains(worst, st.ID),
		}
		for _, a := range st.Answers {
			s.Answers = append(s.Answers, Answer{Label: a.Label, Then: then(a.Next)})
		}
		if len(st.Answers) == 0 {
			s.Then = then(sc.After(st.ID))
		}
		out = append(out, s)
	}
	return out
}

// Colours of the charts: the worst-case path in a dark red that keeps a
// contrast above 4.5:1 on white, the rest in grey; the path is also drawn
// thicker, so it does not rely on colour alone.
const (
	worstColour  = "#b00020"
	lineColour   = "#555555"
	approvalFill = "#fff4ce"
	decisionFill = "#e8f0fe"
)

// stepLabel is a step's text in its chart box.
func stepLabel(st Step) []string {
	head := fmt.Sprintf("%d. %s", st.N, st.ID)
	if st.Estimate != "" {
		head += " · " + st.Estimate
	}
	lines := []string{head}
	if st.Ask != "" {
		lines = append(lines, wrap(st.Ask, 26, 3)...)
	} else {
		lines = append(lines, wrap(st.Do, 30, 2)...)
	}
	if st.Approval != "" {
		lines = append(lines, "needs approval: "+st.Approval)
	}
	return lines
}

// flowchart draws a scenario: a box per step (a diamond for a decision,
// its answers labelling the branches; approvals shaded and marked with
// the approving role), the estimate on each, and the worst-case path
// drawn thick and red, its total against the RTO in the caption.
func flowchart(ctx context.Context, sc *playbooks.Scenario, s Scenario) (Chart, error) {
	caption := "Worst case " + s.Worst
	if s.RTO != "" {
		caption += " against an RTO of " + s.RTO + ": " + s.Verdict
	}
	f := newFlow(sc, s)
	f.header(caption)
	for _, st := range s.Steps {
		f.node(st)
	}
	f.edge("start", sc.First(), "")
	for _, st := range sc.Steps {
		if len(st.Answers) > 0 {
			for _, a := range st.Answers {
				f.edge(st.ID, a.Next, a.Label)
			}
			continue
		}
		f.edge(st.ID, sc.After(st.ID), "")
	}
	f.footer()

	svg, err := renderSVG(ctx, f.dot.String())
	if err != nil {
		return Chart{}, err
	}
	alt := fmt.Sprintf("Flowchart of scenario %s: %d steps from declaration to the end. The worst-case path is %s (%s). %s. The steps are listed in full below.",
		sc.ID, len(s.Steps), strings.Join(s.WorstPath, " → "), s.Worst, caption)
	return Chart{SVG: svgHTML(svg), Mermaid: f.mm.String(), Alt: alt}, nil
}

// flow writes one scenario's flowchart as DOT (for Graphviz) and as
// Mermaid at the same time, so that both show the same boxes and arrows.
type flow struct {
	sc       *playbooks.Scenario
	s        Scenario
	dot, mm  strings.Builder
	mid      map[string]string // step id -> Mermaid node id (s1, s2 ...; Mermaid reserves "end")
	pathEdge map[[2]string]bool
	// links counts the Mermaid links written; worstLinks are the indexes
	// of those on the worst-case path, for linkStyle.
	links      int
	worstLinks []string
}

func newFlow(sc *playbooks.Scenario, s Scenario) *flow {
	f := &flow{sc: sc, s: s, mid: map[string]string{"start": "start", playbooks.End: "finish"}, pathEdge: map[[2]string]bool{}}
	for _, st := range s.Steps {
		f.mid[st.ID] = fmt.Sprintf("s%d", st.N)
	}
	// The path's edges: consecutive steps of WorstPath, the start to its
	// first step, and its last step to the end.
	if p := s.WorstPath; len(p) > 0 {
		f.pathEdge[[2]string{"start", p[0]}] = true
		for i := 0; i+1 < len(p); i++ {
			f.pathEdge[[2]string{p[i], p[i+1]}] = true
		}
		f.pathEdge[[2]string{p[len(p)-1], playbooks.End}] = true
	}
	return f
}

func (f *flow) id(suffix string) string { return dotQuote("flow-" + f.sc.ID + "-" + suffix) }

func (f *flow) header(caption string) {
	fmt.Fprintf(&f.dot, "digraph %s {\n", dotQuote("scenario "+f.sc.ID))
	fmt.Fprintf(&f.dot, "graph [id=%s, rankdir=TB, nodesep=0.3, ranksep=0.35, fontname=\"Helvetica,Arial,sans-serif\", fontsize=11, labelloc=b, label=%s];\n", dotQuote("flow-"+f.sc.ID), dotQuote(caption))
	fmt.Fprintf(&f.dot, "node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=%q, margin=\"0.2,0.08\"];\n", lineColour)
	fmt.Fprintf(&f.dot, "edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=9, color=%q, arrowsize=0.7];\n", lineColour)
	fmt.Fprintf(&f.dot, "start [id=%s, class=\"terminal\", shape=oval, label=\"Declared\"];\n", f.id("start"))
	fmt.Fprintf(&f.dot, "end [id=%s, class=\"terminal\", shape=oval, label=\"End\"];\n", f.id("end"))
	f.mm.WriteString("flowchart TD\n")
	f.mm.WriteString("  start([\"Declared\"])\n  finish([\"End\"])\n")
}

func (f *flow) node(st Step) {
	attrs := []string{"id=" + f.id(st.ID), "label=" + dotQuote(stepLabel(st)...)}
	class := "step"
	open, close := "[\"", "\"]"
	switch {
	case st.Ask != "":
		class += " decision"
		attrs = append(attrs, "shape=diamond", "style=filled", fmt.Sprintf("fillcolor=%q", decisionFill))
		open, close = "{\"", "\"}"
	case st.Approval != "":
		class += " approval"
		attrs = append(attrs, fmt.Sprintf("fillcolor=%q", approvalFill), "peripheries=2")
		open, close = "[[\"", "\"]]"
	}
	if st.Worst {
		class += " worst"
		attrs = append(attrs, fmt.Sprintf("color=%q", worstColour), "penwidth=2.5")
	}
	attrs = append(attrs, "class="+dotQuote(class))
	fmt.Fprintf(&f.dot, "%s [%s];\n", dotQuote(st.ID), strings.Join(attrs, ", "))
	fmt.Fprintf(&f.mm, "  %s%s%s%s\n", f.mid[st.ID], open, mermaidText(stepLabel(st)...), close)
}

// edge draws an arrow from step from to step to (or the start, or the
// end), labelled with a decision's answer.
func (f *flow) edge(from, to, label string) {
	attrs := []string{"id=" + f.id(fmt.Sprintf("e%d", f.links))}
	if label != "" {
		attrs = append(attrs, "label="+dotQuote(label))
	}
	if f.pathEdge[[2]string{from, to}] {
		attrs = append(attrs, "class=\"worst\"", fmt.Sprintf("color=%q", worstColour), "penwidth=2.5")
		f.worstLinks = append(f.worstLinks, fmt.Sprint(f.links))
	}
	node := func(id string) string {
		if id == "start" || id == playbooks.End {
			return id // the terminals' DOT names
		}
		return dotQuote(id)
	}
	fmt.Fprintf(&f.dot, "%s -> %s [%s];\n", node(from), node(to), strings.Join(attrs, ", "))
	if label != "" {
		fmt.Fprintf(&f.mm, "  %s -->|\"%s\"| %s\n", f.mid[from], mermaidText(label), f.mid[to])
	} else {
		fmt.Fprintf(&f.mm, "  %s --> %s\n", f.mid[from], f.mid[to])
	}
	f.links++
}

func (f *flow) footer() {
	f.dot.WriteString("}\n")
	var worstNodes []string
	for _, id := range f.s.WorstPath {
		worstNodes = append(worstNodes, f.mid[id])
	}
	fmt.Fprintf(&f.mm, "  classDef worst stroke:%s,stroke-width:3px\n", worstColour)
	if len(worstNodes) > 0 {
		fmt.Fprintf(&f.mm, "  class %s worst\n", strings.Join(worstNodes, ","))
	}
	if len(f.worstLinks) > 0 {
		fmt.Fprintf(&f.mm, "  linkStyle %s stroke:%s,stroke-width:3px\n", strings.Join(f.worstLinks, ","), worstColour)
	}
}

// dependencyChart draws the services and what each depends on, each with
// its RTO and composite availability.
func dependencyChart(ctx context.Context, p *playbooks.Plan) (Chart, error) {
	var dot, mm strings.Builder
	dot.WriteString("digraph services {\n")
	dot.WriteString("graph [id=\"deps\", rankdir=LR, nodesep=0.25, ranksep=0.5, fontname=\"Helvetica,Arial,sans-serif\"];\n")
	fmt.Fprintf(&dot, "node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=%q];\n", lineColour)
	fmt.Fprintf(&dot, "edge [color=%q, arrowsize=0.7];\n", lineColour)
	mm.WriteString("flowchart LR\n")
	var deps []string
	mid := map[string]string{}
	for i, id := range p.ServiceOrder {
		mid[id] = fmt.Sprintf("v%d", i+1)
	}
	for _, id := range p.ServiceOrder {
		s := p.Services[id]
		lines := []string{id}
		var facts []string
		if s.RTO > 0 {
			facts = append(facts, "RTO "+playbooks.FormatDuration(s.RTO))
		}
		facts = append(facts, playbooks.FormatAvailability(p.CompositeAvailability(id)))
		lines = append(lines, strings.Join(facts, " · "))
		fmt.Fprintf(&dot, "%s [id=%s, class=\"service\", label=%s];\n", dotQuote(id), dotQuote("service-"+id), dotQuote(lines...))
		fmt.Fprintf(&mm, "  %s[\"%s\"]\n", mid[id], mermaidText(lines...))
		for _, d := range s.DependsOn {
			fmt.Fprintf(&dot, "%s -> %s;\n", dotQuote(id), dotQuote(d))
			fmt.Fprintf(&mm, "  %s --> %s\n", mid[id], mid[d])
			deps = append(deps, id+" depends on "+d)
		}
	}
	dot.WriteString("}\n")
	svg, err := renderSVG(ctx, dot.String())
	if err != nil {
		return Chart{}, err
	}
	alt := fmt.Sprintf("Dependency graph of %d services, an arrow from each service to what it depends on", len(p.ServiceOrder))
	if len(deps) > 0 {
		alt += ": " + strings.Join(deps, "; ")
	}
	return Chart{SVG: svgHTML(svg), Mermaid: mm.String(), Alt: alt + "."}, nil
}

// mermaidText escapes text for a quoted Mermaid label: its entity codes
// stand for the characters Mermaid would read as syntax, and lines are
// joined with <br/>.
func mermaidText(lines ...string) string {
	r := strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "\n", " ", "`", "#96;")
	for i, l := range lines {
		lines[i] = r.Replace(l)
	}
	return strings.Join(lines, "<br/>")
}
