// Package playbooks reads, validates and reasons about a team's disaster
// recovery plan: contacts, roles, services with their RTO, RPO and
// availability, and the scenarios with their steps.
//
// It imports nothing else of drbot's.
package playbooks

import (
	"time"
)

// Plan is a parsed and validated recovery plan. A Plan returned by Load or
// Parse without errors is complete: every reference in it resolves.
type Plan struct {
	Version  int
	Name     string
	Timezone string         // as written; "UTC" when absent
	Location *time.Location // loaded from Timezone

	Contacts     map[string]*Contact
	ContactOrder []string // ids in file order

	Roles     map[string][]string // role -> contact ids, escalation order
	RoleOrder []string            // role names in file order

	Paging Paging

	Services     map[string]*Service
	ServiceOrder []string

	Scenarios     map[string]*Scenario
	ScenarioOrder []string

	Review *Review // nil when absent
	Drills []Drill

	// Alerts say what a monitoring alert means, first match wins (alerts.go);
	// AlertChannel is where declare: ask rules post, without "#".
	Alerts       []*AlertRule
	AlertChannel string

	// File is the name the plan was read from; Source its exact bytes and
	// Hash the hex SHA-256 of Source. An incident records Hash so that it
	// keeps the plan it was declared with across reloads.
	File   string
	Source []byte
	Hash   string
}

// Contact is a person the plan may page.
type Contact struct {
	ID    string
	Name  string
	Slack string // Slack member ID, may be empty when Email is set
	Email string
	Phone string
}

// Paging says how pages escalate.
type Paging struct {
	AckTimeout time.Duration // default 5m
	Rounds     int           // default 2
	// Webhook is paging.webhook with its ${NAME} references expanded:
	// it may hold a secret, so it is never logged or stored (Source
	// keeps the references).
	Webhook string
	// WebhookUnset names the variables paging.webhook refers to that were
	// unset, when parsed with Options.UnsetIsWarning; Webhook is empty
	// then.
	WebhookUnset []string
}

// Service is a component with recovery objectives.
type Service struct {
	ID             string
	RTO            time.Duration // 0: none set
	RPO            time.Duration
	BackupInterval time.Duration
	RestoreTime    time.Duration
	Availability   float64 // fraction in (0,1]; 0 when not set (treated as 1)
	DependsOn      []string
}

// Scenario is one "if X happens, we do Y".
type Scenario struct {
	ID        string
	Title     string
	Service   string
	Severity  string // sev1..sev4
	Page      []string
	RTOAlerts []float64 // fractions of the RTO, ascending, < 1; default 0.5, 0.75, 0.9
	Steps     []*Step

	// stepIndex maps step ids to their position in Steps; Parse fills it
	// so that walking a scenario does not scan its steps at every turn.
	stepIndex map[string]int
}

// Step is one thing to do.
type Step struct {
	ID       string
	Do       string
	Estimate time.Duration
	Owner    string // role, optional
	Ask      string // a decision's question; with Answers
	Answers  []Answer
	Next     string // step id, "end", or "" for the following step
	Approval string // role whose contact must approve before the step starts
	// RecoveryPoint: pressing Done asks for the point in time the data
	// was recovered to (docs/postmortem.md), which the postmortem
	// measures against the service's rpo.
	RecoveryPoint bool
}

// Answer is one button of a decision step.
type Answer struct {
	Label string
	Next  string // step id or "end"
}

// Review is the scheduled contact-list review.
type Review struct {
	Schedule     string
	Owners       []string
	OverdueAfter time.Duration // default 14d
	Channel      string
}

// Drill is a scheduled exercise of a scenario.
type Drill struct {
	Scenario string
	Schedule string
}

// End is the step id that ends a playbook.
const End = "end"

// Step returns the step with the given id, or nil.
func (s *Scenario) Step(id string) *Step {
	if i := s.index(id); i >= 0 {
		return s.Steps[i]
	}
	return nil
}

// index returns the position of step id, or -1. The index built by Parse
// is trusted only while it still agrees with Steps, so a Scenario built
// or changed by hand still works.
func (s *Scenario) index(id string) int {
	if i, ok := s.stepIndex[id]; ok && i < len(s.Steps) && s.Steps[i].ID == id {
		return i
	}
	for i, st := range s.Steps {
		if st.ID == id {
			return i
		}
	}
	return -1
}

// First returns the id of the first step, or End when there are none.
func (s *Scenario) First() string {
	if len(s.Steps) == 0 {
		return End
	}
	return s.Steps[0].ID
}

// Successors returns the ids a step may go on to: one per answer of a
// decision, its next, or the following step (End after the last one).
func (s *Scenario) Successors(id string) []string {
	st := s.Step(id)
	if st == nil {
		return nil
	}
	if len(st.Answers) > 0 {
		out := make([]string, 0, len(st.Answers))
		for _, a := range st.Answers {
			out = append(out, a.Next)
		}
		return out
	}
	return []string{s.After(id)}
}

// After returns the step that follows id when no answer picks one: its
// next, or the following step in the list, or End.
func (s *Scenario) After(id string) string {
	st := s.Step(id)
	if st == nil {
		return End
	}
	if st.Next != "" {
		return st.Next
	}
	i := s.index(id)
	if i+1 < len(s.Steps) {
		return s.Steps[i+1].ID
	}
	return End
}

// Answer returns the step an answer of decision step id leads to.
func (s *Scenario) Answer(id, label string) (string, bool) {
	st := s.Step(id)
	if st == nil {
		return "", false
	}
	for _, a := range st.Answers {
		if a.Label == label {
			return a.Next, true
		}
	}
	return "", false
}

// Remaining returns the longest sum of estimates from step id (included)
// to the end, over every branch, and the steps of that path. It is the
// worst-case projection of the time still needed. Cycles are cut (a valid
// plan has none).
func (s *Scenario) Remaining(id string) (time.Duration, []string) {
	memo := map[string]pathResult{}
	d := s.longest(id, memo, map[string]bool{})
	var path []string
	for id != End && id != "" {
		r, ok := memo[id]
		if !ok {
			break
		}
		path = append(path, id)
		id = r.next
	}
	return d, path
}

// LongestPath is Remaining from the first step: the scenario's worst case.
func (s *Scenario) LongestPath() (time.Duration, []string) {
	return s.Remaining(s.First())
}

// pathResult is the longest remaining time from a step, and the step that
// path goes on to; following next from the start rebuilds the path.
type pathResult struct {
	d    time.Duration
	next string
}

func (s *Scenario) longest(id string, memo map[string]pathResult, onPath map[string]bool) time.Duration {
	if id == End || id == "" || onPath[id] {
		return 0
	}
	if r, ok := memo[id]; ok {
		return r.d
	}
	st := s.Step(id)
	if st == nil {
		return 0
	}
	onPath[id] = true
	var best time.Duration
	next := End
	for i, n := range s.Successors(id) {
		d := s.longest(n, memo, onPath)
		if i == 0 || d > best {
			best, next = d, n
		}
		// A successor cut as a cycle is not part of the path.
		if onPath[n] && next == n {
			next = End
		}
	}
	delete(onPath, id)
	res := pathResult{d: st.Estimate + best, next: next}
	memo[id] = res
	return res.d
}

// Scenario returns the scenario with the given id, or nil.
func (p *Plan) Scenario(id string) *Scenario { return p.Scenarios[id] }

// ServiceOf returns the service of a scenario, or nil.
func (p *Plan) ServiceOf(sc *Scenario) *Service {
	if sc == nil {
		return nil
	}
	return p.Services[sc.Service]
}

// RTO returns the RTO that applies to a scenario (its service's), or 0.
func (p *Plan) RTO(sc *Scenario) time.Duration {
	if svc := p.ServiceOf(sc); svc != nil {
		return svc.RTO
	}
	return 0
}

// RoleContacts returns the contacts of a role in escalation order.
func (p *Plan) RoleContacts(role string) []*Contact {
	ids := p.Roles[role]
	out := make([]*Contact, 0, len(ids))
	for _, id := range ids {
		if c := p.Contacts[id]; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// ContactBySlack returns the contact whose Slack member ID is id, or nil.
func (p *Plan) ContactBySlack(id string) *Contact {
	if id == "" {
		return nil
	}
	for _, cid := range p.ContactOrder {
		if c := p.Contacts[cid]; c.Slack == id {
			return c
		}
	}
	return nil
}

// HasRole reports whether contact id is listed under role.
func (p *Plan) HasRole(contactID, role string) bool {
	for _, id := range p.Roles[role] {
		if id == contactID {
			return true
		}
	}
	return false
}
