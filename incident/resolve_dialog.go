package incident

import (
	"context"
	"fmt"
	"strings"
)

// Inputs of ResolveRequest an Error can be about.
const (
	FieldResolution    = "resolution"
	FieldImpact        = "impact"
	FieldCause         = "cause"
	FieldRecoveryPoint = "recovery_point"
)

// ResolveRequest is the resolve dialog's answer: what ended the incident
// (required), and for the postmortem the impact, the root cause and
// trigger, and the recovery point (WHEN, as /incident recovery-point
// takes it), each "" when not given. Texts are as typed, not escaped.
type ResolveRequest struct {
	UserID                                   string // Slack member ID of who submitted it
	ChannelID                                string // the incident's channel
	Resolution, Impact, Cause, RecoveryPoint string
}

// ResolveWith records what the resolve dialog says and resolves the
// incident of r.ChannelID, in one change: all of it, or, when anything is
// refused, nothing. Refused with an *Error whose Field names the input: an
// incident already resolved (ECONFLICT, resolution: a second resolver's
// impact and cause must not land beside the first's resolution), a
// recovery point drbot cannot read, a text over MaxText (EINVALID).
func (s *Engine) ResolveWith(ctx context.Context, r ResolveRequest) (Reply, error) {
	r.Resolution = strings.TrimSpace(cleanText(r.Resolution))
	if r.Resolution == "" {
		return Reply{}, &Error{Code: EINVALID, Message: "Say what ended the incident.", Field: FieldResolution}
	}
	for _, f := range []struct{ field, what, text string }{
		{FieldResolution, "summary", r.Resolution}, {FieldImpact, "impact", r.Impact}, {FieldCause, "cause", r.Cause},
	} {
		if err := checkLength(f.what, f.text); err != nil {
			return Reply{}, onField(err, f.field)
		}
	}
	id, err := s.incidentOfChannel(ctx, r.ChannelID, CmdResolve)
	if err != nil {
		return Reply{}, err
	}
	var reply Reply
	err = s.update(ctx, id, func(o *op) error {
		if o.inc.State == StateResolved {
			return &Error{Code: ECONFLICT, Field: FieldResolution, Message: fmt.Sprintf(
				"Incident #%d was already resolved by %s at %s: nothing of this dialog was recorded. Impact and cause can still be added with /incident impact and /incident cause.",
				o.inc.ID, mention(o.inc.ResolvedBy), o.clock(o.inc.ResolvedAt))}
		}
		o.workAck(r.UserID, "by submitting the resolve dialog", "")
		if when := strings.TrimSpace(r.RecoveryPoint); when != "" {
			if _, err := o.recoveryPoint(r.UserID, when); err != nil {
				return onField(err, FieldRecoveryPoint)
			}
		}
		if impact := strings.TrimSpace(cleanText(r.Impact)); impact != "" {
			o.impact(r.UserID, impact)
		}
		if cause := strings.TrimSpace(cleanText(r.Cause)); cause != "" {
			o.rootCause(r.UserID, cause)
		}
		var err error
		reply, err = o.resolve(r.UserID, r.Resolution)
		return err
	})
	return reply, err
}

// onField sets the Field of a domain error err, which is about that input.
func onField(err error, field string) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
