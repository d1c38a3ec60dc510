package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/internal/testenv"
)

// Fault tests: "drbot serve" as a real process, killed with SIGKILL at
// random points of incidents, with Slack down, and with its database
// locked by another process. Each checks, in the timeline drbot keeps and
// in what the fake Slack received, that nothing was lost and nothing done
// twice.

// faultPlan escalates every second, three contacts deep for the executor,
// and alerts at 25/50/75% of a 12 s RTO, so that escalations, alerts and
// the breach fall due while the test kills and restarts the process.
const faultPlan = `version: 1
name: Fault plan
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
  carol: {name: Carol Ek, slack: U0CAROL01}
  erin:  {name: Erin Lund, slack: U0ERIN001}
  frank: {name: Frank Moe, email: frank@example.com}
roles:
  commander: [alice, bob]
  executor:  [bob, carol, erin]
  approver:  [erin, frank]
paging:
  ack_timeout: 1s
  rounds: 2
services:
  payments-db: {rto: 12s, rpo: 15m}
scenarios:
  db-corruption:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander, executor]
    rto_alerts: [25%, 50%, 75%]
    steps:
      - id: assess
        do: Check whether the primary still serves reads.
        estimate: 2s
      - id: restore
        do: Restore the last snapshot.
        estimate: 3s
        approval: approver
      - id: verify
        do: Run the smoke tests.
        estimate: 2s
`

const (
	faultAckTimeout = time.Second
	faultRounds     = 2
)

// faultRoles and faultContacts mirror faultPlan.
var (
	faultRoles = map[string][]string{
		"commander": {"alice", "bob"},
		"executor":  {"bob", "carol", "erin"},
		"approver":  {"erin", "frank"},
	}
	faultContacts = map[string]string{"alice": alice, "bob": bob, "carol": carol, "erin": erin, "frank": frank}
)

// faultDir returns a directory holding plan for "drbot serve".
func faultDir(t *testing.T, plan string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// faultSeed is the seed of the random kill points: DRBOT_FAULT_SEED, to
// replay a failure, or a fixed one.
func faultSeed(t *testing.T) uint64 {
	seed := uint64(20261121)
	if s := os.Getenv("DRBOT_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DRBOT_FAULT_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (set DRBOT_FAULT_SEED to replay)", seed)
	return seed
}

// kill9 kills the process with SIGKILL and waits for it to be gone.
func (s *served) kill9() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill -9: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("drbot serve still running 10 s after SIGKILL")
	}
}

// ---- reading what drbot recorded ----

type recorded struct {
	inc    *incident.Incident
	events []incident.Event
}

// readTimelines opens the database read-only (drbot may still be running:
// WAL lets a reader in) and returns every incident with its timeline.
func readTimelines(t *testing.T, db string) []recorded {
	t.Helper()
	store, err := openDatabase(context.Background(), db, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var out []recorded
	err = store.View(context.Background(), func(tx incident.Tx) error {
		incs, err := tx.Incidents(incident.Filter{})
		if err != nil {
			return err
		}
		for _, inc := range incs {
			events, err := tx.Timeline(inc.ID)
			if err != nil {
				return err
			}
			out = append(out, recorded{inc, events})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].inc.ID < out[j].inc.ID })
	return out
}

// waitOutboxEmpty waits until drbot has sent (or given up on) everything
// it had to send.
// drainWait bounds how long an outbox may take to empty after a fault. Posts
// in one channel are paced a second apart (Slack's limit), and the fault
// plan's one-second ack_timeout says each escalation in the channel, so a
// backlog of twenty-odd posts takes that many seconds; waitOutboxEmpty
// returns as soon as the outbox is empty.
const drainWait = 60 * time.Second

func waitOutboxEmpty(t *testing.T, db string, timeout time.Duration) {
	t.Helper()
	store, err := openDatabase(context.Background(), db, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	deadline := time.Now().Add(timeout)
	depth := -1
	for time.Now().Before(deadline) {
		err := store.View(context.Background(), func(tx incident.Tx) error {
			var err error
			depth, err = tx.OutboxDepth()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the outbox still holds %d messages after %s", depth, timeout)
}

// nextTimer returns the earliest due time of drbot's timers.
func nextTimer(t *testing.T, db string) (time.Time, bool) {
	t.Helper()
	store, err := openDatabase(context.Background(), db, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var (
		due time.Time
		ok  bool
	)
	err = store.View(context.Background(), func(tx incident.Tx) error {
		var err error
		due, ok, err = tx.NextTimer()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return due, ok
}

// channelOf waits until incident id has its channel and returns its id.
func channelOf(t *testing.T, db string, id int64) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		for _, r := range readTimelines(t, db) {
			if r.inc.ID == id && r.inc.ChannelID != "" {
				return r.inc.ChannelID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("incident %d has no channel after %s", id, wait)
	return ""
}

// waitEvent waits until the timeline of incident id has an event of kind.
func waitEvent(t *testing.T, db string, id int64, kind incident.EventKind) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		for _, r := range readTimelines(t, db) {
			if r.inc.ID == id && slices.ContainsFunc(r.events, func(e incident.Event) bool { return e.Kind == kind }) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("incident %d has no %s event after %s", id, kind, wait)
}

// pageKey names the pages of one role of one incident to one person.
type pageKey struct {
	incident int64
	role     string
	user     string
}

func (k pageKey) String() string { return fmt.Sprintf("#%d %s → %s", k.incident, k.role, k.user) }

// slackPages counts the pages (direct messages with an Acknowledge
// button) the fake Slack accepted, per incident, role and recipient.
func slackPages(fs *fakeslack.Server) map[pageKey]int {
	out := map[pageKey]int{}
	for _, c := range fs.CallsTo("chat.postMessage") {
		if !c.OK() {
			continue
		}
		ch, ok := fs.Channel(c.Params.Get("channel"))
		if !ok || !ch.IM {
			continue
		}
		m := fakeslack.Message{Blocks: json.RawMessage(c.Params.Get("blocks"))}
		for _, b := range m.Buttons() {
			parts := strings.SplitN(b.Value, "|", 3)
			if len(parts) != 3 || parts[0] != "ack" {
				continue
			}
			id, _ := strconv.ParseInt(parts[1], 10, 64)
			out[pageKey{id, parts[2], ch.IMUser}]++
		}
	}
	return out
}

// timelinePages counts the pages (paged and escalated events) of the
// timelines, per incident, role and recipient.
func timelinePages(recs []recorded) map[pageKey]int {
	out := map[pageKey]int{}
	for _, r := range recs {
		for _, e := range r.events {
			if e.Kind != incident.KindPaged && e.Kind != incident.KindEscalated {
				continue
			}
			user := faultContacts[e.Data["contact"]]
			if user == "" {
				user = e.Data["contact"]
			}
			out[pageKey{r.inc.ID, e.Data["role"], user}]++
		}
	}
	return out
}

// pagesByRef counts, per incident, role and recipient, the pages of the
// timelines that were delivered (sent true) or not (false), in resolved
// incidents only when resolvedOnly: the K-th page of a role, once
// delivered, is remembered under the ref inc/N/page/ROLE/K, written in
// the transaction that marks it sent.
func pagesByRef(t *testing.T, db string, recs []recorded, sent, resolvedOnly bool) map[pageKey]int {
	t.Helper()
	store, err := openDatabase(context.Background(), db, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out := map[pageKey]int{}
	err = store.View(context.Background(), func(tx incident.Tx) error {
		for _, r := range recs {
			if resolvedOnly && r.inc.State != incident.StateResolved {
				continue
			}
			k := map[string]int{}
			for _, e := range r.events {
				if e.Kind != incident.KindPaged && e.Kind != incident.KindEscalated {
					continue
				}
				role := e.Data["role"]
				k[role]++
				_, _, delivered, err := tx.Ref(fmt.Sprintf("inc/%d/page/%s/%d", r.inc.ID, role, k[role]))
				if err != nil {
					return err
				}
				if delivered == sent {
					out[pageKey{r.inc.ID, role, cmp.Or(faultContacts[e.Data["contact"]], e.Data["contact"])}]++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsentPages counts the pages of resolved incidents that never went out:
// the outbox does not send a page of a resolved incident (nothing pages
// after resolve), and a page waits its turn in the outbox when Slack
// paces messages to one person.
func unsentPages(t *testing.T, db string, recs []recorded) map[pageKey]int {
	return pagesByRef(t, db, recs, false, true)
}

// checkPagesDelivered asserts that every page of the timelines reached
// Slack at least once, and that Slack got no page the timelines do not
// record; it returns how many pages Slack got twice (or more), which the
// at-least-once outbox allows across a crash right after a send.
func checkPagesDelivered(t *testing.T, db string, recs []recorded, fs *fakeslack.Server) (expected, duplicates int) {
	t.Helper()
	want, got := timelinePages(recs), slackPages(fs)
	late := unsentPages(t, db, recs)
	for k, n := range want {
		expected += n
		if got[k] < n && got[k]+late[k] < n {
			t.Errorf("page %s: %d in the timeline, %d reached Slack, %d not sent once resolved: lost", k, n, got[k], late[k])
		}
	}
	for k, n := range got {
		switch {
		case want[k] == 0:
			t.Errorf("page %s reached Slack %d times but is in no timeline", k, n)
		case n > want[k]:
			duplicates += n - want[k]
		}
	}
	return expected, duplicates
}

// checkTimeline asserts the rules that a crash must never break, for one
// incident: declared once, its channel created once; per role, pages run
// down the role's list in order, each escalation at least ack_timeout
// after the page before it (a timer that fired twice would escalate twice
// at once), at most rounds passes, then unanswered once; an
// acknowledgement at most once per run; each RTO alert once.
func checkTimeline(t *testing.T, r recorded, roles map[string][]string, ackTimeout time.Duration, rounds int) {
	t.Helper()
	type run struct {
		pages          int
		last           time.Time
		acked, exhaust bool
	}
	runs := map[string]*run{}
	kinds := map[incident.EventKind]int{}
	alerts := map[string]int{}
	for i, e := range r.events {
		kinds[e.Kind]++
		where := fmt.Sprintf("incident %d event %d (%s %s at %s)", r.inc.ID, i, e.Kind, e.Data["role"], e.At.Format("15:04:05.000"))
		role := e.Data["role"]
		contacts := roles[role]
		cur := runs[role]
		switch e.Kind {
		case incident.KindPaged:
			if cur != nil && !cur.acked && !cur.exhaust {
				t.Errorf("%s: paged while the role's paging was still going on", where)
			}
			if len(contacts) > 0 && e.Data["contact"] != contacts[0] {
				t.Errorf("%s: paged %s, want the role's first contact %s", where, e.Data["contact"], contacts[0])
			}
			runs[role] = &run{pages: 1, last: e.At}
		case incident.KindEscalated:
			if cur == nil || cur.acked || cur.exhaust {
				t.Errorf("%s: escalated a role that is not being paged", where)
				continue
			}
			if n := len(contacts); n > 0 {
				if want := contacts[cur.pages%n]; e.Data["contact"] != want {
					t.Errorf("%s: escalated to %s, want %s (page %d of the list)", where, e.Data["contact"], want, cur.pages+1)
				}
				if want := contacts[(cur.pages-1)%n]; e.Data["from"] != want {
					t.Errorf("%s: escalated from %s, want %s", where, e.Data["from"], want)
				}
				if cur.pages+1 > rounds*n {
					t.Errorf("%s: page %d of a role of %d contacts and %d rounds", where, cur.pages+1, n, rounds)
				}
			}
			if gap := e.At.Sub(cur.last); gap < ackTimeout {
				t.Errorf("%s: escalated %s after the previous page, before ack_timeout %s: a timer fired twice or early", where, gap, ackTimeout)
			}
			cur.pages++
			cur.last = e.At
		case incident.KindAcknowledged:
			if cur == nil || cur.acked {
				t.Errorf("%s: acknowledged twice, or with no page", where)
				continue
			}
			cur.acked = true
		case incident.KindUnanswered:
			if cur == nil || cur.acked || cur.exhaust {
				t.Errorf("%s: unanswered twice, or after an acknowledgement", where)
				continue
			}
			if n := len(contacts); cur.pages != rounds*n {
				t.Errorf("%s: unanswered after %d pages, want %d", where, cur.pages, rounds*n)
			}
			if gap := e.At.Sub(cur.last); gap < ackTimeout {
				t.Errorf("%s: unanswered %s after the last page, before ack_timeout %s", where, gap, ackTimeout)
			}
			cur.exhaust = true
		case incident.KindRTOAlert:
			if p := e.Data["percent"]; p != "" {
				alerts[p]++
			}
		}
	}
	for _, k := range []incident.EventKind{incident.KindDeclared, incident.KindChannelCreated} {
		if kinds[k] != 1 {
			t.Errorf("incident %d: %d %s events, want 1", r.inc.ID, kinds[k], k)
		}
	}
	for _, k := range []incident.EventKind{incident.KindRTOBreached, incident.KindResolved, incident.KindPostmortemPosted} {
		if kinds[k] > 1 {
			t.Errorf("incident %d: %d %s events, want at most 1", r.inc.ID, kinds[k], k)
		}
	}
	for p, n := range alerts {
		if n > 1 {
			t.Errorf("incident %d: the RTO %s%% alert recorded %d times", r.inc.ID, p, n)
		}
	}
}

// livePages returns the messages in users' direct conversations that
// still have an Acknowledge button, oldest first.
func livePages(fs *fakeslack.Server, users ...string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, u := range users {
		for _, m := range fs.Messages(u) {
			if _, ok := m.Button("Acknowledge"); ok {
				out = append(out, m)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// TestFaultKill9 kills "drbot serve" with SIGKILL 20 times at random
// points of three incidents, restarting it each time on the same
// database: right after a declaration (while paging), right after Slack
// accepted a message (while the outbox sends), a few milliseconds after a
// timer fell due (while it fires), right after a press was answered, and
// at random moments. Escalations every second and RTO alerts fall due
// across the kills. Then it lets the last process finish, and checks that
// the timeline holds every rule once (checkTimeline) and that every page
// in it reached Slack (duplicates across a kill are counted, not lost).
func TestFaultKill9(t *testing.T) {
	t.Parallel()
	dir := faultDir(t, faultPlan)
	faultKill9(t, dir, filepath.Join(dir, "drbot.db"))
}

// TestFaultKill9Postgres is TestFaultKill9 on PostgreSQL: each process
// takes the leader lock its killed predecessor held.
func TestFaultKill9Postgres(t *testing.T) {
	t.Parallel()
	db := testenv.PostgresDB(t)
	faultKill9(t, faultDir(t, faultPlan), db, "DRBOT_DB="+db)
}

// faultKill9 is the body of the kill -9 tests on the database db (a file
// or a URL); env is given to each drbot serve.
func faultKill9(t *testing.T, dir, db string, env ...string) {
	seed := faultSeed(t)
	rng := rand.New(rand.NewPCG(seed, 9))
	fs := newFakeWorkspace(t)
	// Every call takes a while, so that kills land while calls are in
	// flight.
	fs.SetLatency(25 * time.Millisecond)

	const kills = 20
	declareAt := map[int]bool{0: true, 3: true, 8: true}
	users := []string{alice, bob, carol, erin, frank}
	modes := map[string]int{}
	declared := 0
	for cycle := range kills {
		srv := startServe(t, fs, dir, env...)
		var mode string
		switch r := rng.IntN(4); {
		case declareAt[cycle]:
			mode = "right after a declaration"
			declared++
			status, text := srv.command(alice, fakeslack.GeneralID, fmt.Sprintf("declare db-corruption kill test %d", cycle), fs.ResponseURL("declare"))
			if want := fmt.Sprintf("declared incident #%d", declared); status != http.StatusOK || !strings.Contains(text, want) {
				t.Fatalf("cycle %d: declare: %d %q, want %q", cycle, status, text, want)
			}
			time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
		case r == 0:
			mode = "right after Slack accepted a call"
			before := len(fs.Calls())
			_ = fs.WaitUntil(2*time.Second, func() bool { return len(fs.Calls()) > before })
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		case r == 1:
			mode = "as a timer falls due"
			if due, ok := nextTimer(t, db); ok && time.Until(due) < 3*time.Second {
				time.Sleep(time.Until(due) + time.Duration(rng.IntN(4))*time.Millisecond)
			} else {
				mode = "at a random moment"
				time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
			}
		case r == 2:
			mode = "right after a press was answered"
			if live := livePages(fs, users...); len(live) > 0 {
				m := live[rng.IntN(len(live))]
				ch, _ := fs.Channel(m.Channel)
				srv.press(ch.IMUser, m, "Acknowledge", fs.ResponseURL("ack"))
				time.Sleep(time.Duration(rng.IntN(10)) * time.Millisecond)
			} else {
				mode = "at a random moment"
				time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
			}
		default:
			mode = "at a random moment"
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		}
		modes[mode]++
		srv.kill9()
	}
	t.Logf("%d kills: %v", kills, modes)

	// The last process finishes the work: every incident resolved, the
	// outbox empty.
	srv := startServe(t, fs, dir, env...)
	// The first incident runs past its RTO, so that the breach (and the
	// pages it makes) fall due too.
	waitEvent(t, db, 1, incident.KindRTOBreached)
	recs := readTimelines(t, db)
	if len(recs) != declared {
		t.Fatalf("%d incidents in the database, want the %d declared", len(recs), declared)
	}
	for _, r := range recs {
		ch := channelOf(t, db, r.inc.ID)
		if status, text := srv.command(alice, ch, "resolve after the kills", fs.ResponseURL("resolve")); status != http.StatusOK || !strings.Contains(text, "resolved") {
			t.Errorf("resolve incident %d: %d %q", r.inc.ID, status, text)
		}
	}
	waitOutboxEmpty(t, db, drainWait)
	srv.stop()

	recs = readTimelines(t, db)
	for _, r := range recs {
		checkTimeline(t, r, faultRoles, faultAckTimeout, faultRounds)
		if r.inc.State != incident.StateResolved {
			t.Errorf("incident %d is %s", r.inc.ID, r.inc.State)
		}
	}
	expected, dups := checkPagesDelivered(t, db, recs, fs)
	if expected < 3*declared {
		t.Errorf("%d pages in the timelines, want at least %d", expected, 3*declared)
	}

	// Each RTO alert recorded reached the channel; count repeats.
	alertDups, channels := 0, 0
	for _, r := range recs {
		for _, e := range r.events {
			if e.Kind != incident.KindRTOAlert || e.Data["percent"] == "" {
				continue
			}
			n := 0
			for _, m := range fs.Messages(r.inc.ChannelID) {
				if strings.Contains(m.Text, "RTO "+e.Data["percent"]+"%:") {
					n++
				}
			}
			if n == 0 {
				t.Errorf("incident %d: the RTO %s%% alert is in the timeline, not in the channel", r.inc.ID, e.Data["percent"])
			}
			alertDups += max(0, n-1)
		}
		for _, c := range fs.Channels() {
			if strings.HasPrefix(c.Name, fmt.Sprintf("inc-%d-", r.inc.ID)) {
				channels++
			}
		}
	}
	// A kill between Slack creating a channel and drbot recording it
	// leaves a channel the next process adopts (name_taken: it is drbot's
	// and has no topic), rather than creating inc-N-...-2 beside it.
	if channels != len(recs) {
		t.Errorf("%d incident channels in Slack for %d incidents: a kill left a duplicate", channels, len(recs))
	}
	t.Logf("%d pages in the timelines, all reached Slack; repeated across a kill: %d pages, %d RTO alerts",
		expected, dups, alertDups)
	// Each kill can repeat at most the messages in flight at that moment
	// (the outbox sends up to 8 lanes at once).
	if dups > 8*kills {
		t.Errorf("%d pages repeated: more than the kills can explain", dups)
	}
}

// TestFaultPressThenKill presses Acknowledge and kills drbot the moment
// Slack has its answer: a press Slack was told about must not be lost
// (Slack does not send it again).
func TestFaultPressThenKill(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	dir := faultDir(t, faultPlan)
	db := filepath.Join(dir, "drbot.db")
	srv := startServe(t, fs, dir)
	if status, text := srv.command(alice, fakeslack.GeneralID, "declare db-corruption press then kill", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: %d %q", status, text)
	}
	pages := map[string]fakeslack.Message{
		alice: mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander")),
		bob:   mustMessage(t, fs, bob, "bob's page", withButton("Acknowledge", "executor")),
	}
	for _, user := range []string{alice, bob} {
		srv.press(user, pages[user], "Acknowledge", fs.ResponseURL("ack-"+user))
		srv.kill9()
		srv = startServe(t, fs, dir)
	}
	waitOutboxEmpty(t, db, drainWait)
	srv.stop()
	acked := map[string]bool{}
	for _, e := range readTimelines(t, db)[0].events {
		if e.Kind == incident.KindAcknowledged {
			acked[e.Data["role"]] = true
		}
	}
	for _, role := range []string{"commander", "executor"} {
		if !acked[role] {
			t.Errorf("the %s's Acknowledge was answered 200, then lost to the kill", role)
		}
	}
}

// slackProxy stands between drbot and the fake Slack and can make Slack
// "down": every Web API call answered 500 while it is.
type slackProxy struct {
	srv     *httptest.Server
	down    atomic.Bool
	refused atomic.Int64
}

func newSlackProxy(t *testing.T, fs *fakeslack.Server) *slackProxy {
	target, err := url.Parse(fs.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	p := &slackProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			p.refused.Add(1)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "<html><body>Slack is having trouble</body></html>")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestFaultSlackDown makes Slack answer 500 to every call for 3 s while
// notes are typed, a page is acknowledged and the executor escalates;
// when Slack is back, everything queued goes out, in order per channel,
// and nothing is dropped.
func TestFaultSlackDown(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	proxy := newSlackProxy(t, fs)
	dir := faultDir(t, faultPlan)
	db := filepath.Join(dir, "drbot.db")
	srv := startServe(t, fs, dir, "SLACK_API_URL="+proxy.srv.URL+"/api/")

	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption Slack goes down", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: status %d", status)
	}
	ch := incidentChannel(t, fs, "inc-1-")
	alicePage := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))
	mustMessage(t, fs, ch.ID, "the first step", withButton("Done", "assess"))

	proxy.down.Store(true)
	downAt := time.Now()
	const notes = 5
	for i := 1; i <= notes; i++ {
		status, text := srv.command(carol, ch.ID, fmt.Sprintf("note while Slack is down %d", i), fs.ResponseURL("note"))
		if status != http.StatusOK || !strings.Contains(text, "Noted") {
			t.Fatalf("note %d: %d %q: drbot must take notes while Slack is down", i, status, text)
		}
	}
	srv.press(alice, alicePage, "Acknowledge", fs.ResponseURL("ack"))
	for proxy.refused.Load() < 3 || time.Since(downAt) < 3*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	proxy.down.Store(false)
	t.Logf("Slack down %s: %d calls answered 500", time.Since(downAt).Round(time.Millisecond), proxy.refused.Load())

	waitOutboxEmpty(t, db, drainWait)
	var order []int
	for _, m := range fs.Messages(ch.ID) {
		if _, rest, ok := strings.Cut(m.Text, "while Slack is down "); ok {
			n, _ := strconv.Atoi(rest)
			order = append(order, n)
		}
	}
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(order, want) {
		t.Errorf("notes in the channel in the order %v, want %v", order, want)
	}
	mustMessage(t, fs, ch.ID, "alice's acknowledgement", containing("acknowledged as commander"))
	mustMessage(t, fs, alice, "alice's page marked acknowledged", func(m fakeslack.Message) bool {
		return m.TS == alicePage.TS && m.Edited && len(m.Buttons()) == 0
	})
	srv.stop()

	recs := readTimelines(t, db)
	checkTimeline(t, recs[0], faultRoles, faultAckTimeout, faultRounds)
	expected, dups := checkPagesDelivered(t, db, recs, fs)
	escalatedWhileDown := 0
	for _, e := range recs[0].events {
		if e.Kind == incident.KindDeliveryFailed {
			t.Errorf("dropped while Slack was down: %s", e.Text)
		}
		if e.Kind == incident.KindEscalated && e.At.After(downAt) {
			escalatedWhileDown++
		}
	}
	if escalatedWhileDown == 0 {
		t.Errorf("no escalation while Slack was down: the test did not test queued pages")
	}
	if dups != 0 {
		t.Errorf("%d pages sent twice: a 500 means Slack did not take the message", dups)
	}
	t.Logf("%d pages, %d escalated while Slack was down, all delivered once", expected, escalatedWhileDown)
}

// lockDatabase holds the write lock of db from this process (another
// process than drbot) until the returned function is called.
func lockDatabase(t *testing.T, db string) (release func()) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := conn.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("lock the database: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Errorf("unlock the database: %v", err)
			}
			c.Close()
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// postNow is served.post for goroutines: no t.Fatal, and the time taken.
func (s *served) postNow(path string, body []byte) (int, string, time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	for k, v := range bot.Sign(e2eSecret, start, body) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start), nil
}

// TestFaultDatabaseLocked holds drbot's database locked from another
// process for 4 s while a declaration, a note and a press come in: Slack
// hears back within 3 s (drbot says it is working on it), and once the
// lock is gone each is carried out and its answer goes to response_url.
func TestFaultDatabaseLocked(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	dir := faultDir(t, faultPlan)
	db := filepath.Join(dir, "drbot.db")
	srv := startServe(t, fs, dir)
	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption before the lock", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: status %d", status)
	}
	ch := incidentChannel(t, fs, "inc-1-")
	alicePage := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))
	waitOutboxEmpty(t, db, drainWait)

	release := lockDatabase(t, db)
	lockedAt := time.Now()
	b, _ := alicePage.Button("Acknowledge")
	press, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": alice}, "channel": map[string]any{"id": alicePage.Channel},
		"response_url": fs.ResponseURL("locked-ack"),
		"actions":      []any{map[string]any{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value}},
	})
	requests := []struct {
		name, path string
		body       []byte
		want       string // in the answer
	}{
		{"declare", "/slack/commands", slashForm(bob, fakeslack.GeneralID, "declare db-corruption while the database is locked", fs.ResponseURL("locked-declare")), bot.WorkingText},
		{"note", "/slack/commands", slashForm(carol, ch.ID, "note written while the database is locked", fs.ResponseURL("locked-note")), bot.WorkingText},
		{"press", "/slack/interactions", []byte(url.Values{"payload": {string(press)}}.Encode()), ""},
	}
	var wg sync.WaitGroup
	for _, r := range requests {
		wg.Go(func() {
			status, body, took, err := srv.postNow(r.path, r.body)
			switch {
			case err != nil:
				t.Errorf("%s: %v", r.name, err)
			case status != http.StatusOK || took >= 3*time.Second:
				t.Errorf("%s: status %d after %s, want 200 within 3 s", r.name, status, took)
			case !strings.Contains(body, r.want):
				t.Errorf("%s: answer %q, want %q", r.name, body, r.want)
			}
		})
	}
	wg.Wait()
	if time.Since(lockedAt) >= 4*time.Second {
		t.Fatalf("the answers took the whole lock: %s", time.Since(lockedAt))
	}
	time.Sleep(time.Until(lockedAt.Add(4 * time.Second)))
	release()

	// Nothing was lost: each was carried out and said.
	if got := waitResponse(t, fs, "locked-declare"); !strings.Contains(fmt.Sprint(got["text"]), "declared incident #2") {
		t.Errorf("late answer to the declaration: %v", got)
	}
	if got := waitResponse(t, fs, "locked-note"); !strings.Contains(fmt.Sprint(got["text"]), "Noted") {
		t.Errorf("late answer to the note: %v", got)
	}
	incidentChannel(t, fs, "inc-2-")
	mustMessage(t, fs, ch.ID, "the note", containing("written while the database is locked"))
	mustMessage(t, fs, ch.ID, "alice's acknowledgement", containing("acknowledged as commander"))
	waitOutboxEmpty(t, db, drainWait)
	srv.stop()
	recs := readTimelines(t, db)
	if len(recs) != 2 {
		t.Fatalf("%d incidents, want 2", len(recs))
	}
	for _, r := range recs {
		checkTimeline(t, r, faultRoles, faultAckTimeout, faultRounds)
	}
	if _, dups := checkPagesDelivered(t, db, recs, fs); dups != 0 {
		t.Errorf("%d pages sent twice", dups)
	}
	if !strings.Contains(srv.logs.String(), "command slower than the answer deadline") {
		t.Errorf("drbot did not log the slow commands")
	}
}
