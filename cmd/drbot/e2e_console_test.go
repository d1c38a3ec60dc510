package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// -update rewrites the golden files. Another test file of the package may
// declare the flag too; whoever comes first registers it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// repoRoot is where the README's commands run from.
const repoRoot = "../.."

// drbotRun is one run of the real binary.
type drbotRun struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, bin, stdin string, args ...string) drbotRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	// The environment must not choose the plan or database for the test.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DRBOT_") })
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := drbotRun{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run drbot %v: %v", args, err)
	}
	return r
}

// TestConsoleEndToEnd builds the real binary once and plays the shipped
// demo script on the shipped plan, then reads the result back with
// "drbot incidents" and "drbot postmortem", as a newcomer following the
// README would.
func TestConsoleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "drbot")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "drbot.db")

	demo := runBinary(t, bin, "", "console", "--plan", "examples/plan.yaml", "--db", db,
		"--start", "2026-11-21T10:00:00Z", "--script", "examples/incident.script")
	if demo.code != 0 {
		t.Fatalf("console exit %d\nstderr:\n%s\nstdout:\n%s", demo.code, demo.stderr, demo.stdout)
	}
	// The plan's warning (site-loss is over its RTO on purpose) and
	// nothing else: no log lines at the default level.
	for line := range strings.Lines(demo.stderr) {
		if !strings.Contains(line, ": warning: ") {
			t.Errorf("console wrote to stderr: %q", line)
		}
	}

	t.Run("transcript", func(t *testing.T) {
		for _, want := range []string{
			// declared, with the user's <!channel> shown as text, not a mention
			"> /incident declare db-corruption",
			"#inc-1-db-corruption: (channel created)",
			"<!channel> stay off the primary",
			// pages, escalation, acknowledgements
			"@alice: ",
			"@bob: ",
			"[1] Acknowledge",
			"did not acknowledge within 5m",
			"[11:05] @carol: ",
			// acknowledging in the channel (issue 9): /incident ack, and
			// working the incident
			"> /incident ack",
			"Alice Berg acknowledged as commander after 0s, with /incident ack",
			"#inc-1-db-corruption: :arrow_right: Bob Dahl did not acknowledge within 5m; paging Carol Nilsen as executor",
			"Carol Nilsen acknowledged as executor after 5m, by pressing No on step assess",
			"Acknowledged by @carol at 11:05 CET (by pressing No on step assess)",
			// the commander paged about a role that ran out, stood down
			// when it answered
			"Nobody acknowledged the security role after 4 pages (Gina Solberg, Carol Nilsen). Paging the commander role.",
			"No longer needed: Gina Solberg acknowledged as security at 11:27 CET.",
			"Gina Solberg acknowledged as security after 22m, with /incident ack. No longer paging commander about it.",
			"• commander: acknowledged by Alice Berg at 11:00 CET",
			"Time to acknowledge: 5m (executor); slowest: security 22m",
			// the decision and the approval
			"@carol pressed [No]",
			"@bob pressed [Approve]",
			"[11:05] @erin: @erin pressed [Approve]",
			"Approved by @erin",
			// the RTO alert at 50%, at 12:00 in Oslo
			"[12:00] #inc-1-db-corruption: ",
			"50%",
			"> /incident resolve",
			"*Incident #1 resolved*",
			"RTO: met",
		} {
			if !strings.Contains(demo.stdout, want) {
				t.Errorf("transcript lacks %q", want)
			}
		}
		for line := range strings.Lines(demo.stdout) {
			// The script's comments mention @channel; drbot's lines must not.
			if strings.HasPrefix(line, "[") && strings.Contains(line, "@channel") {
				t.Errorf("the user's <!channel> became a mention: %q", line)
			}
		}
		golden := filepath.Join("testdata", "incident.transcript")
		if updatingGolden() {
			if err := os.WriteFile(golden, []byte(demo.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run ConsoleEndToEnd -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), demo.stdout); diff != "" {
			t.Errorf("transcript differs from %s (-want +got); if the change is intended, rerun with -update:\n%s", golden, diff)
		}
	})

	t.Run("incidents", func(t *testing.T) {
		r := runBinary(t, bin, "", "incidents", "--plan", "examples/plan.yaml", "--db", db)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want := "1   resolved  db-corruption  2026-11-21 11:00 CET  1h15m / 2h     met"
		if !strings.Contains(r.stdout, want) {
			t.Errorf("incidents lacks %q:\n%s", want, r.stdout)
		}
	})

	t.Run("postmortem json", func(t *testing.T) {
		r := runBinary(t, bin, "", "postmortem", "--format", "json", "1", "--db", db)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var pm map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &pm); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		// The fields of the contract in docs/http.md.
		for _, k := range []string{"id", "scenario", "title", "summary", "severity", "drill", "service", "state",
			"declared_at", "resolved_at", "rto_seconds", "rto_met", "time_to_ack_seconds", "time_to_recover_seconds", "timeline"} {
			if _, ok := pm[k]; !ok {
				t.Errorf("postmortem JSON lacks %q", k)
			}
		}
		checks := map[string]any{
			"id": 1.0, "scenario": "db-corruption", "state": "resolved", "drill": false, "service": "payments-db",
			"declared_at": "2026-11-21T10:00:00Z", "resolved_at": "2026-11-21T11:15:00Z",
			"rto_seconds": 7200.0, "rto_met": true, "time_to_recover_seconds": 4500.0,
		}
		for k, want := range checks {
			if got := pm[k]; got != want {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
		if !strings.Contains(r.stdout, "\n  \"id\": 1,") {
			t.Error("the JSON is not indented")
		}
		timeline, _ := pm["timeline"].([]any)
		kinds := map[string]bool{}
		// Times in the timeline's prose are the plan's, never RFC 3339;
		// people are named, never a raw member ID; events come in the
		// order they happened.
		rfc3339 := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`)
		memberID := regexp.MustCompile(`\bU0[A-Z0-9]{7}\b`)
		last := ""
		for _, e := range timeline {
			ev, _ := e.(map[string]any)
			for _, k := range []string{"at", "kind", "actor", "text", "data"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("timeline event %v lacks %q", ev, k)
				}
			}
			kind, _ := ev["kind"].(string)
			kinds[kind] = true
			text, _ := ev["text"].(string)
			if rfc3339.MatchString(text) || memberID.MatchString(text) {
				t.Errorf("%s event's text %q has an RFC 3339 time or a member ID", kind, text)
			}
			if kind == "unauthorized" && text != "Bob Dahl pressed approve on step restore but is not in the approver role" {
				t.Errorf("unauthorized event's text %q, want Bob Dahl named", text)
			}
			at, _ := ev["at"].(string)
			if at < last {
				t.Errorf("%s event at %s listed after one at %s", kind, at, last)
			}
			last = at
		}
		for _, k := range []string{"declared", "channel_created", "paged", "acknowledged", "escalated",
			"step_started", "decision", "approval_requested", "unauthorized", "approved", "step_done",
			"rto_alert", "note", "resolved", "postmortem_posted"} {
			if !kinds[k] {
				t.Errorf("timeline has no %q event", k)
			}
		}
	})

	t.Run("postmortem markdown", func(t *testing.T) {
		r := runBinary(t, bin, "", "postmortem", "--db", db, "1")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, want := range []string{"# Postmortem of incident 1", "Corrupted payments database", "**verify**", "| unauthorized |",
			// in the plan's timezone, with its abbreviation
			"| Declared | 2026-11-21 11:00:00 CET |", "| Resolved | 2026-11-21 12:15:00 CET |"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("markdown lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("postmortem of an unknown incident", func(t *testing.T) {
		r := runBinary(t, bin, "", "postmortem", "--db", db, "99")
		if r.code != 1 || !strings.Contains(r.stderr, "no incident 99") {
			t.Errorf("exit %d, stderr %q; want 1 and no incident 99", r.code, r.stderr)
		}
	})

	t.Run("postmortem usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"postmortem", "--db", db},
			{"postmortem", "--db", db, "one"},
			{"postmortem", "--db", db, "--format", "pdf", "1"},
		} {
			if r := runBinary(t, bin, "", args...); r.code != 2 {
				t.Errorf("%v: exit %d, want 2; stderr %q", args, r.code, r.stderr)
			}
		}
	})

	t.Run("a script that presses a missing button", func(t *testing.T) {
		script := filepath.Join(dir, "bad.script")
		body := "# incident 2 on the same database\n/incident declare db-corruption\npress Approve\n/incident status\n"
		if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runBinary(t, bin, "", "console", "--plan", "examples/plan.yaml", "--db", db,
			"--start", "2026-11-22T10:00:00Z", "--script", script)
		want := script + `:3: no button "Approve" in #general or @alice's direct messages`
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
		}
		if strings.Contains(r.stdout, "> /incident status") {
			t.Error("the script went on after the failing line")
		}
	})

	t.Run("the README's walkthrough", func(t *testing.T) {
		readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(readme), "Then type, line by line:\n\n```\n")
		lines, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatal("README.md has no console lines after 'Then type, line by line:'")
		}
		r := runBinary(t, bin, lines, "console", "--plan", "examples/plan.yaml", "--db", filepath.Join(dir, "readme.db"))
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		// What the README says happens: acknowledged in the channel, the
		// escalation said as it happens, and working the incident
		// acknowledging the page.
		for _, want := range []string{
			"Alice Berg acknowledged as commander after 0s, with /incident ack",
			"Bob Dahl did not acknowledge within 5m; paging Carol Nilsen as executor",
			"Carol Nilsen acknowledged as executor after 5m, by pressing No on step assess",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("the README's walkthrough lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("lines from a pipe", func(t *testing.T) {
		r := runBinary(t, bin, "as zed\n", "console", "--plan", "examples/plan.yaml", "--db", db)
		want := `stdin:1: unknown contact "zed"`
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
		}
		if strings.Contains(r.stdout, "> > ") || !strings.Contains(r.stdout, "> as zed") {
			t.Errorf("a pipe is a script: no prompt, lines echoed:\n%s", r.stdout)
		}
	})
}

// TestConsoleDatabaseIsItsOwn: the console's default database is
// drbot-console.db, not serve's drbot.db; a second run says how many
// incidents are open in it; serve refuses a database the console played
// incidents in, and starts on it with --force.
func TestConsoleDatabaseIsItsOwn(t *testing.T) {
	bin := drbotBinary(t)
	dir := t.TempDir()
	plan, err := filepath.Abs(filepath.Join(repoRoot, "examples", "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, env []string, args ...string) drbotRun {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "DRBOT_") || strings.HasPrefix(kv, "SLACK_")
		}), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := drbotRun{stdout: out.String(), stderr: errb.String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := run("/incident declare db-corruption play\n", nil, "console", "--plan", plan)
	if first.code != 0 {
		t.Fatalf("console: exit %d\n%s", first.code, first.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "drbot-console.db")); err != nil {
		t.Fatalf("the console's default database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "drbot.db")); err == nil {
		t.Fatal("the console wrote drbot.db, serve's default database")
	}
	second := run("quit\n", nil, "console", "--plan", plan)
	if !strings.Contains(second.stderr, "drbot-console.db: 1 incident is open") {
		t.Errorf("second console run said %q, want how many incidents are open", second.stderr)
	}

	env := []string{"SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=s", "SLACK_API_URL=http://127.0.0.1:1/"}
	refused := run("", env, "serve", "--plan", plan, "--db", "drbot-console.db", "--addr", "127.0.0.1:0")
	if refused.code != 1 || !strings.Contains(refused.stderr, "made by drbot console") || !strings.Contains(refused.stderr, "--force") {
		t.Fatalf("serve on the console's database: exit %d\n%s\nwant exit 1 naming the console and --force", refused.code, refused.stderr)
	}
}

// TestServeTakenPortCreatesNoDatabase: serve on a port in use fails before
// it creates a database file.
func TestServeTakenPortCreatesNoDatabase(t *testing.T) {
	bin := drbotBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "drbot.db")
	cmd := exec.Command(bin, "serve", "--plan", filepath.Join(repoRoot, "examples", "plan.yaml"), "--db", db, "--addr", ln.Addr().String())
	cmd.Env = append(os.Environ(), "SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=s", "SLACK_API_URL=http://127.0.0.1:1/")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("serve on a taken port: %v\n%s", err, out)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("serve created the database before finding the port taken")
	}
}
