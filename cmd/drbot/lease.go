package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// One database, one process. Two drbot processes that work the same
// database would both deliver its outbox: `serve` would send the console's
// made-up channel ids to Slack, and the console would print (and mark as
// sent) real pages. So `serve` and `console` hold a lease: a kv row renewed
// every leaseRenew, and a second process refuses to start while the row is
// fresh and its owner is alive.
const (
	leaseKey   = "process/lease"
	leaseRenew = 10 * time.Second
	leaseTTL   = 3 * leaseRenew
)

type lease struct {
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	At      time.Time `json:"at"`
}

// errLeaseHeld says which process holds the database.
type errLeaseHeld struct{ holder lease }

func (e *errLeaseHeld) Error() string {
	return fmt.Sprintf("the database is in use by drbot %s (pid %d on %s, alive %s ago): "+
		"run one drbot serve per database, and give drbot console a database of its own (--db /tmp/drbot-try.db). "+
		"If that process is gone, the database is free again within %s",
		e.holder.Command, e.holder.PID, e.holder.Host, time.Since(e.holder.At).Round(time.Second), leaseTTL)
}

// acquireLease takes the database for command, and keeps it until ctx ends
// or release is called. It uses the wall clock, not the console's.
func acquireLease(ctx context.Context, st incident.Store, command string) (release func(), err error) {
	host, _ := os.Hostname()
	me := lease{Command: command, PID: os.Getpid(), Host: host}
	write := func(check bool) error {
		return st.Update(ctx, func(tx incident.Tx) error {
			if check {
				raw, ok, err := tx.Get(leaseKey)
				if err != nil {
					return err
				}
				var other lease
				if ok && json.Unmarshal([]byte(raw), &other) == nil && other.held(me) {
					return &errLeaseHeld{holder: other}
				}
			}
			me.At = time.Now().UTC()
			b, _ := json.Marshal(me)
			return tx.Put(leaseKey, string(b))
		})
	}
	if err := write(true); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = write(false) // a missed renewal only shortens the lease
			}
		}
	}()
	return func() {
		cancel()
		<-done
		// Give the database back at once, so a restart need not wait.
		_ = st.Update(context.WithoutCancel(ctx), func(tx incident.Tx) error {
			return tx.Put(leaseKey, "{}")
		})
	}, nil
}

// held reports whether l still holds the database against me: renewed
// recently by a process that is not me and, on this host, still alive.
func (l lease) held(me lease) bool {
	if l.PID == 0 || time.Since(l.At) > leaseTTL {
		return false
	}
	if l.Host == me.Host {
		if l.PID == me.PID {
			return false // a previous life of this process (same pid in a restarted container)
		}
		return processAlive(l.PID)
	}
	return true
}

// processAlive reports whether a process with pid exists on this host.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
