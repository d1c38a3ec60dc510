package fakeslack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Call is one request the server received.
type Call struct {
	Method string     // "chat.postMessage", or MethodResponseURL / MethodWebhook
	ID     string     // the <id> of /response/<id> and /webhook/<id>
	Params url.Values // form or query parameters, without the token
	Body   []byte     // the raw body of JSON requests (views.open, response_url, webhook)
	At     time.Time  // when it arrived
	Status int        // HTTP status answered
	Error  string     // Slack error code answered ("" when ok)
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == http.StatusOK && c.Error == "" }

// JSON decodes the body of a JSON call into a generic map.
func (c Call) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(c.Body, &m)
	return m
}

// Calls returns every call received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the calls received for one method, in order.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsToLocked(method)
}

func (s *Server) callsToLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitFor waits until at least n calls to method were received (whatever
// their outcome) and returns them, or fails once timeout has passed.
func (s *Server) WaitFor(method string, n int, timeout time.Duration) ([]Call, error) {
	var got []Call
	err := s.WaitUntil(timeout, func() bool {
		got = s.CallsTo(method)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("fakeslack: waited %s for %d calls to %s, got %d", timeout, n, method, len(got))
	}
	return got, nil
}

// WaitForOK is WaitFor counting only the calls that succeeded.
func (s *Server) WaitForOK(method string, n int, timeout time.Duration) ([]Call, error) {
	var good []Call
	err := s.WaitUntil(timeout, func() bool {
		good = good[:0]
		for _, c := range s.CallsTo(method) {
			if c.OK() {
				good = append(good, c)
			}
		}
		return len(good) >= n
	})
	if err != nil {
		return good, fmt.Errorf("fakeslack: waited %s for %d successful calls to %s, got %d", timeout, n, method, len(good))
	}
	return good, nil
}

// WaitUntil waits until cond returns true, re-checking it whenever the
// server records a call or changes its workspace, or fails once timeout
// has passed. cond must not call WaitUntil.
func (s *Server) WaitUntil(timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			if cond() {
				return nil
			}
			return fmt.Errorf("fakeslack: condition not met within %s", timeout)
		}
	}
}

// WaitForMessage waits for a message in a conversation (a channel id, or
// a user id for their direct conversation with the bot) for which match
// returns true, and returns it as it stands.
func (s *Server) WaitForMessage(conv string, timeout time.Duration, match func(Message) bool) (Message, error) {
	var found Message
	err := s.WaitUntil(timeout, func() bool {
		for _, m := range s.Messages(conv) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		return Message{}, fmt.Errorf("fakeslack: no matching message in %s within %s", conv, timeout)
	}
	return found, nil
}

// recordAndUnlock records an answered call, releases s.mu (held by the
// caller; notify takes it again) and wakes whoever waits for calls
// (WaitFor, WaitUntil). Callers write the answer after it, unlocked.
func (s *Server) recordAndUnlock(call Call) {
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	s.notify()
}

func (s *Server) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}
