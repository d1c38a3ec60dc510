package incident

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// op is one change of one incident inside one transaction: the incident,
// its plan and scenario, the time, and helpers that append to its
// timeline, schedule its timers and enqueue its messages. The first error
// sticks: later helpers do nothing and the transaction is rolled back, so
// rule code reads as a list of effects without an error check per line.
type op struct {
	s    *Engine
	tx   Tx
	now  time.Time
	inc  *Incident
	plan *playbooks.Plan
	sc   *playbooks.Scenario

	err error
	effects
}

// effects is what a transaction leaves to do once it committed. An op
// carries the effects of its incident; a change of no incident (a review
// notice, a schedule that fires) has effects alone.
type effects struct {
	// changed: a message was enqueued or a timer set; Run must look again.
	changed bool
	// afters run once the transaction committed (logs, metrics): a rolled
	// back change must not be counted.
	afters []func()
}

func (e *effects) after(f func()) { e.afters = append(e.afters, f) }

func (s *Engine) newOp(tx Tx, inc *Incident) (*op, error) {
	p, err := s.planTx(tx, inc)
	if err != nil {
		return nil, err
	}
	sc := p.Scenario(inc.Scenario)
	if sc == nil {
		return nil, fmt.Errorf("incident %d: scenario %q is not in its plan %.12s", inc.ID, inc.Scenario, inc.PlanHash)
	}
	return &op{s: s, tx: tx, now: s.now(), inc: inc, plan: p, sc: sc}, nil
}

// opOf reads incident id in tx and makes its op.
func (s *Engine) opOf(tx Tx, id int64) (*op, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return nil, err
	}
	return s.newOp(tx, inc)
}

func (o *op) fail(err error) {
	if o.err == nil && err != nil {
		o.err = err
	}
}

func (o *op) save() error {
	if o.err != nil {
		return o.err
	}
	if err := o.tx.SaveIncident(o.inc); err != nil {
		return fmt.Errorf("save incident %d: %w", o.inc.ID, err)
	}
	return nil
}

// event appends to the timeline. Text is stored as typed (not escaped for
// Slack): the postmortem renders it as Markdown and JSON.
func (o *op) event(kind EventKind, actor, text string, data map[string]string) {
	if o.err != nil {
		return
	}
	e := &Event{IncidentID: o.inc.ID, At: o.now, Kind: kind, Actor: actor, Text: text, Data: data}
	if err := o.tx.Append(e); err != nil {
		o.fail(fmt.Errorf("append %s to incident %d: %w", kind, o.inc.ID, err))
	}
}

func (o *op) enqueue(lane string, kind OutKind, body OutBody) {
	if o.err != nil {
		return
	}
	out := &Outgoing{Lane: lane, IncidentID: o.inc.ID, Kind: kind, Body: body}
	if err := o.tx.Enqueue(out); err != nil {
		o.fail(fmt.Errorf("enqueue %s for incident %d: %w", kind, o.inc.ID, err))
		return
	}
	o.changed = true
}

// msg marks a drill's messages: every message and every page of a drill
// begins with [DRILL], so that nobody mistakes an exercise for the real
// thing, whichever message they see first.
func (o *op) msg(m Message) *Message {
	if o.inc.Drill {
		m.Text = drillPrefix + m.Text
	}
	return &m
}

// lane is the lane of everything in the incident's channel: it starts
// with create_channel, so nothing is posted before the channel exists.
func (o *op) lane() string { return "inc/" + strconv.FormatInt(o.inc.ID, 10) }

// setupLane is the lane of the incident channel's housekeeping: its
// topic, invites and pins. Their Slack methods have tight per-minute tiers
// (conversations.setTopic and pins.add: Tier 2, 20 a minute); in a lane of
// their own a 429 on one of them never holds up the steps and alerts posted
// in the channel. They wait for the channel like everything else.
func (o *op) setupLane() string { return o.lane() + "/setup" }

// dmLane is the lane of direct messages to a contact or a user: pages to
// different people go out in parallel, never behind the channel's setup.
func dmLane(who string) string { return "dm/" + who }

// incDMLane is the lane of this incident's direct messages to who: one
// lane per person and incident, so that the pages of several incidents
// waiting for one person are lane heads together and go out as one
// message (outbox_bundle.go), while one incident's messages to them, and
// the edits of those, stay in order.
func (o *op) incDMLane(who string) string { return dmLane(who) + "/" + o.lane() }

// webhookLane keeps an incident's webhook calls in order (trigger before
// acknowledge before resolve) without holding up its Slack messages.
func (o *op) webhookLane() string { return "webhook/" + o.lane() }

// ref names a message of this incident for later updates.
func (o *op) ref(parts ...string) string {
	r := o.lane()
	for _, p := range parts {
		r += "/" + p
	}
	return r
}

// post enqueues a message in the incident's channel.
func (o *op) post(m Message, ref, purpose string) {
	o.enqueue(o.lane(), OutPost, OutBody{Message: o.msg(m), Ref: ref, Purpose: purpose})
}

// urgentPost is post for what people are waiting for (an approval to give,
// an RTO alert, an escalation): it goes before other lanes' messages.
func (o *op) urgentPost(m Message, ref, purpose string) {
	o.enqueue(o.lane(), OutPost, OutBody{Message: o.msg(m), Ref: ref, Purpose: purpose, Urgent: true})
}

// dm enqueues a direct message to who: a contact id of the plan, or a
// Slack member ID.
func (o *op) dm(who string, m Message, ref, purpose string) {
	o.dmBody(who, OutBody{Message: o.msg(m), Ref: ref, Purpose: purpose})
}

// urgentDM is dm for a page or an approval to give.
func (o *op) urgentDM(who string, m Message, ref, purpose string) {
	o.dmBody(who, OutBody{Message: o.msg(m), Ref: ref, Purpose: purpose, Urgent: true})
}

func (o *op) dmBody(who string, body OutBody) {
	if o.plan.Contacts[who] != nil {
		body.Contact = who
	} else {
		body.User = who
	}
	o.enqueue(o.incDMLane(who), OutDM, body)
}

// edit enqueues the replacement of the message remembered under ref. It
// goes in the lane of the message it replaces, so it can never overtake it.
func (o *op) edit(lane, ref string, m Message, purpose string) {
	o.enqueue(lane, OutUpdate, OutBody{Message: o.msg(m), UpdateRef: ref, Purpose: purpose})
}

func (o *op) setTimer(key string, kind TimerKind, due time.Time, data string) {
	if o.err != nil {
		return
	}
	if err := o.tx.SetTimer(Timer{Key: key, IncidentID: o.inc.ID, Kind: kind, Due: due, Data: data}); err != nil {
		o.fail(fmt.Errorf("set timer %s: %w", key, err))
		return
	}
	o.changed = true
}

func (o *op) deleteTimer(key string) {
	if o.err != nil {
		return
	}
	if err := o.tx.DeleteTimer(key); err != nil {
		o.fail(fmt.Errorf("delete timer %s: %w", key, err))
	}
}

// invite asks for contacts (ids) and users (Slack member IDs) to be added
// to the channel, each once per incident.
func (o *op) invite(contacts, users []string) {
	var cs, us []string
	for _, c := range contacts {
		if !slices.Contains(o.inc.Invited, c) && !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	for _, u := range users {
		if u == "" {
			continue
		}
		// A user who is a contact was invited as the contact.
		if c := o.plan.ContactBySlack(u); c != nil && (slices.Contains(o.inc.Invited, c.ID) || slices.Contains(cs, c.ID)) {
			continue
		}
		if !slices.Contains(o.inc.Invited, u) && !slices.Contains(us, u) {
			us = append(us, u)
		}
	}
	if len(cs) == 0 && len(us) == 0 {
		return
	}
	o.inc.Invited = append(o.inc.Invited, cs...)
	o.inc.Invited = append(o.inc.Invited, us...)
	o.enqueue(o.setupLane(), OutInvite, OutBody{Contacts: cs, Users: us, Purpose: "invite the responders to the channel"})
}

// contactOf returns the plan contact a Slack member is, or nil: by the
// plan's slack: field, else by the email->user cache the outbox worker
// fills when it looks up a contact that only has an email.
func (o *op) contactOf(userID string) *playbooks.Contact {
	return contactOf(o.tx, o.plan, userID)
}

func contactOf(tx Tx, p *playbooks.Plan, userID string) *playbooks.Contact {
	if userID == "" {
		return nil
	}
	if c := p.ContactBySlack(userID); c != nil {
		return c
	}
	// The outbox worker records, on a successful lookup by email, which
	// contact a member is (outbox.go, lookupEmail).
	if id, ok, err := tx.Get("user/" + userID + "/contact"); err == nil && ok {
		if c := p.Contacts[id]; c != nil && c.Slack == "" {
			return c
		}
	}
	return nil
}

// emailKey is the key of the email->Slack member cache in the store's
// key/value state; the outbox worker writes it on a successful lookup.
func emailKey(email string) string { return "email/" + strings.ToLower(email) }

// who names a contact id or a Slack member ID for people: the contact's
// name, or a mention of the member.
func (o *op) who(id string) string {
	if c := o.plan.Contacts[id]; c != nil {
		return escape(c.Name)
	}
	return mention(id)
}

// memberPlain names Slack member userID for the timeline's text: the
// contact's name, or "A member not in the plan" (the event's Actor keeps
// the member ID). Prose shows no raw member IDs.
func (o *op) memberPlain(userID string) string {
	if c := o.contactOf(userID); c != nil && c.Name != "" {
		return c.Name
	}
	return "A member not in the plan"
}

// whoPlain is who for the timeline: no Slack markup.
func (o *op) whoPlain(id string) string {
	if c := o.plan.Contacts[id]; c != nil {
		return c.Name
	}
	return id
}
