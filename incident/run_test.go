package incident_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
)

// Run delivers what a declaration enqueued without being ticked, woken by
// the declaration, and returns when its context ends.
func TestRun(t *testing.T) {
	store, chat := incidenttest.NewMemStore(), incidenttest.NewFakeChat()
	svc, err := incident.New(incident.Config{Plan: svcPlan(t), Store: store, Chat: chat})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()

	if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "checkout-down", UserID: uAlice}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(chat.DMs(uBob)) == 0 || chat.ChannelID("inc-1-checkout-down") == "" {
		if time.Now().After(deadline) {
			t.Fatal("Run did not deliver the declaration within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestRunFiresTimersWhileSlackIsSlow: escalations fall due while the
// outbox is sending pages that Slack takes 200 ms each to accept, eight
// of them in one lane (one person's direct messages: 1.6 s in all). Run
// fires every escalation on time all the same, and still delivers every
// page. With one loop doing both, each escalation waited for the whole
// lane.
func TestRunFiresTimersWhileSlackIsSlow(t *testing.T) {
	const (
		ackTimeout = 300 * time.Millisecond
		incidents  = 8
		slackTakes = 200 * time.Millisecond
		// allowed is how late an escalation may fire on a loaded machine
		// (-race, two cores shared with other builds): well under the
		// 1.3 s a single loop makes it wait.
		allowed = 250 * time.Millisecond
	)
	plan := svcPlan(t)
	plan.Paging.AckTimeout = ackTimeout
	store, chat := incidenttest.NewMemStore(), incidenttest.NewFakeChat()
	chat.SetDelay(incidenttest.MethodDM, slackTakes)
	svc, err := incident.New(incident.Config{Plan: plan, Store: store, Chat: chat})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()

	for range incidents {
		// checkout-down pages its executor, bob: every page in bob's lane.
		if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "checkout-down", UserID: uAlice}); err != nil {
			t.Fatal(err)
		}
	}
	// firstEscalation returns when incident id paged and first escalated.
	firstEscalation := func(id int64) (paged, escalated time.Time) {
		var events []incident.Event
		err := store.View(ctx, func(tx incident.Tx) error {
			var err error
			events, err = tx.Timeline(id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			switch {
			case e.Kind == incident.KindPaged && paged.IsZero():
				paged = e.At
			case e.Kind == incident.KindEscalated && escalated.IsZero():
				escalated = e.At
			}
		}
		return paged, escalated
	}
	deadline := time.Now().Add(10 * time.Second)
	for id := int64(1); id <= incidents; id++ {
		for {
			if _, esc := firstEscalation(id); !esc.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("incident %d not escalated within 10 s", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
		paged, escalated := firstEscalation(id)
		if late := escalated.Sub(paged.Add(ackTimeout)); late > allowed {
			t.Errorf("incident %d escalated %s after its ack_timeout, want at most %s", id, late, allowed)
		}
	}
	// Meanwhile the pages went out, each once.
	// (Pages waiting together go as one message: count pages, not
	// messages.)
	for len(pagesIn(chat.DMs(uBob))) < incidents {
		if time.Now().After(deadline) {
			t.Fatalf("%d pages reached bob within 10 s, want %d", len(pagesIn(chat.DMs(uBob))), incidents)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	for text, n := range pagesIn(chat.DMs(uBob)) {
		if n > 1 {
			t.Errorf("bob got %d times: %q", n, text)
		}
	}
}

// pagesIn counts the pages in direct messages by their text: a bundle
// lists several, a blank line apart.
func pagesIn(dms []incident.Message) map[string]int {
	n := map[string]int{}
	for _, m := range dms {
		for _, part := range strings.Split(m.Text, "\n\n") {
			if strings.Contains(part, "\nChannel: ") {
				n[part]++
			}
		}
	}
	return n
}

// TestDeliverOneAtATime: Deliver called from several goroutines at once
// (Run's loop and a Tick) sends each message once.
func TestDeliverOneAtATime(t *testing.T) {
	store, chat := incidenttest.NewMemStore(), incidenttest.NewFakeChat()
	chat.SetDelay(incidenttest.MethodDM, 5*time.Millisecond)
	// A clock standing still: the five pages all go to bob, and a real
	// clock would pace them a second apart (outbox.go's postInterval).
	clock := incidenttest.NewClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	svc, err := incident.New(incident.Config{Plan: svcPlan(t), Store: store, Chat: chat, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const incidents = 5
	for range incidents {
		if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "checkout-down", UserID: uAlice}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := svc.Deliver(ctx); err != nil {
				t.Errorf("Deliver: %v", err)
			}
		})
	}
	wg.Wait()
	// The five pages wait for bob together: one message lists them.
	if got := len(chat.CallsOf(incidenttest.MethodDM)); got != 1 {
		t.Errorf("%d DMs sent for %d pages to bob, want 1 bundle", got, incidents)
	}
	pages := pagesIn(chat.DMs(uBob))
	for ch, n := range pages {
		if n != 1 {
			t.Errorf("the page of %s sent %d times", ch, n)
		}
	}
	if len(pages) != incidents {
		t.Errorf("pages of %d incidents sent, want %d", len(pages), incidents)
	}
	if got := len(chat.CallsOf(incidenttest.MethodCreateChannel)); got != incidents {
		t.Errorf("%d channels created for %d incidents", got, incidents)
	}
}

// BenchmarkDeclare measures a declaration: the incident, its timeline,
// timers and every outbox message (channel, summary, pages, first step) in
// one transaction, up to the first page being enqueued.
func BenchmarkDeclare(b *testing.B) {
	store := incidenttest.NewMemStore()
	svc, err := incident.New(incident.Config{Plan: svcPlan(b), Store: store, Chat: incidenttest.NewFakeChat()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.Declare(ctx, incident.DeclareRequest{Scenario: "db-corruption", Summary: "bench", UserID: uAlice}); err != nil {
			b.Fatal(err)
		}
	}
}
