package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

// TestConsoleClockCarriesOver: a console session records its clock in its
// database; the next session resumes there, and incidents, stats and
// postmortem measure at it, saying so, rather than at real time (days
// later, every open incident showed days elapsed and a breached RTO).
func TestConsoleClockCarriesOver(t *testing.T) {
	t.Parallel()
	bin := drbotBinary(t)
	db := filepath.Join(t.TempDir(), "play.db")
	plan := filepath.Join("examples", "plan.yaml")
	first := runBinary(t, bin, "/incident declare db-corruption checksum errors\nwait 30m\n",
		"console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z")
	if first.code != 0 {
		t.Fatalf("console: exit %d\n%s", first.code, first.stderr)
	}
	const note = "times are measured at the console's clock, 2026-11-21 10:30 UTC, not now"
	list := runBinary(t, bin, "", "incidents", "--db", db, "--plan", plan, "--format", "json")
	if list.code != 0 || !strings.Contains(list.stderr, note) || !strings.Contains(list.stdout, `"elapsed_seconds": 1800`) {
		t.Errorf("incidents: exit %d\nstderr %s\nstdout %s\nwant 30 minutes elapsed at the console's clock", list.code, list.stderr, list.stdout)
	}
	pm := runBinary(t, bin, "", "postmortem", "--db", db, "--plan", plan, "--format", "json", "1")
	if pm.code != 0 || !strings.Contains(pm.stderr, note) || !strings.Contains(pm.stdout, `"as_of": "2026-11-21T10:30:00Z"`) {
		t.Errorf("postmortem: exit %d\nstderr %s\nstdout %.600s", pm.code, pm.stderr, pm.stdout)
	}
	stats := runBinary(t, bin, "", "stats", "--db", db, "--plan", plan, "--since", "1d")
	if stats.code != 0 || !strings.Contains(stats.stderr, note) || !strings.Contains(stats.stdout, "since 2026-11-20 11:30 CET") {
		t.Errorf("stats --since 1d: exit %d\nstderr %s\nstdout %s\nwant a day before the console's clock", stats.code, stats.stderr, stats.stdout)
	}
	// drbot web: every page says so, and the countdown stands at 30m.
	absDB, _ := filepath.Abs(db)
	absPlan, _ := filepath.Abs(filepath.Join(repoRoot, plan))
	web := exec.Command(bin, "web", "--addr", "127.0.0.1:0", "--db", absDB, "--plan", absPlan)
	web.Env = serveEnv()
	base := startAndListen(t, web)
	code, body := webGet(t, webClient(t), base+"/")
	for _, want := range []string{`data-frozen="true"`, "Played in drbot console: times are at the console&#39;s clock, 2026-11-21 11:30 CET, not now.", `<strong class="elapsed">30m</strong>`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("drbot web on the console's database: %d, lacks %s", code, want)
		}
	}
	// The next session goes on at 10:30: status shows 30m elapsed, and
	// 5 more minutes fire only what falls due in them.
	second := runBinary(t, bin, "in #inc-1-db-corruption\n/incident status\n", "console", "--plan", plan, "--db", db)
	if second.code != 0 || !strings.Contains(second.stdout, "Elapsed 30m of the 2h RTO (deadline 13:00 CET)") || strings.Contains(second.stdout, "RTO breached") {
		t.Errorf("second session: exit %d\nstderr %s\nstdout %s\nwant the status at 10:30, 30m elapsed", second.code, second.stderr, second.stdout)
	}
}

// TestConsoleRefusesServesDatabase: the console does not play in a
// database drbot serve has worked that holds incidents (it would print,
// and mark as sent, the pages waiting there, and fire real timers on its
// own clock); the database is left as it was.
func TestConsoleRefusesServesDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	t.Parallel()
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	srv := startServe(t, fs, dir)
	// Slack holds every post back for a minute: the pages wait in the
	// outbox when serve stops, as they would in an outage.
	fs.FailNext("chat.postMessage", 1000, http.StatusTooManyRequests, 60)
	if status, _ := srv.command(alice, fakeslack.GeneralID, "declare db-corruption", fs.ResponseURL("declare")); status != http.StatusOK {
		t.Fatalf("declare: status %d", status)
	}
	incidentChannel(t, fs, "inc-")
	if _, err := fs.WaitFor("chat.postMessage", 1, wait); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	db := filepath.Join(dir, "drbot.db")
	before := waitingAndMarked(t, db)
	if before.waiting == 0 {
		t.Fatal("nothing waits in the outbox: the test shows nothing")
	}
	r := runBinary(t, drbotBinary(t), "wait 1h\n", "console", "--plan", filepath.Join(dir, "plan.yaml"), "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "is a database drbot serve works on and holds 1 incident") || !strings.Contains(r.stderr, "--db drbot-console.db") {
		t.Errorf("console on serve's database: exit %d\nstderr %s\nwant exit 1 saying serve made its incident", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "paged") {
		t.Errorf("the console printed serve's waiting messages:\n%s", r.stdout)
	}
	if after := waitingAndMarked(t, db); after != before {
		t.Errorf("the refused console changed the database: %+v, was %+v", after, before)
	}
}

type outboxAndMark struct {
	waiting int
	marked  bool
}

// waitingAndMarked reads how many messages wait in the outbox of the
// database at path and whether the console marked it.
func waitingAndMarked(t *testing.T, path string) (r outboxAndMark) {
	t.Helper()
	st, err := storage.Open(context.Background(), storage.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(context.Background(), func(tx incident.Tx) (err error) {
		if r.waiting, err = tx.OutboxDepth(); err != nil {
			return err
		}
		_, r.marked, err = tx.Get(consoleMarkKey)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestConsoleStartNotBeforeItsClock: --start before the clock a database
// was left at is refused (status 2) with what to do, and changes nothing.
func TestConsoleStartNotBeforeItsClock(t *testing.T) {
	t.Parallel()
	bin := drbotBinary(t)
	db := filepath.Join(t.TempDir(), "demo.db")
	plan := filepath.Join("examples", "plan.yaml")
	if r := runBinary(t, bin, "/incident declare db-corruption x\nwait 2h\n", "console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z"); r.code != 0 {
		t.Fatalf("console: exit %d\n%s", r.code, r.stderr)
	}
	r := runBinary(t, bin, "/incident declare db-corruption y\n", "console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z")
	want := "console: --start 2026-11-21 11:00 CET is before the console's clock in " + db + ", 2026-11-21 13:00 CET: the clock only goes forward. Play on a new database (--db NEW.db)"
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "#2") {
		t.Errorf("--start before the clock: exit %d\nstderr %s\nstdout %s\nwant exit 2 and %q", r.code, r.stderr, r.stdout, want)
	}
	if r := runBinary(t, bin, "", "incidents", "--db", db, "--plan", plan, "--format", "json"); strings.Count(r.stdout, `"id":`) != 1 {
		t.Errorf("after the refused session: %s, want the one incident", r.stdout)
	}
}

// TestConsoleButtonsAcrossSessions: a later session shows the current
// step of each open incident again, with its buttons, so that an incident
// left at a decision or an approval can go on (before, "press No" found
// no button and nothing typed could answer a decision).
func TestConsoleButtonsAcrossSessions(t *testing.T) {
	t.Parallel()
	bin := drbotBinary(t)
	db := filepath.Join(t.TempDir(), "play.db")
	plan := filepath.Join("examples", "plan.yaml")
	session := func(script string, args ...string) drbotRun {
		t.Helper()
		r := runBinary(t, bin, script, append([]string{"console", "--plan", plan, "--db", db}, args...)...)
		if r.code != 0 {
			t.Fatalf("console: exit %d\nstderr %s\nstdout %s", r.code, r.stderr, r.stdout)
		}
		return r
	}
	session("/incident declare db-corruption checksum errors\n", "--start", "2026-11-21T10:00:00Z")
	second := session("as carol\nin #inc-1-db-corruption\npress No\n")
	if !strings.Contains(second.stdout, "#inc-1-db-corruption (shown again): Step 1/4 · assess") ||
		!strings.Contains(second.stdout, "carol answered *No*") {
		t.Errorf("second session: the decision was not shown again and answered:\n%s", second.stdout)
	}
	// A page's button of an earlier session is not shown again: the
	// refusal says what is, and how to acknowledge.
	r := runBinary(t, bin, "as erin\nin @erin\npress Approve\n", "console", "--plan", plan, "--db", db)
	if want := "only each open incident's current step is shown again: in #inc-1-db-corruption; a page of then is acknowledged with /incident ack"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("press in a DM of an earlier session: exit %d, stderr %s; want %q", r.code, r.stderr, want)
	}
	third := session("as erin\nin #inc-1-db-corruption\npress Approve\n")
	if !strings.Contains(third.stdout, "(shown again): Step 3/4 · restore") || !strings.Contains(third.stdout, "Approved by @erin") {
		t.Errorf("third session: the approval was not shown again and approved:\n%s", third.stdout)
	}
}

// TestConsoleClockSurvivesKill: the console records its clock at each
// reading, so a session killed mid-way (a closed terminal, kill -9)
// resumes where it was, not where it started: before, the next session
// went back 20 minutes and recorded acknowledgements before the pages.
func TestConsoleClockSurvivesKill(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "play.db")
	plan, err := filepath.Abs(filepath.Join(repoRoot, "examples", "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(drbotBinary(t), "console", "--plan", plan, "--db", db, "--start", "2026-11-21T10:00:00Z")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := io.WriteString(stdin, "/incident declare db-corruption x\nwait 20m\n"); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "(20m later)") {
	}
	if err := cmd.Process.Kill(); err != nil { // the session still open, its stdin too
		t.Fatal(err)
	}
	_ = cmd.Wait()
	r := runBinary(t, drbotBinary(t), "in #inc-1-db-corruption\n/incident status\n", "console", "--plan", plan, "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "Elapsed 20m of the 2h RTO") {
		t.Errorf("after a kill: exit %d\nstderr %s\nstdout %s\nwant the status at 11:20, 20m elapsed", r.code, r.stderr, r.stdout)
	}
}

// TestServeForgetsConsoleClock: once drbot serve works on a database the
// console played in (serve --force), the console's clock is forgotten:
// the incidents and the web pages measure in real time, and the console
// refuses the database.
func TestServeForgetsConsoleClock(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := saveConsoleClock(ctx, st, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := consoleClock(ctx, st); err != nil || !ok {
		t.Fatalf("the console's clock before serve: %v %v", ok, err)
	}
	if err := markServe(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := consoleClock(ctx, st); err != nil || ok {
		t.Errorf("the console's clock after serve: %v %v %v, want none", got, ok, err)
	}
	var errOut strings.Builder
	if err := markConsole(ctx, st, "x.db", &errOut, false); err == nil || !strings.Contains(err.Error(), "x.db is a database drbot serve works on:") {
		t.Errorf("the console on a served database with no incident: %v, want refused", err)
	}
}
