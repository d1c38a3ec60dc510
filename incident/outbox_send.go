package incident

import (
	"context"
	"fmt"
)

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
	if inc.ChannelArchived {
		// Recorded and told when it was archived (archived.go).
		return "", &badMessage{reason: "the incident channel is archived", quiet: true}
	}
	return inc.ChannelID, nil
}

// needMessage returns o's message, naming the channel Slack gave
// (namedChannel).
func needMessage(o Outgoing, inc *Incident) (Message, error) {
	if o.Body.Message == nil {
		return Message{}, &badMessage{reason: string(o.Kind) + " without a message"}
	}
	return namedChannel(*o.Body.Message, inc), nil
}

// target is what a send needs resolved before its call, for the kinds
// that need it (sendSpec): the message, naming the channel Slack gave, and
// the incident channel it goes to.
type target struct {
	m  Message
	ch string
}

// sendSpec is how one kind of outbox message is sent: what it needs
// resolved first (its message, the incident channel), then the call.
type sendSpec struct {
	message, channel bool
	// heldTogether: the chat limits this kind per method, not per
	// conversation (Slack's tiers), so a 429 holds every message of the
	// kind until its Retry-After (kindHolds). Posts and direct messages
	// are paced per conversation instead (outbox_pace.go).
	heldTogether bool
	call         func(d *delivery, ctx context.Context, o Outgoing, inc *Incident, t target) (sendResult, error)
}

// sendSpecOf returns the sendSpec of kind; false for an unknown kind.
func sendSpecOf(kind OutKind) (sendSpec, bool) {
	switch kind {
	case OutCreateChannel:
		return sendSpec{heldTogether: true, call: (*delivery).sendCreateChannel}, true
	case OutInvite:
		return sendSpec{channel: true, heldTogether: true, call: (*delivery).sendInvite}, true
	case OutTopic:
		return sendSpec{channel: true, heldTogether: true, call: (*delivery).sendTopic}, true
	case OutPost:
		return sendSpec{message: true, channel: true, call: (*delivery).sendPost}, true
	case OutDM:
		return sendSpec{message: true, call: (*delivery).sendDM}, true
	case OutUpdate:
		return sendSpec{message: true, heldTogether: true, call: (*delivery).sendUpdate}, true
	case OutEphemeral:
		return sendSpec{message: true, channel: true, heldTogether: true, call: (*delivery).sendEphemeral}, true
	case OutReview:
		return sendSpec{call: func(d *delivery, ctx context.Context, o Outgoing, _ *Incident, _ target) (sendResult, error) {
			return d.sendReview(ctx, o)
		}}, true
	case OutWebhook:
		return sendSpec{call: (*delivery).sendWebhook}, true
	case OutPin:
		return sendSpec{heldTogether: true, call: (*delivery).sendPin}, true
	}
	return sendSpec{}, false
}

// send makes the chat call(s) of one message: what its kind needs
// resolved first, then one method per kind.
func (d *delivery) send(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	spec, ok := sendSpecOf(o.Kind)
	if !ok {
		return sendResult{}, &badMessage{reason: fmt.Sprintf("unknown outbox kind %q", o.Kind)}
	}
	if until, held := d.s.holds.held(o.Kind, d.s.now()); held && spec.heldTogether {
		return sendResult{}, &holdError{kind: o.Kind, until: until}
	}
	var (
		t   target
		err error
	)
	if spec.message {
		if t.m, err = needMessage(o, inc); err != nil {
			return sendResult{}, err
		}
	}
	if spec.channel {
		if t.ch, err = incidentChannel(o, inc); err != nil {
			return sendResult{}, err
		}
	}
	return spec.call(d, ctx, o, inc, t)
}

// sendCreateChannel creates the incident's channel, unless it has one.
func (d *delivery) sendCreateChannel(ctx context.Context, o Outgoing, inc *Incident, _ target) (res sendResult, err error) {
	switch {
	case inc == nil:
		return res, &badMessage{reason: "create_channel without an incident"}
	case inc.ChannelID != "":
		res.alreadyExists = true
		return res, nil
	case o.Body.Name == "":
		return res, &badMessage{reason: "create_channel without a name"}
	}
	res.createdID, res.createdName, err = d.s.cfg.Chat.CreateChannel(ctx, o.Body.Name)
	return res, err
}

// sendInvite invites the message's users and contacts to the incident
// channel; a contact who cannot be found is skipped, not a failure.
func (d *delivery) sendInvite(ctx context.Context, o Outgoing, inc *Incident, t target) (res sendResult, err error) {
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
	return res, d.s.cfg.Chat.Invite(ctx, t.ch, users)
}

// sendTopic sets the incident channel's topic.
func (d *delivery) sendTopic(ctx context.Context, o Outgoing, _ *Incident, t target) (sendResult, error) {
	return sendResult{}, d.s.cfg.Chat.SetTopic(ctx, t.ch, o.Body.Topic)
}

// sendPost posts in a channel, paced.
func (d *delivery) sendPost(ctx context.Context, _ Outgoing, _ *Incident, t target) (res sendResult, err error) {
	err = d.paced(t.ch, func() error {
		var err error
		if cp, ok := d.s.cfg.Chat.(ChannelPoster); ok {
			res.channel, res.ts, err = cp.PostTo(ctx, t.ch, t.m)
			return err
		}
		res.channel = t.ch
		res.ts, err = d.s.cfg.Chat.Post(ctx, t.ch, t.m)
		return err
	})
	return res, err
}

// sendDM sends a direct message to a member or a plan contact, paced.
func (d *delivery) sendDM(ctx context.Context, o Outgoing, inc *Incident, t target) (sendResult, error) {
	res, _, err := d.dm(ctx, o, inc, t.m)
	return res, err
}

// dm sends m in the direct conversation with o's recipient, paced, and
// returns where it went and the member it went to.
func (d *delivery) dm(ctx context.Context, o Outgoing, inc *Incident, m Message) (res sendResult, user string, err error) {
	if user, err = d.recipient(ctx, o, inc); err != nil {
		return res, user, err
	}
	err = d.paced("dm/"+user, func() error {
		var err error
		res.channel, res.ts, err = d.s.cfg.Chat.DM(ctx, user, m)
		return err
	})
	return res, user, err
}

// ref looks up where the message remembered under ref went; found is
// false while it has not gone out.
func (d *delivery) ref(ctx context.Context, ref string) (ch, ts string, found bool, err error) {
	err = d.s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		ch, ts, found, err = tx.Ref(ref)
		return err
	})
	if err != nil {
		return "", "", false, &storeError{fmt.Errorf("look up message ref %q: %w", ref, err)}
	}
	return ch, ts, found, nil
}

// sendUpdate changes a message posted earlier, found by its ref; it waits
// for the post while that may still go out.
func (d *delivery) sendUpdate(ctx context.Context, o Outgoing, _ *Incident, t target) (sendResult, error) {
	if o.Body.UpdateRef == "" {
		return sendResult{}, &badMessage{reason: "update without a ref"}
	}
	ch, ts, found, err := d.ref(ctx, o.Body.UpdateRef)
	switch {
	case err != nil:
		return sendResult{}, err
	case !found && o.Attempts >= maxRefWaits:
		// The message it changes has not gone out yet (it is in another
		// lane, or waiting); after a few looks, it never will. The post's
		// own failure is in the timeline already.
		return sendResult{}, &badMessage{reason: fmt.Sprintf("message %q to update was never posted", o.Body.UpdateRef), quiet: true}
	case !found:
		return sendResult{}, &waitError{fmt.Sprintf("waiting for message %q to be posted", o.Body.UpdateRef)}
	}
	update := func(m Message) error { return d.s.cfg.Chat.Update(ctx, ch, ts, m) }
	// A page sent in a bundle changes its part only (outbox_bundle.go).
	if bundled, err := d.bundledUpdate(ctx, ch, ts, o.Body.UpdateRef, t.m, update); bundled || err != nil {
		return sendResult{}, err
	}
	return sendResult{}, update(t.m)
}

// sendEphemeral answers one member with a message only they see.
func (d *delivery) sendEphemeral(ctx context.Context, o Outgoing, _ *Incident, t target) (sendResult, error) {
	if o.Body.User == "" {
		return sendResult{}, &badMessage{reason: "ephemeral without a user"}
	}
	return sendResult{}, d.s.cfg.Chat.Ephemeral(ctx, t.ch, o.Body.User, t.m)
}

// sendWebhook calls the paging webhook, whose URL is read from the plan
// at send time so that it is never stored.
func (d *delivery) sendWebhook(ctx context.Context, o Outgoing, inc *Incident, _ target) (sendResult, error) {
	hooks := d.s.cfg.Webhooks
	if hooks == nil {
		return sendResult{}, &badMessage{reason: "no webhook poster to call the paging webhook with"}
	}
	if o.Body.WebhookURL != "" {
		// A row written before the URL was kept out of the database.
		return sendResult{}, hooks.Webhook(ctx, o.Body.WebhookURL, o.Body.WebhookBody)
	}
	if !o.Body.WebhookPlan || inc == nil {
		return sendResult{}, &badMessage{reason: "webhook without a URL"}
	}
	plan, err := d.s.planFor(ctx, inc)
	if err != nil {
		return sendResult{}, &storeError{fmt.Errorf("plan for the paging webhook: %w", err)}
	}
	target, body, err := planWebhook(plan, o.Body.WebhookBody)
	if err != nil {
		return sendResult{}, err
	}
	return sendResult{}, hooks.Webhook(ctx, target, body)
}

// sendPin pins a message posted earlier, found by its ref. The post that
// asked for the pin recorded the ref before enqueueing it.
func (d *delivery) sendPin(ctx context.Context, o Outgoing, _ *Incident, _ target) (sendResult, error) {
	ch, ts, found, err := d.ref(ctx, o.Body.UpdateRef)
	switch {
	case err != nil:
		return sendResult{}, err
	case !found:
		return sendResult{}, &badMessage{reason: "no message " + o.Body.UpdateRef + " to pin"}
	}
	return sendResult{}, d.s.cfg.Chat.Pin(ctx, ch, ts)
}
