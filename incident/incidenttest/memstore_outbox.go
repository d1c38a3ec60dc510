package incidenttest

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// The outbox of the MemStore: lanes, due messages, retries and drops.

func cloneOutgoing(o incident.Outgoing) incident.Outgoing {
	// The body holds slices and a pointer; a JSON round trip copies them
	// all, and is what the SQLite store does anyway.
	b, err := json.Marshal(o.Body)
	if err != nil {
		panic(fmt.Sprintf("incidenttest: encode outbox body: %v", err))
	}
	var body incident.OutBody
	if err := json.Unmarshal(b, &body); err != nil {
		panic(fmt.Sprintf("incidenttest: decode outbox body: %v", err))
	}
	o.Body = body
	return o
}

func (tx *memTx) Enqueue(o *incident.Outgoing) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if o.Lane == "" || o.Kind == "" {
		return incident.Errorf(incident.EINVALID, "enqueue %s on lane %s: lane and kind are required", o.Kind, o.Lane)
	}
	if _, err := json.Marshal(o.Body); err != nil {
		return fmt.Errorf("enqueue: encode body: %w", err)
	}
	m := tx.m
	m.nextOut++
	o.ID = m.nextOut
	stored := cloneOutgoing(*o)
	stored.Due = storedTime(o.Due)
	m.outbox[o.ID] = &StoredOutgoing{Outgoing: stored, State: OutPending}
	id := o.ID
	tx.onUndo(func() {
		delete(m.outbox, id)
		m.nextOut--
	})
	return nil
}

// heads returns, per lane, the oldest pending message.
func (m *MemStore) heads() []*StoredOutgoing {
	byLane := map[string]*StoredOutgoing{}
	for _, o := range m.outbox {
		if o.State != OutPending {
			continue
		}
		if h, ok := byLane[o.Lane]; !ok || o.ID < h.ID {
			byLane[o.Lane] = o
		}
	}
	out := make([]*StoredOutgoing, 0, len(byLane))
	for _, o := range byLane {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (tx *memTx) DueOutgoing(now time.Time, limit int) ([]incident.Outgoing, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	var out []incident.Outgoing
	for _, o := range tx.m.heads() {
		if o.Due.After(now) {
			continue
		}
		out = append(out, cloneOutgoing(o.Outgoing))
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// NextOutgoing returns the earliest Due among the lanes' oldest pending
// messages: a later message of a lane cannot go before its head. A zero
// Due (at once) is returned as the zero time.
func (tx *memTx) NextOutgoing() (time.Time, bool, error) {
	if err := tx.check(false); err != nil {
		return time.Time{}, false, err
	}
	var next time.Time
	found := false
	for _, o := range tx.m.heads() {
		if !found || o.Due.Before(next) {
			next, found = o.Due, true
		}
	}
	return next, found, nil
}

// setOut changes a pending message and records how to undo it. Settling
// a message that is not pending is an error, as in the SQLite store: the
// worker must never settle a message twice.
func (tx *memTx) setOut(id int64, what string, f func(o *StoredOutgoing)) error {
	if err := tx.check(true); err != nil {
		return err
	}
	o, ok := tx.m.outbox[id]
	if !ok {
		return incident.Errorf(incident.ENOTFOUND, "%s: outbox message %d not found", what, id)
	}
	if o.State != OutPending {
		return incident.Errorf(incident.ECONFLICT, "%s: outbox message %d is already %s", what, id, o.State)
	}
	prev := *o
	f(o)
	tx.onUndo(func() { *o = prev })
	return nil
}

func (tx *memTx) Sent(id int64) error {
	return tx.setOut(id, "sent", func(o *StoredOutgoing) { o.State = OutSent })
}

func (tx *memTx) Retry(id int64, due time.Time, lastErr string) error {
	return tx.setOut(id, "retry", func(o *StoredOutgoing) {
		o.Attempts++
		o.Due = storedTime(due)
		o.LastError = lastErr
	})
}

func (tx *memTx) Drop(id int64, lastErr string) error {
	// The attempt that made the caller give up counts, as in SQLite.
	return tx.setOut(id, "drop", func(o *StoredOutgoing) {
		o.State = OutDropped
		o.Attempts++
		o.LastError = lastErr
	})
}

func (tx *memTx) OutboxDepth() (int, error) {
	if err := tx.check(false); err != nil {
		return 0, err
	}
	n := 0
	for _, o := range tx.m.outbox {
		if o.State == OutPending {
			n++
		}
	}
	return n, nil
}
