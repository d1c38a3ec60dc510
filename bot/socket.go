package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/drbot-dev/drbot/incident"
)

// RunSocketMode takes Slack's requests over Socket Mode (a WebSocket drbot
// opens to Slack, so no public URL is needed) until ctx ends. The Chat
// must have been made with an AppToken (xapp-...). Requests go through
// the same logic as over HTTP and are acknowledged with the same payloads.
func (s *Server) RunSocketMode(ctx context.Context) error {
	client := socketmode.New(s.chat.Client(), socketmode.OptionLog(slogLogger{s.log}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt := <-client.Events:
			s.socketEvent(ctx, client, evt)
		}
	}
}

func (s *Server) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	start := time.Now()
	observe := func(endpoint string) {
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.ObserveAnswer(endpoint, time.Since(start))
		}
	}
	acked := false
	ack := func(payload any) {
		acked = true
		var err error
		if payload == nil {
			err = client.AckCtx(ctx, evt.Request.EnvelopeID, nil)
		} else {
			err = client.AckCtx(ctx, evt.Request.EnvelopeID, payload)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("socket mode: could not acknowledge", "type", evt.Type, "err", err)
		}
	}
	// answer handles one request in its own goroutine (a command may wait
	// up to AnswerWithin for the service: do not hold up the requests
	// behind it), observes the answer time, and acknowledges with the
	// payload when work says so.
	answer := func(endpoint string, work func() (payload any, ok bool)) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.recoverSocket(evt.Type, &acked, ack)
			payload, ok := work()
			observe(endpoint)
			if ok {
				ack(payload)
			}
		}()
	}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		answer("commands", func() (any, bool) { return s.Command(cmd), true })
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		answer("interactions", func() (any, bool) { return s.Interaction(cb), true })
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || evt.Request == nil {
			return
		}
		if evt.Request.RetryAttempt > 0 {
			s.log.Info("Slack retried an event", "retry", evt.Request.RetryAttempt, "reason", evt.Request.RetryReason)
		}
		// Not acknowledged when it could not be recorded: Slack sends it
		// again, as over HTTP with a 503.
		answer("events", func() (any, bool) { return nil, s.Event(ev) == http.StatusOK })
	default:
		s.logSocketState(evt)
	}
}

// logSocketState logs a Socket Mode event about the connection itself
// (connecting, errors, a refused token) at its level.
func (s *Server) logSocketState(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		s.log.Info("socket mode: connecting")
	case socketmode.EventTypeConnected:
		s.log.Info("socket mode: connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		s.log.Warn("socket mode: connection trouble", "err", fmt.Sprint(evt.Data))
	case socketmode.EventTypeErrorBadMessage:
		// Only the cause: the message itself carries Slack's legacy
		// verification token.
		if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			s.log.Warn("socket mode: message not understood", "err", e.Cause)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			s.log.Warn("socket mode: could not send an acknowledgement", "err", e.Cause)
		}
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("socket mode: SLACK_APP_TOKEN refused (invalid_auth)")
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
		s.log.Debug("socket mode", "event", evt.Type)
	default:
		s.log.Debug("socket mode: ignored", "event", evt.Type)
	}
}

// recoverSocket, deferred in the goroutine that handles one Socket Mode
// request, stops a panic (which would end the process: over HTTP,
// net/http recovers a handler's panic, here nothing does), logs it with
// the request's type, and acknowledges the request if it was not yet: a
// command with an error only its typist sees, anything else empty, so
// that Slack does not send again what would panic again.
func (s *Server) recoverSocket(typ socketmode.EventType, acked *bool, ack func(any)) {
	v := recover()
	if v == nil {
		return
	}
	// Only the type, the value and the stack: never the payload, which
	// carries Slack's verification token.
	s.log.Error("socket mode: panic handling a request; recovered", "type", typ, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if *acked {
		return
	}
	if typ == socketmode.EventTypeSlashCommand {
		ack(ephemeral(incident.ErrorMessage(errPanicked)))
		return
	}
	ack(nil)
}

// slogLogger lets slack-go's socketmode log through slog (it logs only
// in debug mode).
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Output(_ int, s string) error {
	l.log.Debug("socketmode: " + s)
	return nil
}
