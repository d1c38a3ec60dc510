package console

import (
	"context"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// SerialOutbox wraps the store the console's service uses so that the
// outbox is delivered one message at a time, oldest first.
//
// The service delivers the heads of several lanes at once (one slow Slack
// call must not hold up the other conversations). On a terminal that would
// print the messages of one moment in a different order on every run, and
// "press N", which counts the buttons of the newest message, would press
// different buttons. Handing the worker a single due message per read
// makes it deliver in the order drbot wrote them, every time; nothing else
// about the store changes.
func SerialOutbox(s incident.Store) incident.Store { return serialStore{s} }

type serialStore struct{ incident.Store }

func (s serialStore) View(ctx context.Context, fn func(incident.Tx) error) error {
	return s.Store.View(ctx, func(tx incident.Tx) error { return fn(serialTx{tx}) })
}

func (s serialStore) Update(ctx context.Context, fn func(incident.Tx) error) error {
	return s.Store.Update(ctx, func(tx incident.Tx) error { return fn(serialTx{tx}) })
}

type serialTx struct{ incident.Tx }

// DueOutgoing returns at most the oldest due lane head.
func (t serialTx) DueOutgoing(now time.Time, limit int) ([]incident.Outgoing, error) {
	return t.Tx.DueOutgoing(now, 1)
}
