package incident

import (
	"context"
	"fmt"
	"time"
)

// KindChannelArchived is the timeline kind of an incident channel that
// was archived while its incident was open (Data["how"]: "event", Slack's
// channel_archive, or "is_archived", a post Slack refused), and
// KindChannelUnarchived of one brought back (channel_unarchive).
const (
	KindChannelArchived   EventKind = "channel_archived"
	KindChannelUnarchived EventKind = "channel_unarchived"
)

// How drbot learnt that an incident channel was archived.
const (
	ArchivedByEvent = "event"       // Slack's channel_archive event
	ArchivedOnPost  = "is_archived" // Slack refused a post: is_archived
)

// ChannelArchived records that the channel channelID was archived (by,
// a member ID, or "" when unknown) or, with archived false, unarchived.
// While an open incident's channel is archived drbot posts nothing into
// it (what it would have posted is dropped; the timeline keeps
// everything), and the commander is told by DM. A channel of no open
// incident, or a repeated event, changes nothing.
func (s *Engine) ChannelArchived(ctx context.Context, channelID, by string, archived bool) error {
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		inc, err := tx.IncidentByChannel(channelID)
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if inc.State != StateOpen || inc.ChannelArchived == archived {
			return nil
		}
		o, err := s.newOp(tx, inc)
		if err != nil {
			return err
		}
		if archived {
			o.channelArchived(by, ArchivedByEvent)
		} else {
			o.channelUnarchived(by)
		}
		return o.save()
	})
	if err != nil {
		return fmt.Errorf("channel %s archived=%v: %w", channelID, archived, err)
	}
	s.Wake()
	return nil
}

// channelArchived marks the incident's channel archived, says so in the
// timeline and to the commander.
func (o *op) channelArchived(by, how string) {
	inc := o.inc
	inc.ChannelArchived = true
	o.changed = true
	text := fmt.Sprintf("the incident channel #%s was archived while the incident is open; drbot stopped posting there", inc.ChannelName)
	o.event(KindChannelArchived, by, text, map[string]string{"channel": inc.ChannelID, "how": how})
	who := ""
	if by != "" {
		who = " by " + mention(by)
	}
	m := Message{Text: fmt.Sprintf(":warning: The channel of %s, #%s, was archived%s while the incident is open. drbot posts nothing there until it is unarchived; the incident's timeline goes on. Unarchive the channel to work the incident there again.",
		incidentName(inc), inc.ChannelName, who)}
	for _, c := range o.commanders() {
		o.dm(c, m, "", "tell the commander the incident channel was archived")
	}
}

// channelUnarchived marks the incident's channel usable again.
func (o *op) channelUnarchived(by string) {
	o.inc.ChannelArchived = false
	o.changed = true
	o.event(KindChannelUnarchived, by, fmt.Sprintf("the incident channel #%s was unarchived; drbot posts there again", o.inc.ChannelName),
		map[string]string{"channel": o.inc.ChannelID})
}

// commanders are whom to tell about the incident as a whole: the contact
// who acknowledged the commander role, else the one paged for it now,
// else whoever declared the incident.
func (o *op) commanders() []string {
	for _, rp := range o.inc.Roles {
		if rp.Role != commanderRole {
			continue
		}
		if rp.Acked && rp.AckedBy != "" {
			return []string{rp.AckedBy}
		}
		if c := rp.current(); c != "" {
			return []string{c}
		}
	}
	if cs := o.plan.Roles[commanderRole]; len(cs) > 0 {
		return cs[:1]
	}
	if o.inc.DeclaredBy != "" {
		return []string{o.inc.DeclaredBy}
	}
	return nil
}

// postsToIncidentChannel reports whether o goes to inc's channel (a post,
// an update, a pin, the topic, an invitation), so that is_archived means
// the incident channel was archived.
func postsToIncidentChannel(o Outgoing, inc *Incident) bool {
	if inc == nil || o.Kind == OutDM || o.Kind == OutEphemeral || o.Kind == OutCreateChannel {
		return false
	}
	if o.Kind == OutUpdate && o.Lane != fmt.Sprintf("inc/%d", inc.ID) {
		return false // an update of a direct message
	}
	return o.Body.Channel == "" || o.Body.Channel == inc.ChannelID
}

// failedArchived is a message Slack refused with is_archived in the
// incident channel: the channel was archived while the incident is open.
// The message is dropped and the archiving recorded as on the event.
func (d *delivery) failedArchived(ctx context.Context, o Outgoing, err error, at time.Time) error {
	d.log.Warn("the incident channel is archived; drbot stops posting there", "id", o.ID, "kind", o.Kind, "incident", o.IncidentID)
	return d.update(ctx, o, func(tx Tx) error {
		if err := tx.Drop(o.ID, err.Error()); err != nil {
			return err
		}
		inc, err := tx.Incident(o.IncidentID)
		if err != nil {
			return err
		}
		if inc.State != StateOpen || inc.ChannelArchived {
			return nil
		}
		op, err := d.s.newOp(tx, inc)
		if err != nil {
			return err
		}
		op.now = at
		op.channelArchived("", ArchivedOnPost)
		return op.save()
	})
}
