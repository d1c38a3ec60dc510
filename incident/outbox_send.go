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

// send makes the chat call(s) of one message: one method per kind.
func (d *delivery) send(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	switch o.Kind {
	case OutCreateChannel:
		return d.sendCreateChannel(ctx, o, inc)
	case OutInvite:
		return d.sendInvite(ctx, o, inc)
	case OutTopic:
		return d.sendTopic(ctx, o, inc)
	case OutPost:
		return d.sendPost(ctx, o, inc)
	case OutDM:
		return d.sendDM(ctx, o, inc)
	case OutUpdate:
		return d.sendUpdate(ctx, o, inc)
	case OutEphemeral:
		return d.sendEphemeral(ctx, o, inc)
	case OutReview:
		return d.sendReview(ctx, o)
	case OutWebhook:
		return d.sendWebhook(ctx, o, inc)
	case OutPin:
		return d.sendPin(ctx, o)
	}
	return sendResult{}, &badMessage{reason: fmt.Sprintf("unknown outbox kind %q", o.Kind)}
}

// sendCreateChannel creates the incident's channel, unless it has one.
func (d *delivery) sendCreateChannel(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	var res sendResult
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
	id, name, err := d.s.cfg.Chat.CreateChannel(ctx, o.Body.Name)
	if err != nil {
		return res, err
	}
	res.createdID, res.createdName = id, name
	return res, nil
}

// sendInvite invites the message's users and contacts to the incident
// channel; a contact who cannot be found is skipped, not a failure.
func (d *delivery) sendInvite(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	var res sendResult
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
	return res, d.s.cfg.Chat.Invite(ctx, ch, users)
}

// sendTopic sets the incident channel's topic.
func (d *delivery) sendTopic(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	ch, err := incidentChannel(o, inc)
	if err != nil {
		return sendResult{}, err
	}
	return sendResult{}, d.s.cfg.Chat.SetTopic(ctx, ch, o.Body.Topic)
}

// sendPost posts in a channel, paced.
func (d *delivery) sendPost(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	var res sendResult
	m, err := needMessage(o, inc)
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
	if cp, ok := d.s.cfg.Chat.(ChannelPoster); ok {
		id, ts, err := cp.PostTo(ctx, ch, m)
		if err != nil {
			return res, err
		}
		res.channel, res.ts = id, ts
		return res, nil
	}
	ts, err := d.s.cfg.Chat.Post(ctx, ch, m)
	if err != nil {
		return res, err
	}
	res.channel, res.ts = ch, ts
	return res, nil
}

// sendDM sends a direct message to a member or a plan contact, paced.
func (d *delivery) sendDM(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	var res sendResult
	m, err := needMessage(o, inc)
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
	ch, ts, err := d.s.cfg.Chat.DM(ctx, user, m)
	if err != nil {
		return res, err
	}
	res.channel, res.ts = ch, ts
	return res, nil
}

// sendUpdate changes a message posted earlier, found by its ref; it waits
// for the post while that may still go out.
func (d *delivery) sendUpdate(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	var res sendResult
	m, err := needMessage(o, inc)
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
	update := func(m Message) error { return d.s.cfg.Chat.Update(ctx, ch, ts, m) }
	// A page sent in a bundle changes its part only (outbox_bundle.go).
	if bundled, err := d.bundledUpdate(ctx, ch, ts, o.Body.UpdateRef, m, update); bundled || err != nil {
		return res, err
	}
	return res, update(m)
}

// sendEphemeral answers one member with a message only they see.
func (d *delivery) sendEphemeral(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
	m, err := needMessage(o, inc)
	if err != nil {
		return sendResult{}, err
	}
	if o.Body.User == "" {
		return sendResult{}, &badMessage{reason: "ephemeral without a user"}
	}
	ch, err := incidentChannel(o, inc)
	if err != nil {
		return sendResult{}, err
	}
	return sendResult{}, d.s.cfg.Chat.Ephemeral(ctx, ch, o.Body.User, m)
}

// sendWebhook calls the paging webhook, whose URL is read from the plan
// at send time so that it is never stored.
func (d *delivery) sendWebhook(ctx context.Context, o Outgoing, inc *Incident) (sendResult, error) {
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
func (d *delivery) sendPin(ctx context.Context, o Outgoing) (sendResult, error) {
	var ch, ts string
	var found bool
	err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		ch, ts, found, err = tx.Ref(o.Body.UpdateRef)
		return err
	})
	if err != nil {
		return sendResult{}, err
	}
	if !found {
		return sendResult{}, &badMessage{reason: "no message " + o.Body.UpdateRef + " to pin"}
	}
	return sendResult{}, d.s.cfg.Chat.Pin(ctx, ch, ts)
}
