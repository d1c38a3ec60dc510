package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/bot"
)

// HTTP: requests signed like Slack's, and the replay of a phase against
// the bare handler.

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
