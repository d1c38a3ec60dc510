// Command drbot-load measures how "drbot serve" holds up under load.
//
// It builds nothing of its own: it starts the drbot binary (--drbot, or one
// it builds with "go build" into a temporary directory) with a temporary
// database and a generated plan, against an in-process fake Slack Web API
// (bot/fakeslack) that adds --latency to every call and, with
// --rate-limits, enforces Slack's real limits (chat.postMessage about 1 per
// second per channel, conversations.create 20 per minute, 429 with
// Retry-After past them). It then sends requests signed like Slack's (v0
// HMAC-SHA256) over HTTP:
//
//   - the storm (--storm): --storm-incidents declared within
//     --storm-window, each paging 3 roles, --storm-ack-fraction of them
//     acknowledged by pressing the Acknowledge button of the page drbot
//     sent (its action value read from the direct message fakeslack
//     recorded);
//   - the long run (--duration, 0 skips it): steady traffic of
//     declarations, acknowledgements, notes, status and resolutions.
//
// Each phase runs on a fresh drbot process, database and fake Slack, and
// ends when every incident is resolved and drbot's outbox is empty. It
// prints, per phase: p50/p99/max answer latency per request kind; the
// time from a declaration to its first page (the fake Slack's time of the
// direct message minus the time the request was sent) and to its
// channel; escalation lateness (when the engine escalated, and when the
// escalated page reached Slack, against the due time: the previous page
// plus ack_timeout); pages lost or doubled (the pages drbot's timeline
// records against the direct messages the fake Slack received, counted
// per incident, role and contact); the resident memory of the drbot
// process (VmHWM and VmRSS); and the same latency figures for a bare Go
// handler that only verifies the signature, run as a separate process and
// sent the same requests at the same offsets after drbot's phase (quiet
// spells over a second shortened to one).
//
// Usage:
//
//	go run ./cmd/drbot-load -storm -duration 30s
//	go run ./cmd/drbot-load -storm -duration 0 -json > storm.json
//
// Every number is a flag; the random choices (who acknowledges, when, the
// plan's contacts) come from --seed, so two runs send the same traffic.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if os.Getenv(bareEnv) != "" {
		os.Exit(serveBareMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, asJSON, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "drbot-load:", err)
		return 2
	}
	cfg.Progress = stderr
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "drbot-load:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "drbot-load:", err)
			return 1
		}
	} else {
		rep.WriteText(stdout)
	}
	if rep.Failed() {
		// Lost pages or failed requests: say so in the exit status too,
		// so that a script running the load notices.
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, bool, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("drbot-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: drbot-load [flags]\n\nStarts drbot against a fake Slack and measures it under load; see the package documentation.\n\nFlags:")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.StringVar(&c.Drbot, "drbot", c.Drbot, "drbot `binary` to run (default: go build ./cmd/drbot into a temporary directory)")
	fs.DurationVar(&c.Latency, "latency", c.Latency, "latency the fake Slack adds to every call")
	fs.BoolVar(&c.RateLimits, "rate-limits", c.RateLimits, "enforce Slack's rate limits in the fake Slack (1 message/s per channel, 20 channels/min)")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed of every random choice")
	fs.StringVar(&c.LogLevel, "drbot-log-level", c.LogLevel, "drbot's --log-level")
	fs.BoolVar(&c.Bare, "bare", c.Bare, "also measure a bare handler that only verifies signatures")
	fs.StringVar(&c.Postgres, "postgres", c.Postgres, "run drbot on PostgreSQL: a new database per phase on the server at this `URL` (its role may CREATE DATABASE); default SQLite")
	fs.BoolVar(&c.Keep, "keep", c.Keep, "keep the temporary directory (database, plan, drbot's log) and print where it is")

	fs.BoolVar(&c.Storm, "storm", c.Storm, "run the incident storm")
	fs.IntVar(&c.StormIncidents, "storm-incidents", c.StormIncidents, "incidents declared in the storm")
	fs.DurationVar(&c.StormWindow, "storm-window", c.StormWindow, "the storm's declarations are spread evenly over this window")
	fs.Float64Var(&c.StormAckFraction, "storm-ack-fraction", c.StormAckFraction, "fraction of the storm's incidents whose pages are acknowledged (every role)")
	fs.DurationVar(&c.StormAckTimeout, "storm-ack-timeout", c.StormAckTimeout, "the plan's paging.ack_timeout in the storm")
	fs.DurationVar(&c.StormSettle, "storm-settle", c.StormSettle, "how long after the storm's last declaration the incidents are resolved (0: long enough for every escalation round)")

	fs.BoolVar(&c.AlertStorm, "alert-storm", c.AlertStorm, "run the alert storm: Alertmanager notifications to POST /alerts/alertmanager")
	fs.IntVar(&c.AlertGroups, "alert-groups", c.AlertGroups, "alert storm: groups the notifications come from, in turn")
	fs.IntVar(&c.AlertRate, "alert-rate", c.AlertRate, "alert storm: notifications a minute")
	fs.DurationVar(&c.AlertDuration, "alert-duration", c.AlertDuration, "alert storm: how long it lasts")

	fs.DurationVar(&c.Duration, "duration", c.Duration, "length of the long run (0 skips it)")
	fs.DurationVar(&c.DeclareEvery, "declare-every", c.DeclareEvery, "long run: one declaration every")
	fs.DurationVar(&c.Lifetime, "lifetime", c.Lifetime, "long run: each incident is resolved this long after its declaration")
	fs.IntVar(&c.Notes, "notes", c.Notes, "long run: notes (each followed by a status) per incident")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", c.AckTimeout, "long run: the plan's paging.ack_timeout")
	fs.Float64Var(&c.AckFraction, "ack-fraction", c.AckFraction, "long run: probability that a paged role is acknowledged")

	fs.DurationVar(&c.AckDelayMin, "ack-delay-min", c.AckDelayMin, "shortest time between a page reaching Slack and its Acknowledge press")
	fs.DurationVar(&c.AckDelayMax, "ack-delay-max", c.AckDelayMax, "longest time between a page reaching Slack and its Acknowledge press")
	fs.IntVar(&c.Scenarios, "scenarios", c.Scenarios, "scenarios in the generated plan (3 page roles each)")
	fs.IntVar(&c.Contacts, "contacts", c.Contacts, "contacts in the generated plan")
	fs.IntVar(&c.ContactsPerRole, "contacts-per-role", c.ContactsPerRole, "contacts per role (the escalation list)")
	fs.StringVar(&c.Team, "team", c.Team, "who the roles are: random (each role draws --contacts-per-role of --contacts), distinct (no contact in two roles: give --contacts of at least --scenarios x 3 x --contacts-per-role, and --scenarios as many as the storm's incidents for contacts of their own per incident) or shared (one on-call team: every scenario pages the same people in each role)")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "the plan's paging.rounds")
	fs.DurationVar(&c.Drain, "drain", c.Drain, "longest wait, after the traffic, for channels, resolutions and an empty outbox")
	fs.BoolVar(&c.PagesOnly, "pages-only", c.PagesOnly, "after the traffic, wait only until every page in the timelines has reached Slack (or was not sent once resolved), not for the rest of the outbox: the page figures are complete, the housekeeping left (topics, pins at 20 a minute) is counted, not waited for")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return c, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, *asJSON, c.Validate()
}

// Config is one load run. Zero values are not defaults: start from
// DefaultConfig.
type Config struct {
	Drbot      string
	Latency    time.Duration
	RateLimits bool
	Seed       int64
	LogLevel   string
	Bare       bool
	Keep       bool
	// Postgres, when set, is the URL of a PostgreSQL server: each phase
	// runs drbot on a new database there instead of an SQLite file.
	Postgres string

	Storm            bool
	StormIncidents   int
	StormWindow      time.Duration
	StormAckFraction float64
	StormAckTimeout  time.Duration
	StormSettle      time.Duration

	AlertStorm    bool
	AlertGroups   int
	AlertRate     int
	AlertDuration time.Duration

	Duration     time.Duration
	DeclareEvery time.Duration
	Lifetime     time.Duration
	Notes        int
	AckTimeout   time.Duration
	AckFraction  float64

	AckDelayMin, AckDelayMax time.Duration
	Scenarios                int
	Contacts                 int
	ContactsPerRole          int
	Team                     string // random, distinct, shared (--team)
	Rounds                   int
	Drain                    time.Duration
	// PagesOnly ends a phase when its pages are all out rather than when
	// the outbox is empty (--pages-only).
	PagesOnly bool

	// Progress receives a line per step of the run; nil discards.
	Progress io.Writer `json:"-"`
}

// DefaultConfig is the configuration of the figures in the README, less
// --storm.
func DefaultConfig() Config {
	return Config{
		Latency:          50 * time.Millisecond,
		RateLimits:       true,
		Seed:             1,
		LogLevel:         "info",
		Bare:             true,
		StormIncidents:   50,
		StormWindow:      5 * time.Second,
		StormAckFraction: 0.5,
		StormAckTimeout:  5 * time.Second,
		AlertGroups:      50,
		AlertRate:        500,
		AlertDuration:    time.Minute,
		Duration:         60 * time.Second,
		DeclareEvery:     5 * time.Second,
		Lifetime:         20 * time.Second,
		Notes:            4,
		AckTimeout:       3 * time.Second,
		AckFraction:      0.67,
		AckDelayMin:      500 * time.Millisecond,
		AckDelayMax:      2500 * time.Millisecond,
		Scenarios:        10,
		Contacts:         30,
		ContactsPerRole:  2,
		Team:             "random",
		Rounds:           2,
		Drain:            5 * time.Minute,
	}
}

// Validate says what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Storm || c.AlertStorm || c.Duration > 0, "nothing to run: give --storm, --alert-storm or a --duration above 0")
	check(c.AlertGroups > 0 && c.AlertRate > 0 && c.AlertDuration > 0, "--alert-groups, --alert-rate and --alert-duration must be above 0")
	check(c.Latency >= 0, "--latency must not be negative")
	check(c.StormIncidents > 0, "--storm-incidents must be at least 1")
	check(c.StormWindow >= 0, "--storm-window must not be negative")
	check(c.StormAckFraction >= 0 && c.StormAckFraction <= 1, "--storm-ack-fraction must be within 0..1")
	check(c.AckFraction >= 0 && c.AckFraction <= 1, "--ack-fraction must be within 0..1")
	check(c.StormAckTimeout >= time.Second && c.AckTimeout >= time.Second, "ack timeouts must be at least 1s (the plan's resolution)")
	check(c.StormSettle >= 0, "--storm-settle must not be negative")
	check(c.DeclareEvery > 0, "--declare-every must be above 0")
	check(c.Lifetime > 0, "--lifetime must be above 0")
	check(c.Notes >= 0, "--notes must not be negative")
	check(c.AckDelayMin >= 0 && c.AckDelayMax >= c.AckDelayMin, "want 0 <= --ack-delay-min <= --ack-delay-max")
	check(c.Scenarios > 0, "--scenarios must be at least 1")
	check(c.ContactsPerRole > 0, "--contacts-per-role must be at least 1")
	check(c.Contacts >= c.ContactsPerRole, "--contacts must be at least --contacts-per-role")
	check(c.Contacts < 10000, "--contacts must be below 10000")
	check(c.Team == "random" || c.Team == "distinct" || c.Team == "shared", "--team must be random, distinct or shared, not %q", c.Team)
	check(c.Team != "distinct" || c.Contacts >= c.Scenarios*3*c.ContactsPerRole,
		"--team distinct needs --contacts of at least %d (--scenarios x 3 roles x --contacts-per-role)", c.Scenarios*3*c.ContactsPerRole)
	check(c.Rounds > 0, "--rounds must be at least 1")
	check(c.Drain > 0, "--drain must be above 0")
	return errors.Join(errs...)
}
