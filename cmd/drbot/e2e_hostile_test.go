package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// Hostile input, sent to the real binary (the HTTP stack, the signature
// check and the database are the ones that run in production). One
// exception runs in the process: how many bytes of an oversized body the
// handler reads, which only a reader inside the process can count.
//
// Every case gets a clear answer, and changes nothing it should not: the
// test compares the timelines and the calls the fake Slack received before
// and after.

const hostilePlan = `version: 1
name: Hostile plan
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
  carol: {name: Carol Ek, slack: U0CAROL01}
  erin:  {name: Erin Lund, slack: U0ERIN001}
roles:
  commander: [alice]
  executor:  [bob]
  approver:  [erin]
  security:  [carol]
paging:
  ack_timeout: 1h
  rounds: 1
services:
  payments-db: {rto: 2h}
  login: {rto: 1h}
scenarios:
  db-corruption:
    title: Corrupted payments database
    service: payments-db
    severity: sev1
    page: [commander, executor]
    steps:
      - id: restore
        do: Restore the last snapshot.
        estimate: 1h
        approval: approver
      - id: verify
        do: Run the smoke tests.
        estimate: 10m
  breach:
    title: Credential leak
    service: login
    severity: sev1
    page: [security]
    steps:
      - id: rotate
        do: Rotate the keys.
        estimate: 20m
`

// hostile is the running drbot and what the test knows of it.
type hostile struct {
	t   *testing.T
	fs  *fakeslack.Server
	srv *served
	db  string
}

// state is what a request must not change: every timeline's length and
// the Slack calls made (answers by response_url aside: that is how drbot
// answers).
type state struct {
	events map[int64]int
	calls  int
}

func (h *hostile) state() state {
	h.t.Helper()
	waitOutboxEmpty(h.t, h.db, wait)
	st := state{events: map[int64]int{}}
	for _, r := range readTimelines(h.t, h.db) {
		st.events[r.inc.ID] = len(r.events)
	}
	for _, c := range h.fs.Calls() {
		if c.Method != fakeslack.MethodResponseURL {
			st.calls++
		}
	}
	return st
}

// unchanged fails the test if anything changed since before.
func (h *hostile) unchanged(what string, before state) {
	h.t.Helper()
	after := h.state()
	if len(after.events) != len(before.events) {
		h.t.Errorf("%s: %d incidents, were %d", what, len(after.events), len(before.events))
	}
	for id, n := range after.events {
		if n != before.events[id] {
			h.t.Errorf("%s: incident %d has %d timeline events, had %d", what, id, n, before.events[id])
		}
	}
	if after.calls != before.calls {
		var extra []string
		for _, c := range h.fs.Calls() {
			if c.Method != fakeslack.MethodResponseURL {
				extra = append(extra, c.Method+" "+c.Params.Get("text"))
			}
		}
		h.t.Errorf("%s: %d Slack calls, were %d; the last ones: %q", what, after.calls, before.calls, extra[before.calls:])
	}
}

// events returns the timeline of incident id.
func (h *hostile) events(id int64) []incident.Event {
	h.t.Helper()
	for _, r := range readTimelines(h.t, h.db) {
		if r.inc.ID == id {
			return r.events
		}
	}
	h.t.Fatalf("no incident %d", id)
	return nil
}

func countKind(events []incident.Event, kind incident.EventKind) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// pressAs presses the button labelled label of m as user; the answer
// drbot gives the presser goes to response_url id.
func (h *hostile) pressAs(user string, m fakeslack.Message, label, id string) (int, string) {
	h.t.Helper()
	b, ok := m.Button(label)
	if !ok {
		h.t.Fatalf("no %q button on %q", label, m.AllText())
	}
	return h.pressValue(user, m.Channel, b.Value, id)
}

func (h *hostile) pressValue(user, channel, value, id string) (int, string) {
	h.t.Helper()
	raw, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": fakeslack.TeamID},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"type": "message", "channel_id": channel},
		"response_url": h.fs.ResponseURL(id), "trigger_id": "t-" + id,
		"actions": []any{map[string]any{"type": "button", "action_id": "a", "block_id": "b", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "x"}, "action_ts": "1.1"}},
	})
	status, _ := h.srv.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), nil)
	if status != http.StatusOK {
		return status, ""
	}
	return status, fmt.Sprint(waitResponse(h.t, h.fs, id)["text"])
}

// TestHostileInput sends drbot what an attacker, a broken proxy or a
// confused user might, each case against the running binary.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	dir := faultDir(t, hostilePlan)
	h := &hostile{t: t, fs: fs, srv: startServe(t, fs, dir), db: filepath.Join(dir, "drbot.db")}
	srv := h.srv

	// Two incidents of different scenarios: #1 (commander alice, executor
	// bob, restore waits for the approver erin) and #2 (security carol).
	if status, text := srv.command(alice, fakeslack.GeneralID, "declare db-corruption first", fs.ResponseURL("d1")); status != 200 || !strings.Contains(text, "#1") {
		t.Fatalf("declare #1: %d %q", status, text)
	}
	if status, text := srv.command(carol, fakeslack.GeneralID, "declare breach second", fs.ResponseURL("d2")); status != 200 || !strings.Contains(text, "#2") {
		t.Fatalf("declare #2: %d %q", status, text)
	}
	ch1, ch2 := incidentChannel(t, fs, "inc-1-"), incidentChannel(t, fs, "inc-2-")
	alicePage := mustMessage(t, fs, alice, "alice's page", withButton("Acknowledge", "commander"))
	carolPage := mustMessage(t, fs, carol, "carol's page", withButton("Acknowledge", "security"))
	approval := mustMessage(t, fs, ch1.ID, "the approval request", withButton("Approve", "restore"))

	declare := func(text string) []byte {
		return slashForm(alice, fakeslack.GeneralID, text, fs.ResponseURL("hostile"))
	}

	t.Run("bad signatures", func(t *testing.T) {
		body := declare("declare db-corruption forged")
		before := h.state()
		for _, tt := range []struct {
			name   string
			header http.Header
		}{
			{"forged", bot.Sign("not-the-secret", time.Now(), body)},
			{"stale", bot.Sign(e2eSecret, time.Now().Add(-6*time.Minute), body)},
			{"from the future", bot.Sign(e2eSecret, time.Now().Add(6*time.Minute), body)},
			{"unsigned", http.Header{}},
			{"another version", http.Header{bot.HeaderTimestamp: {fmt.Sprint(time.Now().Unix())}, bot.HeaderSignature: {"v1=00"}}},
			{"not hex", http.Header{bot.HeaderTimestamp: {fmt.Sprint(time.Now().Unix())}, bot.HeaderSignature: {"v0=zz"}}},
			{"signature of another body", bot.Sign(e2eSecret, time.Now(), declare("declare breach"))},
		} {
			if status, text := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, tt.header); status != http.StatusUnauthorized || !strings.Contains(text, "invalid signature") {
				t.Errorf("%s: %d %q, want 401 invalid signature", tt.name, status, text)
			}
		}
		h.unchanged("bad signatures", before)
	})

	t.Run("replays", func(t *testing.T) {
		// An exact copy of a signed request within the 5-minute window:
		// Slack never sends one, so it is refused, and a declaration is
		// not made twice.
		body := declare("declare breach replayed")
		header := bot.Sign(e2eSecret, time.Now(), body)
		if status, text := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, header); status != 200 || !strings.Contains(text, "#3") {
			t.Fatalf("first: %d %q", status, text)
		}
		before := h.state()
		if status, text := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, header); status != http.StatusUnauthorized || !strings.Contains(text, "replayed") {
			t.Errorf("replay: %d %q, want 401 replayed", status, text)
		}
		// The same with the signature in upper case (hex decodes it).
		upper := http.Header{bot.HeaderTimestamp: header[bot.HeaderTimestamp], bot.HeaderSignature: {strings.ToUpper(header.Get(bot.HeaderSignature))}}
		if status, _ := srv.post("/slack/commands", "application/x-www-form-urlencoded", body, upper); status != http.StatusUnauthorized {
			t.Errorf("replay in upper case: %d, want 401", status)
		}
		h.unchanged("replayed declaration", before)

		// A press sent twice, signed twice: acts once.
		if status, text := h.pressAs(carol, carolPage, "Acknowledge", "ack-carol"); status != 200 || !strings.Contains(text, "You acknowledged") {
			t.Fatalf("carol's press: %d %q", status, text)
		}
		before = h.state()
		if status, text := h.pressAs(carol, carolPage, "Acknowledge", "ack-carol-again"); status != 200 || !strings.Contains(text, "Already acknowledged") {
			t.Errorf("second press: %d %q, want Already acknowledged", status, text)
		}
		h.unchanged("second press", before)
		if n := countKind(h.events(2), incident.KindAcknowledged); n != 1 {
			t.Errorf("%d acknowledgements of #2, want 1", n)
		}

		// An event delivered twice (Slack's retries): noted once.
		ts, _ := fs.PostUserMessage(ch1.ID, bob, "replica is lagging 40 s")
		pin, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": fakeslack.TeamID, "event_id": "EvREPLAY1", "event_time": 1,
			"event": map[string]any{"type": "pin_added", "user": alice, "channel_id": ch1.ID, "event_ts": "1.1",
				"item": map[string]any{"type": "message", "channel": ch1.ID, "message": map[string]any{"type": "message", "user": bob, "text": "replica is lagging 40 s", "ts": ts}}}})
		header = bot.Sign(e2eSecret, time.Now(), pin)
		for i := range 3 {
			extra := header.Clone()
			if i > 0 {
				extra = bot.Sign(e2eSecret, time.Now(), pin)
				extra.Set("X-Slack-Retry-Num", fmt.Sprint(i))
			}
			if status, _ := srv.post("/slack/events", "application/json", pin, extra); status != 200 {
				t.Errorf("event delivery %d: status %d", i+1, status)
			}
		}
		waitEvent(t, h.db, 1, incident.KindNote)
		if n := countKind(h.events(1), incident.KindNote); n != 1 {
			t.Errorf("%d notes from one pin delivered 3 times, want 1", n)
		}
	})

	t.Run("10 MiB body", func(t *testing.T) {
		before := h.state()
		status, written := postHuge(t, srv.base+"/slack/commands", 10<<20)
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", status)
		}
		// The rest of the body is not read: drbot closes the
		// connection, and the sender cannot push it all.
		if written >= 10<<20 {
			t.Errorf("the sender wrote all %d bytes: drbot read past its 1 MiB limit", written)
		}
		t.Logf("10 MiB body: 413 after the sender wrote %.1f MiB (kernel buffers included)", float64(written)/(1<<20))
		h.unchanged("10 MiB body", before)
		if status, _ := srv.command(alice, fakeslack.GeneralID, "list", fs.ResponseURL("list")); status != 200 {
			t.Errorf("drbot does not answer after the huge body: %d", status)
		}
	})

	t.Run("unicode", func(t *testing.T) {
		// Right-to-left text and an override, combining marks, emoji ZWJ
		// sequences, a NUL and bytes that are not UTF-8.
		summary := "שלום עולם \u202Eevil\u202C Z\u0351\u0362a\u0301lgo 👩\u200d💻 🏳️\u200d🌈 \x00nul \xff\xfe end"
		status, text := srv.command(alice, fakeslack.GeneralID, "declare db-corruption "+summary, fs.ResponseURL("uni"))
		if status != 200 || !strings.Contains(text, "#4") {
			t.Fatalf("declare with unicode: %d %q", status, text)
		}
		ch := incidentChannel(t, fs, "inc-4-")
		pinned := mustMessage(t, fs, ch.ID, "the pinned summary", func(m fakeslack.Message) bool { return m.Pinned })
		got := pinned.AllText()
		for _, want := range []string{"שלום עולם", "\u202Eevil\u202C", "Z\u0351\u0362a\u0301lgo", "👩\u200d💻", "🏳️\u200d🌈", "nul \uFFFD end"} {
			if !strings.Contains(got, want) {
				t.Errorf("the summary lost %q: %q", want, got)
			}
		}
		if strings.ContainsRune(got, 0) || !utf8.ValidString(got) {
			t.Errorf("the summary posted holds a NUL or invalid UTF-8: %q", got)
		}
		for _, c := range fs.Calls() {
			for k, vs := range c.Params {
				for _, v := range vs {
					if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
						t.Errorf("%s %s: NUL or invalid UTF-8 sent to Slack: %q", c.Method, k, v)
					}
				}
			}
		}

		// A scenario name with look-alike or invisible characters is
		// not a scenario.
		before := h.state()
		for _, name := range []string{"db\u2010corruption", "\u202Edb-corruption", "db-corruption\u200b", "ｄｂ-corruption"} {
			status, text := srv.command(alice, fakeslack.GeneralID, "declare "+name+" lookalike", fs.ResponseURL("lookalike"))
			if status != 200 || !strings.Contains(text, "Unknown scenario") || !strings.Contains(text, "db-corruption") {
				t.Errorf("declare %q: %d %q, want an unknown scenario and the valid ones", name, status, text)
			}
		}
		h.unchanged("look-alike scenarios", before)
	})

	t.Run("40,000 characters", func(t *testing.T) {
		long := strings.Repeat("x", 40000)
		before := h.state()
		for _, tt := range []struct{ channel, text, want string }{
			{fakeslack.GeneralID, "declare db-corruption " + long, "summary is 40000 characters long"},
			{ch1.ID, "note " + long, "note is 40000 characters long"},
			{ch1.ID, "resolve " + long, "summary is 40000 characters long"},
			{ch1.ID, strings.Repeat("🔥", 40000), "Unknown"},
		} {
			status, text := srv.command(alice, tt.channel, tt.text, fs.ResponseURL("long"))
			t.Logf("%.25q… answered %.160q", tt.text, text)
			if status != 200 || !strings.Contains(text, tt.want) || len(text) > 2000 {
				t.Errorf("%.20q…: %d %.200q, want a short refusal with %q", tt.text, status, text, tt.want)
			}
		}
		// The declare dialog: the summary field says what is wrong.
		submit, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": alice},
			"view": map[string]any{"id": "V1", "type": "modal", "callback_id": "declare", "private_metadata": fakeslack.GeneralID,
				"state": map[string]any{"values": map[string]any{
					"scenario": map[string]any{"scenario": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "db-corruption"}}},
					"summary":  map[string]any{"summary": map[string]any{"type": "plain_text_input", "value": long}},
				}}}})
		status, answer := srv.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(submit)}}.Encode()), nil)
		if status != 200 || !strings.Contains(answer, `"response_action":"errors"`) || !strings.Contains(answer, `"summary"`) {
			t.Errorf("a 40,000-character summary in the dialog: %d %.300q, want the error under the summary", status, answer)
		}
		h.unchanged("40,000 characters", before)
	})

	t.Run("mentions", func(t *testing.T) {
		// Typed raw, and as Slack sends them (entities): either way the
		// broadcasts are posted as text that pings nobody, while a member,
		// a channel and a link stay what they are (issue 10's text rule).
		pings := "<!channel> <!here> <!everyone> <!subteam^S0EVIL|@oncall> <@U0EVIL999> <#C0EVIL|general> <https://evil.example|click>"
		escaped := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(pings)
		start := len(fs.Calls())
		for i, text := range []string{pings, escaped} {
			if status, answer := srv.command(alice, fakeslack.GeneralID, "declare breach "+text, fs.ResponseURL("ping")); status != 200 || !strings.Contains(answer, "declared incident") {
				t.Fatalf("declare %d: %d %q", i, status, answer)
			}
			if status, answer := srv.command(alice, ch1.ID, "note "+text, fs.ResponseURL("ping-note")); status != 200 || !strings.Contains(answer, "Noted") {
				t.Fatalf("note %d: %d %q", i, status, answer)
			}
		}
		incidentChannel(t, fs, "inc-6-")
		waitOutboxEmpty(t, h.db, wait)
		mustMessage(t, fs, ch1.ID, "the note, escaped", containing("&lt;!channel&gt; &lt;!here&gt;", "<@U0EVIL999> <#C0EVIL|general> <https://evil.example|click>"))
		for _, c := range fs.Calls()[start:] {
			sent := c.Params.Get("text") + c.Params.Get("blocks") + c.Params.Get("topic") + string(c.Body)
			for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<!subteam"} {
				if strings.Contains(sent, bad) {
					t.Errorf("%s sent a live %s: %.300q", c.Method, bad, sent)
				}
			}
		}
		// The timeline keeps the text as typed.
		if n := strings.Count(fmt.Sprint(h.events(1)), "<!channel>"); n < 2 {
			t.Errorf("the notes in the timeline lost the text as typed")
		}
	})

	t.Run("presses that must not act", func(t *testing.T) {
		before := h.state()
		// alice acknowledged her page by working the incident (her notes);
		// no press below may add an acknowledgement or an approval.
		acked := countKind(h.events(1), incident.KindAcknowledged)
		// carol (security of #2) presses #1's commander Acknowledge.
		_, text := h.pressAs(carol, alicePage, "Acknowledge", "cross")
		t.Logf("carol's press of #1's Acknowledge answered %q", text)
		if !strings.Contains(text, "Only the contacts paged as commander") {
			t.Errorf("a press of another incident's button: %q", text)
		}
		ev := h.events(1)
		if n := countKind(ev, incident.KindAcknowledged); n != acked {
			t.Errorf("#1 acknowledged by a press of someone not paged")
		}
		if last := ev[len(ev)-1]; last.Kind != incident.KindUnauthorized || last.Actor != carol {
			t.Errorf("#1's last event %+v, want carol's unauthorized press", last)
		}
		// mallory, in no role, presses Approve.
		_, text = h.pressAs(mallo, approval, "Approve", "mallory")
		t.Logf("mallory's Approve answered %q", text)
		if !strings.Contains(text, "approver") {
			t.Errorf("a non-approver's Approve: %q", text)
		}
		// Buttons that do not exist.
		for i, v := range []string{"ack|999|commander", "approve|1|0|99|restore", "ack|1|", "rm -rf /|x", strings.Repeat("A", 5000)} {
			status, text := h.pressValue(erin, ch1.ID, v, fmt.Sprintf("bogus-%d", i))
			t.Logf("press %.30q answered %q", v, text)
			if status != 200 || text == "" {
				t.Errorf("press %.30q: %d %q, want a clear answer", v, status, text)
			}
		}
		after := h.events(1)
		if got := countKind(after, incident.KindUnauthorized); got != 2 {
			t.Errorf("%d unauthorized events in #1, want 2 (carol, mallory)", got)
		}
		if countKind(after, incident.KindApproved) != 0 || countKind(after, incident.KindAcknowledged) != acked {
			t.Errorf("a refused press acted")
		}
		before.events[1] += 2 // the two unauthorized presses, recorded
		h.unchanged("refused presses", before)

		// erin approves; her second press does not approve twice.
		srv.press(erin, approval, "Approve", fs.ResponseURL("erin-1"))
		waitEvent(t, h.db, 1, incident.KindApproved)
		if _, text := h.pressAs(erin, approval, "Approve", "erin-2"); !strings.Contains(text, "approved") {
			t.Errorf("erin's second Approve answered %q, want that it is approved already", text)
		}
		if n := countKind(h.events(1), incident.KindApproved); n != 1 {
			t.Errorf("%d approvals after two presses, want 1", n)
		}

		// A press of a resolved incident.
		if status, text := srv.command(carol, ch2.ID, "resolve done", fs.ResponseURL("r2")); status != 200 || !strings.Contains(text, "resolved") {
			t.Fatalf("resolve #2: %d %q", status, text)
		}
		before = h.state()
		if _, text := h.pressValue(carol, carolPage.Channel, "ack|2|security", "resolved"); !strings.Contains(text, "resolved") {
			t.Errorf("a press of a resolved incident: %q", text)
		}
		h.unchanged("a press of a resolved incident", before)
	})

	t.Run("events drbot did not ask for", func(t *testing.T) {
		before := h.state()
		for _, tt := range []struct {
			name string
			body string
			want int
		}{
			{"unknown inner event", `{"type":"event_callback","event_id":"EvX1","event":{"type":"brand_new_event","user":"U0ALICE01"}}`, 200},
			{"message event", `{"type":"event_callback","event_id":"EvX2","event":{"type":"message","channel":"` + ch1.ID + `","user":"U0ALICE01","text":"<!channel>","ts":"1.2"}}`, 200},
			{"reaction other than pushpin", `{"type":"event_callback","event_id":"EvX3","event":{"type":"reaction_added","user":"U0ALICE01","reaction":"fire","item":{"type":"message","channel":"` + ch1.ID + `","ts":"1.2"}}}`, 200},
			{"app rate limited", `{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`, 200},
			{"unknown outer type", `{"type":"something_new","team_id":"T1"}`, 200},
		} {
			status, text := srv.post("/slack/events", "application/json", []byte(tt.body), nil)
			t.Logf("event %s: %d %q", tt.name, status, text)
			if status != tt.want {
				t.Errorf("%s: %d %q, want %d", tt.name, status, text, tt.want)
			}
		}
		h.unchanged("events drbot did not ask for", before)
	})

	t.Run("malformed bodies", func(t *testing.T) {
		before := h.state()
		for _, tt := range []struct {
			name, path, ctype, body string
			want                    int
		}{
			{"command form with a bad escape", "/slack/commands", "application/x-www-form-urlencoded", "text=%zz&user_id=U0ALICE01", 400},
			{"command as JSON", "/slack/commands", "application/json", `{"text":"declare db-corruption"}`, 200},
			{"interaction without payload", "/slack/interactions", "application/x-www-form-urlencoded", "foo=bar", 400},
			{"interaction payload not JSON", "/slack/interactions", "application/x-www-form-urlencoded", "payload=%7Bnot+json", 400},
			{"interaction payload of the wrong shape", "/slack/interactions", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(`{"type":["block_actions"],"actions":"x"}`), 400},
			{"interaction of an unknown type", "/slack/interactions", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(`{"type":"shortcut","callback_id":"x"}`), 200},
			{"event not JSON", "/slack/events", "application/json", "{not json", 400},
			{"event empty", "/slack/events", "application/json", "", 400},
			{"url_verification without challenge", "/slack/events", "application/json", `{"type":"url_verification"}`, 200},
		} {
			status, text := srv.post(tt.path, tt.ctype, []byte(tt.body), nil)
			t.Logf("%s: %d %.100q", tt.name, status, text)
			if status != tt.want {
				t.Errorf("%s: %d %q, want %d", tt.name, status, text, tt.want)
			}
			if status >= 500 {
				t.Errorf("%s: a server error for a client's mistake: %d", tt.name, status)
			}
		}
		h.unchanged("malformed bodies", before)
	})

	srv.stop()
	for _, r := range readTimelines(t, h.db) {
		checkTimeline(t, r, map[string][]string{"commander": {"alice"}, "executor": {"bob"}, "approver": {"erin"}, "security": {"carol"}}, time.Hour, 1)
	}
}

// postHuge POSTs a signed-looking request with a body of n bytes over a
// raw connection, writing while it reads the answer, and returns the
// status and how many bytes of the body it could write.
func postHuge(t *testing.T, target string, n int) (status int, written int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"+
		"X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=00\r\n\r\n", u.Path, u.Host, n, time.Now().Unix())
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent.Load() < int64(n) {
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			k, err := conn.Write(chunk[:min(len(chunk), n-int(sent.Load()))])
			sent.Add(int64(k))
			if err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the huge body: %v", err)
	}
	resp.Body.Close()
	conn.Close() // stops the writer if the kernel still takes bytes
	<-done
	return resp.StatusCode, sent.Load()
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// refusingEngine fails the test when a request reaches it.
type refusingEngine struct{ t *testing.T }

func (s refusingEngine) fail() { s.t.Errorf("a refused request reached the incident service") }
func (s refusingEngine) Command(context.Context, incident.CommandRequest) (incident.Reply, error) {
	s.fail()
	return incident.Reply{}, nil
}
func (s refusingEngine) Press(context.Context, incident.PressRequest) (incident.Reply, error) {
	s.fail()
	return incident.Reply{}, nil
}
func (s refusingEngine) ResolveWith(context.Context, incident.ResolveRequest) (incident.Reply, error) {
	s.fail()
	return incident.Reply{}, nil
}
func (s refusingEngine) Declare(context.Context, incident.DeclareRequest) (*incident.Incident, error) {
	s.fail()
	return nil, nil
}
func (s refusingEngine) Scenarios() []incident.ScenarioInfo { return nil }
func (s refusingEngine) DeclaredReply(context.Context, int64) (string, bool, error) {
	s.fail()
	return "", false, nil
}
func (s refusingEngine) ChannelArchived(context.Context, string, string, bool) error {
	s.fail()
	return nil
}
func (s refusingEngine) AddNoteForEvent(context.Context, string, string, string, string) (bool, error) {
	s.fail()
	return false, nil
}

// TestHostileBodyReadNoFurther runs in the process, where the reader of
// the body can count: a 10 MiB body is refused with 413 after at most
// 1 MiB (and one byte, to know it is more) has been read.
func TestHostileBodyReadNoFurther(t *testing.T) {
	t.Parallel()
	fs := newFakeWorkspace(t)
	srv, err := bot.NewServer(bot.Config{
		Engine:        refusingEngine{t},
		Chat:          bot.NewSlackChat(bot.ChatConfig{Token: fakeslack.BotToken, APIURL: fs.URL()}),
		SigningSecret: e2eSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
		body := &countingReader{r: io.LimitReader(zeroReader{}, 10<<20)}
		req := httptest.NewRequest(http.MethodPost, path, body)
		for k, v := range bot.Sign(e2eSecret, time.Now(), nil) {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413", path, rec.Code)
		}
		if n := body.n.Load(); n > bot.MaxBody+64<<10 {
			t.Errorf("%s: read %d bytes of a 10 MiB body, want about %d", path, n, bot.MaxBody)
		}
	}
	if calls := fs.Calls(); len(calls) != 0 {
		t.Errorf("oversized requests called Slack: %v", calls)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
