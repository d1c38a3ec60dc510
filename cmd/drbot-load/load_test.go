package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/internal/testenv"
	"github.com/drbot-dev/drbot/playbooks"
)

func TestMain(m *testing.M) {
	// The load runs the bare handler as a child process of its own
	// executable: here, this test binary.
	if os.Getenv(bareEnv) != "" {
		os.Exit(serveBareMain())
	}
	os.Exit(m.Run())
}

// tinyConfig is the load in a tiny configuration: the storm and the long
// run, seconds each.
func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.Storm = true
	cfg.StormIncidents = 5
	cfg.StormWindow = time.Second
	cfg.StormAckTimeout = time.Second
	cfg.StormSettle = 1500 * time.Millisecond
	cfg.Duration = 2 * time.Second
	cfg.DeclareEvery = 500 * time.Millisecond
	cfg.Lifetime = 1500 * time.Millisecond
	cfg.Notes = 1
	cfg.AckTimeout = time.Second
	cfg.AckDelayMin, cfg.AckDelayMax = 100*time.Millisecond, 300*time.Millisecond
	cfg.Latency = 5 * time.Millisecond
	// Slack's rate limits would space the channel's messages a second
	// apart and make the test wait for them; 429s are covered by the
	// end-to-end tests of drbot serve.
	cfg.RateLimits = false
	cfg.Drain = time.Minute

	return cfg
}

// TestTinyStormPostgres runs the tiny storm with drbot on PostgreSQL:
// every incident resolved, every page delivered once.
func TestTinyStormPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs drbot")
	}
	cfg := tinyConfig()
	cfg.Postgres = testenv.Postgres(t)
	cfg.Duration = 0
	var progress bytes.Buffer
	cfg.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	if len(rep.Phases) != 1 {
		t.Fatalf("%d phases, want the storm", len(rep.Phases))
	}
	p := rep.Phases[0]
	if rep.Failed() || p.Incidents != 5 || p.Unresolved != 0 || p.Pages.Lost != 0 || p.Pages.Doubled != 0 || p.Pages.Delivered != p.Pages.Expected {
		var text bytes.Buffer
		rep.WriteText(&text)
		t.Errorf("storm on PostgreSQL: %d incidents, %d open, pages %+v; want 5, all resolved, all delivered once\n%s", p.Incidents, p.Unresolved, p.Pages, text.String())
	}
}

// TestTinyStormPagesOnly: with --pages-only the storm ends when every page
// is out, under Slack's rate limits, with the figures of the pages whole
// and what was left in the outbox said rather than waited for.
func TestTinyStormPagesOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs drbot")
	}
	cfg := tinyConfig()
	cfg.Duration, cfg.RateLimits, cfg.PagesOnly, cfg.Bare = 0, true, true, false
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	p := rep.Phases[0]
	if rep.Failed() || !p.PagesOnly || p.Pages.Lost != 0 || p.Pages.Doubled != 0 || p.Pages.Expected == 0 || p.Pages.Delivered != p.Pages.Expected || p.EscalationLateDM.N == 0 {
		t.Errorf("pages-only storm: pages %+v, escalated pages %d; want every page delivered once and measured\n%s", p.Pages, p.EscalationLateDM.N, text.String())
	}
	if want := fmt.Sprintf("until every page was out (--pages-only; %d other messages left in the outbox)", p.OutboxLeft); !strings.Contains(text.String(), want) {
		t.Errorf("the report does not say %q:\n%s", want, text.String())
	}
	if !strings.Contains(rep.Command, "-pages-only=true") {
		t.Errorf("command line %q does not repeat -pages-only", rep.Command)
	}
}

// TestTinyRun runs the whole load, storm and long run, in a tiny
// configuration against the real binary, so that the program cannot rot:
// every figure must be there and nothing may be lost.
func TestTinyRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs drbot")
	}
	cfg := tinyConfig()
	var progress bytes.Buffer
	cfg.Progress = &progress

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Logf("\n%s", text.String())

	if rep.Failed() {
		t.Errorf("the run found problems")
	}
	if got, want := len(rep.Phases), 2; got != want {
		t.Fatalf("%d phases, want %d", got, want)
	}
	wantKinds := map[string][]string{
		"storm": {kindDeclare, kindAck, kindResolve},
		"long":  {kindDeclare, kindAck, kindNote, kindStatus, kindResolve},
	}
	wantIncidents := map[string]int{"storm": 5, "long": 4}
	for _, p := range rep.Phases {
		if p.Incidents != wantIncidents[p.Name] || p.Unresolved != 0 {
			t.Errorf("%s: %d incidents, %d open; want %d, all resolved", p.Name, p.Incidents, p.Unresolved, wantIncidents[p.Name])
		}
		var kinds []string
		for _, e := range p.Requests {
			kinds = append(kinds, e.Kind)
			if e.Drbot.N == 0 || e.Failed != 0 || e.Bare == nil || e.Bare.N != e.Drbot.N {
				t.Errorf("%s %s: %+v, want answers from drbot and from the bare handler, none failed", p.Name, e.Kind, e)
			}
			if e.Drbot.P50 <= 0 || e.Drbot.P50 > e.Drbot.P99 || e.Drbot.P99 > e.Drbot.Max {
				t.Errorf("%s %s: percentiles out of order: %+v", p.Name, e.Kind, e.Drbot)
			}
		}
		if diff := cmp.Diff(kinds, wantKinds[p.Name]); diff != "" {
			t.Errorf("%s: request kinds (-got +want):\n%s", p.Name, diff)
		}
		if p.DeclareToFirstPage.N != p.Incidents || p.DeclareToChannel.N != p.Incidents {
			t.Errorf("%s: first pages of %d, channels of %d incidents; want %d", p.Name, p.DeclareToFirstPage.N, p.DeclareToChannel.N, p.Incidents)
		}
		// Three roles each, and nothing lost.
		if p.Pages.Expected < 3*p.Incidents || p.Pages.Lost != 0 || p.Pages.Delivered != p.Pages.Expected {
			t.Errorf("%s: pages %+v, want at least 3 per incident, all delivered", p.Name, p.Pages)
		}
		if p.Drbot.HWMKiB <= 0 || p.Bare == nil || p.Bare.HWMKiB <= 0 {
			t.Errorf("%s: memory drbot %+v bare %+v, want both measured", p.Name, p.Drbot, p.Bare)
		}
		if p.Slack.Calls == 0 {
			t.Errorf("%s: no Slack calls counted", p.Name)
		}
	}
	// The storm leaves 2 of its 5 incidents unacknowledged for 1.5 s with a
	// 1 s ack_timeout: they escalate.
	if s := rep.Phases[0]; s.EscalationLateEngine.N == 0 || s.EscalationLateDM.N == 0 {
		t.Errorf("storm: no escalation measured: %+v %+v", s.EscalationLateEngine, s.EscalationLateDM)
	}
	for _, want := range []string{"== storm:", "== long:", "answer latency (ms)", "declare → first page in Slack", "escalation lateness: engine", "pages:", "memory (MiB): drbot peak"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q", want)
		}
	}
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"declare_to_first_page_ms"`, `"escalation_lateness_engine_ms"`, `"drbot_memory"`, `"bare_ms"`, `"p99"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the JSON report lacks %s", want)
		}
	}
}

func TestGeneratePlanIsValidAndSeeded(t *testing.T) {
	cfg := DefaultConfig()
	p := generatePlan(cfg, 3*time.Second)
	plan, diags := playbooks.Parse("generated.yaml", []byte(p.YAML))
	if err := diags.Err(); err != nil {
		t.Fatalf("the generated plan does not parse: %v\n%s", err, p.YAML)
	}
	if got, want := len(plan.ScenarioOrder), cfg.Scenarios; got != want {
		t.Errorf("%d scenarios, want %d", got, want)
	}
	for _, id := range plan.ScenarioOrder {
		if got := len(plan.Scenarios[id].Page); got != 3 {
			t.Errorf("scenario %s pages %d roles, want 3", id, got)
		}
	}
	if got := plan.Paging.AckTimeout; got != 3*time.Second {
		t.Errorf("ack_timeout %s, want 3s", got)
	}
	if again := generatePlan(cfg, 3*time.Second); again.YAML != p.YAML {
		t.Errorf("the same seed gave another plan")
	}
	cfg.Seed++
	if other := generatePlan(cfg, 3*time.Second); other.YAML == p.YAML {
		t.Errorf("another seed gave the same plan")
	}
}

// TestGeneratePlanTeams: --team distinct gives no contact two roles;
// --team shared pages the same people in each role of every scenario.
func TestGeneratePlanTeams(t *testing.T) {
	for _, team := range []string{"distinct", "shared"} {
		cfg := DefaultConfig()
		cfg.Team, cfg.Contacts = team, 60
		p := generatePlan(cfg, 3*time.Second)
		plan, diags := playbooks.Parse("generated.yaml", []byte(p.YAML))
		if err := diags.Err(); err != nil {
			t.Fatalf("%s: the generated plan does not parse: %v", team, err)
		}
		inRoles := map[string][]string{}
		for _, role := range plan.RoleOrder {
			for _, c := range plan.Roles[role] {
				inRoles[c] = append(inRoles[c], role)
			}
		}
		switch team {
		case "distinct":
			if len(inRoles) != 60 {
				t.Errorf("distinct: %d contacts in roles, want all 60, each in one", len(inRoles))
			}
			for c, roles := range inRoles {
				if len(roles) != 1 {
					t.Errorf("distinct: %s in %v", c, roles)
				}
			}
		case "shared":
			if len(inRoles) != 3*cfg.ContactsPerRole {
				t.Errorf("shared: %d contacts in roles, want one team of %d", len(inRoles), 3*cfg.ContactsPerRole)
			}
			for _, role := range plan.RoleOrder {
				kind := role[strings.Index(role, "-"):]
				if got, want := plan.Roles[role], plan.Roles["s01"+kind]; !slices.Equal(got, want) {
					t.Errorf("shared: %s is %v, s01%s %v", role, got, kind, want)
				}
			}
		}
	}
}

func TestStatsOf(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 .. 1, unsorted
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Stats
	}{
		{"empty", nil, Stats{}},
		{"one", ms(7), Stats{N: 1, P50: 7, P99: 7, Max: 7}},
		{"two", ms(9, 1), Stats{N: 2, P50: 1, P99: 9, Max: 9}},
		{"hundred", ms(hundred...), Stats{N: 100, P50: 50, P99: 99, Max: 100}},
		{"sub-millisecond", []time.Duration{1500 * time.Microsecond}, Stats{N: 1, P50: 1.5, P99: 1.5, Max: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(statsOf(tt.in), tt.want); diff != "" {
				t.Errorf("statsOf (-got +want):\n%s", diff)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" valid
	}{
		{"default", func(*Config) {}, ""},
		{"nothing to run", func(c *Config) { c.Duration = 0 }, "nothing to run"},
		{"storm only", func(c *Config) { c.Duration, c.Storm = 0, true }, ""},
		{"ack fraction", func(c *Config) { c.AckFraction = 1.5 }, "--ack-fraction"},
		{"short ack timeout", func(c *Config) { c.AckTimeout = 500 * time.Millisecond }, "at least 1s"},
		{"delays", func(c *Config) { c.AckDelayMin = time.Second; c.AckDelayMax = 0 }, "--ack-delay-min"},
		{"contacts", func(c *Config) { c.Contacts = 1 }, "--contacts must be at least"},
		{"team", func(c *Config) { c.Team = "everyone" }, "--team must be random, distinct or shared"},
		{"distinct too few", func(c *Config) { c.Team = "distinct" }, "--team distinct needs --contacts of at least 60"},
		{"distinct", func(c *Config) { c.Team, c.Contacts = "distinct", 60 }, ""},
		{"shared", func(c *Config) { c.Team = "shared" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestBareHandler checks the baseline does the verification drbot does:
// it refuses what drbot refuses.
func TestBareHandler(t *testing.T) {
	srv := httptest.NewServer(BareHandler("s3cret"))
	defer srv.Close()
	body := []byte("text=list")
	post := func(path string, body []byte, h http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name, path string
		body       []byte
		h          http.Header
		want       int
	}{
		{"signed command", "/slack/commands", body, bot.Sign("s3cret", time.Now(), body), 200},
		{"signed press", "/slack/interactions", body, bot.Sign("s3cret", time.Now(), body), 200},
		{"forged", "/slack/commands", body, bot.Sign("other", time.Now(), body), 401},
		{"stale", "/slack/commands", body, bot.Sign("s3cret", time.Now().Add(-6*time.Minute), body), 401},
		{"too big", "/slack/events", make([]byte, bot.MaxBody+1), nil, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.path, tt.body, tt.h); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

// The alert storm's plan is valid, and its notifications are Alertmanager
// webhooks of the groups in turn.
func TestAlertStormPlanAndBodies(t *testing.T) {
	plan := generatePlan(DefaultConfig(), time.Minute)
	if _, ds := playbooks.Parse("plan.yaml", []byte(plan.YAML+alertPlanYAML(plan))); ds.HasErrors() {
		t.Fatalf("alert storm plan: %v", ds.Err())
	}
	var m struct {
		Version  string `json:"version"`
		GroupKey string `json:"groupKey"`
		Alerts   []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(alertBody(53, 50), &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != "4" || m.GroupKey != `{}:{alertname="LoadAlert003"}` || len(m.Alerts) != 1 || m.Alerts[0].Labels["declare"] != "ask" {
		t.Errorf("notification 53 = %+v", m)
	}
}

// TestAlertStormTiny runs the alert storm against the real binary: every
// notification answered, one incident or ask per group.
func TestAlertStormTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs drbot")
	}
	cfg := DefaultConfig()
	cfg.Duration = 0
	cfg.AlertStorm = true
	cfg.AlertGroups, cfg.AlertRate, cfg.AlertDuration = 4, 1200, 2*time.Second
	cfg.Latency, cfg.RateLimits, cfg.Drain = 5*time.Millisecond, false, time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Alerts
	if a == nil || a.Failed != 0 || a.Latency.N != 40 || a.Incidents != 2 || a.Asks != 2 || a.Outcomes["declared"] != 2 || a.Outcomes["asked"] != 2 {
		t.Errorf("alert storm report = %+v", a)
	}
}
