package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/bot/fakeslack"
	"github.com/drbot-dev/drbot/incident"
)

// The alert storm (--alert-storm): Alertmanager notifications, version 4,
// sent to POST /alerts/alertmanager at --alert-rate a minute for
// --alert-duration, from --alert-groups groups in turn. Half the groups
// match a declare: auto rule, half a declare: ask rule; the number of
// firing alerts of a group changes every few notifications, so that
// drbot notes some of them. Whatever the rate, drbot must make at most
// one incident or one ask per group, and answer each under 100 ms.

const (
	alertLoadToken   = "drbot-load-alert-token"
	alertLoadChannel = "load-alerts"
	alertLoadBudget  = 100 * time.Millisecond
)

// AlertsReport is the alert storm's figures.
type AlertsReport struct {
	Groups        int            `json:"groups"`
	Notifications int            `json:"notifications"`
	PerMinute     int            `json:"per_minute"`
	Latency       Stats          `json:"latency_ms"`
	OverBudget    int            `json:"over_100ms"` // answers that took 100 ms or more
	Failed        int            `json:"failed"`     // not answered 200
	Outcomes      map[string]int `json:"outcomes"`   // what drbot said each notification did
	Incidents     int            `json:"incidents"`  // in drbot's database at the end
	Asks          int            `json:"asks"`       // posts with a Declare button the fake Slack received
	Problems      []string       `json:"problems,omitempty"`
}

// alertPlanYAML is the alerts section added to the generated plan.
func alertPlanYAML(p loadPlan) string {
	return fmt.Sprintf(`alerts:
  - matchers: ['alertname=~"LoadAlert.*"', 'declare="auto"']
    scenario: %s
    declare: auto
  - matchers: ['alertname=~"LoadAlert.*"']
    scenario: %s
alert_channel: %s
`, p.Scenarios[0], p.Scenarios[len(p.Scenarios)-1], alertLoadChannel)
}

// alertBody is the i-th notification: group i%groups, with one firing
// instance for three passes over the groups, then two for three passes, and
// so on: most notifications repeat the last, some change it.
func alertBody(i, groups int) []byte {
	g := i % groups
	declare := "ask"
	if g%2 == 0 {
		declare = "auto"
	}
	name := fmt.Sprintf("LoadAlert%03d", g)
	var alerts []map[string]any
	for n := range 1 + (i/(3*groups))%2 {
		alerts = append(alerts, map[string]any{
			"status":      "firing",
			"labels":      map[string]string{"alertname": name, "declare": declare, "instance": fmt.Sprintf("node-%d", n)},
			"annotations": map[string]string{"summary": name + " is firing"},
			"startsAt":    "2026-11-21T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
			"fingerprint": fmt.Sprintf("%03d%013d", g, n),
		})
	}
	b, _ := json.Marshal(map[string]any{
		"receiver": "drbot", "status": "firing", "alerts": alerts, "version": "4",
		"groupKey":    fmt.Sprintf(`{}:{alertname=%q}`, name),
		"groupLabels": map[string]string{"alertname": name}, "externalURL": "http://alertmanager.example:9093",
	})
	return b
}

// runAlertStorm runs the alert storm on a drbot of its own.
func runAlertStorm(ctx context.Context, cfg Config, bin, dir string) (*AlertsReport, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	plan := generatePlan(cfg, cfg.AckTimeout)
	planPath := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planPath, []byte(plan.YAML+alertPlanYAML(plan)), 0o644); err != nil {
		return nil, err
	}
	dbPath, drop, err := phaseDB(ctx, cfg, dir, "alerts")
	if err != nil {
		return nil, err
	}
	defer drop()
	fs := fakeslack.New()
	defer fs.Close()
	for i, u := range plan.Users {
		fs.AddUser(u, fmt.Sprintf("load%04d@example.com", i+1), fmt.Sprintf("load%04d", i+1), false)
	}
	fs.AddChannel("CLOADALERT", alertLoadChannel)
	fs.SetLatency(cfg.Latency)
	fs.SetRateLimits(cfg.RateLimits)
	progress(cfg, "alerts: starting drbot")
	drbot, err := startDrbot(ctx, bin, planPath, dbPath, filepath.Join(dir, "drbot.log"), cfg.LogLevel, []string{
		"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_SIGNING_SECRET=drbot-load-alerts", "SLACK_API_URL=" + fs.URL(),
		"DRBOT_ALERT_TOKEN=" + alertLoadToken,
	})
	if err != nil {
		return nil, err
	}
	defer drbot.killIfRunning()
	rep := sendAlerts(ctx, cfg, "http://"+drbot.addr+"/alerts/alertmanager")
	// The asks are counted in the fake Slack: let drbot post them.
	if err := (&phase{cfg: cfg}).drain(ctx, dbPath); err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	if err := drbot.stop(30 * time.Second); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("drbot serve: %v", err))
	}
	if err := countAlertResults(ctx, dbPath, fs, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// sendAlerts sends the storm's notifications at their times, each from
// its own goroutine, and measures the answers.
func sendAlerts(ctx context.Context, cfg Config, url string) *AlertsReport {
	total := int(float64(cfg.AlertRate) * cfg.AlertDuration.Minutes())
	every := time.Minute / time.Duration(cfg.AlertRate)
	rep := &AlertsReport{Groups: cfg.AlertGroups, Notifications: total, PerMinute: cfg.AlertRate, Outcomes: map[string]int{}}
	cl := &http.Client{Timeout: 30 * time.Second}
	progress(cfg, "alerts: %d notifications from %d groups over %s", total, cfg.AlertGroups, cfg.AlertDuration)
	var (
		mu  sync.Mutex
		lat []time.Duration
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i := range total {
		if !sleepUntil(ctx, start.Add(time.Duration(i)*every)) {
			break
		}
		wg.Go(func() {
			d, outcome, err := postAlert(ctx, cl, url, alertBody(i, cfg.AlertGroups))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				rep.Failed++
				if len(rep.Problems) < 10 {
					rep.Problems = append(rep.Problems, err.Error())
				}
				return
			}
			lat = append(lat, d)
			rep.Outcomes[outcome]++
			if d >= alertLoadBudget {
				rep.OverBudget++
			}
		})
	}
	wg.Wait()
	rep.Latency = statsOf(lat)
	return rep
}

func postAlert(ctx context.Context, cl *http.Client, url string, body []byte) (time.Duration, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alertLoadToken)
	start := time.Now()
	resp, err := cl.Do(req)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, "", err
	}
	var a struct {
		Outcome string `json:"outcome"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &a) != nil {
		return 0, "", fmt.Errorf("POST /alerts/alertmanager: %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return d, a.Outcome, nil
}

// countAlertResults counts the incidents in the database and the asks the
// fake Slack received: together at most one per group.
func countAlertResults(ctx context.Context, dbPath string, fs *fakeslack.Server, rep *AlertsReport) error {
	store, err := openRead(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer store.Close()
	err = store.View(ctx, func(tx incident.Tx) error {
		incs, err := tx.Incidents(incident.Filter{})
		rep.Incidents = len(incs)
		return err
	})
	if err != nil {
		return fmt.Errorf("count incidents: %w", err)
	}
	for _, m := range fs.Messages("CLOADALERT") {
		if strings.Contains(m.AllText(), "Nothing pages until someone presses") {
			rep.Asks++
		}
	}
	if n := rep.Incidents + rep.Asks; n > rep.Groups {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d incidents and asks from %d groups: more than one per group", n, rep.Groups))
	}
	if rep.OverBudget > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d answers took 100 ms or more", rep.OverBudget))
	}
	return nil
}

// writeText writes the alert storm's figures.
func (a *AlertsReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "\n== alerts: %d Alertmanager notifications at %d a minute from %d groups\n", a.Notifications, a.PerMinute, a.Groups)
	fmt.Fprintf(w, "answer latency (ms): n %d, p50 %s, p99 %s, max %s; %d at 100 ms or more; %d failed\n",
		a.Latency.N, num(a.Latency.P50), num(a.Latency.P99), num(a.Latency.Max), a.OverBudget, a.Failed)
	fmt.Fprintf(w, "outcomes: declared %d, asked %d, noted %d, unchanged %d\n",
		a.Outcomes[incident.AlertDeclared], a.Outcomes[incident.AlertAsked], a.Outcomes[incident.AlertNoted], a.Outcomes[incident.AlertUnchanged])
	fmt.Fprintf(w, "incidents %d + asks %d = %d for %d groups\n", a.Incidents, a.Asks, a.Incidents+a.Asks, a.Groups)
	for _, pb := range a.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", pb)
	}
}
