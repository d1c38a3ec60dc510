package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// Traffic: the incidents a phase declares, acknowledges and resolves, and
// the requests that carry them.

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
