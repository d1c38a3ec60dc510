// Package fakeslack is a fake of the parts of the Slack Web API that drbot
// calls, served over real HTTP (an httptest.Server) so that the real
// slack-go client can be pointed at it with slack.OptionAPIURL.
//
// It keeps a small model of a workspace (users, channels, messages, pins,
// topics, direct conversations, opened views), records every call, and can
// be told to fail calls (429 with Retry-After, 500, or a Slack error code),
// to answer slowly, or to enforce Slack's rate limits. Tests wait for calls
// with deadlines (WaitFor, WaitUntil) instead of sleeping.
//
// It checks what Slack checks where a mistake in drbot would otherwise go
// unnoticed: the bearer token, channel names, Block Kit limits (text
// lengths, unique action ids, button values), the topic length, the invite
// batch size.
package fakeslack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Tokens the server accepts unless changed with SetToken.
const (
	BotToken = "xoxb-fakeslack-bot-token"
	AppToken = "xapp-fakeslack-app-token"
)

// Identity of the bot, as auth.test reports it.
const (
	BotUserID = "UBOTDRBOT"
	BotID     = "BBOTDRBOT"
	TeamID    = "TFAKESLACK"
	// OwnerUserID is the workspace's owner: the creator of #general and
	// of the channels added with AddChannel.
	OwnerUserID = "U0OWNER01"
	// GeneralID is the channel every fake workspace starts with (#general).
	GeneralID = "C0GENERAL"
)

// Pseudo-methods under which calls to the other endpoints are recorded.
const (
	MethodResponseURL = "response_url" // POST /response/<id>
	MethodWebhook     = "webhook"      // POST /webhook/<id>
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

// User is a member of the fake workspace.
type User struct {
	ID      string
	Email   string
	Name    string
	Deleted bool
}

// Button is a button found in a message's blocks.
type Button struct {
	Text     string
	ActionID string
	Value    string
	Style    string
	BlockID  string
}

// Message is a message as it stands in a conversation (updates replace
// its text and blocks).
type Message struct {
	Channel string
	TS      string
	User    string // who posted it: BotUserID for the bot
	Text    string
	Blocks  json.RawMessage
	Edited  bool
	Pinned  bool
	// Ephemeral messages are seen only by For.
	Ephemeral bool
	For       string
}

// Buttons returns the buttons of the message's action blocks in order.
func (m Message) Buttons() []Button {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Style    string `json:"style"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	var out []Button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, Button{Text: e.Text.Text, ActionID: e.ActionID, Value: e.Value, Style: e.Style, BlockID: b.BlockID})
			}
		}
	}
	return out
}

// Button returns the first button whose text is label.
func (m Message) Button(label string) (Button, bool) {
	for _, b := range m.Buttons() {
		if b.Text == label {
			return b, true
		}
	}
	return Button{}, false
}

// AllText returns the message's text and every text found in its blocks,
// one per line, for tests that look for words wherever they are rendered.
func (m Message) AllText() string {
	var parts []string
	parts = append(parts, m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				parts = append(parts, t)
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var blocks any
	_ = json.Unmarshal(m.Blocks, &blocks)
	walk(blocks)
	return strings.Join(parts, "\n")
}

// Channel is a conversation of the fake workspace.
type Channel struct {
	ID      string
	Name    string // "" for direct conversations
	IM      bool
	IMUser  string // the other party of a direct conversation
	Topic   string
	Members []string
	Created time.Time
	// Creator is who created the channel: BotUserID for the channels
	// drbot made with conversations.create.
	Creator string
	// Archived channels keep their name (conversations.create answers
	// name_taken) and are left out of conversations.list with
	// exclude_archived.
	Archived bool
}

type channel struct {
	Channel
	members  map[string]bool
	messages []*Message
}

type failure struct {
	n          int
	status     int
	retryAfter int
	code       string
}

// Server is a fake Slack Web API. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	token      string
	appToken   string
	users      map[string]*User
	channels   map[string]*channel
	byName     map[string]string // channel name -> id
	ims        map[string]string // user id -> im channel id
	ephemeral  []*Message
	views      []json.RawMessage
	calls      []Call
	fail       map[string][]*failure
	latency    time.Duration
	rateLimits bool
	lastPost   map[string]time.Time // channel id -> last accepted chat.postMessage
	creates    []time.Time          // accepted conversations.create within the last minute
	lastTS     int64                // microseconds of the last ts handed out
	nextID     int
	now        func() time.Time
	changed    chan struct{} // closed and replaced on every change

	socket *socketState
}

// New starts a fake Slack. Close it when done (t.Cleanup(s.Close)).
func New() *Server {
	s := &Server{
		token:    BotToken,
		appToken: AppToken,
		users:    map[string]*User{},
		channels: map[string]*channel{},
		byName:   map[string]string{},
		ims:      map[string]string{},
		fail:     map[string][]*failure{},
		lastPost: map[string]time.Time{},
		now:      time.Now,
		changed:  make(chan struct{}),
	}
	s.socket = newSocketState()
	s.addChannelLocked(GeneralID, "general", OwnerUserID)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.socket.closeAll()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the API URL to give slack.OptionAPIURL; it ends with "/api/".
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// BaseURL is the server's root URL.
func (s *Server) BaseURL() string { return s.srv.URL }

// ResponseURL returns a response_url for a slash command or an
// interaction; what is POSTed to it is recorded under MethodResponseURL
// with the given id.
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/response/" + url.PathEscape(id) }

// WebhookURL returns a URL that records POSTs under MethodWebhook.
func (s *Server) WebhookURL(id string) string { return s.srv.URL + "/webhook/" + url.PathEscape(id) }

// SetToken changes the bot token the server accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// SetAppToken changes the app-level token apps.connections.open accepts
// (Socket Mode).
func (s *Server) SetAppToken(token string) {
	s.mu.Lock()
	s.appToken = token
	s.mu.Unlock()
}

// SetClock replaces the clock used for timestamps and rate limits.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// AddUser adds (or replaces) a member of the workspace.
func (s *Server) AddUser(id, email, name string, deleted bool) {
	s.mu.Lock()
	s.users[id] = &User{ID: id, Email: email, Name: name, Deleted: deleted}
	s.mu.Unlock()
	s.notify()
}

// AddChannel adds a public channel that exists before drbot starts,
// created by the workspace's owner (OwnerUserID).
func (s *Server) AddChannel(id, name string) {
	s.AddChannelBy(id, name, OwnerUserID)
}

// AddChannelBy adds a public channel created by creator: BotUserID for one
// an earlier drbot process created.
func (s *Server) AddChannelBy(id, name, creator string) {
	s.mu.Lock()
	s.addChannelLocked(id, name, creator)
	s.mu.Unlock()
	s.notify()
}

// SetTopic sets a channel's topic as a person would.
func (s *Server) SetTopic(id, topic string) error {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[id]
	if ch == nil {
		return fmt.Errorf("fakeslack: no channel %s", id)
	}
	ch.Topic = topic
	return nil
}

// ArchiveChannel archives a channel.
func (s *Server) ArchiveChannel(id string) error {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[id]
	if ch == nil || ch.IM {
		return fmt.Errorf("fakeslack: no channel %s", id)
	}
	ch.Archived = true
	return nil
}

func (s *Server) addChannelLocked(id, name, creator string) *channel {
	ch := &channel{Channel: Channel{ID: id, Name: name, Created: s.now(), Creator: creator}, members: map[string]bool{BotUserID: true}}
	s.channels[id] = ch
	if name != "" {
		s.byName[name] = id
	}
	return ch
}

// PostUserMessage posts a message as a person (not the bot), for tests of
// pins and reactions; it returns the message's ts.
func (s *Server) PostUserMessage(channelID, userID, text string) (string, error) {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return "", fmt.Errorf("fakeslack: no channel %s", channelID)
	}
	m := &Message{Channel: channelID, TS: s.tsLocked(), User: userID, Text: text}
	ch.messages = append(ch.messages, m)
	return m.TS, nil
}

// FailNext makes the next n calls to method fail with HTTP status (429,
// 500, 503 ...). For 429, retryAfter seconds are sent in Retry-After
// (a negative retryAfter sends no header).
func (s *Server) FailNext(method string, n, status, retryAfter int) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], &failure{n: n, status: status, retryAfter: retryAfter})
	s.mu.Unlock()
}

// FailNextWith makes the next n calls to method answer 200 with
// {"ok":false,"error":code}, as Slack does for errors such as
// channel_not_found.
func (s *Server) FailNextWith(method string, n int, code string) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], &failure{n: n, status: http.StatusOK, code: code})
	s.mu.Unlock()
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetRateLimits switches Slack's rate limits on or off (off by default):
// chat.postMessage 1 per second per channel, conversations.create 20 per
// minute. Past them the server answers 429 with Retry-After.
func (s *Server) SetRateLimits(on bool) {
	s.mu.Lock()
	s.rateLimits = on
	s.mu.Unlock()
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

// Channel returns a conversation by id, by name (with or without "#"),
// or, for a user id, the user's direct conversation with the bot.
func (s *Server) Channel(conv string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolveLocked(conv)
	if ch == nil {
		return Channel{}, false
	}
	out := ch.Channel
	out.Members = sortedKeys(ch.members)
	return out, true
}

// Channels returns every conversation, ordered by id.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, ch := range s.channels {
		c := ch.Channel
		c.Members = sortedKeys(ch.members)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Messages returns the messages of a conversation (see Channel for conv),
// oldest first, as they stand.
func (s *Server) Messages(conv string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolveLocked(conv)
	if ch == nil {
		return nil
	}
	out := make([]Message, 0, len(ch.messages))
	for _, m := range ch.messages {
		out = append(out, *m)
	}
	return out
}

// Ephemerals returns the ephemeral messages posted so far, oldest first.
func (s *Server) Ephemerals() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.ephemeral))
	for _, m := range s.ephemeral {
		out = append(out, *m)
	}
	return out
}

// Views returns the views opened with views.open, oldest first.
func (s *Server) Views() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.views)
}

func (s *Server) resolveLocked(conv string) *channel {
	if ch := s.channels[conv]; ch != nil {
		return ch
	}
	if id, ok := s.byName[strings.TrimPrefix(conv, "#")]; ok {
		return s.channels[id]
	}
	if id, ok := s.ims[strings.TrimPrefix(conv, "@")]; ok {
		return s.channels[id]
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tsLocked returns a new message timestamp, later than every one before.
func (s *Server) tsLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func (s *Server) idLocked(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%08d", prefix, s.nextID)
}

// ---- HTTP ----

// answer is what a method handler returns: a JSON body, or a Slack error.
type answer struct {
	fields map[string]any
	code   string // Slack error; fields may add to it (e.g. "errors")
}

func ok(fields map[string]any) answer { return answer{fields: fields} }
func fail(code string) answer         { return answer{code: code} }

type request struct {
	method string
	params url.Values
	body   []byte
	token  string
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		s.serveAPI(w, r, strings.TrimPrefix(r.URL.Path, "/api/"))
	case strings.HasPrefix(r.URL.Path, "/response/"):
		s.serveHook(w, r, MethodResponseURL, strings.TrimPrefix(r.URL.Path, "/response/"))
	case strings.HasPrefix(r.URL.Path, "/webhook/"):
		s.serveHook(w, r, MethodWebhook, strings.TrimPrefix(r.URL.Path, "/webhook/"))
	case r.URL.Path == "/socket":
		s.serveSocket(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveHook records a POST to a response_url or a webhook.
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request, method, id string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id, _ = url.PathUnescape(id)
	call := Call{Method: method, ID: id, Body: body, Params: url.Values{}}
	s.mu.Lock()
	call.At = s.now()
	if f := s.takeFailureLocked(method); f != nil {
		call.Status = f.status
		s.recordAndUnlock(call)
		writeFailure(w, f)
		return
	}
	call.Status = http.StatusOK
	s.recordAndUnlock(call)
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	req, err := readRequest(r, method)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Method: method, Params: req.params, Body: req.body}

	s.mu.Lock()
	call.At = s.now()
	if f := s.takeFailureLocked(method); f != nil {
		if f.code == "" {
			call.Status = f.status
			s.recordAndUnlock(call)
			writeFailure(w, f)
			return
		}
		call.Status, call.Error = http.StatusOK, f.code
		s.recordAndUnlock(call)
		writeJSON(w, map[string]any{"ok": false, "error": f.code})
		return
	}
	var a answer
	switch {
	case method == "apps.connections.open":
		if req.token != s.appToken {
			a = fail("invalid_auth")
		} else {
			a = ok(map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
		}
	case req.token != s.token:
		if req.token == "" {
			a = fail("not_authed")
		} else {
			a = fail("invalid_auth")
		}
	default:
		if retry, limited := s.rateLimitedLocked(method, req.params); limited {
			call.Status = http.StatusTooManyRequests
			s.recordAndUnlock(call)
			writeFailure(w, &failure{status: http.StatusTooManyRequests, retryAfter: retry})
			return
		}
		a = s.dispatchLocked(method, req)
	}
	call.Status, call.Error = http.StatusOK, a.code
	s.recordAndUnlock(call)

	body := map[string]any{"ok": a.code == ""}
	for k, v := range a.fields {
		body[k] = v
	}
	if a.code != "" {
		body["error"] = a.code
	}
	writeJSON(w, body)
}

func readRequest(r *http.Request, method string) (*request, error) {
	req := &request{method: method}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		req.token = strings.TrimPrefix(auth, "Bearer ")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	params := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("parse form: %w", err)
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	case "application/json":
		req.body = body
	}
	if t := params.Get("token"); t != "" {
		req.token = t
	}
	params.Del("token")
	req.params = params
	return req, nil
}

func (s *Server) takeFailureLocked(method string) *failure {
	q := s.fail[method]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	f.n--
	if f.n <= 0 {
		s.fail[method] = q[1:]
	}
	return f
}

func writeFailure(w http.ResponseWriter, f *failure) {
	if f.status == http.StatusTooManyRequests && f.retryAfter >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, "<html><body>fakeslack failure</body></html>")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// rateLimitedLocked applies Slack's limits when they are switched on and
// returns the Retry-After seconds of a refused call.
func (s *Server) rateLimitedLocked(method string, p url.Values) (int, bool) {
	if !s.rateLimits {
		return 0, false
	}
	now := s.now()
	switch method {
	case "chat.postMessage":
		ch := s.resolveLocked(p.Get("channel"))
		key := p.Get("channel")
		if ch != nil {
			key = ch.ID
		}
		if last, ok := s.lastPost[key]; ok && now.Sub(last) < time.Second {
			return 1, true
		}
		s.lastPost[key] = now
	case "conversations.create":
		kept := s.creates[:0]
		for _, t := range s.creates {
			if now.Sub(t) < time.Minute {
				kept = append(kept, t)
			}
		}
		s.creates = kept
		if len(s.creates) >= 20 {
			wait := time.Minute - now.Sub(s.creates[0])
			return int((wait + time.Second - 1) / time.Second), true
		}
		s.creates = append(s.creates, now)
	}
	return 0, false
}

func (s *Server) dispatchLocked(method string, req *request) answer {
	p := req.params
	switch method {
	case "auth.test":
		return ok(map[string]any{"url": "https://fakeslack.example/", "team": "Fake Slack", "user": "drbot", "team_id": TeamID, "user_id": BotUserID, "bot_id": BotID})
	case "conversations.create":
		return s.createLocked(p)
	case "conversations.list":
		return s.listLocked(p)
	case "conversations.invite":
		return s.inviteLocked(p)
	case "conversations.setTopic":
		return s.setTopicLocked(p)
	case "conversations.open":
		return s.openLocked(p)
	case "conversations.history":
		return s.historyLocked(p)
	case "chat.postMessage":
		return s.postLocked(p)
	case "chat.update":
		return s.updateLocked(p)
	case "chat.postEphemeral":
		return s.ephemeralLocked(p)
	case "pins.add":
		return s.pinLocked(p)
	case "users.lookupByEmail":
		for _, u := range s.users {
			if strings.EqualFold(u.Email, p.Get("email")) && p.Get("email") != "" {
				return ok(map[string]any{"user": userJSON(u)})
			}
		}
		return fail("users_not_found")
	case "users.info":
		u := s.users[p.Get("user")]
		if u == nil {
			return fail("user_not_found")
		}
		return ok(map[string]any{"user": userJSON(u)})
	case "views.open":
		return s.viewsOpenLocked(req.body)
	}
	return fail("unknown_method")
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "deleted": u.Deleted, "real_name": u.Name,
		"profile": map[string]any{"email": u.Email, "real_name": u.Name, "display_name": u.Name},
	}
}

func channelJSON(ch *channel) map[string]any {
	m := map[string]any{
		"id": ch.ID, "created": ch.Created.Unix(), "is_im": ch.IM,
		"is_channel": !ch.IM, "is_member": true, "is_archived": ch.Archived,
	}
	if ch.IM {
		m["user"] = ch.IMUser
	} else {
		m["name"] = ch.Name
		m["name_normalized"] = ch.Name
		m["creator"] = ch.Creator
		m["topic"] = map[string]any{"value": ch.Topic}
	}
	return m
}

// Slack's rules for channel names: lowercase letters, digits, hyphens and
// underscores; at most 80 characters.
var nameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (s *Server) createLocked(p url.Values) answer {
	name := p.Get("name")
	switch {
	case name == "":
		return fail("invalid_name_required")
	case utf8.RuneCountInString(name) > 80:
		return fail("invalid_name_maxlength")
	case strings.Trim(name, "-_") == "":
		return fail("invalid_name_punctuation")
	case !nameRE.MatchString(name):
		return fail("invalid_name_specials")
	}
	if _, taken := s.byName[name]; taken {
		return fail("name_taken")
	}
	ch := s.addChannelLocked(s.idLocked("C"), name, BotUserID)
	return ok(map[string]any{"channel": channelJSON(ch)})
}

// listLocked is conversations.list: the public channels (types
// public_channel, the default; the fake has no private ones) in id order,
// limit at a time (default 100, at most 1000), with a cursor to the next
// page in response_metadata.next_cursor ("" on the last).
func (s *Server) listLocked(p url.Values) answer {
	limit := 100
	if l := p.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return fail("invalid_limit")
		}
		limit = n
	}
	types := map[string]bool{"public_channel": true}
	if t := p.Get("types"); t != "" {
		types = map[string]bool{}
		for _, typ := range strings.Split(t, ",") {
			switch typ {
			case "public_channel", "private_channel", "mpim", "im":
				types[typ] = true
			default:
				return fail("invalid_types")
			}
		}
	}
	after := ""
	if c := p.Get("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		if err != nil || !strings.HasPrefix(string(raw), "next:") {
			return fail("invalid_cursor")
		}
		after = strings.TrimPrefix(string(raw), "next:")
	}
	excludeArchived := p.Get("exclude_archived") == "true" || p.Get("exclude_archived") == "1"
	var ids []string
	for id, ch := range s.channels {
		switch {
		case id < after,
			ch.IM && !types["im"],
			!ch.IM && !types["public_channel"],
			ch.Archived && excludeArchived:
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		next = base64.StdEncoding.EncodeToString([]byte("next:" + ids[limit]))
		ids = ids[:limit]
	}
	channels := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		channels = append(channels, channelJSON(s.channels[id]))
	}
	return ok(map[string]any{"channels": channels, "response_metadata": map[string]any{"next_cursor": next}})
}

func (s *Server) inviteLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil || ch.IM {
		return fail("channel_not_found")
	}
	users := strings.Split(p.Get("users"), ",")
	if p.Get("users") == "" {
		return fail("no_user")
	}
	if len(users) > 1000 {
		return fail("too_many_users")
	}
	force := p.Get("force") == "true"
	var errs []map[string]any
	var valid []string
	for _, id := range users {
		code := ""
		switch u := s.users[id]; {
		case id == BotUserID:
			code = "cant_invite_self"
		case u == nil:
			code = "user_not_found"
		case u.Deleted:
			code = "user_is_deactivated"
		case ch.members[id]:
			code = "already_in_channel"
		}
		if code != "" {
			errs = append(errs, map[string]any{"user": id, "ok": false, "error": code})
			continue
		}
		valid = append(valid, id)
	}
	// Without force, one bad user fails the whole call and nobody is
	// invited; with it, the valid ones are invited anyway.
	if len(errs) == 0 || force {
		for _, id := range valid {
			ch.members[id] = true
		}
	}
	if len(errs) > 0 {
		return answer{code: errs[0]["error"].(string), fields: map[string]any{"errors": errs}}
	}
	return ok(map[string]any{"channel": channelJSON(ch)})
}

func (s *Server) setTopicLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil {
		return fail("channel_not_found")
	}
	if utf8.RuneCountInString(p.Get("topic")) > 250 {
		return fail("too_long")
	}
	ch.Topic = p.Get("topic")
	return ok(map[string]any{"channel": channelJSON(ch)})
}

func (s *Server) openLocked(p url.Values) answer {
	users := strings.Split(p.Get("users"), ",")
	if p.Get("users") == "" {
		return fail("users_list_not_supplied")
	}
	if len(users) != 1 {
		return fail("not_supported") // drbot opens one-to-one conversations only
	}
	u := s.users[users[0]]
	switch {
	case u == nil:
		return fail("user_not_found")
	case u.Deleted:
		return fail("user_disabled")
	}
	if id, ok := s.ims[u.ID]; ok {
		return answer{fields: map[string]any{"channel": channelJSON(s.channels[id]), "already_open": true}}
	}
	ch := s.addChannelLocked(s.idLocked("D"), "", "")
	ch.IM, ch.IMUser = true, u.ID
	ch.members[u.ID] = true
	s.ims[u.ID] = ch.ID
	return ok(map[string]any{"channel": channelJSON(ch)})
}

func (s *Server) historyLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil {
		return fail("channel_not_found")
	}
	latest, oldest := p.Get("latest"), p.Get("oldest")
	inclusive := p.Get("inclusive") == "1" || p.Get("inclusive") == "true"
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	var msgs []map[string]any
	for i := len(ch.messages) - 1; i >= 0 && len(msgs) < limit; i-- {
		m := ch.messages[i]
		if latest != "" && (tsLess(latest, m.TS) || (!inclusive && m.TS == latest)) {
			continue
		}
		if oldest != "" && (tsLess(m.TS, oldest) || (!inclusive && m.TS == oldest)) {
			continue
		}
		mm := map[string]any{"type": "message", "ts": m.TS, "user": m.User, "text": m.Text}
		if len(m.Blocks) > 0 {
			mm["blocks"] = m.Blocks
		}
		msgs = append(msgs, mm)
	}
	if msgs == nil {
		msgs = []map[string]any{}
	}
	return ok(map[string]any{"messages": msgs, "has_more": false})
}

// tsLess compares two Slack timestamps numerically.
func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	if fa != fb {
		return fa < fb
	}
	return a < b
}

// postTargetLocked resolves the channel parameter of chat.* calls: an id,
// a channel name, or a user id (Slack posts to the user's DM with the bot).
func (s *Server) postTargetLocked(conv string) *channel {
	if ch := s.resolveLocked(conv); ch != nil {
		return ch
	}
	if u := s.users[conv]; u != nil && !u.Deleted {
		a := s.openLocked(url.Values{"users": {conv}})
		if a.code == "" {
			return s.channels[s.ims[conv]]
		}
	}
	return nil
}

func (s *Server) postLocked(p url.Values) answer {
	ch := s.postTargetLocked(p.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	if ch.IM {
		if u := s.users[ch.IMUser]; u == nil || u.Deleted {
			return fail("user_disabled")
		}
	}
	blocks, code := checkMessage(p)
	if code != "" {
		return fail(code)
	}
	m := &Message{Channel: ch.ID, TS: s.tsLocked(), User: BotUserID, Text: p.Get("text"), Blocks: blocks}
	ch.messages = append(ch.messages, m)
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "message": map[string]any{"ts": m.TS, "text": m.Text, "user": BotUserID}})
}

func (s *Server) updateLocked(p url.Values) answer {
	ch := s.resolveLocked(p.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	var m *Message
	for _, x := range ch.messages {
		if x.TS == p.Get("ts") {
			m = x
		}
	}
	if m == nil {
		return fail("message_not_found")
	}
	if m.User != BotUserID {
		return fail("cant_update_message")
	}
	blocks, code := checkMessage(p)
	if code != "" {
		return fail(code)
	}
	m.Text, m.Blocks, m.Edited = p.Get("text"), blocks, true
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "text": m.Text})
}

func (s *Server) ephemeralLocked(p url.Values) answer {
	ch := s.postTargetLocked(p.Get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	u := s.users[p.Get("user")]
	if u == nil {
		return fail("user_not_found")
	}
	if u.Deleted {
		return fail("user_not_in_channel")
	}
	blocks, code := checkMessage(p)
	if code != "" {
		return fail(code)
	}
	m := &Message{Channel: ch.ID, TS: s.tsLocked(), User: BotUserID, Text: p.Get("text"), Blocks: blocks, Ephemeral: true, For: u.ID}
	s.ephemeral = append(s.ephemeral, m)
	return ok(map[string]any{"message_ts": m.TS})
}

func (s *Server) pinLocked(p url.Values) answer {
	ch := s.channels[p.Get("channel")]
	if ch == nil {
		return fail("channel_not_found")
	}
	for _, m := range ch.messages {
		if m.TS == p.Get("timestamp") {
			if m.Pinned {
				return fail("already_pinned")
			}
			m.Pinned = true
			return ok(nil)
		}
	}
	return fail("message_not_found")
}

func (s *Server) viewsOpenLocked(body []byte) answer {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.View) == 0 {
		return fail("invalid_arguments")
	}
	if req.TriggerID == "" {
		return fail("invalid_trigger_id")
	}
	var view struct {
		Type   string            `json:"type"`
		Title  map[string]any    `json:"title"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(req.View, &view); err != nil || view.Type != "modal" || view.Title == nil {
		return fail("invalid_arguments")
	}
	if len(view.Blocks) > 100 {
		return fail("invalid_arguments")
	}
	s.views = append(s.views, req.View)
	id := s.idLocked("V")
	return ok(map[string]any{"view": map[string]any{"id": id, "type": "modal"}})
}

// checkMessage validates a message's text and blocks against Slack's
// limits and returns the blocks, or the error code Slack would answer.
func checkMessage(p url.Values) (json.RawMessage, string) {
	text, raw := p.Get("text"), p.Get("blocks")
	if raw == "" {
		if text == "" {
			return nil, "no_text"
		}
		if utf8.RuneCountInString(text) > 40000 {
			return nil, "msg_too_long"
		}
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > 50 {
		return nil, "invalid_blocks"
	}
	actionIDs := map[string]bool{}
	blockIDs := map[string]bool{}
	for _, b := range blocks {
		if id, _ := b["block_id"].(string); id != "" {
			if blockIDs[id] || len(id) > 255 {
				return nil, "invalid_blocks"
			}
			blockIDs[id] = true
		}
		switch b["type"] {
		case "section":
			if t, ok := b["text"].(map[string]any); ok && textLen(t) > 3000 {
				return nil, "invalid_blocks"
			}
			if fs, ok := b["fields"].([]any); ok {
				if len(fs) > 10 {
					return nil, "invalid_blocks"
				}
				for _, f := range fs {
					if fm, ok := f.(map[string]any); ok && textLen(fm) > 2000 {
						return nil, "invalid_blocks"
					}
				}
			}
			if b["text"] == nil && b["fields"] == nil {
				return nil, "invalid_blocks"
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 10 {
				return nil, "invalid_blocks"
			}
			for _, e := range els {
				if em, ok := e.(map[string]any); ok && textLen(em) > 3000 {
					return nil, "invalid_blocks"
				}
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 25 {
				return nil, "invalid_blocks"
			}
			for _, e := range els {
				em, _ := e.(map[string]any)
				if em["type"] != "button" {
					continue
				}
				t, _ := em["text"].(map[string]any)
				if t == nil || t["type"] != "plain_text" || textLen(t) == 0 || textLen(t) > 75 {
					return nil, "invalid_blocks"
				}
				id, _ := em["action_id"].(string)
				v, _ := em["value"].(string)
				if len(id) > 255 || utf8.RuneCountInString(v) > 2000 {
					return nil, "invalid_blocks"
				}
				if id != "" {
					if actionIDs[id] {
						return nil, "invalid_blocks"
					}
					actionIDs[id] = true
				}
				if st, _ := em["style"].(string); st != "" && st != "primary" && st != "danger" {
					return nil, "invalid_blocks"
				}
			}
		case "divider", "header":
		default:
			return nil, "invalid_blocks"
		}
	}
	return json.RawMessage(raw), ""
}

func textLen(t map[string]any) int {
	s, _ := t["text"].(string)
	return utf8.RuneCountInString(s)
}
