package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReplayGuard(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	g := newReplayGuard()
	steps := []struct {
		name     string
		sig, ts  string
		at       time.Time
		wantNew  bool
		wantKept int
	}{
		{"first", "v0=abc", ts, now, true, 1},
		{"exact replay", "v0=abc", ts, now.Add(time.Second), false, 1},
		{"replay in upper case", "V0=ABC", ts, now.Add(2 * time.Second), false, 1},
		{"another request", "v0=def", ts, now.Add(3 * time.Second), true, 2},
		{"replay just inside the window", "v0=abc", ts, now.Add(SignatureWindow - time.Millisecond), false, 2},
		// Past the window Verify refuses it as stale; the guard forgets.
		{"past the window", "v0=abc", ts, now.Add(SignatureWindow), true, 1},
		{"malformed timestamp is Verify's business", "v0=zzz", "x", now, true, 1},
	}
	for _, s := range steps {
		if got := g.first(s.sig, s.ts, s.at); got != s.wantNew {
			t.Errorf("%s: first = %v, want %v", s.name, got, s.wantNew)
		}
		if got := len(g.seen); got != s.wantKept {
			t.Errorf("%s: %d signatures kept, want %d", s.name, got, s.wantKept)
		}
	}
}

func TestReplayGuardBounded(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	g := newReplayGuard()
	g.max = 3
	for i := range 5 {
		if !g.first("v0="+strconv.Itoa(i), ts, now) {
			t.Fatalf("signature %d taken for a replay", i)
		}
	}
	if len(g.seen) != 3 || len(g.order) != 3 {
		t.Errorf("kept %d/%d signatures, want the 3 newest", len(g.seen), len(g.order))
	}
	if g.first("v0=4", ts, now) {
		t.Errorf("the newest signature was forgotten")
	}
}

// TestReplayRefused sends the same signed requests twice: a command or an
// interaction acts once and the copy gets 401; an event is left to the
// event_id deduplication.
func TestReplayRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := commandForm("declare db-corruption replayed", h.fs.ResponseURL("cmd"))
	header := Sign(testSecret, h.now, body)
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		status, text := h.post("/slack/commands", "application/x-www-form-urlencoded", body, h.now, header)
		if status != want {
			t.Errorf("command %d: status %d (%s), want %d", i+1, status, text, want)
		}
		if status == http.StatusUnauthorized && !strings.Contains(text, "replayed") {
			t.Errorf("refusal %q does not say it is a replay", text)
		}
	}
	// The same command signed a second later is a new request.
	if status, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", body, h.now.Add(time.Second), nil); status != http.StatusOK {
		t.Errorf("the same command signed again: status %d, want 200", status)
	}

	raw, _ := json.Marshal(pressPayload("ack|1|commander", "U1", h.fs.ResponseURL("press")))
	press := []byte(url.Values{"payload": {string(raw)}}.Encode())
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		if status, _ := h.post("/slack/interactions", "application/x-www-form-urlencoded", press, h.now, nil); status != want {
			t.Errorf("press %d: status %d, want %d", i+1, status, want)
		}
	}
	for range 2 {
		if status, _ := h.event(pinEvent("EvREPLAY", "U2", "U1", "pinned"), nil); status != http.StatusOK {
			t.Errorf("event: status %d, want 200 both times", status)
		}
	}
	h.svc.waitUntil(t, "the press", func() bool { return len(h.svc.presses) == 1 })
	h.svc.mu.Lock()
	defer h.svc.mu.Unlock()
	if len(h.svc.commands) != 2 || len(h.svc.presses) != 1 {
		t.Errorf("service got %d commands and %d presses, want 2 (not the replay) and 1", len(h.svc.commands), len(h.svc.presses))
	}
}

// TestReplayRefusedAcrossInstances: two servers sharing the record of
// signatures (FirstRequest, the database with several instances) refuse a
// request replayed from one to the other; when the shared record fails,
// a new request is let through (each server's own check still holds).
func TestReplayRefusedAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := newHarness(t), newHarness(t)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		down error
	)
	shared := func(_ context.Context, sig string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if down != nil {
			return false, down
		}
		first := !seen[sig]
		seen[sig] = true
		return first, nil
	}
	a.srv.cfg.FirstRequest, b.srv.cfg.FirstRequest = shared, shared
	body := commandForm("declare db-corruption once", a.fs.ResponseURL("cmd"))
	header := Sign(testSecret, a.now, body)
	if status, text := a.post("/slack/commands", "application/x-www-form-urlencoded", body, a.now, header); status != http.StatusOK {
		t.Fatalf("first instance: %d %s", status, text)
	}
	if status, text := b.post("/slack/commands", "application/x-www-form-urlencoded", body, b.now, header); status != http.StatusUnauthorized || !strings.Contains(text, "replayed") {
		t.Errorf("the same request to the second instance: %d %q, want 401 replayed", status, text)
	}
	mu.Lock()
	down = errors.New("database down")
	mu.Unlock()
	if status, text := b.post("/slack/commands", "application/x-www-form-urlencoded", body, b.now.Add(time.Second), nil); status != http.StatusOK {
		t.Errorf("a new request while the shared record fails: %d %q, want 200", status, text)
	}
	a.svc.mu.Lock()
	b.svc.mu.Lock()
	defer a.svc.mu.Unlock()
	defer b.svc.mu.Unlock()
	if len(a.svc.commands) != 1 || len(b.svc.commands) != 1 {
		t.Errorf("commands acted on: %d and %d, want 1 each (not the replay)", len(a.svc.commands), len(b.svc.commands))
	}
}
