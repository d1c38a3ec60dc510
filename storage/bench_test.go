package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// BenchmarkAppend appends one timeline event per write transaction, as the
// engine does for a single button press.
func BenchmarkAppend(b *testing.B) {
	s := openTest(b)
	inc := newIncident(b, s, "bench")
	for i := 0; b.Loop(); i++ {
		update(b, s, func(tx incident.Tx) error {
			return tx.Append(&incident.Event{IncidentID: inc.ID, At: t0, Kind: incident.KindNote, Text: "note"})
		})
	}
}

// BenchmarkAppendBatch appends events 1000 to a transaction, as a
// declaration writes its rows together; the time is per event.
func BenchmarkAppendBatch(b *testing.B) {
	const batch = 1000
	s := openTest(b)
	inc := newIncident(b, s, "bench")
	data := map[string]string{"role": "executor", "contact": "bob"}
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		update(b, s, func(tx incident.Tx) error {
			for i := 0; i < batch && done+i < b.N; i++ {
				if err := tx.Append(&incident.Event{IncidentID: inc.ID, At: t0, Kind: incident.KindPaged, Data: data}); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// BenchmarkDueOutgoing asks for the due lane heads with 10,000 sent
// messages kept and 100 lanes of 5 pending messages each.
func BenchmarkDueOutgoing(b *testing.B) {
	s := openTest(b)
	update(b, s, func(tx incident.Tx) error {
		for i := range 10_000 {
			o := &incident.Outgoing{Lane: fmt.Sprintf("inc/%d", i%100), Kind: incident.OutPost,
				Body: incident.OutBody{Message: &incident.Message{Text: "sent"}}}
			if err := tx.Enqueue(o); err != nil {
				return err
			}
			if err := tx.Sent(o.ID); err != nil {
				return err
			}
		}
		for i := range 500 {
			o := &incident.Outgoing{Lane: fmt.Sprintf("lane/%d", i%100), Kind: incident.OutPost, Due: t0,
				Body: incident.OutBody{Message: &incident.Message{Text: "pending"}}}
			if err := tx.Enqueue(o); err != nil {
				return err
			}
		}
		return nil
	})
	now := t0.Add(time.Second)
	for b.Loop() {
		view(b, s, func(tx incident.Tx) error {
			due, err := tx.DueOutgoing(now, 0)
			if len(due) != 100 {
				b.Fatalf("got %d due messages, want 100", len(due))
			}
			return err
		})
	}
}
