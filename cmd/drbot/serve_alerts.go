package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/drbot-dev/drbot/alerts"
	"github.com/drbot-dev/drbot/bot"
)

// withAlerts serves the alert endpoints (POST /alerts/alertmanager,
// /alerts/grafana) beside next: with DRBOT_ALERT_TOKEN as their bearer
// token, or, when it is unset, answering 404 with how to turn them on
// (and warning when the plan has rules, rules > 0, that nothing will reach).
func withAlerts(next http.Handler, engine alerts.Engine, metrics *bot.Metrics, log *slog.Logger, rules int) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	token := strings.TrimSpace(os.Getenv("DRBOT_ALERT_TOKEN"))
	h := alerts.Off()
	if token != "" {
		a, err := alerts.New(alerts.Config{Engine: engine, Token: token, MaxBody: bot.MaxBody, Logger: log, Registerer: metrics.Registerer()})
		if err != nil {
			return nil, fmt.Errorf("alert endpoints: %w", err)
		}
		h = a
	}
	for _, route := range alerts.Routes {
		mux.Handle(route, h)
	}
	// Say whether the token is set, never what it is.
	log.Info("alert endpoints", "on", token != "", "routes", alerts.Routes)
	if token == "" && rules > 0 {
		log.Warn("the plan has alerts: rules but DRBOT_ALERT_TOKEN is not set, so the alert endpoints are off (404) and no alert becomes an incident: set it, and give the same token to Alertmanager or Grafana (docs/alerts.md)",
			"rules", rules)
	}
	return mux, nil
}
