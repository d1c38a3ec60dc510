package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// Request kinds, as the report names them: endpoint and what was sent.
const (
	kindDeclare = "commands: declare"
	kindNote    = "commands: note"
	kindStatus  = "commands: status"
	kindResolve = "commands: resolve"
	kindAck     = "interactions: Acknowledge"
)

const formType = "application/x-www-form-urlencoded"

// Run runs the phases cfg asks for and reports on them.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "drbot-load-")
	if err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	bin := cfg.Drbot
	if bin == "" {
		progress(cfg, "building drbot")
		if bin, err = buildDrbot(ctx, dir); err != nil {
			return nil, err
		}
	}
	rep := &Report{Machine: thisMachine(), Command: cfg.CommandLine()}
	if cfg.Keep {
		rep.Dir = dir
	}
	var phases []string
	if cfg.Storm {
		phases = append(phases, "storm")
	}
	if cfg.Duration > 0 {
		phases = append(phases, "long")
	}
	for _, name := range phases {
		pr, err := runPhase(ctx, cfg, name, bin, filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rep.Phases = append(rep.Phases, pr)
	}
	if cfg.AlertStorm {
		if rep.Alerts, err = runAlertStorm(ctx, cfg, bin, filepath.Join(dir, "alerts")); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
	}
	return rep, nil
}

func progress(cfg Config, format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "drbot-load: "+format+"\n", args...)
	}
}

// phase is one drbot process under one kind of traffic.
type phase struct {
	name   string
	cfg    Config
	plan   loadPlan
	secret string
	fs     *fakeslack.Server
	drbot  *proc
	cl     *client
	start  time.Time
	// outboxLeft is what the outbox held when --pages-only stopped waiting.
	outboxLeft int

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the state below changes
	sent     []sentRequest
	lat      map[string][]time.Duration
	failed   map[string]int
	problems []string
	late     int // answers that were WorkingText: the result went by response_url
	incs     []*loadInc
	byToken  map[string]*loadInc
	byID     map[int64]*loadInc
	pages    []pageDM
	channels map[int64]channelSeen

	presses sync.WaitGroup

	pollMu sync.Mutex
	polled int // calls looked at

	requestSeq atomic.Int64
}

// loadInc is one incident the load declares.
type loadInc struct {
	index    int
	token    string // in the summary, so that pages can be traced back
	scenario string
	declarer string
	ack      bool // storm: whether its pages are acknowledged
	sentAt   time.Time
	declared bool // drbot answered 200
	id       int64
	pressed  map[string]bool // roles whose Acknowledge was pressed (or is about to be)
}

// pageDM is a page as the fake Slack received it.
type pageDM struct {
	incident int64
	role     string
	user     string
	channel  string
	at       time.Time
	button   fakeslack.Button
}

// channelSeen is an incident channel as the fake Slack saw it: created,
// then, once drbot recorded it, given its topic (the next call of the
// channel's lane). Commands typed in it before drbot recorded it would not
// find the incident.
type channelSeen struct {
	id    string
	at    time.Time // created
	ready bool      // its topic was set
}

type sentRequest struct {
	kind, path string
	body       []byte
	offset     time.Duration
}

var (
	tokenRE    = regexp.MustCompile(`load-(?:storm|long)-\d+`)
	declaredRE = regexp.MustCompile(`declared (?:incident|drill) #(\d+)`)
	channelRE  = regexp.MustCompile(`^(?:inc|drill)-(\d+)-`)
)

// phaseSlack is the fake Slack of one phase: the plan's users, the
// configured latency and rate limits.
func phaseSlack(cfg Config, plan loadPlan) *fakeslack.Server {
	fs := fakeslack.New()
	for i, u := range plan.Users {
		fs.AddUser(u, fmt.Sprintf("load%04d@example.com", i+1), fmt.Sprintf("load%04d", i+1), false)
	}
	fs.SetLatency(cfg.Latency)
	fs.SetRateLimits(cfg.RateLimits)
	return fs
}

// newPhase is the state of one phase against a running drbot.
func newPhase(name string, cfg Config, plan loadPlan, secret string, fs *fakeslack.Server, drbot *proc) *phase {
	return &phase{
		name: name, cfg: cfg, plan: plan, secret: secret, fs: fs, drbot: drbot,
		cl:       newClient("http://"+drbot.addr, secret),
		changed:  make(chan struct{}),
		lat:      map[string][]time.Duration{},
		failed:   map[string]int{},
		byToken:  map[string]*loadInc{},
		byID:     map[int64]*loadInc{},
		channels: map[int64]channelSeen{},
	}
}

// traffic sends the phase's traffic and describes it.
func (p *phase) traffic(ctx context.Context) string {
	if p.name == "storm" {
		return p.storm(ctx)
	}
	return p.long(ctx)
}

// phasePlan writes the plan of phase name into dir (made if needed) and
// returns it, its path and the acknowledgement timeout it pages with.
func phasePlan(cfg Config, name, dir string) (loadPlan, string, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return loadPlan{}, "", 0, err
	}
	ackTimeout := cfg.AckTimeout
	if name == "storm" {
		ackTimeout = cfg.StormAckTimeout
	}
	plan := generatePlan(cfg, ackTimeout)
	path := filepath.Join(dir, "plan.yaml")
	return plan, path, ackTimeout, os.WriteFile(path, []byte(plan.YAML), 0o644)
}

func runPhase(ctx context.Context, cfg Config, name, bin, dir string) (*PhaseReport, error) {
	plan, planPath, ackTimeout, err := phasePlan(cfg, name, dir)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "drbot.log")
	dbPath, drop, err := phaseDB(ctx, cfg, dir, name)
	if err != nil {
		return nil, err
	}
	defer drop()

	fs := phaseSlack(cfg, plan)
	defer fs.Close()

	secret := fmt.Sprintf("drbot-load-signing-secret-%d", cfg.Seed)
	progress(cfg, "%s: starting drbot", name)
	drbot, err := startDrbot(ctx, bin, planPath, dbPath, logPath, cfg.LogLevel, []string{
		"SLACK_BOT_TOKEN=" + fakeslack.BotToken,
		"SLACK_SIGNING_SECRET=" + secret,
		"SLACK_API_URL=" + fs.URL(),
	})
	if err != nil {
		return nil, err
	}
	defer drbot.killIfRunning()

	p := newPhase(name, cfg, plan, secret, fs, drbot)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { p.watch(watchCtx); close(watched) }()

	p.start = time.Now()
	desc := p.traffic(ctx)
	if ctx.Err() != nil {
		stopWatch()
		return nil, ctx.Err()
	}
	traffic := time.Since(p.start)
	progress(cfg, "%s: traffic done in %s; waiting for drbot's outbox to empty", name, traffic.Round(time.Millisecond))
	if err := p.drain(ctx, dbPath); err != nil {
		p.problem("%v", err)
	}
	mem := drbot.memory()
	total := time.Since(p.start)
	if err := drbot.stop(30 * time.Second); err != nil {
		p.problem("drbot serve: %v", err)
	}
	stopWatch()
	<-watched
	p.poll() // every call the fake Slack received, to the last

	pr := &PhaseReport{
		Name: name, Description: desc,
		TrafficSeconds: traffic.Seconds(), TotalSeconds: total.Seconds(),
		AckTimeoutSeconds: ackTimeout.Seconds(),
		PagesOnly:         cfg.PagesOnly,
		OutboxLeft:        p.outboxLeft,
		Drbot:             mem,
		DrbotLog:          LogReport{Warnings: drbot.warnings.Load(), Errors: drbot.errs.Load()},
	}
	if cfg.Keep {
		pr.DrbotLog.Path = logPath
	}
	if err := p.analyze(ctx, dbPath, pr); err != nil {
		return nil, err
	}
	if cfg.Bare {
		progress(cfg, "%s: replaying the same %d requests against the bare handler", name, len(p.sent))
		if err := p.replayBare(ctx, pr); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// thisMachine describes where the figures were measured.
func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version()}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
