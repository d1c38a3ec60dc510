package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/google/go-cmp/cmp"
)

// t0 is the tests' wall clock: whole milliseconds, UTC.
var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// openAt opens the database file path with a fixed clock and closes it at
// the end of the test.
func openAt(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), Config{Path: path, Now: func() time.Time { return t0 }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// openTest opens a new database under tb.TempDir().
func openTest(tb testing.TB) *Store {
	tb.Helper()
	return openAt(tb, filepath.Join(tb.TempDir(), "drbot.db"))
}

// update runs fn in a write transaction and fails the test on error.
func update(tb testing.TB, s *Store, fn func(incident.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(tb testing.TB, s *Store, fn func(incident.Tx) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

// newIncident creates an incident of scenario and returns it.
func newIncident(tb testing.TB, s *Store, scenario string) *incident.Incident {
	tb.Helper()
	inc := &incident.Incident{Scenario: scenario, State: incident.StateOpen, DeclaredAt: t0}
	update(tb, s, func(tx incident.Tx) error { return tx.CreateIncident(inc) })
	return inc
}

// wantCode fails the test unless err is an *incident.Error with code and,
// when msg is not empty, that message.
func wantCode(tb testing.TB, err error, code, msg string) {
	tb.Helper()
	var e *incident.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got error %v, want an *incident.Error %s", err, code)
	}
	if e.Code != code || (msg != "" && e.Message != msg) {
		tb.Fatalf("got %s %q, want %s %q", e.Code, e.Message, code, msg)
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	s := openTest(t)
	tests := []struct {
		pragma string
		write  string // on the write pool
		read   string // on the read pool
	}{
		{"journal_mode", "wal", "wal"},
		{"foreign_keys", "1", "1"},
		{"synchronous", "1", "1"}, // NORMAL
		{"busy_timeout", "5000", "5000"},
		{"query_only", "0", "1"},
	}
	for _, tt := range tests {
		var w, r string
		if err := s.write.QueryRow("PRAGMA " + tt.pragma).Scan(&w); err != nil {
			t.Fatal(err)
		}
		if err := s.read.QueryRow("PRAGMA " + tt.pragma).Scan(&r); err != nil {
			t.Fatal(err)
		}
		if w != tt.write || r != tt.read {
			t.Errorf("PRAGMA %s: got write %s read %s, want %s and %s", tt.pragma, w, r, tt.write, tt.read)
		}
	}
}

func TestOpenOddFileName(t *testing.T) {
	dir := t.TempDir()
	// '?' and '#' would end the file name in a DSN if not escaped, and a
	// '%' would be decoded.
	path := filepath.Join(dir, "a?b#c%20d.db")
	s := openAt(t, path)
	newIncident(t, s, "x")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not where it was asked to be: %v", err)
	}
	if got, want := s.Path(), path; got != want {
		t.Errorf("Path: got %s, want %s", got, want)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := Open(context.Background(), Config{Path: path}); err == nil {
			s.Close()
			t.Errorf("Open(%q): got no error", path)
		}
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drbot.db")
	ctx := context.Background()
	s := openAt(t, path)
	newIncident(t, s, "before")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing: the data and the record are unchanged.
	s = openAt(t, path)
	view(t, s, func(tx incident.Tx) error {
		_, err := tx.Incident(1)
		return err
	})
	got := migrationsOf(t, s)
	if diff := cmp.Diff(got, []string{"001_init.sql"}); diff != "" {
		t.Errorf("schema_migrations (-got +want):\n%s", diff)
	}

	// A new migration is applied alone, on top.
	ms, err := loadMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	extra := fstest.MapFS{
		"m/002_more.sql": {Data: []byte("CREATE TABLE more (x INTEGER) STRICT; INSERT INTO more VALUES (1);")},
	}
	for _, m := range ms {
		extra["m/"+m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	ms2, err := loadMigrations(extra, "m")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := migrate(ctx, s.write, ms2, t0, s.log); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.read.QueryRow("SELECT count(*) FROM more").Scan(&n); err != nil || n != 1 {
		t.Errorf("migration 002 ran %d times (%v), want once", n, err)
	}
	got = migrationsOf(t, s)
	if diff := cmp.Diff(got, []string{"001_init.sql", "002_more.sql"}); diff != "" {
		t.Errorf("schema_migrations (-got +want):\n%s", diff)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// This binary does not know 002: the database is from a newer drbot.
	if s, err := Open(ctx, Config{Path: path}); err == nil {
		s.Close()
		t.Fatal("Open of a database migrated by a newer drbot: got no error")
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	s := openTest(t)
	ms := []migration{
		{version: 1, name: "001_init.sql", sql: "SELECT 1"}, // already applied
		{version: 2, name: "002_ok.sql", sql: "CREATE TABLE ok (x INTEGER)"},
		{version: 3, name: "003_bad.sql", sql: "CREATE TABLE bad (x INTEGER); SELECT nonsense FROM nowhere"},
	}
	if err := migrate(context.Background(), s.write, ms, t0, s.log); err == nil {
		t.Fatal("got no error from a failing migration")
	}
	if got := migrationsOf(t, s); !cmp.Equal(got, []string{"001_init.sql"}) {
		t.Errorf("schema_migrations after a failure: got %v, want only 001", got)
	}
	if _, err := s.read.Exec("SELECT * FROM ok"); err == nil {
		t.Error("migration 002 was kept though 003 failed")
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number": {"m/init.sql": {}},
		"zero":      {"m/000_init.sql": {}},
		"duplicate": {"m/001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

func migrationsOf(tb testing.TB, s *Store) []string {
	tb.Helper()
	rows, err := s.read.Query("SELECT name FROM schema_migrations ORDER BY version")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s := openTest(t)
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx incident.Tx) error {
		inc := &incident.Incident{Scenario: "x", State: incident.StateOpen}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		if err := tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindDeclared}); err != nil {
			return err
		}
		if err := tx.SetTimer(incident.Timer{Key: "k", Kind: "x", Due: t0}); err != nil {
			return err
		}
		if err := tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost}); err != nil {
			return err
		}
		if err := tx.Put("k", "v"); err != nil {
			return err
		}
		return fmt.Errorf("later: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want fn's error", err)
	}
	assertEmpty(t, s)
}

func TestUpdateRollsBackOnPanic(t *testing.T) {
	s := openTest(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic to go on", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx incident.Tx) error {
			if err := tx.CreateIncident(&incident.Incident{Scenario: "x"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	assertEmpty(t, s)
	// The connection went back to the pool clean: the next write works.
	newIncident(t, s, "after")
}

// assertEmpty fails unless every table of s is empty.
func assertEmpty(tb testing.TB, s *Store) {
	tb.Helper()
	for _, table := range []string{"incidents", "timeline", "timers", "outbox", "refs", "plans", "kv"} {
		var n int
		if err := s.read.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n != 0 {
			tb.Errorf("%s has %d rows, want none", table, n)
		}
	}
}

func TestViewCannotWrite(t *testing.T) {
	s := openTest(t)
	inc := newIncident(t, s, "x")
	writes := map[string]func(incident.Tx) error{
		"CreateIncident": func(tx incident.Tx) error { return tx.CreateIncident(&incident.Incident{}) },
		"SaveIncident":   func(tx incident.Tx) error { return tx.SaveIncident(inc) },
		"Append": func(tx incident.Tx) error {
			return tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindNote})
		},
		"SetTimer":     func(tx incident.Tx) error { return tx.SetTimer(incident.Timer{Key: "k"}) },
		"DeleteTimer":  func(tx incident.Tx) error { return tx.DeleteTimer("k") },
		"DeleteTimers": func(tx incident.Tx) error { return tx.DeleteTimers(1) },
		"Enqueue": func(tx incident.Tx) error {
			return tx.Enqueue(&incident.Outgoing{Lane: "l", Kind: incident.OutPost})
		},
		"Sent":     func(tx incident.Tx) error { return tx.Sent(1) },
		"Retry":    func(tx incident.Tx) error { return tx.Retry(1, t0, "") },
		"Drop":     func(tx incident.Tx) error { return tx.Drop(1, "") },
		"SetRef":   func(tx incident.Tx) error { return tx.SetRef("r", "C1", "1.2") },
		"SavePlan": func(tx incident.Tx) error { return tx.SavePlan("h", []byte("x")) },
		"Put":      func(tx incident.Tx) error { return tx.Put("k", "v") },
		"PutIfAbsent": func(tx incident.Tx) error {
			_, err := tx.PutIfAbsent("k", "v")
			return err
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			err := s.View(context.Background(), write)
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("got %v, want ErrReadOnly", err)
			}
		})
	}
	// Even SQL that slipped past the Tx could not write on the read pool.
	if _, err := s.read.Exec("DELETE FROM incidents"); err == nil {
		t.Error("the read pool wrote")
	}
}

// TestViewDoesNotWaitForWriter holds a write transaction open and reads:
// the read must see the last committed state at once, not wait for the
// write lock (it would wait busy_timeout, 5 s, and then fail).
func TestViewDoesNotWaitForWriter(t *testing.T) {
	s := openTest(t)
	newIncident(t, s, "committed")
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(context.Background(), func(tx incident.Tx) error {
			if err := tx.CreateIncident(&incident.Incident{Scenario: "uncommitted"}); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var got []string
	err := s.View(ctx, func(tx incident.Tx) error {
		incs, err := tx.Incidents(incident.Filter{})
		for _, inc := range incs {
			got = append(got, inc.Scenario)
		}
		return err
	})
	close(release)
	if err != nil {
		t.Fatalf("View while a write transaction is open: %v", err)
	}
	if diff := cmp.Diff(got, []string{"committed"}); diff != "" {
		t.Errorf("View saw (-got +want):\n%s", diff)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentWriters runs 8 goroutines of 200 write transactions each,
// first on one Store, then on two Stores of the same file (two processes,
// as drbot serve and a drbot command run together): no SQLITE_BUSY, and
// every row is there.
func TestConcurrentWriters(t *testing.T) {
	const goroutines, perGoroutine = 8, 200
	for _, stores := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d stores", stores), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "drbot.db")
			ss := make([]*Store, stores)
			for i := range ss {
				ss[i] = openAt(t, path)
			}
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					s := ss[g%stores]
					for i := range perGoroutine {
						err := s.Update(context.Background(), func(tx incident.Tx) error {
							inc := &incident.Incident{Scenario: fmt.Sprintf("g%d-%d", g, i), State: incident.StateOpen}
							if err := tx.CreateIncident(inc); err != nil {
								return err
							}
							return tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindDeclared, Text: inc.Scenario})
						})
						if err != nil {
							errs <- fmt.Errorf("goroutine %d transaction %d: %w", g, i, err)
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
			view(t, ss[0], func(tx incident.Tx) error {
				incs, err := tx.Incidents(incident.Filter{})
				if err != nil {
					return err
				}
				if got, want := len(incs), goroutines*perGoroutine; got != want {
					t.Fatalf("got %d incidents, want %d", got, want)
				}
				seen := map[string]bool{}
				for i, inc := range incs {
					if want := int64(len(incs) - i); inc.ID != want {
						t.Fatalf("incident %d of the list has number %d, want %d", i, inc.ID, want)
					}
					if seen[inc.Scenario] {
						t.Fatalf("%s stored twice", inc.Scenario)
					}
					seen[inc.Scenario] = true
					events, err := tx.Timeline(inc.ID)
					if err != nil {
						return err
					}
					if len(events) != 1 || events[0].Text != inc.Scenario {
						t.Fatalf("timeline of #%d: got %+v, want its one event", inc.ID, events)
					}
				}
				return nil
			})
		})
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drbot.db")
	if s, err := Open(ctx, Config{Path: path, ReadOnly: true}); err == nil {
		s.Close()
		t.Fatal("ReadOnly Open of a missing file: got no error")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadOnly Open created the file: %v", err)
	}

	rw := openAt(t, path)
	newIncident(t, rw, "x")
	ro, err := Open(ctx, Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	view(t, ro, func(tx incident.Tx) error {
		_, err := tx.Incident(1)
		return err
	})
	if err := ro.Ping(ctx); err != nil {
		t.Error(err)
	}
	err = ro.Update(ctx, func(tx incident.Tx) error { return nil })
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update on a ReadOnly store: got %v, want ErrReadOnly", err)
	}

	other := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, Config{Path: other, ReadOnly: true}); err == nil {
		s.Close()
		t.Error("ReadOnly Open of a file that is not a drbot database: got no error")
	}
}

func TestPing(t *testing.T) {
	s := openTest(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store: got no error")
	}
}

func TestContextCancelled(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Update(ctx, func(tx incident.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update: got %v, want context.Canceled", err)
	}
	if err := s.View(ctx, func(tx incident.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View: got %v, want context.Canceled", err)
	}
}
