package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
)

// answerProxy stands between drbot and the fake Slack and tells, once,
// when Slack's answer accepting a page (a direct message with an
// Acknowledge button) has been written back to drbot in full.
type answerProxy struct {
	srv    *httptest.Server
	once   sync.Once
	answer chan time.Time

	mu       sync.Mutex
	answered map[pageKey]time.Time // when Slack's first answer taking the page reached drbot
	posts    []pagePost            // every answer taking a page, in order
}

// pagePost is one page Slack took: when its request reached the proxy
// (sent), and when its answer went back to drbot (at).
type pagePost struct {
	key      pageKey
	sent, at time.Time
}

func newAnswerProxy(t *testing.T, fs *fakeslack.Server) *answerProxy {
	p := &answerProxy{answer: make(chan time.Time, 1), answered: map[pageKey]time.Time{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequest(r.Method, fs.BaseURL()+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
		w.(http.Flusher).Flush()
		at := time.Now()
		if keys := pageKeys(r.URL.Path, body); len(keys) > 0 && resp.StatusCode == http.StatusOK && bytes.Contains(out, []byte(`"ok":true`)) {
			p.mu.Lock()
			for _, k := range keys {
				if _, seen := p.answered[k]; !seen {
					p.answered[k] = at
				}
				p.posts = append(p.posts, pagePost{k, arrived, at})
			}
			p.mu.Unlock()
			p.once.Do(func() { p.answer <- at })
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// pageKeys returns the pages a Web API call carries: chat.postMessage to
// a member (a direct message), one page per Acknowledge button.
func pageKeys(path string, body []byte) []pageKey {
	if !strings.HasSuffix(path, "/chat.postMessage") {
		return nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(form.Get("channel"), "U") {
		return nil
	}
	var keys []pageKey
	m := fakeslack.Message{Blocks: json.RawMessage(form.Get("blocks"))}
	for _, b := range m.Buttons() {
		parts := strings.SplitN(b.Value, "|", 3)
		if len(parts) != 3 || parts[0] != "ack" {
			continue
		}
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		keys = append(keys, pageKey{id, parts[2], form.Get("channel")})
	}
	return keys
}

// killedPage is a page Slack took before a kill: how long before, and
// whether the next process sent it again.
type killedPage struct {
	before   time.Duration
	repeated bool
}

// TestFaultKillRightAfterPage kills "drbot serve" with SIGKILL a set time
// after Slack's answer accepting a page reached it, restarts it on the
// same database, and checks what the next process sends: with one
// incident declared (each page a message of its own), and with eight
// declared at once (the pages to one person bundled, the kill landing
// while the outbox and the engine are busy writing). A page marked sent
// in the database when the kill came is never sent again (checked in
// killAfterPage); one Slack took but drbot had not yet marked may be, and
// how close to Slack's answer such a kill must come is measured and
// logged here, not asserted: a loaded machine stretches it
// (docs/operations.md has the figures; issue 16, point 6).
func TestFaultKillRightAfterPage(t *testing.T) {
	var all []killedPage
	marked := 0
	for _, try := range []struct {
		delay    time.Duration
		declares int
	}{{0, 8}, {time.Millisecond, 1}, {3 * time.Millisecond, 8}, {10 * time.Millisecond, 1}, {60 * time.Millisecond, 1}, {60 * time.Millisecond, 8}} {
		pages, n := killAfterPage(t, try.delay, try.declares)
		all, marked = append(all, pages...), marked+n
	}
	if marked == 0 {
		t.Fatal("no page was marked sent before a kill: nothing checked that a marked page is not sent again")
	}
	slices.SortFunc(all, func(a, b killedPage) int { return cmp.Compare(a.before, b.before) })
	var window time.Duration // the longest a repeated page was taken before its kill
	for _, p := range all {
		if p.repeated {
			window = max(window, p.before)
		}
	}
	t.Logf("%d pages taken before 6 kills, %d of them marked sent; the longest a repeated one was taken before its kill: %s", len(all), marked, window)
}

// killAfterPage declares n incidents at once, kills drbot d after
// Slack's answer to the first page reached it, lets a new process finish,
// and returns the pages Slack took before the kill and how many pages
// were marked sent in the database then. It fails the test if the next
// process sent a page marked sent again.
func killAfterPage(t *testing.T, d time.Duration, n int) ([]killedPage, int) {
	t.Helper()
	dir := faultDir(t, pagesPlan)
	db := filepath.Join(dir, "drbot.db")
	fs := newFakeWorkspace(t)
	proxy := newAnswerProxy(t, fs)
	env := "SLACK_API_URL=" + proxy.srv.URL + "/api/"
	srv := startServe(t, fs, dir, env)
	for i := range n {
		go func() {
			_, _, _, _ = srv.postNow("/slack/commands", slashForm(alice, fakeslack.GeneralID, fmt.Sprintf("declare api-down crash window %d", i), fs.ResponseURL("declare")))
		}()
	}
	select {
	case at := <-proxy.answer:
		time.Sleep(time.Until(at.Add(d)))
	case <-time.After(20 * time.Second):
		t.Fatal("no page reached Slack within 20 s")
	}
	killed := time.Now()
	srv.kill9()
	dead := time.Now() // the killed process sends nothing after this
	marked := pagesByRef(t, db, readTimelines(t, db), true, false)
	srv = startServe(t, fs, dir, env)
	waitOutboxEmpty(t, db, drainWait)
	srv.stop()
	recs := readTimelines(t, db)
	if len(recs) == 0 {
		t.Fatalf("no incident declared")
	}
	checkPagesDelivered(t, db, recs, fs)
	want, got := timelinePages(recs), slackPages(fs)
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	sentAfter := map[pageKey]int{}
	for _, p := range proxy.posts {
		if p.sent.After(dead) { // sent by the next process
			sentAfter[p.key]++
		}
	}
	n = 0
	for k, m := range marked {
		n += m
		if sentAfter[k] > want[k]-m {
			t.Errorf("page %s: %d marked sent when drbot was killed, %d in the timeline, and the next process sent %d: a page marked sent went again",
				k, m, want[k], sentAfter[k])
		}
	}
	var out []killedPage
	for k, at := range proxy.answered {
		if at.Before(killed) {
			out = append(out, killedPage{before: killed.Sub(at), repeated: got[k] > 1})
		}
	}
	return out, n
}
