package postgres

import (
	"context"
	"errors"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/internal/testenv"
	"github.com/drbot-dev/drbot/storage/internal/sqltx"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// openURL opens the database at url with a fixed clock and closes it at
// the end of the test.
func openURL(tb testing.TB, url string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), Config{URL: url, Now: func() time.Time { return t0 }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openTest opens a new, empty database.
func openTest(tb testing.TB) *Store {
	tb.Helper()
	return openURL(tb, testenv.PostgresDB(tb))
}

func TestStore(t *testing.T) {
	incidenttest.TestStore(t, incidenttest.StoreOpener{
		New:   func(t *testing.T) incident.Store { return openTest(t) },
		Again: func(t *testing.T, s incident.Store) incident.Store { return openURL(t, s.(*Store).rawURL) },
	})
}

// TestTimelineAppendOnly goes around the Tx, with raw SQL: the database
// itself refuses to change history.
func TestTimelineAppendOnly(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx incident.Tx) error {
		if err := tx.CreateIncident(&incident.Incident{}); err != nil {
			return err
		}
		return tx.Append(&incident.Event{IncidentID: 1, At: t0, Kind: incident.KindNote, Text: "original"})
	}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE timeline SET text = 'rewritten'", "DELETE FROM timeline", "TRUNCATE timeline"} {
		_, err := s.pool.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only error", stmt, err)
		}
	}
	// A View's transaction is READ ONLY in the database too.
	err := s.View(ctx, func(tx incident.Tx) error {
		_, err := tx.(*sqltx.Tx).Conn.(*conn).tx.Exec(ctx, "DELETE FROM kv")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("raw write in a View: got %v, want PostgreSQL's read-only error", err)
	}
}

// TestMigrations: reopening applies nothing; a database migrated by a
// newer drbot is refused; a read-only store does not migrate.
func TestMigrations(t *testing.T) {
	url := testenv.PostgresDB(t)
	ctx := context.Background()
	if _, err := Open(ctx, Config{URL: url, ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "not a drbot database") {
		t.Errorf("read-only open of an empty database: got %v, want not a drbot database", err)
	}
	s := openURL(t, url)
	s2 := openURL(t, url)
	var n int
	if err := s2.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema_migrations after two opens: %d rows (%v), want 1", n, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations VALUES (999, '999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Config{URL: url}); err == nil || !strings.Contains(err.Error(), "newer drbot") {
		t.Errorf("open of a database from a newer drbot: got %v", err)
	}
	ro, err := Open(ctx, Config{URL: url, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Update(ctx, func(incident.Tx) error { return nil }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update on a read-only store: %v, want ErrReadOnly", err)
	}
}

// TestPasswordNeverShown: errors and the URL a store shows carry no
// password, whether the connection fails or the URL is malformed.
func TestPasswordNeverShown(t *testing.T) {
	server := testenv.Postgres(t)
	u, err := neturl.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-Pa55word"
	u.User = neturl.UserPassword("drbot", secret)
	ctx := context.Background()
	_, err = Open(ctx, Config{URL: u.String()}) // a wrong password
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("wrong password: got %v, want an error naming the URL without its password", err)
	}
	for _, raw := range []string{
		"postgres://drbot:" + secret + "@127.0.0.1:1/x?connect_timeout=1",
		"postgres://drbot@127.0.0.1:1/x?password=" + secret + "&connect_timeout=1",
		"postgres://drbot:" + secret + "@[::1/x", // does not parse
	} {
		_, err := Open(ctx, Config{URL: raw})
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%s): got %v, want an error without the password", Redact(raw), err)
		}
		if strings.Contains(Redact(raw), secret) {
			t.Errorf("Redact(%q) = %q", raw, Redact(raw))
		}
	}
}

// TestMissingSchema: a ?search_path= naming no schema that exists is said
// as such (docs/postgresql.md: create the schema first), and creates nothing.
func TestMissingSchema(t *testing.T) {
	u, err := neturl.Parse(testenv.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "nosuch")
	u.RawQuery = q.Encode()
	_, err = Open(context.Background(), Config{URL: u.String()})
	if err == nil || !strings.Contains(err.Error(), "the search_path names none that exists; create it first (CREATE SCHEMA name)") {
		t.Errorf("got %v, want an error saying the search_path's schema does not exist", err)
	}
}

func TestPingAfterClose(t *testing.T) {
	s := openTest(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store: got no error")
	}
}
