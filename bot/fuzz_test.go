package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// The fuzz targets feed arbitrary input, correctly signed, through the
// HTTP handlers with a fake incident service and a Slack client whose
// every call is answered in memory (no network, whatever URL the input
// names). The handler must never panic, in the request or in the work it
// does after answering, and must answer 2xx or 4xx: a 5xx would have
// Slack retry a request that can never succeed.

const fuzzSecret = "fuzz-signing-secret"

// stubSlack answers every HTTP request in the process: Slack's Web API
// methods with ok:true, anything else (response_url, webhooks) with 200.
type stubSlack struct{}

func (stubSlack) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body := `{"ok":true,"channel":{"id":"D1"},"ts":"1.1","messages":[]}`
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r,
	}, nil
}

// fuzzServer is a Server whose service answers every kind of reply, so
// that the input can reach every path after it: ephemeral and public
// texts, errors, the review dialog, late answers.
func fuzzServer(t *testing.T) *Server {
	svc := newFakeEngine()
	svc.press = func(_ context.Context, req incident.PressRequest) (incident.Reply, error) {
		switch {
		case strings.HasPrefix(req.Action, "err"):
			return incident.Reply{}, incident.Errorf(incident.EINVALID, "no: %s", req.Action)
		case strings.HasPrefix(req.Action, "fail"):
			return incident.Reply{}, errors.New("the store is gone")
		case strings.HasPrefix(req.Action, "review"):
			return incident.Reply{Text: "type it", OpenReviewModal: true}, nil
		}
		return incident.Reply{Text: "pressed " + req.Action, Public: len(req.Action)%2 == 0}, nil
	}
	svc.declare = func(_ context.Context, req incident.DeclareRequest) (*incident.Incident, error) {
		if strings.Contains(req.Summary, "summary") {
			return nil, incident.Errorf(incident.EINVALID, "The summary is wrong")
		}
		if req.Scenario == "slow" {
			time.Sleep(30 * time.Millisecond) // past AnswerWithin: the late path
		}
		return &incident.Incident{ID: 1, Scenario: req.Scenario}, nil
	}
	chat := NewSlackChat(ChatConfig{
		Token: "xoxb-fuzz", APIURL: "http://slack.invalid/api/",
		HTTPClient: &http.Client{Transport: stubSlack{}, Timeout: time.Second},
	})
	srv, err := NewServer(Config{
		Engine: svc, Chat: chat, SigningSecret: fuzzSecret, BotUserID: "UBOTDRBOT",
		AnswerWithin: 20 * time.Millisecond, WorkTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// fuzzRequest sends body, signed now, to path and checks the answer; it
// waits for the work started after the answer.
func fuzzRequest(t *testing.T, path, contentType string, body []byte) {
	srv := fuzzServer(t)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range Sign(fuzzSecret, time.Now(), body) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code < 200 || rec.Code >= 500 {
		t.Errorf("status %d for %q", rec.Code, body)
	}
	if ct := rec.Header().Get("Content-Type"); rec.Code == http.StatusOK && strings.HasPrefix(ct, "application/json") && !json.Valid(rec.Body.Bytes()) {
		t.Errorf("answer is not JSON: %q", rec.Body.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Errorf("work after the answer did not finish: %v", err)
	}
}

// FuzzInteraction feeds any payload (button presses, modal submissions,
// anything) to POST /slack/interactions.
func FuzzInteraction(f *testing.F) {
	for _, s := range []string{
		`{"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},"response_url":"https://hooks.slack.com/x","actions":[{"type":"button","value":"ack|1|commander"}]}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"callback_id":"declare","private_metadata":"C1","state":{"values":{"scenario":{"scenario":{"type":"static_select","selected_option":{"value":"db"}}}}}}}`,
		`{}`, `null`, `[]`, `{"type":`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		fuzzRequest(t, "/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {payload}}.Encode()))
	})
}

// FuzzEvent feeds any body to POST /slack/events.
func FuzzEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"url_verification","challenge":"c"}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"pin_added","user":"U1","channel_id":"C1","item":{"type":"message","channel":"C1","message":{"user":"U2","text":"hi","ts":"1.1"}}}}`,
		`{"type":"event_callback","event_id":"Ev2","event":{"type":"reaction_added","user":"U1","reaction":"pushpin","item":{"type":"message","channel":"C1","ts":"1.1"}}}`,
		`{"type":"event_callback","event":{"type":"brand_new"}}`, `{}`, `null`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, "/slack/events", "application/json", body)
	})
}

// FuzzCommandForm feeds any form body to POST /slack/commands (the text
// parser itself is fuzzed by incident.FuzzParseCommand).
func FuzzCommandForm(f *testing.F) {
	for _, s := range []string{
		"text=declare+db&user_id=U1&channel_id=C1&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=t",
		"text=%zz", "text=declare", "", "text=" + strings.Repeat("%F0%9F%94%A5", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, "/slack/commands", "application/x-www-form-urlencoded", body)
	})
}
