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
//
// Where things are: fakeslack.go has the Server and the knobs a test turns
// (tokens, clock, failures, latency, rate limits); workspace.go the model
// of the workspace; message.go the messages as tests read them; call.go
// the recorded calls and the waiting on them; api.go the HTTP side
// (routing, auth, failures, rate limits); each Web API method has its own
// file named after it (chat.postMessage in chatpostmessage.go); validate.go
// refuses what Slack refuses (Block Kit and argument limits, from package
// slacklimit) and socket.go is Socket Mode.
package fakeslack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
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
	// noValidation turns the checks of validate.go off (SetValidation).
	noValidation bool
	limits       *rateLimiter // ratelimit.go
	lastTS       int64        // microseconds of the last ts handed out
	nextID       int
	now          func() time.Time
	changed      chan struct{} // closed and replaced on every change

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
		limits:   newRateLimiter(),
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
