package incident

import (
	"context"
	"fmt"
	"strconv"
)

// Nothing pages after resolve.
//
// A page DM, or the paging webhook's trigger, may still wait in the
// outbox when the incident is resolved: on a 429 Retry-After, on a 5xx
// backoff. The outbox worker does not send it then (afterResolve), and
// resolve does not edit a page that never went out. A page in flight
// while the incident is resolved is closed as soon as its delivery is
// recorded (closeLatePage). The webhook hears acknowledge and resolve only
// for a role it was told of (a trigger delivered, hookToldKey).

// delivered reports whether the message remembered under ref went out.
func (o *op) delivered(ref string) bool {
	if o.err != nil {
		return false
	}
	_, _, ok, err := o.tx.Ref(ref)
	if err != nil {
		o.fail(fmt.Errorf("look up message %s: %w", ref, err))
		return false
	}
	return ok
}

// hookToldKey is the key/value state that says the paging webhook was
// told of role's pages in incident id (a trigger was delivered).
func hookToldKey(id int64, role string) string {
	return "webhook/inc/" + strconv.FormatInt(id, 10) + "/" + role + "/told"
}

// afterResolve says why message o, of incident inc, must not be sent: a
// page of a resolved incident, its webhook trigger, or an acknowledge or
// resolve the webhook has no trigger for. "" when it goes.
func (d *delivery) afterResolve(ctx context.Context, o Outgoing, inc *Incident) (string, error) {
	if inc == nil || inc.State == StateOpen {
		return "", nil
	}
	switch {
	case o.Kind == OutDM:
		if _, _, ok := parsePageRef(o.IncidentID, o.Body.Ref); ok {
			return "not sent: the incident was resolved before this page went out", nil
		}
	case o.Kind == OutWebhook && o.Body.Hook == hookTrigger:
		return "not sent: the incident was resolved before this page went out", nil
	case o.Kind == OutWebhook && o.Body.Hook != "":
		var told bool
		err := d.s.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			_, told, err = tx.Get(hookToldKey(o.IncidentID, o.Body.HookRole))
			return err
		})
		if err != nil {
			return "", fmt.Errorf("deliver outbox message %d: %w", o.ID, err)
		}
		if !told {
			return "not sent: the paging webhook was never told of a page of " + o.Body.HookRole, nil
		}
	}
	return "", nil
}

// recordHookTold is recorded with a delivered trigger of the paging
// webhook.
func recordHookTold(o Outgoing) func(Tx) error {
	return func(tx Tx) error { return tx.Put(hookToldKey(o.IncidentID, o.Body.HookRole), "1") }
}

// closeLatePage is recorded with a delivered page DM: when its incident
// was resolved while the page was on its way, the page is closed at once
// (resolve did not close it: it had not gone out).
func (s *Engine) closeLatePage(tx Tx, o Outgoing) error {
	role, _, ok := parsePageRef(o.IncidentID, o.Body.Ref)
	if !ok {
		return nil
	}
	inc, err := tx.Incident(o.IncidentID)
	if err != nil {
		return fmt.Errorf("incident %d of a page: %w", o.IncidentID, err)
	}
	if inc.State == StateOpen {
		return nil
	}
	op, err := s.newOp(tx, inc)
	if err != nil {
		return err
	}
	rp := op.rolePage(role)
	if rp == nil {
		return nil
	}
	who := o.Body.Contact
	if who == "" {
		who = o.Body.User
	}
	op.edit(op.incDMLane(who), o.Body.Ref, op.pageClosedMessage(rp), "close the page of "+who)
	return op.err
}
