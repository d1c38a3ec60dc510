package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Tuning of the outbox worker.
const (
	// outboxLanes is how many lanes are delivered at once. Slack's rate
	// limits are per method and workspace; a handful of concurrent calls
	// keeps one slow lane from holding up the others without provoking 429s.
	outboxLanes = 8
	// outboxBatch is how many lane heads are read per round.
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
	// paceForget is how many conversations the pacer remembers before it
	// forgets those whose last post is older than postInterval.
	paceForget = 1024
)

// pacer remembers, in memory only, when drbot last posted in each
// conversation (a restart forgets it: at worst one post is answered 429
// and retried). Its zero value is ready to use.
type pacer struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// reserve claims the next post in conversation conv at time now, or says
// when it may go. A clock that has not moved at all since the previous
// post is not a real one: the console's, and tests', stand still until
// told to move, and posts waiting on them would wait for the next command
// instead of being shown with the one that made them. Real clocks always
// move between two calls to Slack, so in serve every post is paced.
func (p *pacer) reserve(conv string, now time.Time) (until time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, seen := p.last[conv]; seen && now.After(last) && now.Sub(last) < postInterval {
		return last.Add(postInterval), false
	}
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	if len(p.last) >= paceForget {
		for c, t := range p.last {
			if now.Sub(t) >= postInterval {
				delete(p.last, c)
			}
		}
	}
	p.last[conv] = now
	return time.Time{}, true
}

// paceError says a post must wait for its conversation's pace: the lane's
// head is due again then, and the lanes behind it are not held up.
type paceError struct {
	conv  string
	until time.Time
}

func (e *paceError) Error() string {
	return "pacing posts in " + e.conv + " (Slack allows about one a second)"
}

// pace reserves a post in conv now or returns a *paceError. It reads the
// Engine clock afresh, not the delivery's start time: one Deliver sends a
// whole backlog, and the time its posts took to send is what counts.
func (d *delivery) pace(conv string) error {
	if until, ok := d.s.pace.reserve(conv, d.s.now()); !ok {
		return &paceError{conv: conv, until: until}
	}
	return nil
}

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
		now:     s.now(),
		log:     s.deliveryLogger(),
		lookups: map[string]*emailLookup{},
	}
	handled := map[int64]bool{}
	sent := 0
	var errs []error
	for ctx.Err() == nil {
		var due []Outgoing
		err := s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			due, err = tx.DueOutgoing(d.now, outboxBatch)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("read due outbox messages: %w", err))
			break
		}
		// A message already handled in this call is still due only when
		// the store failed to record what happened to it; leave it to the
		// next call rather than spin.
		var todo []Outgoing
		for _, o := range due {
			if !handled[o.ID] {
				handled[o.ID] = true
				todo = append(todo, o)
			}
		}
		if len(todo) == 0 {
			break
		}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		sem := make(chan struct{}, outboxLanes)
		for _, o := range todo {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ok, err := d.deliver(ctx, o)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					sent++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
	}
	return sent, errors.Join(errs...)
}

func (s *Engine) deliveryLogger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
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

// delivery is one call of Deliver: its time, and the email lookups made
// in it, shared by its concurrent lanes so that two messages to one
// person look them up once.
type delivery struct {
	s   *Engine
	now time.Time
	log *slog.Logger

	mu      sync.Mutex
	lookups map[string]*emailLookup
}

type emailLookup struct {
	done chan struct{}
	user string
	err  error
}

// waitError says a message cannot go yet for a reason drbot itself will
// remove (the channel is not created yet): it is retried soon, without
// being logged as a failure.
type waitError struct{ reason string }

func (e *waitError) Error() string { return e.reason }

// badMessage is an outbox message that can never be sent as written (no
// text, no recipient, a contact missing from the plan). A quiet one is
// dropped with a log line only: its cause was recorded already.
type badMessage struct {
	reason string
	quiet  bool
}

func (e *badMessage) Error() string { return e.reason }

// sendResult is what a successful send leaves to record.
type sendResult struct {
	channel, ts   string // where the message went, for Body.Ref
	createdID     string // create_channel
	createdName   string
	skipped       []string // invite: why contacts were left out, one line each
	alreadyExists bool     // create_channel: the incident had a channel already
	// record is written with the message marked sent (a review's DMs,
	// enqueued once its checks are done).
	record []func(Tx) error
}

// deliver sends one message and records the outcome. ok reports a send;
// err is a store error.
func (d *delivery) deliver(ctx context.Context, o Outgoing) (ok bool, err error) {
	var inc *Incident
	if o.IncidentID != 0 {
		err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			inc, err = tx.Incident(o.IncidentID)
			return err
		})
		if ErrorCode(err) == ENOTFOUND {
			d.log.Error("outbox message for a missing incident dropped", "id", o.ID, "incident", o.IncidentID, "kind", o.Kind)
			return false, d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, "incident not found") })
		}
		if err != nil {
			return false, fmt.Errorf("deliver outbox message %d: load incident %d: %w", o.ID, o.IncidentID, err)
		}
	}

	res, err := d.send(ctx, o, inc)
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: the message stays due and goes next time.
			return false, nil
		}
		return false, d.failed(ctx, o, inc, err)
	}

	err = d.update(ctx, o, func(tx Tx) error {
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
				IncidentID: o.IncidentID, At: d.now, Kind: KindChannelCreated,
				Text: "created #" + res.createdName,
				Data: map[string]string{"channel": res.createdID, "name": res.createdName},
			}
			if err := tx.Append(e); err != nil {
				return err
			}
		}
		if o.Body.Ref != "" && res.ts != "" {
			if err := tx.SetRef(o.Body.Ref, res.channel, res.ts); err != nil {
				return err
			}
		}
		for _, f := range res.record {
			if err := f(tx); err != nil {
				return err
			}
		}
		for _, line := range res.skipped {
			if err := d.recordFailure(tx, o, inc, line, true); err != nil {
				return err
			}
		}
		return tx.Sent(o.ID)
	})
	if err != nil {
		// The message went out but is not marked sent: it goes again
		// (at least once, never lost).
		return true, err
	}
	if res.alreadyExists {
		d.log.Warn("create_channel for an incident that has a channel; nothing created", "id", o.ID, "incident", o.IncidentID)
	}
	if o.Body.Pin && res.ts != "" {
		// A pin is a convenience: failing to pin must not repeat the post.
		if err := d.s.cfg.Chat.Pin(ctx, res.channel, res.ts); err != nil {
			d.log.Warn("pin failed", "channel", res.channel, "ts", res.ts, "err", err)
		}
	}
	if o.Kind == OutDM && strings.HasPrefix(o.Body.Purpose, "page") && d.s.cfg.Metrics != nil {
		d.s.cfg.Metrics.PageSent()
	}
	return true, nil
}

func (d *delivery) update(ctx context.Context, o Outgoing, fn func(Tx) error) error {
	if err := d.s.cfg.Store.Update(ctx, fn); err != nil {
		return fmt.Errorf("record delivery of outbox message %d (%s): %w", o.ID, o.Kind, err)
	}
	return nil
}

// incidentChannel returns where a message to "the incident channel" goes.
func incidentChannel(o Outgoing, inc *Incident) (string, error) {
	if o.Body.Channel != "" {
		return o.Body.Channel, nil
	}
	if inc == nil {
		return "", &badMessage{reason: "no channel and no incident"}
	}
	if inc.ChannelID == "" {
		return "", &waitError{"waiting for the incident channel"}
	}
	return inc.ChannelID, nil
}

func needMessage(o Outgoing) (Message, error) {
	if o.Body.Message == nil {
		return Message{}, &badMessage{reason: o.Kind + " without a message"}
	}
	return *o.Body.Message, nil
}

// send makes the chat call(s) of one message.
func (d *delivery) send(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	chat := d.s.cfg.Chat
	var res sendResult
	switch o.Kind {
	case OutCreateChannel:
		if inc == nil {
			return res, &badMessage{reason: "create_channel without an incident"}
		}
		if inc.ChannelID != "" {
			res.alreadyExists = true
			return res, nil
		}
		if o.Body.Name == "" {
			return res, &badMessage{reason: "create_channel without a name"}
		}
		id, name, err := chat.CreateChannel(ctx, o.Body.Name)
		if err != nil {
			return res, err
		}
		res.createdID, res.createdName = id, name
		return res, nil

	case OutInvite:
		ch, err := incidentChannel(o, inc)
		if err != nil {
			return res, err
		}
		users := make([]string, 0, len(o.Body.Users)+len(o.Body.Contacts))
		seen := map[string]bool{}
		add := func(u string) {
			if u != "" && !seen[u] {
				seen[u] = true
				users = append(users, u)
			}
		}
		for _, u := range o.Body.Users {
			add(u)
		}
		for _, c := range o.Body.Contacts {
			u, err := d.resolveContact(ctx, inc, c)
			if err != nil {
				// One person who cannot be found must not keep the others
				// out; anything that may pass retries the whole invite.
				if code, permanent := permanentCode(err); permanent {
					res.skipped = append(res.skipped, fmt.Sprintf("could not invite %s: %s", c, code))
					continue
				}
				return res, err
			}
			add(u)
		}
		if len(users) == 0 {
			return res, nil
		}
		return res, chat.Invite(ctx, ch, users)

	case OutTopic:
		ch, err := incidentChannel(o, inc)
		if err != nil {
			return res, err
		}
		return res, chat.SetTopic(ctx, ch, o.Body.Topic)

	case OutPost:
		m, err := needMessage(o)
		if err != nil {
			return res, err
		}
		ch, err := incidentChannel(o, inc)
		if err != nil {
			return res, err
		}
		if err := d.pace(ch); err != nil {
			return res, err
		}
		ts, err := chat.Post(ctx, ch, m)
		if err != nil {
			return res, err
		}
		res.channel, res.ts = ch, ts
		return res, nil

	case OutDM:
		m, err := needMessage(o)
		if err != nil {
			return res, err
		}
		user, err := d.recipient(ctx, o, inc)
		if err != nil {
			return res, err
		}
		if err := d.pace("dm/" + user); err != nil {
			return res, err
		}
		ch, ts, err := chat.DM(ctx, user, m)
		if err != nil {
			return res, err
		}
		res.channel, res.ts = ch, ts
		return res, nil

	case OutUpdate:
		m, err := needMessage(o)
		if err != nil {
			return res, err
		}
		if o.Body.UpdateRef == "" {
			return res, &badMessage{reason: "update without a ref"}
		}
		var (
			ch, ts string
			found  bool
		)
		err = d.s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			ch, ts, found, err = tx.Ref(o.Body.UpdateRef)
			return err
		})
		if err != nil {
			return res, &storeError{fmt.Errorf("look up message ref %q: %w", o.Body.UpdateRef, err)}
		}
		if !found {
			// The message it changes has not gone out yet (it is in
			// another lane, or waiting); after a few looks, it never will.
			if o.Attempts >= maxRefWaits {
				// The post's own failure is in the timeline already.
				return res, &badMessage{reason: fmt.Sprintf("message %q to update was never posted", o.Body.UpdateRef), quiet: true}
			}
			return res, &waitError{fmt.Sprintf("waiting for message %q to be posted", o.Body.UpdateRef)}
		}
		return res, chat.Update(ctx, ch, ts, m)

	case OutEphemeral:
		m, err := needMessage(o)
		if err != nil {
			return res, err
		}
		if o.Body.User == "" {
			return res, &badMessage{reason: "ephemeral without a user"}
		}
		ch, err := incidentChannel(o, inc)
		if err != nil {
			return res, err
		}
		return res, chat.Ephemeral(ctx, ch, o.Body.User, m)

	case OutReview:
		return d.sendReview(ctx, o)

	case OutWebhook:
		if o.Body.WebhookURL != "" {
			// A row written before the URL was kept out of the database.
			return res, chat.Webhook(ctx, o.Body.WebhookURL, o.Body.WebhookBody)
		}
		if !o.Body.WebhookPlan || inc == nil {
			return res, &badMessage{reason: "webhook without a URL"}
		}
		plan, err := d.s.planFor(ctx, inc)
		if err != nil {
			return res, &storeError{fmt.Errorf("plan for the paging webhook: %w", err)}
		}
		target, body, err := planWebhook(plan, o.Body.WebhookBody)
		if err != nil {
			return res, err
		}
		return res, chat.Webhook(ctx, target, body)
	}
	return res, &badMessage{reason: fmt.Sprintf("unknown outbox kind %q", o.Kind)}
}

// storeError is a failure of drbot's own database met while sending: the
// message is retried like after a network error.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// recipient returns the Slack member ID a DM goes to.
func (d *delivery) recipient(ctx context.Context, o Outgoing, inc *Incident) (string, error) {
	if o.Body.User != "" {
		return o.Body.User, nil
	}
	if o.Body.Contact != "" {
		return d.resolveContact(ctx, inc, o.Body.Contact)
	}
	return "", &badMessage{reason: "dm without a recipient"}
}

// resolveContact returns the Slack member ID of a plan contact: its slack:
// field, or the user Slack knows by its email. Email lookups are cached
// in the store under "email/ADDRESS", and the reverse under
// "user/USERID/contact" so that a press by that user maps back to the
// contact.
func (d *delivery) resolveContact(ctx context.Context, inc *Incident, contactID string) (string, error) {
	plan, err := d.s.deliveryPlan(ctx, inc)
	if err != nil {
		return "", &storeError{fmt.Errorf("plan for contact %s: %w", contactID, err)}
	}
	c := plan.Contacts[contactID]
	if c == nil {
		return "", &badMessage{reason: fmt.Sprintf("%s is not a contact of the plan", contactID)}
	}
	if c.Slack != "" {
		return c.Slack, nil
	}
	if c.Email == "" {
		return "", &badMessage{reason: fmt.Sprintf("%s has neither slack nor email", contactID)}
	}
	return d.lookupEmail(ctx, contactID, c.Email)
}

func (d *delivery) lookupEmail(ctx context.Context, contactID, email string) (string, error) {
	key := emailKey(email)
	d.mu.Lock()
	l, ok := d.lookups[key]
	if !ok {
		l = &emailLookup{done: make(chan struct{})}
		d.lookups[key] = l
	}
	d.mu.Unlock()
	if ok {
		// Another lane of this delivery is looking it up.
		select {
		case <-l.done:
			return l.user, l.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	defer close(l.done)

	var cached string
	var found bool
	err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		cached, found, err = tx.Get(key)
		return err
	})
	if err != nil {
		l.err = &storeError{fmt.Errorf("read %s: %w", key, err)}
		return "", l.err
	}
	if found {
		l.user = cached
		return cached, nil
	}
	user, err := d.s.cfg.Chat.LookupUserByEmail(ctx, email)
	if err != nil {
		l.err = err
		return "", err
	}
	err = d.s.cfg.Store.Update(ctx, func(tx Tx) error {
		if err := tx.Put(key, user); err != nil {
			return err
		}
		return tx.Put("user/"+user+"/contact", contactID)
	})
	if err != nil {
		// The lookup is good; only the cache is lost. Use it.
		d.log.Warn("cache email lookup", "contact", contactID, "err", err)
	}
	l.user = user
	return user, nil
}

// permanentCode reports whether err means retrying cannot help, and the
// short reason to tell people.
func permanentCode(err error) (string, bool) {
	var ce *ChatError
	if errors.As(err, &ce) && ce.Permanent {
		return ce.Code, true
	}
	var bm *badMessage
	if errors.As(err, &bm) {
		return bm.reason, true
	}
	return "", false
}

// backoff is the delay before attempt n+1 after n failed attempts.
func backoff(attempts int) time.Duration {
	return capped(backoffBase, attempts, backoffMax)
}

func capped(base time.Duration, n int, limit time.Duration) time.Duration {
	if n < 0 {
		n = 0
	}
	if n > 20 {
		return limit
	}
	d := base << n
	if d > limit {
		return limit
	}
	return d
}

// failed records a failed send: a retry, or for good.
func (d *delivery) failed(ctx context.Context, o Outgoing, inc *Incident, err error) error {
	var (
		we *waitError
		pe *paceError
		ce *ChatError
	)
	switch {
	case errors.As(err, &pe):
		d.log.Debug("outbox message paced", "id", o.ID, "kind", o.Kind, "conversation", pe.conv, "until", pe.until)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, pe.until, pe.Error()) })

	case errors.As(err, &we):
		due := d.now.Add(capped(waitBase, o.Attempts, waitMax))
		d.log.Debug("outbox message waits", "id", o.ID, "kind", o.Kind, "reason", we.reason, "until", due)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, we.reason) })

	case errors.As(err, &ce) && ce.RetryAfter > 0:
		due := d.now.Add(time.Duration(ce.RetryAfter) * time.Second)
		d.log.Warn("rate limited; retrying when Slack said", "id", o.ID, "kind", o.Kind, "retry_after_s", ce.RetryAfter)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, err.Error()) })
	}

	msg := err.Error()
	code, permanent := permanentCode(err)
	if permanent && o.Kind == OutCreateChannel {
		// Without its channel an incident cannot be worked, and what
		// stops it (a missing scope, a workspace rule) is fixed by an
		// admin, not by time: keep trying with backoff, and tell the
		// person who declared it, once.
		due := d.now.Add(backoff(o.Attempts))
		d.log.Error("cannot create the incident channel", "id", o.ID, "incident", o.IncidentID, "err", err, "next", due)
		return d.update(ctx, o, func(tx Tx) error {
			if o.Attempts == 0 {
				line := fmt.Sprintf("could not create the incident channel: %s", code)
				if err := d.recordFailure(tx, o, inc, line, false); err != nil {
					return err
				}
				if inc != nil && inc.DeclaredBy != "" {
					dm := &Outgoing{
						Lane: dmLane(inc.DeclaredBy), IncidentID: o.IncidentID, Kind: OutDM,
						Body: OutBody{
							User:    inc.DeclaredBy,
							Message: &Message{Text: drillMark(inc, ":warning: "+escapeOutbox(line)+". drbot keeps trying; a Slack admin may need to fix the app's permissions.")},
						},
					}
					if err := tx.Enqueue(dm); err != nil {
						return err
					}
				}
			}
			return tx.Retry(o.ID, due, msg)
		})
	}
	var bm *badMessage
	if errors.As(err, &bm) && bm.quiet {
		d.log.Warn("outbox message dropped", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID, "reason", bm.reason)
		return d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, msg) })
	}
	if permanent {
		line := fmt.Sprintf("could not %s: %s", purpose(o), code)
		d.log.Error("outbox message dropped", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID, "err", err)
		// Telling the incident channel about a failed post to the
		// incident channel would fail the same way.
		notice := !(o.Body.Channel == "" && (o.Kind == OutPost || o.Kind == OutUpdate))
		var escalated string
		err := d.update(ctx, o, func(tx Tx) error {
			escalated = ""
			if err := tx.Drop(o.ID, msg); err != nil {
				return err
			}
			if err := d.recordFailure(tx, o, inc, line, notice); err != nil {
				return err
			}
			// A page that cannot arrive escalates now, not after its
			// ack_timeout.
			var err error
			escalated, err = d.s.pageUndelivered(tx, o, code)
			return err
		})
		if err == nil && escalated != "" {
			d.log.Warn("page undelivered; escalating now", "incident", o.IncidentID, "role", escalated, "contact", o.Body.Contact, "code", code)
		}
		return err
	}

	due := d.now.Add(backoff(o.Attempts))
	d.log.Warn("outbox delivery failed; retrying", "id", o.ID, "kind", o.Kind, "attempts", o.Attempts+1, "err", err, "next", due)
	return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, msg) })
}

// recordFailure writes a delivery_failed event in the incident's timeline
// and, when notice is set, a post saying it in the incident channel.
func (d *delivery) recordFailure(tx Tx, o Outgoing, inc *Incident, line string, notice bool) error {
	if o.IncidentID == 0 {
		return nil
	}
	e := &Event{
		IncidentID: o.IncidentID, At: d.now, Kind: KindDeliveryFailed, Text: line,
		Data: map[string]string{"outbox_kind": o.Kind},
	}
	if o.Body.Contact != "" {
		e.Data["contact"] = o.Body.Contact
	}
	if err := tx.Append(e); err != nil {
		return err
	}
	if !notice {
		return nil
	}
	return tx.Enqueue(&Outgoing{
		Lane: fmt.Sprintf("inc/%d", o.IncidentID), IncidentID: o.IncidentID, Kind: OutPost,
		Body: OutBody{Message: &Message{Text: drillMark(inc, ":warning: "+escapeOutbox(line))}, Purpose: "say that a delivery failed"},
	})
}

// drillMark begins text with [DRILL] when inc is a drill: the outbox
// worker's own notices are messages of the drill like any other (op.msg).
func drillMark(inc *Incident, text string) string {
	if inc != nil && inc.Drill {
		return drillPrefix + text
	}
	return text
}

// purpose says what a message was for, from Body.Purpose or its kind.
func purpose(o Outgoing) string {
	if o.Body.Purpose != "" {
		return o.Body.Purpose
	}
	switch o.Kind {
	case OutInvite:
		return "invite people to the channel"
	case OutTopic:
		return "set the channel topic"
	case OutPost:
		if o.Body.Channel != "" {
			return "post in " + o.Body.Channel
		}
		return "post in the incident channel"
	case OutDM:
		who := o.Body.Contact
		if who == "" {
			who = o.Body.User
		}
		return "send a direct message to " + who
	case OutUpdate:
		return "update a message"
	case OutEphemeral:
		return "answer " + o.Body.User
	case OutWebhook:
		return "call the paging webhook"
	case OutReview:
		return "check the contacts for the contact-list review"
	}
	return "deliver a " + o.Kind + " message"
}

// escapeOutbox escapes text for Slack mrkdwn so that it is shown as typed.
var escapeOutbox = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
