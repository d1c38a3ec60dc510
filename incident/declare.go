package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/playbooks"
)

// maxChannelName is Slack's limit on a channel name.
const maxChannelName = 80

// Declare opens an incident (or a drill): it records it, asks for its
// channel (named, topped and with the summary pinned), invites every
// contact of the scenario's page roles and the declarer, pages the first
// contact of each of those roles, posts the first step and starts the RTO
// clock, all in one transaction.
func (s *Engine) Declare(ctx context.Context, req DeclareRequest) (*Incident, error) {
	p := s.Plan()
	sc := findScenario(p, req.Scenario)
	if sc == nil {
		return nil, unknownScenario(p, req.Scenario)
	}
	summary := strings.TrimSpace(cleanText(req.Summary))
	if n := utf8.RuneCountInString(summary); n > MaxText {
		err := Errorf(EINVALID, "The summary is %d characters long; the limit is %d. Say the rest with /incident note in the incident channel.", n, MaxText)
		err.Field = FieldSummary
		return nil, err
	}
	var done *op
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		done, err = s.declareTx(tx, p, sc, summary, req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("declare %s: %w", sc.ID, err)
	}
	s.committed(done)
	s.cfg.Metrics.Declared(req.Drill)
	s.cfg.Logger.Info("incident declared", "incident", done.inc.ID, "scenario", sc.ID, "drill", req.Drill, "by", req.UserID)
	return done.inc, nil
}

// declareTx declares in transaction tx (Declare, and scheduled drills,
// which declare in the transaction that fires their timer). summary is
// already checked.
func (s *Engine) declareTx(tx Tx, p *playbooks.Plan, sc *playbooks.Scenario, summary string, req DeclareRequest) (*op, error) {
	now := s.now()
	inc := &Incident{
		Scenario:   sc.ID,
		Title:      sc.Title,
		Summary:    summary,
		Severity:   sc.Severity,
		Service:    sc.Service,
		Drill:      req.Drill,
		State:      StateOpen,
		DeclaredAt: now,
		DeclaredBy: req.UserID,
		DeclaredIn: req.ChannelID,
		RTO:        p.RTO(sc),
		RPO:        serviceRPO(p, sc.Service),
		Detection:  detectionOf(req),
		PlanHash:   p.Hash,
	}
	if err := tx.CreateIncident(inc); err != nil {
		return nil, fmt.Errorf("create incident: %w", err)
	}
	inc.ChannelName = channelName(inc.Drill, inc.ID, sc.ID)
	o := &op{s: s, tx: tx, now: now, inc: inc, plan: p, sc: sc}
	o.declare()
	if req.Confirm && req.UserID != "" {
		o.dm(req.UserID, Message{Text: declaredReply(inc)}, "", "tell "+req.UserID+" the incident is declared")
	}
	if err := o.save(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *op) declare() {
	inc := o.inc
	kind := "Incident"
	if inc.Drill {
		kind = "Drill"
	}
	text := fmt.Sprintf("%s declared: %s", kind, inc.Title)
	if inc.Summary != "" {
		text += " — " + inc.Summary
	}
	o.event(KindDeclared, inc.DeclaredBy, text, map[string]string{
		"scenario": inc.Scenario, "severity": inc.Severity, "drill": strconv.FormatBool(inc.Drill),
		"channel": inc.ChannelName, "summary": inc.Summary,
	})
	// The channel's lane: nothing else in it goes out before the channel
	// exists.
	o.enqueue(o.lane(), OutCreateChannel, OutBody{Name: inc.ChannelName, Purpose: "create the incident channel"})
	o.enqueue(o.setupLane(), OutTopic, OutBody{Topic: topicText(inc, o.plan), Purpose: "set the channel topic"})
	o.enqueue(o.lane(), OutPost, OutBody{Message: o.msg(o.summaryMessage()), Ref: o.ref("summary"), Pin: true, Purpose: "post the incident summary"})
	var contacts []string
	for _, role := range o.sc.Page {
		for _, c := range o.plan.Roles[role] {
			if !slices.Contains(contacts, c) {
				contacts = append(contacts, c)
			}
		}
	}
	o.invite(contacts, []string{inc.DeclaredBy})
	for _, role := range o.sc.Page {
		o.pageRole(role, o.plan.Roles[role], "", "")
	}
	o.enterStep(o.sc.First())
	o.scheduleRTO()
	o.checkProjection()
}

// channelName is inc-N-SCENARIO (drill-N-SCENARIO): lowercase, only
// letters, digits, - and _, at most 80 characters, as Slack wants.
func channelName(drill bool, id int64, scenario string) string {
	prefix := "inc-"
	if drill {
		prefix = "drill-"
	}
	var b strings.Builder
	b.WriteString(prefix + strconv.FormatInt(id, 10) + "-")
	for _, r := range strings.ToLower(scenario) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.TrimRight(b.String(), "-_")
	if len(name) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName], "-_")
	}
	return name
}

// findScenario looks a scenario up by id, then ignoring case.
func findScenario(p *playbooks.Plan, id string) *playbooks.Scenario {
	if sc := p.Scenario(id); sc != nil {
		return sc
	}
	for _, sid := range p.ScenarioOrder {
		if strings.EqualFold(sid, id) {
			return p.Scenarios[sid]
		}
	}
	return nil
}

// unknownScenario says what was wrong and what would be right.
func unknownScenario(p *playbooks.Plan, id string) error {
	if len(p.ScenarioOrder) == 0 {
		return &Error{Code: ENOTFOUND, Field: FieldScenario, Message: fmt.Sprintf("Unknown scenario %q: the plan has no scenarios.", escape(id))}
	}
	msg := fmt.Sprintf("Unknown scenario %q. Valid scenarios: %s.", escape(id), escape(scenarioIDs(p)))
	if id == "" {
		msg = fmt.Sprintf("Name a scenario. Valid scenarios: %s.", escape(scenarioIDs(p)))
	} else if near := playbooks.Closest(id, p.ScenarioOrder); near != "" {
		msg += fmt.Sprintf(" Did you mean %s?", escape(near))
	}
	return &Error{Code: ENOTFOUND, Field: FieldScenario, Message: msg}
}
