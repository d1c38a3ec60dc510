package bot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// Metrics counts what drbot does, for Prometheus. It implements
// incident.Metrics for the service and counts Slack API calls for
// SlackChat and answer latencies for the HTTP handlers.
//
// It writes the Prometheus text exposition format (version 0.0.4) itself:
// client_golang's dependencies are not in go.sum, and the metrics here
// are few and simple. The names and types are those client_golang would
// produce, so a switch to it changes nothing for a scraper.
type Metrics struct {
	cfg MetricsConfig

	mu        sync.Mutex
	pagesSent uint64
	declared  map[bool]uint64
	resolved  uint64
	tta       *histogram
	apiCalls  map[string]uint64
	apiErrors map[[2]string]uint64
	answer    map[string]*histogram
}

var _ incident.Metrics = (*Metrics)(nil)

// MetricsConfig gives Metrics the gauges it reads at each scrape.
type MetricsConfig struct {
	OpenIncidents func(context.Context) (int, error) // optional
	OutboxDepth   func(context.Context) (int, error) // optional
	Logger        *slog.Logger                       // default discards
}

// Buckets of the histograms, in seconds.
var (
	ackBuckets    = []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200}
	answerBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5}
)

// NewMetrics returns empty metrics.
func NewMetrics(cfg MetricsConfig) *Metrics {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Metrics{
		cfg:       cfg,
		declared:  map[bool]uint64{},
		tta:       newHistogram(ackBuckets),
		apiCalls:  map[string]uint64{},
		apiErrors: map[[2]string]uint64{},
		answer:    map[string]*histogram{},
	}
}

// Declared counts a declared incident or drill.
func (m *Metrics) Declared(drill bool) {
	m.mu.Lock()
	m.declared[drill]++
	m.mu.Unlock()
}

// Resolved counts a resolved incident.
func (m *Metrics) Resolved() {
	m.mu.Lock()
	m.resolved++
	m.mu.Unlock()
}

// PageSent counts a page delivered.
func (m *Metrics) PageSent() {
	m.mu.Lock()
	m.pagesSent++
	m.mu.Unlock()
}

// Acknowledged observes the time from a role's first page to its
// acknowledgement.
func (m *Metrics) Acknowledged(after time.Duration) {
	m.mu.Lock()
	m.tta.observe(after.Seconds())
	m.mu.Unlock()
}

// SlackCall counts one Web API call and, when errCode is not empty, its
// error.
func (m *Metrics) SlackCall(method, errCode string) {
	m.mu.Lock()
	m.apiCalls[method]++
	if errCode != "" {
		m.apiErrors[[2]string{method, errCode}]++
	}
	m.mu.Unlock()
}

// ObserveAnswer records how long an endpoint took to answer Slack.
func (m *Metrics) ObserveAnswer(endpoint string, d time.Duration) {
	m.mu.Lock()
	h := m.answer[endpoint]
	if h == nil {
		h = newHistogram(answerBuckets)
		m.answer[endpoint] = h
	}
	h.observe(d.Seconds())
	m.mu.Unlock()
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		m.WriteTo(r.Context(), bw)
		_ = bw.Flush()
	})
}

// WriteTo writes every metric in the Prometheus text format. Gauges whose
// source fails are left out (and the failure logged) rather than shown as
// a made-up value.
func (m *Metrics) WriteTo(ctx context.Context, w io.Writer) {
	gauge := func(name, help string, f func(context.Context) (int, error)) {
		if f == nil {
			return
		}
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		v, err := f(gctx)
		if err != nil {
			m.cfg.Logger.Warn("metrics: gauge unavailable", "metric", name, "err", err)
			return
		}
		header(w, name, help, "gauge")
		fmt.Fprintf(w, "%s %d\n", name, v)
	}
	// Read the gauges before taking the lock: they query the database.
	gauge("drbot_open_incidents", "Incidents (and drills) not yet resolved.", m.cfg.OpenIncidents)
	gauge("drbot_outbox_depth", "Slack calls waiting in the outbox.", m.cfg.OutboxDepth)

	m.mu.Lock()
	defer m.mu.Unlock()

	header(w, "drbot_incidents_declared_total", "Incidents declared, by whether they are drills.", "counter")
	fmt.Fprintf(w, "drbot_incidents_declared_total{drill=\"false\"} %d\n", m.declared[false])
	fmt.Fprintf(w, "drbot_incidents_declared_total{drill=\"true\"} %d\n", m.declared[true])

	header(w, "drbot_incidents_resolved_total", "Incidents resolved.", "counter")
	fmt.Fprintf(w, "drbot_incidents_resolved_total %d\n", m.resolved)

	header(w, "drbot_pages_sent_total", "Pages delivered to responders.", "counter")
	fmt.Fprintf(w, "drbot_pages_sent_total %d\n", m.pagesSent)

	header(w, "drbot_time_to_ack_seconds", "Time from a role's first page to its acknowledgement.", "histogram")
	m.tta.write(w, "drbot_time_to_ack_seconds", "")

	header(w, "drbot_slack_api_calls_total", "Slack Web API calls, by method.", "counter")
	for _, method := range sortedKeys(m.apiCalls) {
		fmt.Fprintf(w, "drbot_slack_api_calls_total{method=%s} %d\n", quote(method), m.apiCalls[method])
	}

	header(w, "drbot_slack_api_errors_total", "Slack Web API calls that failed, by method and error.", "counter")
	keys := make([][2]string, 0, len(m.apiErrors))
	for k := range m.apiErrors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "drbot_slack_api_errors_total{method=%s,error=%s} %d\n", quote(k[0]), quote(k[1]), m.apiErrors[k])
	}

	header(w, "drbot_answer_seconds", "Time to answer a Slack request, by endpoint.", "histogram")
	for _, ep := range sortedKeys(m.answer) {
		m.answer[ep].write(w, "drbot_answer_seconds", "endpoint="+quote(ep))
	}
}

func header(w io.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// quote quotes a label value as the text format wants.
func quote(s string) string { return `"` + labelEscaper.Replace(s) + `"` }

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	h.count++
	h.sum += v
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			return
		}
	}
}

// write writes the cumulative buckets, the sum and the count; labels are
// extra labels ("endpoint=\"x\"") or "".
func (h *histogram) write(w io.Writer, name, labels string) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%s\"} %d\n", name, labels, sep, formatFloat(b), cum)
	}
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, h.count)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n", name, labels, formatFloat(h.sum))
	fmt.Fprintf(w, "%s_count%s %d\n", name, labels, h.count)
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
