package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// Watching the fake Slack: pages seen, presses they lead to, channels, and
// the waits on them.

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
// reached the fake Slack (or failed for good). With --pages-only it waits
// until every page is out, and says what was left in the outbox.
func (p *phase) drain(ctx context.Context, dbPath string) error {
	if p.cfg.PagesOnly {
		return p.drainPages(ctx, dbPath)
	}
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

// drainPages waits until every page in the timelines has reached the fake
// Slack or was not sent because its incident was resolved first, then
// records how many messages the outbox still holds.
func (p *phase) drainPages(ctx context.Context, dbPath string) error {
	deadline := time.Now().Add(p.cfg.Drain)
	lost := -1
	for time.Now().Before(deadline) {
		incs, timelines, notSent, err := p.readTimelines(ctx, dbPath)
		if err != nil {
			return err
		}
		p.poll()
		var pr PhaseReport
		p.mu.Lock()
		p.pagesLocked(&pr, incs, timelines, notSent)
		p.mu.Unlock()
		if lost = pr.Pages.Lost; lost == 0 {
			return p.readOutboxLeft(ctx, dbPath)
		}
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%d pages in the timelines had not reached Slack after --drain %s", lost, p.cfg.Drain)
}

// readOutboxLeft records how many messages drbot's outbox still holds
// (--pages-only does not wait for them).
func (p *phase) readOutboxLeft(ctx context.Context, dbPath string) error {
	store, err := openRead(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("open the database to read the outbox: %w", err)
	}
	defer store.Close()
	var depth int
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		depth, err = tx.OutboxDepth()
		return err
	})
	if err != nil {
		return fmt.Errorf("read the outbox depth: %w", err)
	}
	p.outboxLeft = depth
	return nil
}
