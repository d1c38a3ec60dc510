package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/web"
)

const publicURL = "https://drbot.example.com"

// site is the pages over a real SQLite database that a real engine wrote
// to: incident 1 resolved, incident 2 open 50 minutes into its restore.
type site struct {
	t      *testing.T
	store  *storage.Store
	engine *incident.Engine
	chat   *incidenttest.FakeChat
	clock  *incidenttest.Clock
	srv    *httptest.Server
	db     string
	chan2  string // incident 2's channel
}

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newSite(t *testing.T, signIn bool) *site {
	t.Helper()
	ctx := context.Background()
	plan, diags, err := playbooks.Load("testdata/plan.yaml")
	if err != nil || diags.HasErrors() {
		t.Fatalf("plan: %v %v", err, diags)
	}
	s := &site{t: t, chat: incidenttest.NewFakeChat(), clock: incidenttest.NewClock(t0), db: filepath.Join(t.TempDir(), "drbot.db")}
	if s.store, err = storage.Open(ctx, storage.Config{Path: s.db}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	s.engine, err = incident.New(incident.Config{Plan: plan, Store: s.store, Chat: s.chat, Now: s.clock.Now, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	s.incidents()
	w, err := web.New(web.Config{Store: s.store, Plan: s.engine.Plan, SignIn: signIn, Secure: signIn, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(w)
	t.Cleanup(s.srv.Close)
	return s
}

// incidents plays incident 1 (restore path, resolved after 1h25m) and
// declares incident 2, now 50 minutes into its restore.
func (s *site) incidents() {
	s.declare("Checksum errors <script>alert(1)</script>")
	ch1 := s.chat.ChannelID("inc-1-db-corruption")
	s.press("U0ALICE01", incidenttest.DMChannel("U0ALICE01"), "Acknowledge")
	s.clock.Advance(2 * time.Minute)
	s.press("U0BOB0001", incidenttest.DMChannel("U0BOB0001"), "Acknowledge")
	s.clock.Advance(3 * time.Minute)
	s.press("U0ALICE01", ch1, "No")
	s.press("U0ERIN001", incidenttest.DMChannel("U0ERIN001"), "Approve")
	s.clock.Advance(70 * time.Minute)
	s.command("U0ALICE01", ch1, "note Restored the 08:45 snapshot with --until &lt;timeout&gt; &amp; &lt;b&gt;no&lt;/b&gt; HTML [x](javascript:alert(1))")
	s.command("U0ALICE01", ch1, "recovery-point 09:50")
	s.press("U0ALICE01", ch1, "Done")
	s.clock.Advance(10 * time.Minute)
	s.press("U0ALICE01", ch1, "Done")
	s.command("U0ALICE01", ch1, "resolve Back")

	s.clock.Advance(time.Hour)
	s.declare("Again")
	s.chan2 = s.chat.ChannelID("inc-2-db-corruption")
	s.press("U0ALICE01", incidenttest.DMChannel("U0ALICE01"), "Acknowledge")
	s.clock.Advance(8 * time.Minute)
	s.press("U0ALICE01", s.chan2, "No")
	s.press("U0ERIN001", incidenttest.DMChannel("U0ERIN001"), "Approve")
	s.clock.Advance(42 * time.Minute)
	s.tick()
}

func (s *site) declare(summary string) {
	s.t.Helper()
	if _, err := s.engine.Declare(context.Background(), incident.DeclareRequest{Scenario: "db-corruption", Summary: summary, UserID: "U0ALICE01", ChannelID: "CGENERAL"}); err != nil {
		s.t.Fatal(err)
	}
	s.tick()
}

func (s *site) tick() {
	s.t.Helper()
	if err := s.engine.Tick(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) press(user, channel, label string) {
	s.t.Helper()
	b, ok := s.chat.FindButton(channel, label)
	if !ok {
		s.t.Fatalf("no %s button in %s", label, channel)
	}
	if _, err := s.engine.Press(context.Background(), incident.PressRequest{UserID: user, ChannelID: channel, Action: b.Action}); err != nil {
		s.t.Fatalf("press %s: %v", label, err)
	}
	s.tick()
}

func (s *site) command(user, channel, text string) incident.Reply {
	s.t.Helper()
	r, err := s.engine.Command(context.Background(), incident.CommandRequest{UserID: user, ChannelID: channel, Text: text})
	if err != nil {
		s.t.Fatalf("/incident %s: %v", text, err)
	}
	s.tick()
	return r
}

// client is a browser-like HTTP client: it keeps cookies and does not
// follow redirects, so that tests see them.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
