// Package alerts takes monitoring's notifications in: Alertmanager's
// webhook (POST /alerts/alertmanager, webhook version 4) and Grafana
// alerting's webhook contact point (POST /alerts/grafana). It checks the
// bearer token, reads the body into an incident.AlertGroup and hands it to
// the engine, which decides in one transaction what the group means (the
// plan's alerts: rules) and leaves the posting to the outbox: an answer
// takes a transaction, never a Slack call.
package alerts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drbot-dev/drbot/incident"
)

// Engine is what the intake needs of the incident engine;
// *incident.Engine satisfies it.
type Engine interface {
	Alert(ctx context.Context, g incident.AlertGroup) (incident.AlertResult, error)
}

var _ Engine = (*incident.Engine)(nil)

// Config is what a Handler is made from.
type Config struct {
	Engine Engine
	// Token is the bearer token senders must present (DRBOT_ALERT_TOKEN);
	// New refuses an empty one: the endpoints are off without it.
	Token string
	// MaxBody is the largest body accepted, in bytes (the Slack
	// endpoints' limit, bot.MaxBody, in drbot serve).
	MaxBody int64
	Logger  *slog.Logger // default discards
	// Registerer gets the intake's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Handler serves the two alert endpoints.
type Handler struct {
	cfg       Config
	tokenHash [sha256.Size]byte
	log       *slog.Logger
	mux       *http.ServeMux

	notifications *prometheus.CounterVec
	answer        *prometheus.HistogramVec
}

// Routes are the endpoints a Handler serves.
var Routes = []string{"POST /alerts/alertmanager", "POST /alerts/grafana"}

// New returns a Handler, its metrics registered on cfg.Registerer:
// drbot_alert_notifications_total{source,outcome} (outcome "unmatched"
// counts the notifications no rule of the plan matches) and
// drbot_alert_answer_seconds{source}.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("alerts: no engine")
	}
	if cfg.Token == "" {
		return nil, errors.New("alerts: no token: set DRBOT_ALERT_TOKEN to turn the alert endpoints on")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:       cfg,
		tokenHash: sha256.Sum256([]byte(cfg.Token)),
		log:       cfg.Logger,
		mux:       http.NewServeMux(),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drbot_alert_notifications_total",
			Help: "Alert notifications received, by source and what they did (unmatched: no rule of the plan's alerts: matches).",
		}, []string{"source", "outcome"}),
		answer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "drbot_alert_answer_seconds", Help: "Time to answer an alert notification, by source.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1},
		}, []string{"source"}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(h.notifications); err != nil {
			return nil, fmt.Errorf("alerts: register metrics: %w", err)
		}
		if err := cfg.Registerer.Register(h.answer); err != nil {
			return nil, fmt.Errorf("alerts: register metrics: %w", err)
		}
	}
	h.mux.Handle(Routes[0], h.endpoint(incident.SourceAlertmanager, decodeAlertmanager))
	h.mux.Handle(Routes[1], h.endpoint(incident.SourceGrafana, decodeGrafana))
	return h, nil
}

// ServeHTTP serves POST /alerts/alertmanager and POST /alerts/grafana.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Off answers the alert endpoints when DRBOT_ALERT_TOKEN is unset: 404,
// saying how to turn them on.
func Off() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the alert endpoints are off: set DRBOT_ALERT_TOKEN on drbot serve, and the same token as the sender's bearer token", http.StatusNotFound)
	})
}

// answer is the body of a 200: what the notification did.
type answer struct {
	Outcome  string `json:"outcome"`
	Incident int64  `json:"incident,omitempty"`
	Scenario string `json:"scenario,omitempty"`
}

func (h *Handler) endpoint(source string, decode func([]byte) (incident.AlertGroup, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { h.answer.WithLabelValues(source).Observe(time.Since(start).Seconds()) }()
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drbot alerts"`)
			http.Error(w, "missing or wrong bearer token: send Authorization: Bearer with the token drbot has in DRBOT_ALERT_TOKEN", http.StatusUnauthorized)
			return
		}
		body, status, err := readBody(w, r, h.cfg.MaxBody)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		g, err := decode(body)
		if err != nil {
			h.log.Warn("alert notification refused", "source", source, "remote", r.RemoteAddr, "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := h.cfg.Engine.Alert(r.Context(), g)
		if err != nil {
			h.fail(w, source, err)
			return
		}
		h.notifications.WithLabelValues(source, res.Outcome).Inc()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer{Outcome: res.Outcome, Incident: res.Incident, Scenario: res.Scenario})
	})
}

// fail answers an engine error: 400 for a notification it refuses, 500
// (which the sender retries) for anything else.
func (h *Handler) fail(w http.ResponseWriter, source string, err error) {
	if incident.ErrorCode(err) == incident.EINVALID {
		http.Error(w, incident.ErrorMessage(err), http.StatusBadRequest)
		return
	}
	h.log.Error("alert notification failed", "source", source, "err", err)
	http.Error(w, "internal error; it has been logged, and the sender retries", http.StatusInternalServerError)
}

// authorized compares the bearer token in constant time (of hashes, so
// that not even its length shows).
func (h *Handler) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

// readBody reads the body up to limit bytes; over it is 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body is over %d bytes: lower max_alerts in the sender's webhook configuration", limit)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read the body: %v", err)
	}
	return b, 0, nil
}
