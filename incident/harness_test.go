package incident_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

// Slack member IDs of the test plan's contacts.
const (
	uAlice = "U0ALICE01"
	uBob   = "U0BOB0001"
	uErin  = "U0ERIN001"
	uFrank = "U0FRANK01" // frank has only an email in the plan
	uZed   = "U0ZED0001" // in no plan
)

// svcT0 is 10:00 CET on a Saturday: the RTO deadline of db-corruption (2h)
// is 12:00 CET.
var svcT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// svcPlan is docs/plan.md's example as a Go value, plus a second scenario
// without approval and without RTO alerts of its own.
func svcPlan(t testing.TB) *playbooks.Plan {
	t.Helper()
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatalf("load Europe/Oslo: %v", err)
	}
	return &playbooks.Plan{
		Version:  1,
		Name:     "Acme Shop disaster recovery plan",
		Timezone: "Europe/Oslo",
		Location: oslo,
		Contacts: map[string]*playbooks.Contact{
			"alice": {ID: "alice", Name: "Alice Berg", Slack: uAlice, Email: "alice@example.com", Phone: "+47 400 00 001"},
			"bob":   {ID: "bob", Name: "Bob Dahl", Slack: uBob},
			"erin":  {ID: "erin", Name: "Erin Lund", Slack: uErin},
			"frank": {ID: "frank", Name: "Frank Moe", Email: "frank@example.com"},
		},
		ContactOrder: []string{"alice", "bob", "erin", "frank"},
		Roles: map[string][]string{
			"commander": {"alice", "bob"},
			"executor":  {"bob", "alice"},
			"approver":  {"erin", "frank"},
			"security":  {"erin"},
			"customer":  {"frank"},
		},
		RoleOrder: []string{"commander", "executor", "approver", "security", "customer"},
		Paging:    playbooks.Paging{AckTimeout: 5 * time.Minute, Rounds: 2},
		Services: map[string]*playbooks.Service{
			"payments-db": {ID: "payments-db", RTO: 2 * time.Hour, RPO: 15 * time.Minute},
			"checkout":    {ID: "checkout", RTO: 4 * time.Hour},
		},
		ServiceOrder: []string{"payments-db", "checkout"},
		Scenarios: map[string]*playbooks.Scenario{
			"db-corruption": {
				ID: "db-corruption", Title: "Corrupted payments database", Service: "payments-db", Severity: "sev1",
				Page: []string{"commander", "executor"}, RTOAlerts: []float64{0.5, 0.75, 0.9},
				Steps: []*playbooks.Step{
					{ID: "assess", Do: "Check whether the primary still serves reads and when the last good backup ran.",
						Estimate: 10 * time.Minute, Owner: "executor", Ask: "Is the primary still serving reads?",
						Answers: []playbooks.Answer{{Label: "Yes", Next: "repair"}, {Label: "No", Next: "restore"}}},
					{ID: "repair", Do: "Run the page-level repair on the replica, then fail over.", Estimate: 30 * time.Minute, Next: "verify"},
					{ID: "restore", Do: "Restore the last snapshot into a new instance and repoint the app.", Estimate: time.Hour, Approval: "approver"},
					{ID: "verify", Do: "Run the smoke tests and compare order counts with the payment provider.", Estimate: 10 * time.Minute, Next: "end"},
				},
			},
			"checkout-down": {
				ID: "checkout-down", Title: "Checkout is down", Service: "checkout", Severity: "sev2",
				Page: []string{"executor"},
				Steps: []*playbooks.Step{
					{ID: "restart", Do: "Restart the checkout pods.", Estimate: 5 * time.Minute},
					{ID: "check", Do: "Place a test order.", Estimate: 5 * time.Minute},
				},
			},
		},
		ScenarioOrder: []string{"db-corruption", "checkout-down"},
	}
}

// svcEnv is an Engine on in-memory fakes with a fixed clock.
type svcEnv struct {
	t     *testing.T
	ctx   context.Context
	plan  *playbooks.Plan
	store *incidenttest.MemStore
	// db is the store the Engine uses: store, or a SQLite file
	// (newSQLiteEnv).
	db    incident.Store
	clock *incidenttest.Clock
	chat  *incidenttest.FakeChat
	svc   *incident.Engine
	met   *svcMetrics
}

func newSvcEnv(t *testing.T, p *playbooks.Plan) *svcEnv {
	t.Helper()
	store := incidenttest.NewMemStore()
	e := newEnvOn(t, p, store)
	e.store = store
	return e
}

// newSQLiteEnv is newSvcEnv on a real SQLite file under t.TempDir():
// for the rules whose outcome depends on what the store keeps (callouts,
// the outbox between a resolve and a retry). e.store is unused.
func newSQLiteEnv(t *testing.T, p *playbooks.Plan) *svcEnv {
	t.Helper()
	e := newEnvOn(t, p, openSQLite(t))
	e.store = incidenttest.NewMemStore()
	return e
}

func newEnvOn(t *testing.T, p *playbooks.Plan, db incident.Store) *svcEnv {
	t.Helper()
	e := &svcEnv{
		t: t, ctx: context.Background(), plan: p,
		db:    db,
		clock: incidenttest.NewClock(svcT0),
		chat:  incidenttest.NewFakeChat(),
		met:   &svcMetrics{},
	}
	e.chat.SetEmail("frank@example.com", uFrank)
	e.chat.SetEmail("alice@example.com", uAlice)
	e.svc = e.newService()
	return e
}

// newService builds another Engine on the same store, chat and clock: a
// restarted process.
func (e *svcEnv) newService() *incident.Engine {
	e.t.Helper()
	svc, err := incident.New(incident.Config{
		Plan: e.plan, Store: e.db, Chat: e.chat, Now: e.clock.Now, Metrics: e.met,
	})
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	return svc
}

func (e *svcEnv) tick() {
	e.t.Helper()
	if err := e.svc.Tick(e.ctx); err != nil {
		e.t.Fatalf("Tick: %v", err)
	}
}

// at moves the clock to svcT0+d and ticks.
func (e *svcEnv) at(d time.Duration) {
	e.t.Helper()
	e.clock.Set(svcT0.Add(d))
	e.tick()
}

func (e *svcEnv) declare(scenario, summary string, drill bool) *incident.Incident {
	e.t.Helper()
	inc, err := e.svc.Declare(e.ctx, incident.DeclareRequest{Scenario: scenario, Summary: summary, Drill: drill, UserID: uAlice, ChannelID: "CGENERAL"})
	if err != nil {
		e.t.Fatalf("Declare: %v", err)
	}
	e.tick()
	return inc
}

// channel returns the id of the channel of incident id, once created.
func (e *svcEnv) channel(id int64) string {
	e.t.Helper()
	inc := e.incident(id)
	if inc.ChannelID == "" {
		e.t.Fatalf("incident %d has no channel yet", id)
	}
	return inc.ChannelID
}

func (e *svcEnv) incident(id int64) *incident.Incident {
	e.t.Helper()
	var inc *incident.Incident
	err := e.db.View(e.ctx, func(tx incident.Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	if err != nil {
		e.t.Fatalf("incident %d: %v", id, err)
	}
	return inc
}

func (e *svcEnv) timeline(id int64) []incident.Event {
	e.t.Helper()
	var evs []incident.Event
	err := e.db.View(e.ctx, func(tx incident.Tx) error {
		var err error
		evs, err = tx.Timeline(id)
		return err
	})
	if err != nil {
		e.t.Fatalf("timeline %d: %v", id, err)
	}
	return evs
}

// kinds returns the kinds of the timeline, in order.
func (e *svcEnv) kinds(id int64) []string {
	var out []string
	for _, ev := range e.timeline(id) {
		out = append(out, string(ev.Kind))
	}
	return out
}

// events returns the timeline events of one kind.
func (e *svcEnv) events(id int64, kind incident.EventKind) []incident.Event {
	var out []incident.Event
	for _, ev := range e.timeline(id) {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (e *svcEnv) command(user, channel, text string) (incident.Reply, error) {
	e.t.Helper()
	r, err := e.svc.Command(e.ctx, incident.CommandRequest{UserID: user, ChannelID: channel, Text: text})
	if err == nil {
		e.tick()
	}
	return r, err
}

// mustCommand runs a command that must succeed.
func (e *svcEnv) mustCommand(user, channel, text string) incident.Reply {
	e.t.Helper()
	r, err := e.command(user, channel, text)
	if err != nil {
		e.t.Fatalf("/incident %s: %v", text, err)
	}
	return r
}

// press presses the newest button labelled label in a conversation (a
// channel id or incidenttest.DMChannel(user)), as user, and ticks.
func (e *svcEnv) press(user, conv, label string) incident.Reply {
	e.t.Helper()
	b, ok := e.chat.FindButton(conv, label)
	if !ok {
		e.t.Fatalf("no button %q in %s; messages: %s", label, conv, dumpMsgs(e.chat.Posts(conv)))
	}
	return e.pressAction(user, conv, b.Action)
}

func (e *svcEnv) pressAction(user, conv, action string) incident.Reply {
	e.t.Helper()
	r, err := e.svc.Press(e.ctx, incident.PressRequest{UserID: user, ChannelID: conv, Action: action})
	if err != nil {
		e.t.Fatalf("press %q as %s: %v", action, user, err)
	}
	e.tick()
	return r
}

// button returns the newest button labelled label in a conversation.
func (e *svcEnv) button(conv, label string) incident.Button {
	e.t.Helper()
	b, ok := e.chat.FindButton(conv, label)
	if !ok {
		e.t.Fatalf("no button %q in %s; messages: %s", label, conv, dumpMsgs(e.chat.Posts(conv)))
	}
	return b
}

// texts returns the texts of a conversation's messages.
func (e *svcEnv) texts(conv string) []string {
	var out []string
	for _, m := range e.chat.Posts(conv) {
		out = append(out, m.Text)
	}
	return out
}

// find returns the newest message of a conversation whose text contains
// sub.
func (e *svcEnv) find(conv, sub string) (incident.Message, bool) {
	ms := e.chat.Posts(conv)
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.Contains(ms[i].Text, sub) {
			return ms[i], true
		}
	}
	return incident.Message{}, false
}

func (e *svcEnv) mustFind(conv, sub string) incident.Message {
	e.t.Helper()
	m, ok := e.find(conv, sub)
	if !ok {
		e.t.Fatalf("no message containing %q in %s; messages: %s", sub, conv, dumpMsgs(e.chat.Posts(conv)))
	}
	return m
}

// timerKeys are the keys of the timers set, but for the housekeeping one
// every engine keeps (housekeeping_test.go).
func (e *svcEnv) timerKeys() []string {
	var out []string
	for _, t := range e.store.Timers() {
		if t.Key != "housekeeping" {
			out = append(out, t.Key)
		}
	}
	slices.Sort(out)
	return out
}

func dumpMsgs(ms []incident.Message) string {
	var b strings.Builder
	for i, m := range ms {
		b.WriteString("\n  [" + string(rune('0'+i%10)) + "] " + m.Text)
		for _, bt := range m.Buttons {
			b.WriteString(" [" + bt.Label + "]")
		}
	}
	return b.String()
}

func btnLabels(bs []incident.Button) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Label)
	}
	return out
}

func dmOf(user string) string { return incidenttest.DMChannel(user) }

// svcMetrics counts what the Engine reports. The outbox worker
// delivers lanes concurrently, hence the lock.
type svcMetrics struct {
	mu                                sync.Mutex
	declared, drills, resolved, pages int
	acks                              []time.Duration
}

func (m *svcMetrics) Declared(drill bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.declared++
	if drill {
		m.drills++
	}
}

func (m *svcMetrics) Resolved() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resolved++
}

func (m *svcMetrics) PageSent() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pages++
}

func (m *svcMetrics) Acknowledged(after time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acks = append(m.acks, after)
}
