package playbooks

import (
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
	"gopkg.in/yaml.v3"
)

// The plan's alerts: and alert_channel: say what a monitoring alert means.
// Each rule matches an alert's labels with Alertmanager matchers and names
// the scenario it is; declare says whether drbot declares it at once
// (auto) or asks in alert_channel first (ask, the default).

// alertKeys are the keys of one rule under alerts:.
var alertKeys = []string{"matchers", "scenario", "declare"}

// Values of AlertRule.Declare.
const (
	DeclareAsk  = "ask"  // post Declare / Dismiss in alert_channel; nothing pages until a person declares
	DeclareAuto = "auto" // declare the scenario as soon as the alert fires
)

// AlertRule is one entry of alerts:.
type AlertRule struct {
	// Matchers all hold for an alert the rule matches, in Alertmanager's
	// syntax (alertname="DBDown", severity=~"critical|page"), parsed by
	// Alertmanager's own pkg/labels.
	Matchers labels.Matchers
	Scenario string
	Declare  string // DeclareAsk or DeclareAuto
	Line     int    // where the rule starts in the plan file, for messages
}

// Matches reports whether every matcher of the rule holds for an alert's
// labels (a missing label is the empty value, as in Alertmanager).
func (r *AlertRule) Matches(ls map[string]string) bool {
	for _, m := range r.Matchers {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// MatchAlert returns the first rule, in file order, that matches any of
// the label sets (the alerts of one group), and the index of that label
// set; nil and -1 when none does.
func (p *Plan) MatchAlert(sets []map[string]string) (*AlertRule, int) {
	for _, r := range p.Alerts {
		for i, ls := range sets {
			if r.Matches(ls) {
				return r, i
			}
		}
	}
	return nil, -1
}

// alertSrc keeps the nodes of a rule that later checks point at.
type alertSrc struct {
	at       *yaml.Node
	matchers []*yaml.Node // one per entry of Matchers
}

func (p *parser) decodeAlerts(f field) {
	var srcs []alertSrc
	ok := p.listObjects(f, "alert rule", alertKeys, []string{"matchers", "scenario"}, func(n *yaml.Node, m map[string]field, what string) {
		r := &AlertRule{Declare: DeclareAsk, Line: n.Line}
		src := alertSrc{at: n}
		if v, ok := m["matchers"]; ok {
			r.Matchers, src.matchers = p.matchers(v, what)
		}
		r.Scenario = p.ref(m, "scenario", "scenario", what)
		if v, ok := m["declare"]; ok {
			if s, ok := p.text(v); ok {
				switch s {
				case DeclareAsk, DeclareAuto:
					r.Declare = s
				default:
					p.errorf(v.val, "declare: %q is not auto or ask: auto declares the scenario as soon as the alert fires, ask posts it in alert_channel with Declare and Dismiss buttons", s)
				}
			}
		}
		p.plan.Alerts = append(p.plan.Alerts, r)
		srcs = append(srcs, src)
	})
	if !ok {
		return
	}
	p.later = append(p.later, func() { p.checkAlerts(srcs) })
}

// matchers parses a rule's list of matchers, reporting each bad one at its
// position.
func (p *parser) matchers(f field, what string) (labels.Matchers, []*yaml.Node) {
	ns, ok := p.items(f)
	if !ok {
		return nil, nil
	}
	if len(ns) == 0 {
		p.errorf(f.val, "%s: matchers is empty, so it would match every alert: name at least one, such as 'alertname=\"DBDown\"'", what)
		return nil, nil
	}
	var ms labels.Matchers
	var at []*yaml.Node
	for _, n := range ns {
		s, ok := p.scalar("matchers", n)
		if !ok {
			continue
		}
		m, err := labels.ParseMatcher(s)
		if err != nil {
			p.errorf(n, "%s: bad matcher %q: %v; write it as in Alertmanager: name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\", quoted in YAML: 'alertname=\"DBDown\"'", what, s, err)
			continue
		}
		ms = append(ms, m)
		at = append(at, n)
	}
	return ms, at
}

// decodeAlertChannel reads alert_channel, where "ask" rules post.
func (p *parser) decodeAlertChannel(f field) {
	if s, ok := p.text(f); ok {
		p.plan.AlertChannel = strings.TrimPrefix(s, "#")
		p.alertChannel = f.key
	}
}

// checkAlerts runs once the plan is decoded: an ask rule needs
// alert_channel, a rule whose matchers contradict each other matches
// nothing, and a rule every alert of which an earlier rule takes first
// never applies.
func (p *parser) checkAlerts(srcs []alertSrc) {
	rules := p.plan.Alerts
	asks := false
	for i, r := range rules {
		if r.Declare == DeclareAsk {
			asks = true
		}
		if a, b, ok := contradiction(r.Matchers); ok {
			p.warnf(srcs[i].matchers[b], "alert rule %d can never match: %s and %s cannot both hold for one alert", i+1, r.Matchers[a], r.Matchers[b])
			continue
		}
		for j := range i {
			if len(rules[j].Matchers) > 0 && covers(rules[j].Matchers, r.Matchers) {
				p.warnf(srcs[i].at, "alert rule %d can never apply: every alert it matches also matches rule %d (line %d), which comes first; move it above rule %d or narrow rule %d",
					i+1, j+1, rules[j].Line, j+1, j+1)
				break
			}
		}
	}
	if asks && p.plan.AlertChannel == "" {
		p.errorf(srcs[0].at, "alerts: a rule with declare: ask (the default) posts in alert_channel, which the plan does not set: add alert_channel: ops-alerts (a channel drbot is in), or declare: auto")
	}
	if !asks && p.alertChannel != nil && len(rules) > 0 {
		p.warnf(p.alertChannel, "alert_channel is set but no alert rule asks (every one is declare: auto), so nothing is posted there")
	}
}

// contradiction finds two matchers on one label that no value satisfies
// together: an equality the other rejects. It reports their indexes.
func contradiction(ms labels.Matchers) (a, b int, ok bool) {
	for i, m := range ms {
		if m.Type != labels.MatchEqual {
			continue
		}
		for j, o := range ms {
			if i != j && o.Name == m.Name && !o.Matches(m.Value) {
				return min(i, j), max(i, j), true
			}
		}
	}
	return 0, 0, false
}

// covers reports whether every alert that all of later matches also
// matches all of earlier: each matcher of earlier is implied by one of
// later (the same matcher, or an equality whose value it accepts).
func covers(earlier, later labels.Matchers) bool {
	for _, e := range earlier {
		implied := false
		for _, l := range later {
			if l.Name != e.Name {
				continue
			}
			if l.Type == e.Type && l.Value == e.Value || l.Type == labels.MatchEqual && e.Matches(l.Value) {
				implied = true
				break
			}
		}
		if !implied {
			return false
		}
	}
	return true
}

// alertSchema describes alerts: and alert_channel: for the JSON Schema.
func alertSchema() (rule object, rules object, channel object) {
	rule = closed("What an alert means: the alerts its matchers select are this scenario.", alertKeys, object{
		"matchers": object{
			"type": "array", "minItems": 1,
			"description": "Alertmanager matchers that all hold for the alert: 'alertname=\"DBDown\"', 'severity=~\"critical|page\"' (=, !=, =~, !~).",
			"items":       object{"type": "string", "pattern": `^\s*[^=!~\s]+\s*(=|!=|=~|!~)`},
		},
		"scenario": with(ref("scenarioId"), "description", "The scenario the alert is."),
		"declare":  object{"enum": []string{DeclareAuto, DeclareAsk}, "description": "auto: declare at once; ask (default): post the alert in alert_channel with Declare and Dismiss buttons."},
	}, "matchers", "scenario")
	rules = object{"type": "array", "description": "What a monitoring alert means, first match wins: Alertmanager (POST /alerts/alertmanager) and Grafana (POST /alerts/grafana) alerts.", "items": ref("alert")}
	channel = str("Where declare: ask rules post an alert with Declare and Dismiss buttons, without # (or quoted: \"#ops-alerts\").")
	return rule, rules, channel
}
