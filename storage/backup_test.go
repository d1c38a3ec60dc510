package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drbot-dev/drbot/incident"
)

// eventsPerIncident is how many events each transaction of writeLoop
// appends with its incident: a copy is consistent when every incident in
// it has exactly that many.
const eventsPerIncident = 3

// writeLoop creates incidents with their events, one per transaction,
// until ctx is done, and returns how many it committed.
func writeLoop(ctx context.Context, s *Store, committed *atomic.Int64) error {
	for ctx.Err() == nil {
		err := s.Update(ctx, func(tx incident.Tx) error {
			inc := &incident.Incident{Scenario: "x", State: incident.StateOpen}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			for range eventsPerIncident {
				if err := tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindNote}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			committed.Add(1)
		}
	}
	return nil
}

func TestBackupWhileWriting(t *testing.T) {
	s := openTest(t)
	ctx, stop := context.WithCancel(context.Background())
	var committed atomic.Int64
	done := make(chan error)
	go func() { done <- writeLoop(ctx, s, &committed) }()
	for committed.Load() < 50 { // let the writer get going
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("writer stopped: %v", err)
		default:
		}
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	err := s.Backup(context.Background(), dest)
	stop()
	if werr := <-done; werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}

	// The copy is a whole drbot database of its own: no -wal needed.
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(dest + suffix); err == nil {
			t.Errorf("the copy came with a %s file", suffix)
		}
	}
	c := openAt(t, dest)
	var n int
	view(t, c, func(tx incident.Tx) error {
		incs, err := tx.Incidents(incident.Filter{})
		if err != nil {
			return err
		}
		n = len(incs)
		for i, inc := range incs {
			if inc.ID != int64(n-i) {
				t.Fatalf("the copy's incidents are not 1..%d: %d at %d", n, inc.ID, i)
			}
			events, err := tx.Timeline(inc.ID)
			if err != nil {
				return err
			}
			if len(events) != eventsPerIncident {
				t.Fatalf("incident #%d has %d events in the copy, want %d: not a consistent snapshot", inc.ID, len(events), eventsPerIncident)
			}
		}
		return nil
	})
	if n < 50 || int64(n) > committed.Load() {
		t.Errorf("the copy has %d incidents; want between 50 and %d", n, committed.Load())
	}
	t.Logf("copied %d of %d incidents", n, committed.Load())
}

func TestBackupRefusesExistingFile(t *testing.T) {
	s := openTest(t)
	dest := filepath.Join(t.TempDir(), "copy.db")
	for _, content := range []string{"precious", ""} { // not even an empty file
		if err := os.WriteFile(dest, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		err := s.Backup(context.Background(), dest)
		if err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("got %v, want an error saying the file exists", err)
		}
		if got, _ := os.ReadFile(dest); string(got) != content {
			t.Errorf("the existing file was changed to %q", got)
		}
	}
	// Nor the database itself.
	if err := s.Backup(context.Background(), s.Path()); err == nil {
		t.Error("backup onto the database itself: got no error")
	}
}

func TestBackupFailureLeavesNoFile(t *testing.T) {
	s := openTest(t)
	newIncident(t, s, "x")
	dest := filepath.Join(t.TempDir(), "copy.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Backup(ctx, dest); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup left %s: %v", dest, err)
	}
	if err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir.db")); err == nil {
		t.Error("backup into a missing directory: got no error")
	}
}

// A ReadOnly store backs up too: a newer drbot can take a backup of an
// older database before it upgrades it.
func TestBackupReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drbot.db")
	newIncident(t, openAt(t, path), "x")
	ro, err := Open(context.Background(), Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := ro.Backup(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	view(t, openAt(t, dest), func(tx incident.Tx) error {
		_, err := tx.Incident(1)
		return err
	})
}
