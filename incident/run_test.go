package incident_test

import (
	"context"
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
