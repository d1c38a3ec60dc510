package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// pagesPlan pages frank (by email only) and alice in every incident, and
// never escalates within a test.
const pagesPlan = `version: 1
name: Pages plan
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
  frank: {name: Frank Moe, email: frank@example.com}
roles:
  oncall: [frank, bob]
  lead:   [alice]
paging:
  ack_timeout: 10m
services:
  api: {rto: 1h}
scenarios:
  api-down:
    title: API down
    service: api
    severity: sev2
    page: [oncall, lead]
    steps:
      - id: restart
        do: Restart the API.
        estimate: 5m
`

// TestServeStormOfPagesToOnePerson: four incidents declared at once, under
// Slack's rate-limit tiers, all page frank (known by email only). He gets
// fewer messages than pages (the pages waiting together are one message,
// an "Acknowledge #N" button each), and pressing each button acknowledges
// its own incident. Each channel costs one conversations.invite and one
// conversations.setTopic; frank's email is looked up once; no
// conversations.open (issue 16, points 3 and 4).
func TestServeStormOfPagesToOnePerson(t *testing.T) {
	const incidents = 4
	fs := newFakeWorkspace(t)
	fs.SetRateLimits(true)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(pagesPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, fs, dir)
	for i := 1; i <= incidents; i++ {
		status, answer := srv.command(bob, fakeslack.GeneralID, fmt.Sprintf("declare api-down shard %d", i), fs.ResponseURL(fmt.Sprint("declare-", i)))
		if status != http.StatusOK {
			t.Fatalf("declare %d: status %d %s", i, status, answer)
		}
	}

	// Every incident's page reaches frank, each exactly once.
	labels := map[string]int{}
	err := fs.WaitUntil(wait, func() bool {
		clear(labels)
		for _, m := range fs.Messages(frank) {
			for i := 1; i <= incidents; i++ {
				if _, ok := m.Button(fmt.Sprintf("Acknowledge #%d", i)); ok {
					labels[fmt.Sprint(i)]++
				} else if _, ok := m.Button("Acknowledge"); ok && strings.Contains(m.AllText(), fmt.Sprintf("inc-%d-", i)) {
					labels[fmt.Sprint(i)]++
				}
			}
		}
		return len(labels) == incidents
	})
	if err != nil {
		t.Fatalf("pages of %d incidents reached frank, want %d", len(labels), incidents)
	}
	for id, n := range labels {
		if n != 1 {
			t.Errorf("incident %s paged frank %d times", id, n)
		}
	}
	dms := fs.Messages(frank)
	if len(dms) >= incidents {
		t.Errorf("frank got %d messages for %d pages waiting together, want them bundled", len(dms), incidents)
	}

	// Pressing each button acknowledges its own incident.
	for i := 1; i <= incidents; i++ {
		label := fmt.Sprintf("Acknowledge #%d", i)
		m, err := fs.WaitForMessage(frank, wait, withButton(label))
		if err != nil {
			m = mustMessage(t, fs, frank, "the page of incident "+fmt.Sprint(i), withButton("Acknowledge", fmt.Sprintf("inc-%d-", i)))
			label = "Acknowledge"
		}
		srv.press(frank, m, label, fs.ResponseURL(fmt.Sprint("ack-", i)))
		ch := incidentChannel(t, fs, fmt.Sprintf("inc-%d-", i))
		mustMessage(t, fs, ch.ID, "frank's acknowledgement in incident "+fmt.Sprint(i), containing("Frank Moe acknowledged as oncall"))
	}
	if err := fs.WaitUntil(wait, func() bool {
		for _, m := range fs.Messages(frank) {
			if len(m.Buttons()) > 0 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Errorf("an Acknowledge button is left on frank's pages after he pressed them all")
	}

	// Fewer calls for the same effect.
	for i := 1; i <= incidents; i++ {
		ch := incidentChannel(t, fs, fmt.Sprintf("inc-%d-", i))
		if err := fs.WaitUntil(wait, func() bool { c, _ := fs.Channel(ch.ID); return c.Topic != "" }); err != nil {
			t.Errorf("%s has no topic", ch.Name)
		}
		var invites, topics int
		for _, c := range fs.CallsTo("conversations.invite") {
			if c.Params.Get("channel") == ch.ID {
				invites++
				if users := c.Params.Get("users"); !strings.Contains(users, frank) || !strings.Contains(users, alice) || !strings.Contains(users, bob) {
					t.Errorf("%s: invited %q, want frank, alice and bob at once", ch.Name, users)
				}
			}
		}
		for _, c := range fs.CallsTo("conversations.setTopic") {
			if c.Params.Get("channel") == ch.ID {
				topics++
			}
		}
		if invites != 1 || topics != 1 {
			t.Errorf("%s: %d conversations.invite and %d conversations.setTopic calls, want 1 each", ch.Name, invites, topics)
		}
	}
	var lookups int
	for _, c := range fs.CallsTo("users.lookupByEmail") {
		if c.Params.Get("email") == "frank@example.com" {
			lookups++
		}
	}
	if lookups != 1 {
		t.Errorf("frank's email looked up %d times, want once", lookups)
	}
	if n := len(fs.CallsTo("conversations.open")); n != 0 {
		t.Errorf("%d conversations.open calls, want none (a DM goes to the member ID)", n)
	}
}

// BenchmarkStartToReady measures "drbot serve" on a fresh database, from
// starting the process to its first 200 on GET /healthz (migrations, plan
// check, listening): ms/op, with p50 and max. The target is under
// 200 ms.
func BenchmarkStartToReady(b *testing.B) {
	fs := newFakeWorkspace(b)
	drbotBinary(b)
	var took []time.Duration
	for b.Loop() {
		dir := b.TempDir()
		writeE2EPlan(b, fs, dir)
		start := time.Now()
		s := launchServe(b, fs, dir, false, []string{"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_SIGNING_SECRET=" + e2eSecret})
		for {
			resp, err := http.Get(s.base + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("/healthz not ready after 30 s (%v)\n%s", err, s.logs)
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		s.stop()
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
