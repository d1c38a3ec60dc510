package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/drbot-dev/drbot/incident"
)

// Metrics counts what drbot does, for Prometheus (client_golang, on a
// registry of its own). It implements incident.Metrics for the service and
// counts Slack API calls for SlackChat and answer latencies for the HTTP
// handlers.
type Metrics struct {
	cfg MetricsConfig
	reg *prometheus.Registry

	declared  *prometheus.CounterVec
	resolved  prometheus.Counter
	pagesSent prometheus.Counter
	tta       prometheus.Histogram
	apiCalls  *prometheus.CounterVec
	apiErrors *prometheus.CounterVec
	answer    *prometheus.HistogramVec
}

var _ incident.Metrics = (*Metrics)(nil)

// MetricsConfig gives Metrics the gauges it reads at each scrape.
type MetricsConfig struct {
	OpenIncidents func(context.Context) (int, error) // optional
	OutboxDepth   func(context.Context) (int, error) // optional
	// Leader is 1 while this instance fires timers and delivers the
	// outbox (with PostgreSQL, while it holds the leader lock), else 0.
	Leader func(context.Context) (int, error) // optional
	Logger *slog.Logger                       // default discards
}

// Buckets of the histograms, in seconds.
var (
	ackBuckets    = []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200}
	answerBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5}
)

// NewMetrics returns the metrics, registered on a registry of their own
// with the Go runtime and process collectors.
func NewMetrics(cfg MetricsConfig) *Metrics {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		cfg: cfg,
		reg: prometheus.NewRegistry(),
		declared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drbot_incidents_declared_total", Help: "Incidents declared, by whether they are drills.",
		}, []string{"drill"}),
		resolved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drbot_incidents_resolved_total", Help: "Incidents resolved.",
		}),
		pagesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drbot_pages_sent_total", Help: "Pages delivered to responders.",
		}),
		tta: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drbot_time_to_ack_seconds", Help: "Time from a role's first page to its acknowledgement.",
			Buckets: ackBuckets,
		}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drbot_slack_api_calls_total", Help: "Slack Web API calls, by method.",
		}, []string{"method"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drbot_slack_api_errors_total", Help: "Slack Web API calls that failed, by method and error.",
		}, []string{"method", "error"}),
		answer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "drbot_answer_seconds", Help: "Time to answer a Slack request, by endpoint.",
			Buckets: answerBuckets,
		}, []string{"endpoint"}),
	}
	// Both label values exist from the start, so a scraper sees zeros.
	m.declared.WithLabelValues("false")
	m.declared.WithLabelValues("true")
	m.reg.MustRegister(m.declared, m.resolved, m.pagesSent, m.tta, m.apiCalls, m.apiErrors, m.answer,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.gauge("drbot_open_incidents", "Incidents (and drills) not yet resolved.", cfg.OpenIncidents)
	m.gauge("drbot_outbox_depth", "Slack calls waiting in the outbox.", cfg.OutboxDepth)
	m.gauge("drbot_leader", "1 while this instance fires timers and delivers the outbox (the leader), 0 on a standby.", cfg.Leader)
	return m
}

// gauge registers a gauge read from the database at each scrape. A source
// that fails leaves the gauge out of that scrape (and is logged) rather
// than showing a made-up value.
func (m *Metrics) gauge(name, help string, f func(context.Context) (int, error)) {
	if f == nil {
		return
	}
	m.reg.MustRegister(&dbGauge{desc: prometheus.NewDesc(name, help, nil, nil), read: f, log: m.cfg.Logger})
}

type dbGauge struct {
	desc *prometheus.Desc
	read func(context.Context) (int, error)
	log  *slog.Logger
}

func (g *dbGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *dbGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := g.read(ctx)
	if err != nil {
		g.log.Warn("metrics: gauge unavailable", "metric", g.desc.String(), "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v))
}

// Declared counts a declared incident or drill.
func (m *Metrics) Declared(drill bool) {
	label := "false"
	if drill {
		label = "true"
	}
	m.declared.WithLabelValues(label).Inc()
}

// Resolved counts a resolved incident.
func (m *Metrics) Resolved() { m.resolved.Inc() }

// PageSent counts a page delivered.
func (m *Metrics) PageSent() { m.pagesSent.Inc() }

// Acknowledged observes the time from a role's first page to its
// acknowledgement.
func (m *Metrics) Acknowledged(after time.Duration) { m.tta.Observe(after.Seconds()) }

// SlackCall counts one Web API call and, when errCode is not empty, its
// error.
func (m *Metrics) SlackCall(method, errCode string) {
	m.apiCalls.WithLabelValues(method).Inc()
	if errCode != "" {
		m.apiErrors.WithLabelValues(method, errCode).Inc()
	}
}

// ObserveAnswer records how long an endpoint took to answer Slack.
func (m *Metrics) ObserveAnswer(endpoint string, d time.Duration) {
	m.answer.WithLabelValues(endpoint).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn)})
}

// WriteTo writes every metric in the Prometheus text format (for tests and
// debugging).
func (m *Metrics) WriteTo(_ context.Context, w io.Writer) {
	mfs, err := m.reg.Gather()
	if err != nil {
		m.cfg.Logger.Warn("metrics: gather", "err", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			m.cfg.Logger.Warn("metrics: encode", "err", err)
			return
		}
	}
}

// Registerer is where other parts of drbot (the alert intake) register
// their metrics, so that /metrics shows them with these.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }
