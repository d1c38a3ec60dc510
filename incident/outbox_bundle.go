package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Pages bundled per person.
//
// A person's direct messages allow about one post a second (postInterval),
// so one person paged by many incidents at once would get the last page a
// minute late if each went on its own. Each incident's DMs to a person have
// a lane of their own (op.incDMLane), so the pages waiting for one person
// are lane heads of one delivery pass together; they go out as ONE
// message listing them all, each with its own Acknowledge button (GoAlert
// bundles the same way). Each page is recorded sent under its own ref,
// pointing at that one message, and the message's parts are kept in the
// key/value state under bundleKey: a later edit of one page (acknowledged,
// no longer needed, closed on resolve) changes its part and leaves the
// others' buttons (sendUpdate, bundledUpdate).

// MaxBundle is how many pages one bundled message lists. Each adds an
// Acknowledge button (Slack takes 25 in an actions block, 50 blocks in a
// message) and about 200 characters of text (about 12,000 for the whole
// message; a longer one keeps its buttons and has its text shortened),
// which bot checks against its Slack limits when it compiles. A person's
// DM takes about a post a second: with an on-call team paged by 50
// incidents in 5 s (10 a second), 20 a message keeps up even when a post
// is refused once (429) and the next waits two seconds. More pages go as
// further bundles.
const MaxBundle = 20

// bundlePart is one page of a bundled message: its ref, its incident and
// what it shows now.
type bundlePart struct {
	Ref      string  `json:"ref"`
	Incident int64   `json:"incident"`
	Message  Message `json:"message"`
}

// bundleKey is the key/value state that keeps the parts of the bundled
// message ts in conversation ch.
func bundleKey(ch, ts string) string { return "bundle/" + ch + "/" + ts }

// isPage reports whether o is a page DM (its ref is a page's).
func isPage(o Outgoing) bool {
	if o.Kind != OutDM || o.Body.Message == nil {
		return false
	}
	_, _, ok := parsePageRef(o.IncidentID, o.Body.Ref)
	return ok
}

// bundles splits a phase's lane heads into units sent as one message each:
// the pages to one person (contact or member) together, at most MaxBundle
// to a unit, every other message alone. Order is kept: a unit stands where
// its first message stood.
func bundles(todo []Outgoing) [][]Outgoing {
	var units [][]Outgoing
	open := map[string]int{} // recipient -> index of their unit still filling
	for _, o := range todo {
		if !isPage(o) {
			units = append(units, []Outgoing{o})
			continue
		}
		who := "c/" + o.Body.Contact
		if o.Body.Contact == "" {
			who = "u/" + o.Body.User
		}
		if i, ok := open[who]; ok && len(units[i]) < MaxBundle {
			units[i] = append(units[i], o)
			continue
		}
		open[who] = len(units)
		units = append(units, []Outgoing{o})
	}
	return units
}

// bundleMessage is the one message listing parts: each page's text, and
// its buttons named with its incident's number.
func bundleMessage(parts []bundlePart) Message {
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: %d incidents paged you at once:", len(parts))
	var buttons []Button
	for _, p := range parts {
		b.WriteString("\n\n" + p.Message.Text)
		for _, bt := range p.Message.Buttons {
			bt.Label += " #" + strconv.FormatInt(p.Incident, 10)
			buttons = append(buttons, bt)
		}
	}
	m := Message{Text: b.String(), Buttons: buttons}
	if len(buttons) > 0 {
		m.Context = "Press Acknowledge #N to stop the escalation of incident #N's page to the next contact."
	}
	return m
}

// deliverUnit sends a unit of bundles: one message alone, or the pages to
// one person as one message.
func (d *delivery) deliverUnit(ctx context.Context, unit []Outgoing) (sent int, errs []error) {
	if len(unit) == 1 {
		ok, err := d.deliver(ctx, unit[0])
		if ok {
			sent = 1
		}
		if err != nil {
			errs = append(errs, err)
		}
		return sent, errs
	}
	type page struct {
		o   Outgoing
		inc *Incident
	}
	var pages []page
	for _, o := range unit {
		inc, keep, err := d.prepare(ctx, o)
		if err != nil {
			errs = append(errs, err)
		}
		if keep {
			pages = append(pages, page{o, inc})
		}
	}
	if len(pages) == 1 {
		n, more := d.deliverUnit(ctx, []Outgoing{pages[0].o})
		return n, append(errs, more...)
	}
	if len(pages) == 0 {
		return 0, errs
	}
	parts := make([]bundlePart, len(pages))
	for i, p := range pages {
		parts[i] = bundlePart{Ref: p.o.Body.Ref, Incident: p.o.IncidentID, Message: namedChannel(*p.o.Body.Message, p.inc)}
	}
	// Encoded before the send, so that nothing but the record comes
	// between Slack's answer and the pages marked sent.
	state, err := json.Marshal(parts)
	if err != nil {
		return 0, append(errs, fmt.Errorf("encode the bundle of %d pages: %w", len(parts), err))
	}
	first := pages[0]
	res, user, err := d.dm(ctx, first.o, first.inc, bundleMessage(parts))
	at := d.s.now() // when Slack answered
	if err != nil {
		if ctx.Err() != nil {
			return 0, errs
		}
		for _, p := range pages {
			if err := d.failed(ctx, p.o, p.inc, err, at); err != nil {
				errs = append(errs, err)
			}
		}
		return 0, errs
	}
	err = d.update(ctx, first.o, func(tx Tx) error {
		for _, p := range pages {
			if err := d.recordSent(tx, p.o, p.inc, res, at); err != nil {
				return err
			}
		}
		return tx.Put(bundleKey(res.channel, res.ts), string(state))
	})
	if err != nil {
		// Gone out, not marked sent: the pages go again (at least
		// once, never lost).
		return len(pages), append(errs, err)
	}
	d.log.Info("pages bundled in one direct message", "pages", len(pages), "user", user)
	for _, p := range pages {
		d.countPage(p.o)
	}
	return len(pages), errs
}

// bundledUpdate returns the message to put in place of the bundled
// message ch/ts when its part ref becomes m, and records the new parts;
// found is false when ch/ts is no bundle. It runs in the lane of the
// page it edits, under the delivery's bundle lock: the edits of two pages
// of one bundle are made one after the other, each keeping the other's.
func (d *delivery) bundledUpdate(ctx context.Context, ch, ts, ref string, m Message, send func(Message) error) (found bool, err error) {
	d.bundleMu.Lock()
	defer d.bundleMu.Unlock()
	key := bundleKey(ch, ts)
	var raw string
	err = d.s.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		raw, found, err = tx.Get(key)
		return err
	})
	if err != nil {
		return false, &storeError{fmt.Errorf("read %s: %w", key, err)}
	}
	if !found {
		return false, nil
	}
	var parts []bundlePart
	if err := json.Unmarshal([]byte(raw), &parts); err != nil {
		return true, &badMessage{reason: fmt.Sprintf("the bundle %s cannot be read: %v", key, err)}
	}
	for i := range parts {
		if parts[i].Ref == ref {
			parts[i].Message = m
		}
	}
	if err := send(bundleMessage(parts)); err != nil {
		return true, err
	}
	state, err := json.Marshal(parts)
	if err != nil {
		return true, &storeError{err}
	}
	err = d.s.cfg.Store.Update(ctx, func(tx Tx) error { return tx.Put(key, string(state)) })
	if err != nil {
		return true, &storeError{fmt.Errorf("write %s: %w", key, err)}
	}
	return true, nil
}
