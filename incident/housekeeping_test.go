package incident_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/storage"
)

// TestHousekeepingForgetsOldKeys: on a real SQLite file stamped by the
// engine's clock, the hourly housekeeping forgets a request signature
// after an hour and an event id after a day, not before, and a restart
// neither adds a second housekeeping timer nor moves it.
func TestHousekeepingForgetsOldKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := incidenttest.NewClock(svcT0)
	db, err := storage.Open(ctx, storage.Config{Path: filepath.Join(t.TempDir(), "drbot.db"), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	newEngine := func() *incident.Engine {
		e, err := incident.New(incident.Config{Plan: svcPlan(t), Store: db, Chat: incidenttest.NewFakeChat(), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := newEngine()
	housekeeping := func() []time.Time {
		t.Helper()
		var due []time.Time
		err := db.View(ctx, func(tx incident.Tx) error {
			all, err := tx.DueTimers(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0)
			for _, tm := range all {
				if tm.Key == "housekeeping" {
					due = append(due, tm.Due)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return due
	}
	if got := housekeeping(); !slices.Equal(got, []time.Time{svcT0.Add(time.Hour)}) {
		t.Fatalf("housekeeping timers after New: %v, want one due in an hour", got)
	}
	if seen, err := e.SeenEvent(ctx, "Ev01"); err != nil || seen {
		t.Fatalf("SeenEvent: %v %v", seen, err)
	}
	if fresh, err := e.FirstRequest(ctx, "v0=abc"); err != nil || !fresh {
		t.Fatalf("FirstRequest: %v %v", fresh, err)
	}
	clock.Set(svcT0.Add(30 * time.Minute))
	e = newEngine() // a restart keeps the timer as it was
	if got := housekeeping(); !slices.Equal(got, []time.Time{svcT0.Add(time.Hour)}) {
		t.Fatalf("housekeeping timers after a restart: %v, want the same one", got)
	}
	tickAt := func(d time.Duration) {
		t.Helper()
		clock.Set(svcT0.Add(d))
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tickAt(time.Hour + time.Second) // the signature is past its hour; the event id is kept
	if fresh, _ := e.FirstRequest(ctx, "v0=abc"); !fresh {
		t.Error("a request signature was still remembered an hour later")
	}
	if seen, _ := e.SeenEvent(ctx, "Ev01"); !seen {
		t.Error("an event id was forgotten after an hour; Slack may still retry it")
	}
	if got := housekeeping(); !slices.Equal(got, []time.Time{svcT0.Add(2*time.Hour + time.Second)}) {
		t.Errorf("next housekeeping: %v, want an hour after the last", got)
	}
	for h := 2; h <= 25; h++ {
		tickAt(time.Duration(h)*time.Hour + time.Second)
	}
	if seen, _ := e.SeenEvent(ctx, "Ev01"); seen {
		t.Error("an event id was still remembered after a day")
	}
}
