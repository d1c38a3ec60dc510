package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

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

// storeError is a failure of drbot's own database met while sending: the
// message is retried like after a network error.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }

func (e *storeError) Unwrap() error { return e.err }

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

// failed records a failed send, answered at at: a retry (counted from
// at), or for good.
//
// The kinds of failure, in order: a post waiting for its conversation's
// pace; a message waiting for something drbot will provide; a rate limit
// (retry when Slack said); a channel that cannot be created
// (failedCreateChannel); a message that can never go (failedForGood); any
// other error (retry with backoff).
func (d *delivery) failed(ctx context.Context, o Outgoing, inc *Incident, err error, at time.Time) error {
	var (
		we *waitError
		pe *paceError
		he *holdError
		ce *ChatError
	)
	switch {
	case errors.As(err, &pe):
		d.log.Debug("outbox message paced", "id", o.ID, "kind", o.Kind, "conversation", pe.conv, "until", pe.until)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, pe.until, pe.Error()) })

	case errors.As(err, &he):
		d.log.Debug("outbox message held", "id", o.ID, "kind", o.Kind, "until", he.until)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, he.until, he.Error()) })

	case errors.As(err, &we):
		due := at.Add(capped(waitBase, o.Attempts, waitMax))
		d.log.Debug("outbox message waits", "id", o.ID, "kind", o.Kind, "reason", we.reason, "until", due)
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, we.reason) })

	case errors.As(err, &ce) && ce.RetryAfter > 0:
		due := at.Add(time.Duration(ce.RetryAfter) * time.Second)
		d.log.Warn("rate limited; retrying when Slack said", "id", o.ID, "kind", o.Kind, "retry_after_s", ce.RetryAfter)
		if spec, _ := sendSpecOf(o.Kind); spec.heldTogether {
			d.s.holds.hold(o.Kind, due)
		}
		return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, err.Error()) })
	}

	msg := err.Error()
	code, permanent := permanentCode(err)
	if permanent && o.Kind == OutCreateChannel {
		return d.failedCreateChannel(ctx, o, inc, err, code, at)
	}
	var bm *badMessage
	if permanent && o.Kind == OutPin {
		// A pin is a convenience (the message is posted): not worth a
		// notice in the channel when Slack refuses it.
		d.log.Warn("pin refused; not pinned", "id", o.ID, "incident", o.IncidentID, "ref", o.Body.UpdateRef, "code", code)
		return d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, msg) })
	}
	if errors.As(err, &bm) && bm.quiet {
		d.log.Warn("outbox message dropped", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID, "reason", bm.reason)
		return d.update(ctx, o, func(tx Tx) error { return tx.Drop(o.ID, msg) })
	}
	if _, reason, _ := chatReason(err); reason == ReasonChannelArchived && postsToIncidentChannel(o, inc) {
		return d.failedArchived(ctx, o, err, at)
	}
	if permanent {
		return d.failedForGood(ctx, o, inc, err, code, at)
	}

	due := at.Add(backoff(o.Attempts))
	d.log.Warn("outbox delivery failed; retrying", "id", o.ID, "kind", o.Kind, "attempts", o.Attempts+1, "err", err, "next", due)
	return d.update(ctx, o, func(tx Tx) error { return tx.Retry(o.ID, due, msg) })
}

// failedCreateChannel keeps retrying a channel that cannot be created:
// without its channel an incident cannot be worked, and what stops it (a
// missing scope, a workspace rule) is fixed by an admin, not by time. The
// first failure is recorded and told to whoever declared the incident.
func (d *delivery) failedCreateChannel(ctx context.Context, o Outgoing, inc *Incident, err error, code string, at time.Time) error {
	msg := err.Error()
	due := at.Add(backoff(o.Attempts))
	d.log.Error("cannot create the incident channel", "id", o.ID, "incident", o.IncidentID, "err", err, "next", due)
	return d.update(ctx, o, func(tx Tx) error {
		if o.Attempts == 0 {
			line := fmt.Sprintf("could not create the incident channel: %s", code)
			if err := d.recordFailure(tx, o, inc, line, false, at); err != nil {
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

// failedForGood drops a message that can never be sent, records why in
// the timeline (and the incident channel when it can hear it), and
// escalates a page that cannot arrive.
func (d *delivery) failedForGood(ctx context.Context, o Outgoing, inc *Incident, err error, code string, at time.Time) error {
	msg := err.Error()
	line := fmt.Sprintf("could not %s: %s", purpose(o), code)
	if ce := (*ChatError)(nil); errors.As(err, &ce) && ce.User != "" && o.Kind == OutInvite {
		// One member of an invite: the others are in the channel.
		line = fmt.Sprintf("could not invite the member %s to the channel (the others were invited): %s", ce.User, code)
	}
	d.log.Error("outbox message dropped", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID, "err", err)
	// Telling the incident channel about a failed post to the
	// incident channel would fail the same way.
	notice := !(o.Body.Channel == "" && (o.Kind == OutPost || o.Kind == OutUpdate))
	var escalated string
	err = d.update(ctx, o, func(tx Tx) error {
		escalated = ""
		if err := tx.Drop(o.ID, msg); err != nil {
			return err
		}
		if err := d.recordFailure(tx, o, inc, line, notice, at); err != nil {
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
		// The timer loop sleeps until the escalation's old due time
		// (or 30 s): wake it, so that the next contact is paged now.
		d.s.Wake()
	}
	return err
}

// recordFailure writes a delivery_failed event, at at, in the incident's
// timeline and, when notice is set, a post saying it in the incident
// channel.
func (d *delivery) recordFailure(tx Tx, o Outgoing, inc *Incident, line string, notice bool, at time.Time) error {
	if o.IncidentID == 0 {
		return nil
	}
	e := &Event{
		IncidentID: o.IncidentID, At: at, Kind: KindDeliveryFailed, Text: line,
		Data: map[string]string{"outbox_kind": string(o.Kind)},
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
	return "deliver a " + string(o.Kind) + " message"
}

// escapeOutbox escapes text for Slack mrkdwn so that it is shown as typed.
var escapeOutbox = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
