package incident

import (
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// BuildPostmortem computes the postmortem of an incident from its state
// and its timeline (in the order it was written; the postmortem lists it
// in the order things happened, see inOrder). plan is the plan the
// incident was declared with, for step texts, estimates and names; it may
// be nil; its time zone is the one the Markdown shows times in. now is
// the end of the figures of an incident still open, and as_of, unless the
// incident knows a later time (asOf). It reads nothing else and changes
// nothing.
//
// time_to_ack_seconds is 0 when nobody acknowledged: the findings say so,
// and each role's ack_seconds is -1 then.
func BuildPostmortem(inc *Incident, events []Event, plan *playbooks.Plan, now time.Time) *Postmortem {
	b := pmBuilder{inc: inc, events: inOrder(events), plan: plan}
	b.now = asOf(inc, b.events, now)
	pm := b.build()
	if plan != nil {
		pm.loc = plan.Location
	}
	return pm
}

type pmBuilder struct {
	inc    *Incident
	events []Event
	plan   *playbooks.Plan
	now    time.Time

	sc  *playbooks.Scenario
	end time.Time // resolved, or now while open
	pm  *Postmortem
	ra  []roleAck // per role of inc.Roles
}

// pmTime formats a time for the postmortem: RFC 3339, UTC, whole seconds;
// "" for the zero time.
func pmTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func pmSeconds(d time.Duration) int64 { return int64(d / time.Second) }

func (b *pmBuilder) build() *Postmortem {
	inc := b.inc
	if b.plan != nil {
		b.sc = b.plan.Scenario(inc.Scenario)
	}
	b.end = b.now
	if inc.State == StateResolved && !inc.ResolvedAt.IsZero() {
		b.end = inc.ResolvedAt.UTC()
	}
	ttr := b.end.Sub(inc.DeclaredAt)
	if ttr < 0 {
		ttr = 0
	}

	pm := &Postmortem{
		ID:                   inc.ID,
		Scenario:             inc.Scenario,
		Title:                inc.Title,
		Summary:              inc.Summary,
		Severity:             inc.Severity,
		Drill:                inc.Drill,
		Service:              inc.Service,
		State:                inc.State,
		DeclaredAt:           pmTime(inc.DeclaredAt),
		ResolvedAt:           pmTime(inc.ResolvedAt),
		RTOSeconds:           pmSeconds(inc.RTO),
		TimeToRecoverSeconds: pmSeconds(ttr),
		AsOf:                 pmTime(b.now),
		Channel:              inc.ChannelName,
		Timeline:             make([]PMEvent, 0, len(b.events)),
		Steps:                []PMStep{},
		Decisions:            []PMDecision{},
		Approvals:            []PMApproval{},
		Escalations:          []PMEvent{},
		Notes:                []PMEvent{},
		Acks:                 []PMAck{},
		Findings:             []string{},
	}
	if inc.State != StateResolved {
		pm.ResolvedAt = ""
	}
	b.pm = pm
	// Without an RTO there is no deadline to miss.
	pm.RTOMet = inc.RTO == 0 || ttr <= inc.RTO
	if inc.RTO > 0 {
		pm.RTOMarginSeconds = pmSeconds(inc.RTO - ttr)
	}

	for _, e := range b.events {
		pe := PMEvent{At: pmTime(e.At), Kind: e.Kind, Actor: e.Actor, Text: e.Text, Data: maps.Clone(e.Data)}
		if pe.Data == nil {
			pe.Data = map[string]string{}
		}
		pm.Timeline = append(pm.Timeline, pe)
		switch e.Kind {
		case KindEscalated, KindUnanswered:
			pm.Escalations = append(pm.Escalations, pe)
		case KindNote:
			pm.Notes = append(pm.Notes, pe)
		}
	}
	b.recovery()
	b.acks()
	b.steps()
	b.decisions()
	b.approvals()
	b.names()
	b.review()
	b.findings(ttr)
	return pm
}

// roleAck is what the timeline and the role's state say about one role.
type roleAck struct {
	pagedAt, ackAt time.Time
	ackBy          string
	ackActor       string // the Slack member who acknowledged, when the timeline says
	acked          bool
	pagesBefore    int // pages sent up to the acknowledgement
}

// roleAcks reads, per role of the incident, its first page and its first
// acknowledgement. The timeline is preferred: a role paged again after it
// acknowledged starts a new callout in its state, while the timeline keeps the
// first answer.
func (b *pmBuilder) roleAcks() []roleAck {
	out := make([]roleAck, len(b.inc.Roles))
	index := map[string]int{}
	for i, r := range b.inc.Roles {
		index[r.Role] = i
		out[i].pagedAt = r.PagedAt
	}
	type page struct {
		at      time.Time
		contact string
	}
	pages := make([][]page, len(out))
	for _, e := range b.events {
		i, ok := index[e.Data["role"]]
		if !ok {
			continue
		}
		switch e.Kind {
		case KindPaged, KindEscalated:
			if out[i].pagedAt.IsZero() {
				out[i].pagedAt = e.At
			}
			p := page{e.At, e.Data["contact"]}
			// One page may be written as both paged and escalated.
			if n := len(pages[i]); n == 0 || pages[i][n-1] != p {
				pages[i] = append(pages[i], p)
			}
		case KindAcknowledged:
			if !out[i].acked {
				out[i].acked, out[i].ackAt, out[i].ackBy, out[i].ackActor = true, e.At, e.Data["contact"], e.Actor
				if out[i].ackBy == "" {
					out[i].ackBy = e.Actor
				}
				out[i].pagesBefore = len(pages[i])
			}
		}
	}
	for i, r := range b.inc.Roles {
		a := &out[i]
		if !a.acked && r.Acked {
			a.acked, a.ackAt, a.ackBy = true, r.AckedAt, r.AckedBy
		}
		if a.pagedAt.IsZero() {
			a.pagedAt = b.inc.DeclaredAt
		}
		if a.acked && a.pagesBefore == 0 {
			a.pagesBefore = r.Sent
		}
	}
	return out
}

// acks fills the acknowledgements: each role's, and the headline time
// to acknowledge (ackFigures).
func (b *pmBuilder) acks() {
	b.ra = b.roleAcks()
	for i, r := range b.inc.Roles {
		ra := b.ra[i]
		a := PMAck{Role: r.Role, Pages: r.Sent, Acknowledged: ra.acked, AckSeconds: -1}
		if ra.acked {
			a.Contact = ra.ackBy
			a.AckSeconds = 0
			if d := ra.ackAt.Sub(ra.pagedAt); d > 0 {
				a.AckSeconds = pmSeconds(d)
			}
		}
		b.pm.Acks = append(b.pm.Acks, a)
	}
	b.ackFigures()
}

func (b *pmBuilder) planStep(id string) *playbooks.Step {
	if b.sc == nil {
		return nil
	}
	return b.sc.Step(id)
}

func (b *pmBuilder) steps() {
	for _, r := range b.inc.Steps {
		s := PMStep{ID: r.StepID, Outcome: r.Outcome, By: r.By}
		if st := b.planStep(r.StepID); st != nil {
			s.Do = st.Do
			s.EstimateSeconds = pmSeconds(st.Estimate)
		}
		// The work of a step that waited for approval starts when it was
		// approved, whatever the engine counts as its start.
		start := r.StartedAt
		if r.ApprovedAt.After(start) {
			start = r.ApprovedAt
		}
		end := r.EndedAt
		if s.Outcome == StepRunning {
			s.Outcome = PMStepRunning
			if b.inc.State == StateResolved {
				s.Outcome = PMStepUnfinished
			}
			end = b.end
		}
		if !start.IsZero() && end.After(start) {
			s.ActualSeconds = pmSeconds(end.Sub(start))
		}
		b.pm.Steps = append(b.pm.Steps, s)
	}
}

func (b *pmBuilder) decisions() {
	seen := map[string]bool{}
	for _, e := range b.events {
		if e.Kind != KindDecision {
			continue
		}
		step := e.Data["step"]
		d := PMDecision{Step: step, Answer: e.Data["answer"], By: e.Actor, At: pmTime(e.At)}
		if st := b.planStep(step); st != nil {
			d.Ask = st.Ask
		}
		b.pm.Decisions = append(b.pm.Decisions, d)
		seen[step] = true
	}
	// A decision the timeline does not show (it should) is still in the
	// step's state.
	for _, r := range b.inc.Steps {
		if r.Answer == "" || seen[r.StepID] {
			continue
		}
		d := PMDecision{Step: r.StepID, Answer: r.Answer, By: r.By, At: pmTime(r.EndedAt)}
		if st := b.planStep(r.StepID); st != nil {
			d.Ask = st.Ask
		}
		b.pm.Decisions = append(b.pm.Decisions, d)
	}
}

func (b *pmBuilder) approvals() {
	type pending struct {
		i  int
		at time.Time
	}
	open := map[string]pending{} // step -> its approval awaiting a decision
	for _, e := range b.events {
		step := e.Data["step"]
		switch e.Kind {
		case KindApprovalRequested:
			b.pm.Approvals = append(b.pm.Approvals, PMApproval{
				Step: step, Role: e.Data["role"], Outcome: ApprovalPending, RequestedAt: pmTime(e.At),
			})
			open[step] = pending{len(b.pm.Approvals) - 1, e.At}
		case KindApproved, KindDenied:
			outcome := ApprovalApproved
			if e.Kind == KindDenied {
				outcome = ApprovalDenied
			}
			p, ok := open[step]
			if !ok {
				b.pm.Approvals = append(b.pm.Approvals, PMApproval{Step: step, Role: e.Data["role"]})
				p = pending{len(b.pm.Approvals) - 1, e.At}
			}
			a := &b.pm.Approvals[p.i]
			a.Outcome, a.By, a.DecidedAt = outcome, e.Actor, pmTime(e.At)
			a.Reason = e.Data["reason"]
			if a.Role == "" {
				a.Role = e.Data["role"]
			}
			if ok && e.At.After(p.at) {
				a.WaitSeconds = pmSeconds(e.At.Sub(p.at))
			}
			delete(open, step)
		}
	}
	// Still waiting: the wait runs to the end of the figures.
	for _, p := range open {
		if b.end.After(p.at) {
			b.pm.Approvals[p.i].WaitSeconds = pmSeconds(b.end.Sub(p.at))
		}
	}
}

// names maps the people who appear to their names in the plan.
func (b *pmBuilder) names() {
	if b.plan == nil {
		return
	}
	names := map[string]string{}
	addSlack := func(id string) {
		if c := b.plan.ContactBySlack(id); c != nil && c.Name != "" {
			names[id] = c.Name
		}
	}
	addContact := func(id string) {
		if c := b.plan.Contacts[id]; c != nil && c.Name != "" {
			names[id] = c.Name
		}
	}
	addSlack(b.inc.DeclaredBy)
	addSlack(b.inc.ResolvedBy)
	for _, e := range b.pm.Timeline {
		addSlack(e.Actor)
		// Members mentioned in what people typed: the Markdown shows
		// them by name (Readable).
		for _, id := range mentionedUsers(e.Text) {
			addSlack(id)
		}
	}
	for _, id := range mentionedUsers(b.inc.Summary) {
		addSlack(id)
	}
	for _, r := range b.inc.Roles {
		for _, c := range r.Contacts {
			addContact(c)
			addSlack(c)
		}
	}
	if len(names) > 0 {
		b.pm.Names = names
	}
}

func (b *pmBuilder) name(id string) string {
	if n := b.pm.Names[id]; n != "" {
		return n
	}
	return id
}

func pmOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// pmDur formats a duration for people: whole seconds, "1h40m", "25m",
// "1m35s", "0s"; days as hours.
func pmDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Second)
	h := int64(d / time.Hour)
	m := int64(d % time.Hour / time.Minute)
	s := int64(d % time.Minute / time.Second)
	var sb strings.Builder
	if neg {
		sb.WriteByte('-')
	}
	if h > 0 {
		sb.WriteString(strconv.FormatInt(h, 10) + "h")
	}
	if m > 0 {
		sb.WriteString(strconv.FormatInt(m, 10) + "m")
	}
	if s > 0 || (h == 0 && m == 0) {
		sb.WriteString(strconv.FormatInt(s, 10) + "s")
	}
	return sb.String()
}
