package incidenttest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestMemStore(t *testing.T) {
	incidenttest.TestStore(t, incidenttest.StoreOpener{
		New: func(*testing.T) incident.Store { return incidenttest.NewMemStore() },
	})
}

func update(t *testing.T, s *incidenttest.MemStore, fn func(incident.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// The inspection methods tests use to see what the engine left behind.
func TestMemStoreMessagesAndTimers(t *testing.T) {
	s := incidenttest.NewMemStore()
	update(t, s, func(tx incident.Tx) error {
		for _, o := range []incident.Outgoing{
			{Lane: "A", Kind: incident.OutPost},
			{Lane: "B", Kind: incident.OutDM},
			{Lane: "A", Kind: incident.OutPost},
		} {
			if err := tx.Enqueue(&o); err != nil {
				return err
			}
		}
		for _, tm := range []incident.Timer{{Key: "b", Due: t0}, {Key: "a", Due: t0.Add(time.Minute)}, {Key: "c", Due: t0}} {
			if err := tx.SetTimer(tm); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx incident.Tx) error {
		if err := tx.Sent(1); err != nil {
			return err
		}
		if err := tx.Retry(3, t0, "ratelimited"); err != nil {
			return err
		}
		return tx.Drop(2, "user_not_found")
	})
	type state struct {
		ID       int64
		State    string
		Attempts int
		Err      string
	}
	var states []state
	for _, m := range s.Messages() {
		states = append(states, state{m.ID, m.State, m.Attempts, m.LastError})
	}
	want := []state{
		{1, incidenttest.OutSent, 0, ""},
		{2, incidenttest.OutDropped, 1, "user_not_found"},
		{3, incidenttest.OutPending, 1, "ratelimited"},
	}
	if diff := cmp.Diff(states, want); diff != "" {
		t.Errorf("Messages (-got +want):\n%s", diff)
	}
	var keys []string
	for _, tm := range s.Timers() {
		keys = append(keys, tm.Key)
	}
	if diff := cmp.Diff(keys, []string{"b", "c", "a"}); diff != "" {
		t.Errorf("Timers, by due then key (-got +want):\n%s", diff)
	}
}

func TestMemStorePing(t *testing.T) {
	s := incidenttest.NewMemStore()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	down := errors.New("disk gone")
	s.SetPingError(down)
	if err := s.Ping(context.Background()); !errors.Is(err, down) {
		t.Errorf("Ping = %v, want %v", err, down)
	}
}
