package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// The outbox worker (Deliver) sends what the engine enqueued. This file
// holds the loop over lanes and the recording of a send; the rest is
// split by what it does: outbox_pace.go spaces posts in one conversation,
// outbox_send.go has one send per outbox kind, outbox_recipient.go finds
// the member a contact is, and outbox_failure.go decides what a failed
// send does (wait, retry, drop and say so, escalate a page).

// Tuning of the outbox worker.
const (
	// outboxLanes is how many lanes are delivered at once. Slack's rate
	// limits are per method and workspace; a handful of concurrent calls
	// keeps one slow lane from holding up the others without provoking 429s.
	outboxLanes = 8
	// outboxBatch is how many lane heads are read per pass.
	outboxBatch = 256
	// Backoff after an error that is neither permanent nor rate limited
	// (5xx, network): 1s, 2s, 4s ... capped. No jitter, so tests (and
	// people reading a timeline) can predict the next attempt.
	backoffBase = time.Second
	backoffMax  = 5 * time.Minute
	// A message waiting for something drbot itself will provide (the
	// incident channel, a message to update) is looked at again soon, then
	// less often.
	waitBase = time.Second
	waitMax  = 30 * time.Second
	// An update whose message ref never appeared is dropped after this many
	// looks: the post it would change failed for good.
	maxRefWaits = 3
	// postInterval is the least time between two posts (chat.postMessage,
	// a direct message included) in one conversation. Slack documents
	// chat.postMessage as "1 message per second per channel, short bursts
	// allowed" (https://api.slack.com/methods/chat.postMessage#rate_limiting);
	// spacing our own posts keeps a busy incident channel from being
	// answered 429 and waiting out Retry-After. Updates, topics, invites
	// and pins have other limits and are not paced.
	postInterval = time.Second
	// restSlice is how long the housekeeping phase of a delivery pass
	// starts sends before the next pass reads what is due again (pass).
	restSlice = 100 * time.Millisecond
	// paceForget is how many conversations the pacer remembers before it
	// forgets those whose last post is older than postInterval.
	paceForget = 1024
)

// Deliver sends, once each, every outbox message that is due now: for each
// lane its oldest pending message, then the next, until the lane is empty
// or its head waits. Lanes are delivered concurrently; messages of one lane
// strictly in order. It returns how many messages were sent.
//
// What a failure does: a rate limit (Retry-After) retries after the time
// Slack asked for; a permanent error (user_not_found, channel_not_found
// ...) drops the message, records delivery_failed in the incident's
// timeline and says so in the incident channel; any other error (5xx,
// network) retries with exponential backoff and is never dropped. The
// returned error is about the store only; chat failures are handled as
// above.
//
// Calls are one at a time (a second waits for the first), so that no
// message is sent twice by one process; two processes on one database are
// kept apart by the lease cmd/drbot takes.
func (s *Engine) Deliver(ctx context.Context) (int, error) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	d := &delivery{
		s:       s,
		start:   s.now(),
		log:     s.cfg.Logger,
		lookups: map[string]*emailLookup{},
	}
	handled := map[int64]int{} // message -> its attempts when handled
	createsAlone := true       // the next pass may create channels alone (pass)
	sent := 0
	var errs []error
	for ctx.Err() == nil {
		// Each pass reads what is due by now, not by the call's start:
		// in a storm one call runs for seconds, and the pages paced to a
		// person's next second must go then, together (outbox_bundle.go),
		// not wait for the call to end.
		var due []Outgoing
		now := d.start
		if t := s.now(); t.After(now) {
			now = t
		}
		err := s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			due, err = tx.DueOutgoing(now, outboxBatch)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("read due outbox messages: %w", err))
			break
		}
		// A message already handled in this call is due again with the
		// same attempts only when the store failed to record what
		// happened to it; leave it to the next call rather than spin.
		var todo []Outgoing
		for _, o := range due {
			if n, ok := handled[o.ID]; !ok || n != o.Attempts {
				handled[o.ID] = o.Attempts
				todo = append(todo, o)
			}
		}
		if len(todo) == 0 {
			break
		}
		n, left, alone, passErrs := d.pass(ctx, todo, createsAlone)
		createsAlone = !alone
		sent += n
		errs = append(errs, passErrs...)
		for _, o := range left {
			delete(handled, o.ID)
		}
	}
	return sent, errors.Join(errs...)
}

// pass sends a pass's lane heads phase by phase (phases). With channels to
// create and createsAlone, it creates them alone (alone is true) and
// returns the rest as left: the pages read with them may have been joined
// since by others to the same people (their pace passed, an escalation),
// which go together in the next pass, read after. The last phase, the
// housekeeping, stops starting sends restSlice after it began and leaves
// the rest too. What is left is still due; the next pass reads again what
// is due first, so that a page due meanwhile never waits behind a backlog
// of topics and pins answered 429 one after the other.
func (d *delivery) pass(ctx context.Context, todo []Outgoing, createsAlone bool) (sent int, left []Outgoing, alone bool, errs []error) {
	ph := phases(todo)
	if createsAlone && len(ph[phaseCreates]) > 0 {
		for _, later := range ph[phaseCreates+1:] {
			left = append(left, later...)
		}
		ph, alone = ph[:phaseCreates+1], true
	}
	for i, batch := range ph {
		var until time.Time
		if i == phaseRest {
			until = d.s.now().Add(restSlice)
		}
		n, l, batchErrs := d.deliverAll(ctx, bundles(batch), until)
		sent += n
		left = append(left, l...)
		errs = append(errs, batchErrs...)
	}
	return sent, left, alone, errs
}

// The phases of a pass, by index in what phases returns.
const (
	phaseCreates = iota // the channels to create
	phaseUrgent         // pages, approvals, RTO alerts, escalations
	phaseRest           // the housekeeping, sent for restSlice at most
)

// phases splits a pass's lane heads into what is sent one after the
// other, each phase concurrently: the channels to create first (the pages
// sent with them name the channel, and must name the one Slack gave:
// channelname.go), then what a person is waiting for, then the rest, most
// urgent first (urgency). A phase starts when the one before has been
// answered, so a storm's pages never wait behind its topics and pins.
// phaseCreates, phaseUrgent and phaseRest index them.
func phases(todo []Outgoing) [][]Outgoing {
	slices.SortStableFunc(todo, func(a, b Outgoing) int { return urgency(a) - urgency(b) })
	var creates, urgent, rest []Outgoing
	for _, o := range todo {
		switch urgency(o) {
		case 0:
			creates = append(creates, o)
		case 1:
			urgent = append(urgent, o)
		default:
			rest = append(rest, o)
		}
	}
	ph := make([][]Outgoing, 3)
	ph[phaseCreates], ph[phaseUrgent], ph[phaseRest] = creates, urgent, rest
	return ph
}

// deliverAll delivers messages concurrently, outboxLanes at a time, each
// unit as one message (several pages to one person: bundles), and returns
// how many were sent and the errors met. Past until (unless zero) it
// starts no more units, and returns their messages as left.
func (d *delivery) deliverAll(ctx context.Context, todo [][]Outgoing, until time.Time) (sent int, left []Outgoing, errs []error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	sem := make(chan struct{}, outboxLanes)
	for i, unit := range todo {
		sem <- struct{}{}
		if !until.IsZero() && d.s.now().After(until) {
			<-sem
			for _, u := range todo[i:] {
				left = append(left, u...)
			}
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			n, unitErrs := d.deliverUnit(ctx, unit)
			mu.Lock()
			defer mu.Unlock()
			sent += n
			errs = append(errs, unitErrs...)
		})
	}
	wg.Wait()
	return sent, left, errs
}

// urgency orders the lane heads of a delivery pass, most urgent first:
//
//	0  the incident channel itself, which every post and page names
//	1  what a person is waiting for: pages, approvals to give, RTO alerts,
//	   escalations, the paging webhook's trigger (Body.Urgent)
//	2  posts and direct messages: steps, notes, answers
//	3  the channel's housekeeping: invites, topics, pins; the review
//	4  changes to messages already posted (a pressed button's new text)
//
// With outboxLanes sends at a time, a storm's pages are never queued behind
// its topics and pins, whose Slack methods also have the tightest rate
// limits.
func urgency(o Outgoing) int {
	switch {
	case o.Kind == OutCreateChannel:
		return 0
	case o.Body.Urgent:
		return 1
	case o.Kind == OutInvite, o.Kind == OutTopic, o.Kind == OutPin, o.Kind == OutReview:
		return 3
	case o.Kind == OutUpdate:
		return 4
	}
	return 2
}

// deliveryPlan returns the plan whose contacts a message is addressed to:
// the plan its incident was declared with, or the current one for
// messages of no incident (review reminders).
func (s *Engine) deliveryPlan(ctx context.Context, inc *Incident) (*playbooks.Plan, error) {
	if inc != nil {
		return s.planFor(ctx, inc)
	}
	if p := s.Plan(); p != nil {
		return p, nil
	}
	return nil, errors.New("no plan loaded")
}

// delivery is one call of Deliver: when it started (what is due by then
// is sent), and the email lookups made in it, shared by its concurrent
// lanes so that two messages to one person look them up once.
//
// What a send leaves in the timeline (channel_created, delivery_failed)
// is stamped with the time Slack answered, not start: a pass of calls
// that each take seconds would otherwise date its last failure at the
// pass's start, before things that happened while it ran.
type delivery struct {
	s     *Engine
	start time.Time
	log   *slog.Logger

	mu      sync.Mutex
	lookups map[string]*emailLookup
	// bundleMu keeps the edits of bundled pages one at a time
	// (bundledUpdate).
	bundleMu sync.Mutex
}

// deliver sends one message and records the outcome. ok reports a send;
// err is a store error.
func (d *delivery) deliver(ctx context.Context, o Outgoing) (ok bool, err error) {
	inc, keep, err := d.prepare(ctx, o)
	if !keep {
		return false, err
	}
	res, err := d.send(ctx, o, inc)
	at := d.s.now() // when Slack answered
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: the message stays due and goes next time.
			return false, nil
		}
		return false, d.failed(ctx, o, inc, err, at)
	}

	err = d.update(ctx, o, func(tx Tx) error { return d.recordSent(tx, o, inc, res, at) })
	if err != nil {
		// The message went out but is not marked sent: it goes again
		// (at least once, never lost).
		return true, err
	}
	if res.alreadyExists {
		d.log.Warn("create_channel for an incident that has a channel; nothing created", "id", o.ID, "incident", o.IncidentID)
	}
	d.countPage(o)
	return true, nil
}

// countPage counts a delivered page DM in the metrics.
func (d *delivery) countPage(o Outgoing) {
	if o.Kind == OutDM && strings.HasPrefix(o.Body.Purpose, "page") {
		d.s.cfg.Metrics.PageSent()
	}
}

// prepare loads o's incident and says whether o is still to be sent; a
// message of a missing incident, or one that must not go after resolve
// (afterResolve), is dropped and recorded so. err is a store error.
func (d *delivery) prepare(ctx context.Context, o Outgoing) (inc *Incident, keep bool, err error) {
	if o.IncidentID != 0 {
		err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			inc, err = tx.Incident(o.IncidentID)
			return err
		})
		if ErrorCode(err) == ENOTFOUND {
			d.log.Error("outbox message for a missing incident dropped", "id", o.ID, "incident", o.IncidentID, "kind", o.Kind)
			return nil, false, d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, "incident not found") })
		}
		if err != nil {
			return nil, false, fmt.Errorf("deliver outbox message %d: load incident %d: %w", o.ID, o.IncidentID, err)
		}
	}
	why, err := d.afterResolve(ctx, o, inc)
	if err != nil {
		return nil, false, err
	}
	if why != "" {
		d.log.Info("outbox message dropped", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID, "reason", why)
		return nil, false, d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, why) })
	}
	return inc, true, nil
}

// recordSent writes what a successful send, answered at at, leaves: the
// channel created, the message's ref, the records it carries, the
// contacts skipped, and the message marked sent.
func (d *delivery) recordSent(tx Tx, o Outgoing, inc *Incident, res sendResult, at time.Time) error {
	if res.createdID != "" {
		cur, err := tx.Incident(o.IncidentID)
		if err != nil {
			return err
		}
		cur.ChannelID, cur.ChannelName = res.createdID, res.createdName
		if err := tx.SaveIncident(cur); err != nil {
			return err
		}
		e := &Event{
			IncidentID: o.IncidentID, At: at, Kind: KindChannelCreated,
			Text: "created #" + res.createdName,
			Data: map[string]string{"channel": res.createdID, "name": res.createdName, "requested": requestedChannel(cur)},
		}
		if err := tx.Append(e); err != nil {
			return err
		}
		if err := channelRenamed(tx, cur); err != nil {
			return err
		}
	}
	if o.Body.Ref != "" && res.ts != "" {
		if err := tx.SetRef(o.Body.Ref, res.channel, res.ts); err != nil {
			return err
		}
		if o.Body.Pin {
			pin := &Outgoing{Lane: o.Lane + "/setup", IncidentID: o.IncidentID, Kind: OutPin,
				Body: OutBody{UpdateRef: o.Body.Ref, Purpose: "pin the message " + o.Body.Ref}}
			if err := tx.Enqueue(pin); err != nil {
				return err
			}
		}
	}
	for _, f := range res.record {
		if err := f(tx); err != nil {
			return err
		}
	}
	if o.Kind == OutDM {
		if err := d.s.closeLatePage(tx, o); err != nil {
			return err
		}
	}
	if o.Kind == OutWebhook && o.Body.Hook == hookTrigger {
		if err := recordHookTold(o)(tx); err != nil {
			return err
		}
	}
	for _, line := range res.skipped {
		if err := d.recordFailure(tx, o, inc, line, true, at); err != nil {
			return err
		}
	}
	return tx.Sent(o.ID)
}

// update records what happened to o in its own transaction. It is not
// cancelled with ctx: a message Slack accepted while the process was
// told to stop is still marked sent (a small write), rather than sent
// again by the next process.
func (d *delivery) update(ctx context.Context, o Outgoing, fn func(Tx) error) error {
	if err := d.s.cfg.Store.Update(context.WithoutCancel(ctx), fn); err != nil {
		return fmt.Errorf("record delivery of outbox message %d (%s): %w", o.ID, o.Kind, err)
	}
	return nil
}
