package incident

import (
	"testing"
	"time"
)

// TestPacerWaitsForTheAnswer: a post to a conversation waits a second
// from Slack's answer to the previous one, and while that one is still on
// its way (a slow Slack) it waits for the answer, so that two posts are
// never in flight at once; an answer to a forgotten reservation changes
// nothing.
func TestPacerWaitsForTheAnswer(t *testing.T) {
	var p pacer
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	first, ok := p.reserve("C1", t0)
	if !ok || !first.Equal(t0) {
		t.Fatalf("first post: %v %v", first, ok)
	}
	// 1.1 s later the first is still on its way: the second waits.
	if until, ok := p.reserve("C1", at(1100*time.Millisecond)); ok || !until.Equal(at(1150*time.Millisecond)) {
		t.Errorf("while the first is in flight: %v %v, want to look again 50ms later", until, ok)
	}
	// Another conversation is not held up.
	if _, ok := p.reserve("C2", at(1100*time.Millisecond)); !ok {
		t.Error("another conversation was held up")
	}
	p.answered("C1", t0.Add(-time.Hour), at(1200*time.Millisecond)) // an answer to an older reservation
	if until, ok := p.reserve("C1", at(1300*time.Millisecond)); ok || !until.Equal(at(1350*time.Millisecond)) {
		t.Errorf("after a stale answer: %v %v, want still waiting for the first's", until, ok)
	}
	p.answered("C1", first, at(1500*time.Millisecond))
	if until, ok := p.reserve("C1", at(2*time.Second)); ok || !until.Equal(at(2500*time.Millisecond)) {
		t.Errorf("after the answer at 1.5s: %v %v, want at 2.5s", until, ok)
	}
	if _, ok := p.reserve("C1", at(2500*time.Millisecond)); !ok {
		t.Error("a second after the answer: refused")
	}
	// A clock that stands still (the console's) is not paced.
	if _, ok := p.reserve("C3", t0); !ok {
		t.Fatal("C3 first")
	}
	if _, ok := p.reserve("C3", t0); !ok {
		t.Error("a clock that did not move was paced")
	}
}
