package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

func TestLeaseOneProcessPerDatabase(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{Path: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// A live process on this host (our parent, the test runner) holds it.
	host, _ := os.Hostname()
	other := lease{Command: "serve", PID: os.Getppid(), Host: host}
	putLease(t, st, other)
	if _, err := acquireLease(ctx, st, "console"); !errors.As(err, new(*errLeaseHeld)) {
		t.Fatalf("acquire while a live process holds it: got %v, want errLeaseHeld", err)
	}

	// A dead process (kill -9) does not hold it: a restart starts at once.
	other.PID = deadPID(t)
	putLease(t, st, other)
	release, err := acquireLease(ctx, st, "serve")
	if err != nil {
		t.Fatalf("acquire after the holder died: %v", err)
	}
	// While we hold it, another process could not take it; once released it can.
	release()
	release2, err := acquireLease(ctx, st, "console")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	release2()
}

func putLease(t *testing.T, st *storage.Store, l lease) {
	t.Helper()
	l.At = time.Now().UTC()
	b, _ := json.Marshal(l)
	if err := st.Update(context.Background(), func(tx incident.Tx) error { return tx.Put(leaseKey, string(b)) }); err != nil {
		t.Fatal(err)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
