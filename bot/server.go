// Package bot puts the incident service on Slack: it answers slash
// commands, button presses, modal submissions and Events API callbacks
// (over HTTP or Socket Mode), and delivers the service's messages through
// the Slack Web API (SlackChat). It holds no incident rules of its own.
package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/drbot-dev/drbot/incident"
)

// Engine is what the Slack surface needs of the incident service;
// *incident.Engine satisfies it.
type Engine interface {
	Command(ctx context.Context, req incident.CommandRequest) (incident.Reply, error)
	Press(ctx context.Context, req incident.PressRequest) (incident.Reply, error)
	Declare(ctx context.Context, req incident.DeclareRequest) (*incident.Incident, error)
	Scenarios() []incident.ScenarioInfo
	// AddNoteForEvent notes a pinned message once per eventID, the
	// event recorded in the same transaction as the note.
	AddNoteForEvent(ctx context.Context, eventID, channelID, userID, text string) (dup bool, err error)
	// ChannelArchived records that an incident channel was archived (or
	// unarchived): drbot stops (or resumes) posting there.
	ChannelArchived(ctx context.Context, channelID, by string, archived bool) error
	// DeclaredReply is the answer to a declaration, naming the channel
	// Slack gave once it exists; final when it does, or when its creation
	// is queued behind others (Slack holds creations back) and the answer
	// goes at once with the name asked for.
	DeclaredReply(ctx context.Context, id int64) (text string, final bool, err error)
	// ResolveWith records the resolve dialog's answer and resolves, all
	// or nothing.
	ResolveWith(ctx context.Context, r incident.ResolveRequest) (incident.Reply, error)
}

var _ Engine = (*incident.Engine)(nil)

// Config is what a Server is made from.
type Config struct {
	Engine Engine
	Chat   *SlackChat
	// SigningSecret verifies HTTP requests; without it the three Slack
	// endpoints answer 401 to everything (Socket Mode needs none).
	SigningSecret string
	// BotUserID is drbot's own member id, so that its own pins are not
	// taken for notes; Chat keeps it (the one cache of it) and looks it
	// up with auth.test when empty.
	BotUserID string
	Now       func() time.Time // default time.Now; used for the signature window
	Logger    *slog.Logger     // default discards
	Metrics   *Metrics         // optional
	// Ping checks the database for /healthz.
	Ping func(context.Context) error
	// FirstRequest, when set, is asked after the in-memory replay check
	// whether a signed request's signature (lower case) is new to every
	// instance sharing the database (incident.Engine.FirstRequest); with
	// several instances a replay to another one is refused too. An error
	// is logged and the request let through: the database being down must
	// not make drbot refuse Slack, and this instance's own check holds.
	FirstRequest func(ctx context.Context, signature string) (bool, error)
	// Role, when set, is added to /healthz's "ok": "leader" or "standby",
	// for instances sharing a PostgreSQL database.
	Role func() string
	// AnswerWithin is how long a request may wait for the service before
	// Slack gets "working on it" and the result follows by response_url.
	// Default 2 s: Slack gives up after 3 s.
	AnswerWithin time.Duration
	// WorkTimeout bounds what runs after an answer. Default 1 minute.
	WorkTimeout time.Duration
}

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Server serves Slack's requests. It implements http.Handler and, with
// RunSocketMode, takes the same requests over Socket Mode.
type Server struct {
	cfg      Config
	svc      Engine
	chat     *SlackChat
	log      *slog.Logger
	verifier Verifier
	replays  *replayGuard
	mux      *http.ServeMux

	// Work done after answering runs under bg, not the request's context,
	// and Close waits for it.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	names map[string]string // member id -> name, for mentions (mentions.go)
}

// NewServer returns a Server.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("bot: no service")
	}
	if cfg.Chat == nil {
		return nil, errors.New("bot: no Slack client")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AnswerWithin <= 0 {
		cfg.AnswerWithin = 2 * time.Second
	}
	if cfg.WorkTimeout <= 0 {
		cfg.WorkTimeout = time.Minute
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		svc:      cfg.Engine,
		chat:     cfg.Chat,
		log:      cfg.Logger,
		verifier: Verifier{Secret: []byte(cfg.SigningSecret), Now: cfg.Now},
		replays:  newReplayGuard(),
		mux:      http.NewServeMux(),
		bg:       bg,
		cancel:   cancel,
		names:    map[string]string{},
	}
	if cfg.BotUserID != "" {
		cfg.Chat.rememberBotUserID(cfg.BotUserID)
	}
	s.mux.Handle("POST /slack/commands", s.sslCheck(s.signed("commands", s.httpCommand)))
	s.mux.Handle("POST /slack/interactions", s.signed("interactions", s.httpInteraction))
	s.mux.Handle("POST /slack/events", s.signed("events", s.httpEvent))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	return s, nil
}

// ServeHTTP serves the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close waits for the work started after answers (response_url posts,
// modals, notes) until ctx ends, then cancels what is left.
func (s *Server) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	defer s.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bot: work still running at shutdown: %w", ctx.Err())
	}
}

// background runs fn after the answer, with a context of its own. A panic
// in fn is logged (with what, the kind of request) and goes no further: a
// goroutine's panic would take the whole process down, every open
// incident's escalations with it (net/http recovers only the handler's
// own goroutine, and Socket Mode nothing).
func (s *Server) background(what string, fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.recoverPanic(what)
		ctx, cancel := context.WithTimeout(s.bg, s.cfg.WorkTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// recoverPanic, deferred, stops a panic and logs it at error with what
// was being handled, the panic's value and the stack. Neither holds the
// request's payload (the service is given parsed fields, never Slack's
// verification token), and a stack shows no string's contents.
func (s *Server) recoverPanic(what string) {
	if v := recover(); v != nil {
		s.log.Error("panic handling a Slack request; recovered", "request", what, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
}

// errPanicked is the outcome of a service call that panicked: an internal
// error, answered as such.
var errPanicked = errors.New("the request handler panicked")

// within runs fn in the background and waits for it at most
// AnswerWithin. It reports whether fn finished; if not, fn goes on and
// late is called with its outcome once it has. A panic in fn is its
// outcome errPanicked.
func within[T any](s *Server, what string, fn func(ctx context.Context) (T, error), late func(ctx context.Context, v T, err error)) (v T, finished bool, err error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	s.background(what, func(ctx context.Context) {
		// Sent even when fn panics (the panic then goes on to
		// background's recovery), so that nobody waits for it in vain.
		r := result{err: errPanicked}
		defer func() { done <- r }()
		r.v, r.err = fn(ctx)
	})
	timer := time.NewTimer(s.cfg.AnswerWithin)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, true, r.err
	case <-timer.C:
		s.background(what, func(ctx context.Context) {
			select {
			case r := <-done:
				late(ctx, r.v, r.err)
			case <-ctx.Done():
			}
		})
		return v, false, nil
	}
}

// ---- HTTP plumbing ----

// signed reads the body (at most MaxBody), verifies Slack's signature
// over it, then calls h; it records the answer's latency.
func (s *Server) signed(endpoint string, h func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() {
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.ObserveAnswer(endpoint, time.Since(start))
			}
		}()
		// What can be checked without the body is checked first: an
		// unsigned, stale or forged-header request is refused before
		// drbot reads (up to a mebibyte of) what it sent.
		if err := s.verifier.CheckHeaders(r.Header); err != nil {
			s.log.Warn("refused unsigned request", "endpoint", endpoint, "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if r.ContentLength > MaxBody {
			s.log.Warn("request body too large", "endpoint", endpoint, "limit", MaxBody, "remote", r.RemoteAddr)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.log.Warn("request body too large", "endpoint", endpoint, "limit", MaxBody, "remote", r.RemoteAddr)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := s.verifier.Verify(r.Header, body); err != nil {
			s.log.Warn("refused unsigned request", "endpoint", endpoint, "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		// An exact replay of a command or an interaction is refused
		// (replay.go); events are deduplicated by their event_id.
		if endpoint != "events" && !s.firstRequest(r.Context(), r.Header) {
			s.log.Warn("refused a replayed request", "endpoint", endpoint, "remote", r.RemoteAddr)
			http.Error(w, "replayed request: this signed request was received before", http.StatusUnauthorized)
			return
		}
		h(w, r, body)
	})
}

// firstRequest reports whether a signed request is seen for the first
// time: by this instance (replay.go), then by any sharing the database.
func (s *Server) firstRequest(ctx context.Context, h http.Header) bool {
	sig := h.Get(HeaderSignature)
	if !s.replays.first(sig, h.Get(HeaderTimestamp), s.cfg.Now()) {
		return false
	}
	if s.cfg.FirstRequest == nil {
		return true
	}
	first, err := s.cfg.FirstRequest(ctx, strings.ToLower(sig))
	if err != nil {
		s.log.Warn("could not check a signed request against the other instances; accepting it", "err", err)
		return true
	}
	return first
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// answer writes a handler's payload: JSON, or an empty 200 when nil.
func answer(w http.ResponseWriter, payload any) {
	if payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, payload)
}

func (s *Server) httpCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	// SlashCommandParse reads the form from the request; the body was
	// consumed for the signature, so give it back.
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	answer(w, s.Command(cmd))
}

func (s *Server) httpInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}
	answer(w, s.Interaction(cb))
}

func (s *Server) httpEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		// slack-go refuses inner event types it does not know; those are
		// events drbot did not ask for.
		var outer struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(body, &outer) == nil && outer.Type == slackevents.CallbackEvent {
			s.log.Debug("ignored unknown event", "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "malformed url_verification", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{"challenge": v.Challenge})
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		s.log.Info("Slack retried an event", "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	w.WriteHeader(s.Event(ev))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ping(ctx); err != nil {
			s.log.Error("health check: database does not answer", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	ok := "ok"
	if s.cfg.Role != nil {
		ok += " " + s.cfg.Role()
	}
	_, _ = io.WriteString(w, ok)
}
