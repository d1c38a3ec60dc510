package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/internal/testenv"
)

// candidate runs Lead on s and records what happens.
type candidate struct {
	mu      sync.Mutex
	leading bool
	changes []bool
	wakes   int
	cancel  context.CancelFunc
	done    chan struct{}
	events  chan string
}

func runCandidate(t *testing.T, s *Store) *candidate {
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{cancel: cancel, done: make(chan struct{}), events: make(chan string, 100)}
	go func() {
		defer close(c.done)
		_ = s.Lead(ctx, LeadConfig{
			Poll: 100 * time.Millisecond,
			Run:  func(ctx context.Context) { <-ctx.Done() },
			Wake: func() { c.mu.Lock(); c.wakes++; c.mu.Unlock(); c.events <- "wake" },
			Changed: func(leader bool) {
				c.mu.Lock()
				c.leading = leader
				c.changes = append(c.changes, leader)
				c.mu.Unlock()
				if leader {
					c.events <- "lead"
				} else {
					c.events <- "stand by"
				}
			},
		})
	}()
	t.Cleanup(func() { c.stop() })
	return c
}

func (c *candidate) stop() {
	c.cancel()
	<-c.done
}

func (c *candidate) await(t *testing.T, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case got := <-c.events:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v", want, within)
		}
	}
}

func (c *candidate) isLeading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading
}

// TestLeadFailover: of two instances one leads; another instance's write
// of an outbox message wakes it; when it stops (its connection closes, as
// when its process dies), the other takes the lead within the poll.
func TestLeadFailover(t *testing.T) {
	url := testenv.PostgresDB(t)
	a, b := openURL(t, url), openURL(t, url)
	ca := runCandidate(t, a)
	ca.await(t, "lead", 5*time.Second)
	cb := runCandidate(t, b)
	time.Sleep(300 * time.Millisecond) // three of b's tries
	if cb.isLeading() {
		t.Fatal("two leaders at once")
	}
	// A page enqueued through the standby wakes the leader.
	if err := b.Update(context.Background(), func(tx incident.Tx) error {
		return tx.Enqueue(&incident.Outgoing{Lane: "user/bob", Kind: incident.OutDM})
	}); err != nil {
		t.Fatal(err)
	}
	ca.await(t, "wake", 5*time.Second)
	// A write that touches neither timers nor the outbox does not.
	if err := b.Update(context.Background(), func(tx incident.Tx) error { return tx.Put("k", "v") }); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	ca.stop()
	cb.await(t, "lead", 5*time.Second)
	if took := time.Since(start); took > time.Second {
		t.Errorf("takeover took %v, want within the 100 ms poll (and well within 5 s)", took)
	}
	if ca.isLeading() {
		t.Error("the stopped instance still says it leads")
	}
	ca.mu.Lock()
	if ca.wakes != 1 {
		t.Errorf("leader woken %d times, want once (by the enqueue, not by the Put)", ca.wakes)
	}
	ca.mu.Unlock()
}

// TestTryLead: the console's way to work a database alone. It takes the
// lead when nobody has it, holds it against Lead until released, and is
// refused while another instance leads.
func TestTryLead(t *testing.T) {
	url := testenv.PostgresDB(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := context.Background()
	release, err := a.TryLead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cb := runCandidate(t, b)
	if _, err := b.TryLead(ctx); !errors.Is(err, ErrLeaderElsewhere) {
		t.Errorf("TryLead while another holds the lead: %v, want ErrLeaderElsewhere", err)
	}
	if cb.isLeading() {
		t.Error("Lead took the lead TryLead holds")
	}
	release()
	cb.await(t, "lead", 5*time.Second)
	if _, err := a.TryLead(ctx); !errors.Is(err, ErrLeaderElsewhere) {
		t.Errorf("TryLead while an instance leads: %v, want ErrLeaderElsewhere", err)
	}
}
