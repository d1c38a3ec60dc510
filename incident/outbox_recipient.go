package incident

import (
	"context"
	"fmt"
)

// emailLookup is one email lookup of a delivery: lanes that need the same
// address wait on done for the first lane's answer.
type emailLookup struct {
	done chan struct{}
	user string
	err  error
}

// directory is the chat's user directory, or a permanent error when the
// engine has none.
func (d *delivery) directory() (Directory, error) {
	if d.s.cfg.Directory == nil {
		return nil, &badMessage{reason: "no user directory to look people up in"}
	}
	return d.s.cfg.Directory, nil
}

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
	dir, err := d.directory()
	if err != nil {
		l.err = err
		return "", err
	}
	user, err := dir.LookupUserByEmail(ctx, email)
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
