package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/internal/testenv"
)

// failoverPlan pages alice, then bob after failoverAckTimeout, once round;
// the RTO is far enough away that only the escalation falls due.
const failoverPlan = `version: 1
name: Failover plan
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
roles:
  commander: [alice, bob]
paging:
  ack_timeout: 4s
  rounds: 1
services:
  payments-db: {rto: 4h, rpo: 15m}
scenarios:
  db-corruption:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander]
    steps:
      - id: assess
        do: Check whether the primary still serves reads.
        estimate: 5m
`

const failoverAckTimeout = 4 * time.Second

// get fetches path and returns the status and body.
func (s *served) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// awaitHealth waits until /healthz answers want.
func (s *served) awaitHealth(want string, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, got := s.get("/healthz")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("/healthz says %q after %s, want %q\n%s", got, within, want, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFailoverTwoInstances runs two drbot serve on one PostgreSQL database
// against the fake Slack: one leads, the other stands by and answers Slack
// too. An incident declared through the standby is paged at once by the
// leader; a signed request replayed to the other instance is refused. The
// leader is killed with SIGKILL while the escalation is due: the standby
// takes over and pages the next contact once, within ack_timeout + 5 s of
// the first page, and the timeline holds every event once.
func TestFailoverTwoInstances(t *testing.T) {
	t.Parallel()
	db := testenv.PostgresDB(t)
	fs := newFakeWorkspace(t)
	dir := faultDir(t, failoverPlan)
	a := startServe(t, fs, dir, "DRBOT_DB="+db)
	a.awaitHealth("ok leader", wait)
	b := startServe(t, fs, dir, "DRBOT_DB="+db)
	b.awaitHealth("ok standby", wait)

	body := slashForm(alice, fakeslack.GeneralID, "declare db-corruption failover", fs.ResponseURL("declare"))
	signed := bot.Sign(e2eSecret, time.Now(), body)
	status, text := b.post("/slack/commands", "application/x-www-form-urlencoded", body, signed)
	if status != http.StatusOK || !strings.Contains(text, "declared incident #1") {
		t.Fatalf("declare through the standby: %d %s", status, text)
	}
	if status, text := a.post("/slack/commands", "application/x-www-form-urlencoded", body, signed); status != http.StatusUnauthorized || !strings.Contains(text, "replayed") {
		t.Errorf("the same signed request replayed to the other instance: %d %q, want 401 replayed", status, text)
	}
	first := mustMessage(t, fs, alice, "alice's page, sent by the leader", withButton("Acknowledge", "commander"))
	pagedAt := time.Now()

	// Kill the leader just before the escalation falls due.
	due, ok := nextTimer(t, db)
	if !ok || time.Until(due) < time.Second {
		t.Fatalf("the escalation is due at %v (%v): too soon to kill the leader before it", due, ok)
	}
	time.Sleep(time.Until(due.Add(-500 * time.Millisecond)))
	a.kill9()
	killedAt := time.Now()
	mustMessage(t, fs, bob, "bob's page, sent by the instance that took over", withButton("Acknowledge", "commander"))
	if took := time.Since(pagedAt); took > failoverAckTimeout+5*time.Second {
		t.Errorf("bob paged %s after alice: want within ack_timeout %s + 5 s", took, failoverAckTimeout)
	}
	t.Logf("alice paged (%s); leader killed %s later; bob paged %s after the kill",
		first.TS, killedAt.Sub(pagedAt).Round(time.Millisecond), time.Since(killedAt).Round(time.Millisecond))
	b.awaitHealth("ok leader", wait)
	if !strings.Contains(b.logs.String(), "took over as leader") {
		t.Errorf("the standby's log does not say it took over:\n%s", b.logs)
	}
	if _, metrics := b.get("/metrics"); !strings.Contains(metrics, "\ndrbot_leader 1\n") {
		t.Errorf("/metrics of the new leader lacks drbot_leader 1")
	}

	// Let the role run out (bob does not answer either), then resolve.
	waitEvent(t, db, 1, incident.KindUnanswered)
	ch := channelOf(t, db, 1)
	if status, text := b.command(alice, ch, "resolve after the failover", fs.ResponseURL("resolve")); status != http.StatusOK || !strings.Contains(text, "resolved") {
		t.Errorf("resolve: %d %q", status, text)
	}
	waitOutboxEmpty(t, db, wait)
	recs := readTimelines(t, db)
	if len(recs) != 1 {
		t.Fatalf("%d incidents, want 1", len(recs))
	}
	checkTimeline(t, recs[0], map[string][]string{"commander": {"alice", "bob"}}, failoverAckTimeout, 1)
	expected, dups := checkPagesDelivered(t, db, recs, fs)
	if expected != 2 || dups != 0 {
		t.Errorf("%d pages in the timeline, %d repeated; want 2 (alice, then bob), none twice", expected, dups)
	}
	kinds := map[incident.EventKind]int{}
	for _, e := range recs[0].events {
		kinds[e.Kind]++
		if e.Kind == incident.KindEscalated && !e.At.After(killedAt) {
			t.Errorf("escalated at %s, before the leader was killed at %s: the test killed it too late", e.At.Format(time.StampMilli), killedAt.Format(time.StampMilli))
		}
	}
	for k, want := range map[incident.EventKind]int{incident.KindDeclared: 1, incident.KindPaged: 1, incident.KindEscalated: 1, incident.KindUnanswered: 1, incident.KindResolved: 1} {
		if kinds[k] != want {
			t.Errorf("%d %s events, want %d", kinds[k], k, want)
		}
	}
}
