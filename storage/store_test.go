package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
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

// TestStore runs the conformance suite of incident.Store: Again opens a
// second Store on the same file, as a second process would.
func TestStore(t *testing.T) {
	incidenttest.TestStore(t, incidenttest.StoreOpener{
		New:   func(t *testing.T) incident.Store { return openTest(t) },
		Again: func(t *testing.T, s incident.Store) incident.Store { return openAt(t, s.(*Store).Path()) },
	})
}

// TestIncidentColumns: the columns queries select on follow the incident's
// JSON, times in Unix milliseconds.
func TestIncidentColumns(t *testing.T) {
	s := openTest(t)
	inc := incidenttest.FullIncident()
	update(t, s, func(tx incident.Tx) error { return tx.CreateIncident(inc) })
	inc.State, inc.ChannelID = incident.StateResolved, "C0NEW"
	update(t, s, func(tx incident.Tx) error { return tx.SaveIncident(inc) })
	var state, channel string
	var drill bool
	var declared int64
	err := s.read.QueryRow("SELECT state, channel_id, drill, declared_at FROM incidents WHERE id = 1").Scan(&state, &channel, &drill, &declared)
	if err != nil || state != string(incident.StateResolved) || channel != "C0NEW" || !drill || declared != inc.DeclaredAt.UnixMilli() {
		t.Errorf("columns: %s %s %v %d (%v), want resolved C0NEW true %d", state, channel, drill, declared, err, inc.DeclaredAt.UnixMilli())
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
	ms, err := LoadMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	extra := fstest.MapFS{
		"m/002_more.sql": {Data: []byte("CREATE TABLE more (x INTEGER) STRICT; INSERT INTO more VALUES (1);")},
	}
	for _, m := range ms {
		extra["m/"+m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
	}
	ms2, err := LoadMigrations(extra, "m")
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
	ms := []Migration{
		{Version: 1, Name: "001_init.sql", SQL: "SELECT 1"}, // already applied
		{Version: 2, Name: "002_ok.sql", SQL: "CREATE TABLE ok (x INTEGER)"},
		{Version: 3, Name: "003_bad.sql", SQL: "CREATE TABLE bad (x INTEGER); SELECT nonsense FROM nowhere"},
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
		if _, err := LoadMigrations(fsys, "m"); err == nil {
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

// TestViewCannotWrite: a View's writes fail with ErrReadOnly (the suite
// checks that they fail), and even SQL that slipped past the Tx could not
// write on the read pool.
func TestViewCannotWrite(t *testing.T) {
	s := openTest(t)
	newIncident(t, s, "x")
	for name, write := range map[string]func(incident.Tx) error{
		"CreateIncident": func(tx incident.Tx) error { return tx.CreateIncident(&incident.Incident{}) },
		"Put":            func(tx incident.Tx) error { return tx.Put("k", "v") },
	} {
		if err := s.View(context.Background(), write); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s: got %v, want ErrReadOnly", name, err)
		}
	}
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
