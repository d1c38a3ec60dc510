package plandoc

import (
	"context"
	"fmt"
	"html/template"
	"net/url"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Options is what the book needs besides the plan.
type Options struct {
	// Diagnostics are the warnings "plan check" found in the plan; each
	// is listed in the findings, and under the scenario whose lines (or
	// whose service's lines) it points at.
	Diagnostics playbooks.Diagnostics
	// FileDate is the plan file's modification time; zero when unknown.
	FileDate time.Time
	// Contacts says when the contact list was last confirmed and by whom
	// ("Contacts last confirmed 2026-11-02 09:14 CET by Alice Berg");
	// empty when there is no database to read it from.
	Contacts string
	// Now dates the next review and drills; zero leaves them out, so the
	// same plan always gives the same book.
	Now time.Time
}

// Book is a plan laid out for reading: every figure computed, every chart
// drawn. Build it with New; write it with WriteHTML or WriteMarkdown.
type Book struct {
	Name      string
	File      string
	Hash      string // hex SHA-256 of the plan file
	FileDate  string // "2026-11-21 10:00 CET" in the plan's timezone; "" when unknown
	Timezone  string
	Contacts  string
	People    []Person
	Roles     []Role
	Paging    Paging
	Services  []Service
	DepGraph  Chart
	Scenarios []Scenario
	Review    *Review
	Drills    []Drill
	Findings  []string // every warning of plan check, "LINE:COL: message"
}

// Person is a contact and the roles they are in.
type Person struct {
	ID, Name, Slack, Email, Phone string
	Roles                         []string
}

// Role is a role with its contacts' names in escalation order.
type Role struct {
	Name  string
	Chain []string // "Alice Berg", in the order they are paged
}

// Paging is the paging rules as read by a person.
type Paging struct {
	AckTimeout string
	Rounds     int
	// Webhook says where pages are copied to, by host only: the rest of
	// the URL may carry a secret (a routing key, a token in the path).
	Webhook string
}

// Service is one row of the inventory. Empty strings are "not set".
type Service struct {
	ID, RTO, RPO, Backup, Restore string
	Own, Composite                string // "99.95%"
	DowntimeMonth, DowntimeYear   string
	DependsOn                     []string
}

// Chart is a graph drawn two ways: SVG laid out by Graphviz for HTML, and
// Mermaid source for Markdown. Alt describes it in words for those who
// cannot see it.
type Chart struct {
	SVG     template.HTML
	Mermaid string
	Alt     string
}

// Scenario is one scenario's section.
type Scenario struct {
	ID, Title, Severity, Service string
	RTO                          string // "" when the service has none
	Paged                        []Role // the roles paged at declaration
	Worst                        string // worst-case path time
	WorstPath                    []string
	Verdict                      string // "40m to spare", "OVER the RTO by 1h15m"
	Over                         bool
	Chart                        Chart
	Steps                        []Step
	Warnings                     []string
}

// Step is one numbered step, in full.
type Step struct {
	N                       int
	ID, Do, Estimate, Owner string
	Ask                     string
	Answers                 []Answer
	Then                    string // where it goes when it is not a decision: "step 4 (verify)", "the end"
	Approval                string
	Worst                   bool // on the worst-case path
}

// Answer is a decision's answer and where it leads.
type Answer struct {
	Label, Then string
}

// Review is the contact-list review schedule.
type Review struct {
	Schedule, Next, OverdueAfter, Channel string
	Owners                                []string
}

// Drill is a scheduled drill.
type Drill struct {
	Scenario, Title, Schedule, Next string
}

// New lays out the book of plan p. Its charts are drawn here (Graphviz),
// so New takes a context; the error is Graphviz failing, never the plan.
func New(ctx context.Context, p *playbooks.Plan, o Options) (*Book, error) {
	b := &Book{
		Name: p.Name, File: p.File, Hash: p.Hash, Timezone: p.Timezone,
		Contacts: o.Contacts,
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	if !o.FileDate.IsZero() {
		b.FileDate = o.FileDate.In(loc).Format("2006-01-02 15:04 MST")
	}
	b.people(p)
	b.Paging = Paging{AckTimeout: playbooks.FormatDuration(p.Paging.AckTimeout), Rounds: p.Paging.Rounds, Webhook: webhookHost(p.Paging.Webhook)}
	b.services(p)
	dep, err := dependencyChart(ctx, p)
	if err != nil {
		return nil, err
	}
	b.DepGraph = dep
	lines := scenarioLines(p)
	for _, id := range p.ScenarioOrder {
		sc, err := scenario(ctx, p, p.Scenarios[id], lines, o.Diagnostics)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", id, err)
		}
		b.Scenarios = append(b.Scenarios, sc)
	}
	b.schedules(p, o.Now.In(loc))
	for _, d := range o.Diagnostics {
		b.Findings = append(b.Findings, diagText(d))
	}
	return b, nil
}

func diagText(d playbooks.Diagnostic) string {
	return fmt.Sprintf("line %d: %s", d.Line, d.Message)
}

func (b *Book) people(p *playbooks.Plan) {
	roles := map[string][]string{}
	for _, r := range p.RoleOrder {
		role := Role{Name: r}
		for _, c := range p.RoleContacts(r) {
			role.Chain = append(role.Chain, c.Name)
			roles[c.ID] = append(roles[c.ID], r)
		}
		b.Roles = append(b.Roles, role)
	}
	for _, id := range p.ContactOrder {
		c := p.Contacts[id]
		b.People = append(b.People, Person{ID: id, Name: c.Name, Slack: c.Slack, Email: c.Email, Phone: c.Phone, Roles: roles[id]})
	}
}

func (b *Book) services(p *playbooks.Plan) {
	r := playbooks.Check(p)
	for i, id := range p.ServiceOrder {
		s := p.Services[id]
		sr := r.Services[i]
		row := Service{
			ID: id, RTO: dur(s.RTO), RPO: dur(s.RPO), Backup: dur(s.BackupInterval), Restore: dur(s.RestoreTime),
			Composite: playbooks.FormatAvailability(sr.Composite), DowntimeMonth: playbooks.FormatDuration(sr.DowntimeMonth),
			DowntimeYear: playbooks.FormatDuration(sr.DowntimeYear), DependsOn: s.DependsOn,
		}
		if s.Availability > 0 {
			row.Own = playbooks.FormatAvailability(s.Availability)
		}
		if sr.Unknown {
			row.Composite, row.DowntimeMonth, row.DowntimeYear = "-", "-", "-"
		}
		b.Services = append(b.Services, row)
	}
}

func (b *Book) schedules(p *playbooks.Plan, now time.Time) {
	next := func(spec string) string {
		if now.IsZero() || now.Year() < 2 {
			return ""
		}
		s, err := playbooks.ParseSchedule(spec)
		if err != nil {
			return ""
		}
		return s.Next(now).Format("Mon 2006-01-02 15:04 MST")
	}
	if rv := p.Review; rv != nil {
		b.Review = &Review{Schedule: rv.Schedule, Next: next(rv.Schedule), OverdueAfter: dur(rv.OverdueAfter), Channel: rv.Channel}
		for _, id := range rv.Owners {
			b.Review.Owners = append(b.Review.Owners, contactName(p, id))
		}
	}
	for _, d := range p.Drills {
		title := ""
		if sc := p.Scenarios[d.Scenario]; sc != nil {
			title = sc.Title
		}
		b.Drills = append(b.Drills, Drill{Scenario: d.Scenario, Title: title, Schedule: d.Schedule, Next: next(d.Schedule)})
	}
}

func contactName(p *playbooks.Plan, id string) string {
	if c := p.Contacts[id]; c != nil && c.Name != "" {
		return c.Name
	}
	return id
}

// webhookHost says where a webhook goes without what may be secret in it.
func webhookHost(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "a webhook (its address is kept out of the book)"
	}
	what := "a webhook at " + u.Host
	if playbooks.PagerDutyHost(u.Hostname()) {
		what = "PagerDuty Events v2 at " + u.Host
	}
	return what + " (the rest of the address is kept out of the book: it may hold a secret)"
}

// dur formats a duration of the plan, "" for zero (not set).
func dur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return playbooks.FormatDuration(d)
}
