package incidenttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
)

// The parts of TestStore about small state, bad input and concurrency.

func testKeyValue(t *testing.T, o StoreOpener) {
	s := o.New(t)
	var stored []bool
	mustUpdate(t, s, func(tx incident.Tx) error {
		writeAll(t, "put", tx.Put("email/a@example.com", "U0A"), tx.Put("email/a@example.com", "U0B"), tx.Put("empty", ""))
		for _, kv := range [][2]string{{"event/Ev01", "first"}, {"event/Ev01", "second"}, {"event/Ev02", "other"}} {
			ok, err := tx.PutIfAbsent(kv[0], kv[1])
			if err != nil {
				return err
			}
			stored = append(stored, ok)
		}
		return nil
	})
	if diff := cmp.Diff(stored, []bool{true, false, true}); diff != "" {
		t.Errorf("PutIfAbsent (-got +want):\n%s", diff)
	}
	mustView(t, s, func(tx incident.Tx) error {
		for _, tc := range []struct {
			key, want string
			ok        bool
		}{
			{"email/a@example.com", "U0B", true},
			{"event/Ev01", "first", true}, // the first value is kept
			{"event/Ev02", "other", true},
			{"empty", "", true},
			{"missing", "", false},
		} {
			got, ok, err := tx.Get(tc.key)
			if err != nil {
				return err
			}
			if got != tc.want || ok != tc.ok {
				t.Errorf("Get(%s) = %q %v, want %q %v", tc.key, got, ok, tc.want, tc.ok)
			}
		}
		return nil
	})
}

// testDeleteKeys: DeleteKeys deletes by exact prefix (characters such as
// "-", "_" and "%" mean themselves) and by the time an entry was last set,
// counts what it deleted, refuses an empty prefix and rolls back. The
// store stamps entries with its own clock, so the cutoffs are far from
// any on either side.
func testDeleteKeys(t *testing.T, o StoreOpener) {
	s := o.New(t)
	keys := []string{"event/Ev01", "event/Ev02", "event/ø", "eventual", "web/link/1", "web/link-used/1", "web/link_/1", "100%/x", "100x/x"}
	mustUpdate(t, s, func(tx incident.Tx) error {
		for _, k := range keys {
			if err := tx.Put(k, "v"); err != nil {
				return err
			}
		}
		return nil
	})
	// Each store's clock is its own (a test may fix it anywhere): cutoffs
	// before and after any clock a test would choose.
	past, future := time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	del := func(prefix string, before time.Time) int {
		t.Helper()
		var n int
		mustUpdate(t, s, func(tx incident.Tx) (err error) {
			n, err = tx.DeleteKeys(prefix, before)
			return err
		})
		return n
	}
	if n := del("event/", past); n != 0 {
		t.Errorf("DeleteKeys(event/, 1971) deleted %d, want 0: every entry is newer than 1971", n)
	}
	// Rolled back: nothing is deleted.
	errRollback := errors.New("roll back")
	if err := s.Update(context.Background(), func(tx incident.Tx) error {
		if _, err := tx.DeleteKeys("event/", future); err != nil {
			return err
		}
		return errRollback
	}); err != errRollback {
		t.Fatalf("rolled back DeleteKeys: %v", err)
	}
	for prefix, want := range map[string]int{"event/": 3, "web/link/": 1, "100%/": 1, "web/link_": 1} {
		if n := del(prefix, future); n != want {
			t.Errorf("DeleteKeys(%q, 9000) deleted %d, want %d", prefix, n, want)
		}
	}
	mustView(t, s, func(tx incident.Tx) error {
		for _, k := range keys {
			_, ok, err := tx.Get(k)
			if err != nil {
				return err
			}
			if gone := k != "eventual" && k != "web/link-used/1" && k != "100x/x"; ok == gone {
				t.Errorf("after DeleteKeys, %s set = %v, want %v", k, ok, !gone)
			}
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx incident.Tx) error { _, err := tx.DeleteKeys("", future); return err })
	if incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("DeleteKeys with no prefix: %v, want EINVALID", err)
	}
}

func testRefsAndPlans(t *testing.T, o StoreOpener) {
	s := o.New(t)
	mustUpdate(t, s, func(tx incident.Tx) error {
		writeAll(t, "refs and plans",
			tx.SetRef("inc/1/summary", "C1", "1700000000.000100"),
			tx.SetRef("inc/1/summary", "C1", "1700000000.000200"), // replaces
			tx.SavePlan("h1", []byte("version: 1\n")),
			tx.SavePlan("h1", []byte("ignored")), // the hash names the content
			tx.SavePlan("empty", nil))
		return nil
	})
	mustView(t, s, func(tx incident.Tx) error {
		if ch, ts, ok, err := tx.Ref("inc/1/summary"); ch != "C1" || ts != "1700000000.000200" || !ok || err != nil {
			t.Errorf("Ref = %q %q %v %v, want C1 1700000000.000200 true", ch, ts, ok, err)
		}
		if ch, ts, ok, err := tx.Ref("inc/1/missing"); ch != "" || ts != "" || ok || err != nil {
			t.Errorf("Ref(missing) = %q %q %v %v, want nothing", ch, ts, ok, err)
		}
		for hash, want := range map[string]string{"h1": "version: 1\n", "empty": ""} {
			got, err := tx.PlanSource(hash)
			if err != nil || string(got) != want {
				t.Errorf("PlanSource(%s) = %q, %v; want %q", hash, got, err, want)
			}
		}
		return nil
	})
}

func testInvalid(t *testing.T, o StoreOpener) {
	s := o.New(t)
	create(t, s, &incident.Incident{})
	for name, fn := range map[string]func(incident.Tx) error{
		"Enqueue without lane":  func(tx incident.Tx) error { return tx.Enqueue(&incident.Outgoing{Kind: incident.OutPost}) },
		"Enqueue without kind":  func(tx incident.Tx) error { return tx.Enqueue(&incident.Outgoing{Lane: "x"}) },
		"SetTimer without key":  func(tx incident.Tx) error { return tx.SetTimer(incident.Timer{Due: st0}) },
		"SavePlan without hash": func(tx incident.Tx) error { return tx.SavePlan("", []byte("x")) },
		"Append without kind":   func(tx incident.Tx) error { return tx.Append(&incident.Event{IncidentID: 1}) },
	} {
		wantCode(t, name, s.Update(context.Background(), fn), incident.EINVALID, "")
	}
	mustView(t, s, func(tx incident.Tx) error {
		evs, _ := tx.Timeline(1)
		n, _ := tx.OutboxDepth()
		_, timer, _ := tx.NextTimer()
		if len(evs) != 0 || n != 0 || timer {
			t.Errorf("refused writes were kept: %d events, %d messages, a timer %v", len(evs), n, timer)
		}
		return nil
	})
}

// testConcurrentWriters runs 8 goroutines of write transactions at once,
// with readers alongside, through one store and then two on the same data:
// every incident gets its own number, 1 to N with no gap, and its one event.
func testConcurrentWriters(t *testing.T, o StoreOpener) {
	const goroutines, perGoroutine = 8, 25
	stores := []incident.Store{o.New(t)}
	if o.Again != nil {
		stores = append(stores, o.Again(t, stores[0]))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range goroutines {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for i := range perGoroutine {
				err := s.Update(context.Background(), func(tx incident.Tx) error {
					inc := &incident.Incident{Scenario: fmt.Sprintf("g%d-%d", g, i), State: incident.StateOpen}
					if err := tx.CreateIncident(inc); err != nil {
						return err
					}
					if err := tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindDeclared, Text: inc.Scenario}); err != nil {
						return err
					}
					return tx.Enqueue(&incident.Outgoing{Lane: fmt.Sprintf("inc/%d", inc.ID), Kind: incident.OutPost})
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, transaction %d: %w", g, i, err)
					return
				}
			}
		})
		wg.Go(func() {
			for range perGoroutine {
				if err := s.View(context.Background(), func(tx incident.Tx) error {
					_, err := tx.Incidents(incident.Filter{Limit: 5})
					return err
				}); err != nil {
					errs <- fmt.Errorf("reader %d: %w", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustView(t, stores[0], func(tx incident.Tx) error {
		checkConcurrentWrites(t, tx, goroutines*perGoroutine)
		return nil
	})
}

func checkConcurrentWrites(t *testing.T, tx incident.Tx, n int) {
	t.Helper()
	incs, err := tx.Incidents(incident.Filter{})
	if err != nil || len(incs) != n {
		t.Fatalf("got %d incidents (%v), want %d", len(incs), err, n)
	}
	seen := map[string]bool{}
	for i, inc := range incs {
		if want := int64(n - i); inc.ID != want {
			t.Fatalf("incident %d of the list has number %d, want %d", i, inc.ID, want)
		}
		if seen[inc.Scenario] {
			t.Fatalf("%s stored twice", inc.Scenario)
		}
		seen[inc.Scenario] = true
		events, err := tx.Timeline(inc.ID)
		if err != nil || len(events) != 1 || events[0].Text != inc.Scenario {
			t.Fatalf("timeline of #%d: got %+v (%v), want its one event", inc.ID, events, err)
		}
	}
	due, err := tx.DueOutgoing(st0, 0)
	if err != nil || len(due) != n {
		t.Errorf("%d lanes due (%v), want %d", len(due), err, n)
	}
}

// testConcurrentPutIfAbsent: of writers recording the same key at once
// (instances receiving the same Slack event), exactly one is first.
func testConcurrentPutIfAbsent(t *testing.T, o StoreOpener) {
	stores := []incident.Store{o.New(t)}
	if o.Again != nil {
		stores = append(stores, o.Again(t, stores[0]))
	}
	const writers, keys = 8, 10
	var mu sync.Mutex
	firsts := map[string][]int{}
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprintf("event/Ev%02d", k)
				var first bool
				err := s.Update(context.Background(), func(tx incident.Tx) (err error) {
					first, err = tx.PutIfAbsent(key, fmt.Sprint(w))
					return err
				})
				if err != nil {
					t.Errorf("writer %d, %s: %v", w, key, err)
					return
				}
				if first {
					mu.Lock()
					firsts[key] = append(firsts[key], w)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	mustView(t, stores[0], func(tx incident.Tx) error {
		for k := range keys {
			key := fmt.Sprintf("event/Ev%02d", k)
			v, _, err := tx.Get(key)
			if len(firsts[key]) != 1 || err != nil || v != fmt.Sprint(firsts[key][0]) {
				t.Errorf("%s: first for writers %v, value %q (%v); want exactly one writer first, and its value kept", key, firsts[key], v, err)
			}
		}
		return nil
	})
}
