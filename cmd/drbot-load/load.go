package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
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

func runPhase(ctx context.Context, cfg Config, name, bin, dir string) (*PhaseReport, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ackTimeout := cfg.AckTimeout
	if name == "storm" {
		ackTimeout = cfg.StormAckTimeout
	}
	plan := generatePlan(cfg, ackTimeout)
	planPath, logPath := filepath.Join(dir, "plan.yaml"), filepath.Join(dir, "drbot.log")
	if err := os.WriteFile(planPath, []byte(plan.YAML), 0o644); err != nil {
		return nil, err
	}
	dbPath, drop, err := phaseDB(ctx, cfg, dir, name)
	if err != nil {
		return nil, err
	}
	defer drop()

	fs := fakeslack.New()
	defer fs.Close()
	for i, u := range plan.Users {
		fs.AddUser(u, fmt.Sprintf("load%04d@example.com", i+1), fmt.Sprintf("load%04d", i+1), false)
	}
	fs.SetLatency(cfg.Latency)
	fs.SetRateLimits(cfg.RateLimits)

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

	p := &phase{
		name: name, cfg: cfg, plan: plan, secret: secret, fs: fs, drbot: drbot,
		cl:       newClient("http://"+drbot.addr, secret),
		changed:  make(chan struct{}),
		lat:      map[string][]time.Duration{},
		failed:   map[string]int{},
		byToken:  map[string]*loadInc{},
		byID:     map[int64]*loadInc{},
		channels: map[int64]channelSeen{},
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { p.watch(watchCtx); close(watched) }()

	p.start = time.Now()
	var desc string
	switch name {
	case "storm":
		desc = p.storm(ctx)
	default:
		desc = p.long(ctx)
	}
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

// ---- traffic ----

// rng returns the random source of one decision, derived from the seed
// and what it is about, so that a decision does not depend on the order
// in which goroutines happen to ask.
func (p *phase) rng(parts ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprint(h, p.name)
	for _, x := range parts {
		fmt.Fprint(h, "/", x)
	}
	return rand.New(rand.NewPCG(uint64(p.cfg.Seed), h.Sum64()))
}

func (p *phase) ackDelay(r *rand.Rand) time.Duration {
	span := p.cfg.AckDelayMax - p.cfg.AckDelayMin
	if span <= 0 {
		return p.cfg.AckDelayMin
	}
	return p.cfg.AckDelayMin + time.Duration(r.Int64N(int64(span)+1))
}

func (p *phase) newInc(i int, ack bool) *loadInc {
	inc := &loadInc{
		index:    i,
		token:    fmt.Sprintf("load-%s-%03d", p.name, i),
		scenario: p.plan.Scenarios[i%len(p.plan.Scenarios)],
		declarer: p.plan.Users[p.rng("declarer", i).IntN(len(p.plan.Users))],
		ack:      ack,
		pressed:  map[string]bool{},
	}
	p.mu.Lock()
	p.incs = append(p.incs, inc)
	p.byToken[inc.token] = inc
	p.mu.Unlock()
	return inc
}

// storm declares StormIncidents incidents evenly over StormWindow, lets
// the pages go out and escalate, acknowledges every role of the chosen
// ones, then resolves them all.
func (p *phase) storm(ctx context.Context) string {
	c := p.cfg
	n := c.StormIncidents
	nAck := int(float64(n)*c.StormAckFraction + 0.5)
	acked := map[int]bool{}
	for _, i := range p.rng("acked").Perm(n)[:nAck] {
		acked[i] = true
	}
	var wg sync.WaitGroup
	for i := range n {
		inc := p.newInc(i, acked[i])
		at := p.start.Add(c.StormWindow * time.Duration(i) / time.Duration(n))
		wg.Go(func() {
			if sleepUntil(ctx, at) {
				p.declare(ctx, inc)
			}
		})
	}
	wg.Wait()
	progress(c, "storm: %d declarations sent within %s", n, time.Since(p.start).Round(time.Millisecond))

	// Let every round of escalation of the unacknowledged incidents
	// happen before resolving them.
	settle := c.StormSettle
	if settle == 0 {
		settle = p.plan.AckTimeout * time.Duration(c.ContactsPerRole*c.Rounds+1)
	}
	sleepUntil(ctx, p.start.Add(c.StormWindow+settle))
	deadline := time.Now().Add(c.Drain)
	err := p.waitFor(ctx, deadline, func() bool {
		for _, inc := range p.incs {
			if inc.declared && inc.ack && len(inc.pressed) < len(p.plan.Roles[inc.scenario]) {
				return false
			}
		}
		return true
	})
	if err != nil {
		p.problem("not every role of the incidents to acknowledge was paged within --drain")
	}
	p.presses.Wait()
	progress(c, "storm: resolving the incidents (each needs its channel: Slack creates 20 a minute)")
	for _, inc := range p.incs {
		wg.Go(func() { p.resolve(ctx, inc, deadline) })
	}
	wg.Wait()
	return fmt.Sprintf("%d incidents declared in %s, 3 roles paged each, %d acknowledged (every role), all resolved after %s; ack_timeout %s, %d contacts per role, %d rounds",
		n, c.StormWindow, nAck, settle, p.plan.AckTimeout, c.ContactsPerRole, c.Rounds)
}

// long declares an incident every DeclareEvery for Duration; each one has
// some of its roles acknowledged, Notes notes each followed by a status,
// and is resolved Lifetime after its declaration.
func (p *phase) long(ctx context.Context) string {
	c := p.cfg
	n := max(1, int(c.Duration/c.DeclareEvery))
	var wg sync.WaitGroup
	for i := range n {
		inc := p.newInc(i, false)
		at := p.start.Add(c.DeclareEvery * time.Duration(i))
		wg.Go(func() { p.lifecycle(ctx, inc, at) })
	}
	wg.Wait()
	p.presses.Wait()
	return fmt.Sprintf("%d incidents, one every %s for %s; each role acknowledged with probability %.2f, %d notes and statuses each, resolved %s after declaration; ack_timeout %s, %d contacts per role, %d rounds",
		n, c.DeclareEvery, c.Duration, c.AckFraction, c.Notes, c.Lifetime, p.plan.AckTimeout, c.ContactsPerRole, c.Rounds)
}

func (p *phase) lifecycle(ctx context.Context, inc *loadInc, at time.Time) {
	c := p.cfg
	if !sleepUntil(ctx, at) || !p.declare(ctx, inc) {
		return
	}
	deadline := at.Add(c.Lifetime + c.Drain)
	for k := 1; k <= c.Notes; k++ {
		if !sleepUntil(ctx, at.Add(c.Lifetime*time.Duration(k)/time.Duration(c.Notes+1))) {
			return
		}
		ch, ok := p.waitChannel(ctx, inc, deadline)
		if !ok {
			p.problem("%s: no channel by the deadline; notes not sent", inc.token)
			return
		}
		if ok, answer := p.command(ctx, kindNote, inc.declarer, ch, fmt.Sprintf("note %s note %d: disk at 9%d%%, <!channel> & co", inc.token, k, k)); ok && !strings.HasPrefix(answer, "Noted") && answer != bot.WorkingText {
			p.problem("%s: note answered %q", inc.token, answer)
		}
		p.command(ctx, kindStatus, inc.declarer, ch, "status")
	}
	if sleepUntil(ctx, at.Add(c.Lifetime)) {
		p.resolve(ctx, inc, deadline)
	}
}

// ackDecision says whether the page of role in inc is to be acknowledged,
// and how long after it reached Slack.
func (p *phase) ackDecision(inc *loadInc, role string) (bool, time.Duration) {
	r := p.rng("ack", inc.index, role)
	switch p.name {
	case "storm":
		return inc.ack, p.ackDelay(r)
	default:
		return r.Float64() < p.cfg.AckFraction, p.ackDelay(r)
	}
}

func (p *phase) declare(ctx context.Context, inc *loadInc) bool {
	text := fmt.Sprintf("declare %s %s: checkout errors at 40%%", inc.scenario, inc.token)
	body := slashForm(inc.declarer, fakeslack.GeneralID, text, p.fs.ResponseURL("declare/"+inc.token))
	p.mu.Lock()
	inc.sentAt = time.Now()
	p.mu.Unlock()
	ok, answer := p.send(ctx, kindDeclare, "/slack/commands", body)
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	inc.declared = true
	if m := declaredRE.FindStringSubmatch(answer); m != nil {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		p.learnLocked(inc, id)
	}
	return true
}

func (p *phase) resolve(ctx context.Context, inc *loadInc, deadline time.Time) {
	p.mu.Lock()
	declared := inc.declared
	p.mu.Unlock()
	if !declared {
		return
	}
	ch, ok := p.waitChannel(ctx, inc, deadline)
	if !ok {
		p.problem("%s: no channel by the deadline; not resolved", inc.token)
		return
	}
	ok, answer := p.command(ctx, kindResolve, inc.declarer, ch, "resolve "+inc.token+" rolled back; error rate normal")
	if ok && !strings.Contains(answer, "resolved") && answer != bot.WorkingText {
		p.problem("%s: resolve answered %q", inc.token, answer)
	}
}

func (p *phase) command(ctx context.Context, kind, user, channel, text string) (bool, string) {
	return p.send(ctx, kind, "/slack/commands", slashForm(user, channel, text, p.responseURL(kind)))
}

// press presses the Acknowledge button of a page, as its recipient.
func (p *phase) press(ctx context.Context, dm pageDM) {
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": dm.user}, "team": map[string]any{"id": fakeslack.TeamID},
		"container":    map[string]any{"type": "message", "channel_id": dm.channel, "message_ts": "0"},
		"channel":      map[string]any{"id": dm.channel},
		"response_url": p.responseURL("ack"), "trigger_id": "load-trigger",
		"actions": []any{map[string]any{
			"type": "button", "action_id": dm.button.ActionID, "block_id": dm.button.BlockID, "value": dm.button.Value,
			"text": map[string]any{"type": "plain_text", "text": dm.button.Text}, "action_ts": "0",
		}},
	})
	p.send(ctx, kindAck, "/slack/interactions", []byte(url.Values{"payload": {string(payload)}}.Encode()))
}

// responseURL returns a response_url of its own for each request, as
// Slack gives: two requests are never the same body (drbot refuses an
// exact replay).
func (p *phase) responseURL(what string) string {
	return p.fs.ResponseURL(fmt.Sprintf("%s/%d", what, p.requestSeq.Add(1)))
}

func slashForm(user, channel, text, responseURL string) []byte {
	return []byte(url.Values{
		"team_id": {fakeslack.TeamID}, "channel_id": {channel}, "user_id": {user},
		"command": {"/incident"}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"load-trigger"},
	}.Encode())
}

// send posts a signed request to drbot and records its latency (for 200s)
// or its failure. It returns whether drbot answered 200, and the answer's
// text.
func (p *phase) send(ctx context.Context, kind, path string, body []byte) (bool, string) {
	offset := time.Since(p.start)
	status, answer, lat, err := p.cl.post(ctx, path, body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, sentRequest{kind: kind, path: path, body: body, offset: offset})
	if err != nil || status != http.StatusOK {
		p.failed[kind]++
		if err == nil {
			err = fmt.Errorf("status %d: %.200s", status, answer)
		}
		p.problemLocked("%s: %v", kind, err)
		return false, ""
	}
	p.lat[kind] = append(p.lat[kind], lat)
	var a struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal([]byte(answer), &a)
	if a.Text == bot.WorkingText {
		p.late++
	}
	return true, a.Text
}

func (p *phase) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problemLocked(format, args...)
}

// problemLocked records a problem; only the first few are kept word for
// word.
func (p *phase) problemLocked(format string, args ...any) {
	const keep = 20
	if len(p.problems) < keep {
		p.problems = append(p.problems, fmt.Sprintf(format, args...))
	} else if len(p.problems) == keep {
		p.problems = append(p.problems, "(more problems left out)")
	}
}

// ---- watching the fake Slack ----

// watch reads the calls the fake Slack records, every 20 ms, until ctx
// ends: pages (and the presses they lead to) and channels.
func (p *phase) watch(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.poll()
		}
	}
}

// poll looks at the calls recorded since the last poll.
func (p *phase) poll() {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	calls := p.fs.Calls()
	for _, c := range calls[min(p.polled, len(calls)):] {
		p.observe(c)
	}
	p.polled = len(calls)
}

func (p *phase) observe(c fakeslack.Call) {
	if !c.OK() {
		return
	}
	switch c.Method {
	case "chat.postMessage":
		ch := c.Params.Get("channel")
		info, ok := p.fs.Channel(ch)
		if !ok || !info.IM {
			return
		}
		m := fakeslack.Message{Text: c.Params.Get("text"), Blocks: json.RawMessage(c.Params.Get("blocks"))}
		// A message may list several pages (drbot bundles the pages
		// waiting for one person), each with its Acknowledge button, in
		// the order of their text: the n-th button is the n-th token's.
		tokens := tokenRE.FindAllString(m.AllText(), -1)
		n := 0
		for _, b := range m.Buttons() {
			parts := strings.SplitN(b.Value, "|", 3)
			if len(parts) != 3 || parts[0] != "ack" {
				continue
			}
			id, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				continue
			}
			token := ""
			if n < len(tokens) {
				token = tokens[n]
			}
			n++
			p.onPage(pageDM{incident: id, role: parts[2], user: info.IMUser, channel: info.ID, at: c.At, button: b}, token)
		}
	case "conversations.create":
		name := c.Params.Get("name")
		m := channelRE.FindStringSubmatch(name)
		if m == nil {
			return
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		info, ok := p.fs.Channel(name)
		if !ok {
			return
		}
		p.mu.Lock()
		if _, dup := p.channels[id]; !dup {
			p.channels[id] = channelSeen{id: info.ID, at: c.At}
		}
		p.signalLocked()
		p.mu.Unlock()
	case "conversations.setTopic":
		ch := c.Params.Get("channel")
		p.mu.Lock()
		for id, seen := range p.channels {
			if seen.id == ch && !seen.ready {
				seen.ready = true
				p.channels[id] = seen
				p.signalLocked()
			}
		}
		p.mu.Unlock()
	}
}

func (p *phase) onPage(dm pageDM, token string) {
	p.mu.Lock()
	p.pages = append(p.pages, dm)
	inc := p.byToken[token]
	var (
		press bool
		delay time.Duration
	)
	if inc != nil {
		if inc.id == 0 {
			p.learnLocked(inc, dm.incident)
		}
		if !inc.pressed[dm.role] {
			if ok, d := p.ackDecision(inc, dm.role); ok {
				inc.pressed[dm.role] = true
				press, delay = true, d
			}
		}
	}
	p.signalLocked()
	p.mu.Unlock()
	if press {
		p.presses.Add(1)
		go func() {
			defer p.presses.Done()
			if sleepUntil(context.Background(), dm.at.Add(delay)) {
				p.press(context.Background(), dm)
			}
		}()
	}
}

func (p *phase) learnLocked(inc *loadInc, id int64) {
	if inc.id == 0 && id > 0 {
		inc.id = id
		p.byID[id] = inc
		p.signalLocked()
	}
}

func (p *phase) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// waitFor waits until cond (called with p.mu held) holds, or deadline.
func (p *phase) waitFor(ctx context.Context, deadline time.Time, cond func() bool) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return errors.New("deadline passed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *phase) waitChannel(ctx context.Context, inc *loadInc, deadline time.Time) (string, bool) {
	var ch string
	err := p.waitFor(ctx, deadline, func() bool {
		c, ok := p.channels[inc.id]
		ch = c.id
		return inc.id != 0 && ok && c.ready
	})
	return ch, err == nil
}

// drain waits until drbot's outbox is empty: everything it had to say has
// reached the fake Slack (or failed for good).
func (p *phase) drain(ctx context.Context, dbPath string) error {
	store, err := openRead(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("open the database to watch the outbox: %w", err)
	}
	defer store.Close()
	deadline := time.Now().Add(p.cfg.Drain)
	depth := -1
	for time.Now().Before(deadline) {
		err := store.View(ctx, func(tx incident.Tx) error {
			var err error
			depth, err = tx.OutboxDepth()
			return err
		})
		if err != nil {
			return fmt.Errorf("read the outbox depth: %w", err)
		}
		if depth == 0 {
			return nil
		}
		if !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("the outbox still holds %d messages after --drain %s", depth, p.cfg.Drain)
}

// sleepUntil sleeps until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- HTTP ----

// client sends requests signed like Slack's to one server.
type client struct {
	base   string
	secret string
	http   *http.Client
}

func newClient(base, secret string) *client {
	return &client{base: base, secret: secret, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
	}}
}

// post sends body to path, signed now, and returns the status, the
// answer, and the time from sending to the answer read in full.
func (c *client) post(ctx context.Context, path string, body []byte) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", formType)
	start := time.Now()
	for k, v := range bot.Sign(c.secret, start, body) {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		return 0, "", 0, err
	}
	return resp.StatusCode, string(answer), lat, nil
}

// maxReplayGap shortens the quiet spells of a replay (the storm waits
// minutes for Slack to create channels): the bare handler's figures
// depend on how requests crowd together, not on how long nothing happens.
const maxReplayGap = time.Second

// replayBare sends the requests sent to drbot, at the same offsets from
// the start (quiet spells over maxReplayGap shortened to it), to the bare
// handler, in a process of its own.
func (p *phase) replayBare(ctx context.Context, pr *PhaseReport) error {
	bare, err := startBare(ctx, p.secret)
	if err != nil {
		return err
	}
	defer bare.killIfRunning()
	cl := newClient("http://"+bare.addr, p.secret)
	var (
		mu     sync.Mutex
		lat    = map[string][]time.Duration{}
		failed = map[string]int{}
		wg     sync.WaitGroup
	)
	sent := slices.Clone(p.sent)
	slices.SortStableFunc(sent, func(a, b sentRequest) int { return int(a.offset - b.offset) })
	offsets := make([]time.Duration, len(sent))
	for i := range sent {
		if i > 0 {
			offsets[i] = offsets[i-1] + min(sent[i].offset-sent[i-1].offset, maxReplayGap)
		}
	}
	start := time.Now()
	for i, r := range sent {
		wg.Go(func() {
			if !sleepUntil(ctx, start.Add(offsets[i])) {
				return
			}
			status, _, d, err := cl.post(ctx, r.path, r.body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != http.StatusOK {
				failed[r.kind]++
				return
			}
			lat[r.kind] = append(lat[r.kind], d)
		})
	}
	wg.Wait()
	mem := bare.memory()
	if err := bare.stop(10 * time.Second); err != nil {
		return fmt.Errorf("bare handler: %w", err)
	}
	pr.Bare = &mem
	for i := range pr.Requests {
		e := &pr.Requests[i]
		s := statsOf(lat[e.Kind])
		e.Bare = &s
		e.BareFailed = failed[e.Kind]
	}
	return nil
}

// ---- analysis ----

type pageKey struct {
	incident   int64
	role, user string
}

// unsentPages counts, per incident, role and contact, the pages of
// resolved incidents that never went out: drbot sends no page after
// resolve, and the K-th page of a role, once delivered, is remembered
// under the ref inc/N/page/ROLE/K.
func (p *phase) unsentPages(tx incident.Tx, incs []*incident.Incident, timelines map[int64][]incident.Event) (map[pageKey]int, error) {
	out := map[pageKey]int{}
	for _, inc := range incs {
		if inc.State != incident.StateResolved {
			continue
		}
		k := map[string]int{}
		for _, e := range timelines[inc.ID] {
			if e.Kind != incident.KindPaged && e.Kind != incident.KindEscalated {
				continue
			}
			role := e.Data["role"]
			k[role]++
			_, _, sent, err := tx.Ref(fmt.Sprintf("inc/%d/page/%s/%d", inc.ID, role, k[role]))
			if err != nil {
				return nil, err
			}
			if !sent {
				out[pageKey{inc.ID, role, cmp.Or(p.plan.Contacts[e.Data["contact"]], e.Data["contact"])}]++
			}
		}
	}
	return out, nil
}

// analyze compares drbot's timeline with what the fake Slack received.
func (p *phase) analyze(ctx context.Context, dbPath string, pr *PhaseReport) error {
	store, err := openRead(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer store.Close()
	var (
		incs      []*incident.Incident
		timelines = map[int64][]incident.Event{}
		notSent   map[pageKey]int
	)
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		if incs, err = tx.Incidents(incident.Filter{}); err != nil {
			return err
		}
		for _, inc := range incs {
			if timelines[inc.ID], err = tx.Timeline(inc.ID); err != nil {
				return err
			}
		}
		notSent, err = p.unsentPages(tx, incs, timelines)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the timelines: %w", err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()

	// Answer latency per request kind.
	kinds := make([]string, 0, len(p.lat)+len(p.failed))
	for k := range p.lat {
		kinds = append(kinds, k)
	}
	for k := range p.failed {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.SortFunc(kinds, func(a, b string) int { return kindOrder(a) - kindOrder(b) })
	for _, k := range kinds {
		pr.Requests = append(pr.Requests, EndpointReport{Kind: k, Drbot: statsOf(p.lat[k]), Failed: p.failed[k]})
	}
	pr.LateAnswers = p.late

	// Pages: the timeline's against the fake Slack's, per incident, role
	// and contact, in time order (the n-th page to a contact for a role is
	// matched with the n-th direct message).
	delivered := map[pageKey][]time.Time{}
	firstPage := map[int64]time.Time{}
	for _, dm := range p.pages {
		k := pageKey{dm.incident, dm.role, dm.user}
		delivered[k] = append(delivered[k], dm.at)
		if f, ok := firstPage[dm.incident]; !ok || dm.at.Before(f) {
			firstPage[dm.incident] = dm.at
		}
	}
	for _, ts := range delivered {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	expected := map[pageKey][]time.Time{}
	var engineLate, dmLate []time.Duration
	for _, inc := range incs {
		pr.Incidents++
		if inc.State != incident.StateResolved {
			pr.Unresolved++
		}
		last := map[string]time.Time{} // role -> its previous page
		for _, e := range timelines[inc.ID] {
			switch e.Kind {
			case incident.KindDeliveryFailed:
				pr.Pages.FailedForGood++
				continue
			case incident.KindPaged, incident.KindEscalated:
			default:
				continue
			}
			role := e.Data["role"]
			user := p.plan.Contacts[e.Data["contact"]]
			if user == "" {
				user = e.Data["contact"] // a Slack member paged directly
			}
			k := pageKey{inc.ID, role, user}
			n := len(expected[k])
			expected[k] = append(expected[k], e.At)
			if e.Kind == incident.KindEscalated && !last[role].IsZero() {
				due := last[role].Add(p.plan.AckTimeout)
				engineLate = append(engineLate, e.At.Sub(due))
				if got := delivered[k]; n < len(got) {
					dmLate = append(dmLate, got[n].Sub(due))
				}
			}
			last[role] = e.At
		}
	}
	for k, exp := range expected {
		got, want := len(delivered[k]), len(exp)-notSent[k]
		pr.Pages.NotSent += notSent[k]
		pr.Pages.Expected += want
		pr.Pages.Delivered += min(got, want)
		pr.Pages.Lost += max(0, want-got)
	}
	for k, got := range delivered {
		pr.Pages.Doubled += max(0, len(got)-(len(expected[k])-notSent[k]))
	}
	pr.EscalationLateEngine = statsOf(engineLate)
	pr.EscalationLateDM = statsOf(dmLate)

	var toPage, toChannel []time.Duration
	for _, inc := range p.incs {
		if !inc.declared {
			continue
		}
		if inc.id == 0 {
			p.problemLocked("%s: declared, but no page and no answer says its number", inc.token)
			continue
		}
		if f, ok := firstPage[inc.id]; ok {
			toPage = append(toPage, f.Sub(inc.sentAt))
		}
		if ch, ok := p.channels[inc.id]; ok {
			toChannel = append(toChannel, ch.at.Sub(inc.sentAt))
		}
	}
	pr.DeclareToFirstPage = statsOf(toPage)
	pr.DeclareToChannel = statsOf(toChannel)

	for _, c := range p.fs.Calls() {
		pr.Slack.Calls++
		switch {
		case c.Status == http.StatusTooManyRequests:
			pr.Slack.RateLimited++
		case c.Status >= 500:
			pr.Slack.ServerErrors++
		case c.Error != "":
			pr.Slack.Errors++
		}
	}
	if pr.Unresolved > 0 {
		p.problemLocked("%d incidents were not resolved", pr.Unresolved)
	}
	if pr.Pages.Lost > 0 {
		p.problemLocked("%d pages recorded in the timeline never reached Slack", pr.Pages.Lost)
	}
	pr.Problems = slices.Clone(p.problems)
	return nil
}

func kindOrder(k string) int {
	if i := slices.Index([]string{kindDeclare, kindAck, kindNote, kindStatus, kindResolve}, k); i >= 0 {
		return i
	}
	return 100
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
