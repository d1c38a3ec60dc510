package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Durations are in milliseconds, memory in
// KiB.
type Report struct {
	Machine Machine `json:"machine"`
	// Command is the command line that sends the same traffic again.
	Command string         `json:"command"`
	Dir     string         `json:"dir,omitempty"` // with --keep
	Phases  []*PhaseReport `json:"phases"`
	Alerts  *AlertsReport  `json:"alerts,omitempty"` // with --alert-storm
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu,omitempty"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Go     string `json:"go"`
}

// PhaseReport is one phase: one drbot process under one kind of traffic.
type PhaseReport struct {
	Name           string  `json:"name"` // "storm" or "long"
	Description    string  `json:"description"`
	TrafficSeconds float64 `json:"traffic_seconds"` // sending requests (and waiting for channels, for the storm)
	TotalSeconds   float64 `json:"total_seconds"`   // until drbot's outbox was empty (with PagesOnly: until every page was out)
	// PagesOnly: the phase ended when every page was out (--pages-only),
	// with OutboxLeft other messages still in drbot's outbox.
	PagesOnly         bool    `json:"pages_only,omitempty"`
	OutboxLeft        int     `json:"outbox_left,omitempty"`
	AckTimeoutSeconds float64 `json:"ack_timeout_seconds"`
	Incidents         int     `json:"incidents"`
	Unresolved        int     `json:"unresolved"`

	Requests []EndpointReport `json:"requests"`
	// LateAnswers counts answers that said "working on it": drbot's own
	// work took longer than its 2 s answer deadline.
	LateAnswers int `json:"late_answers"`

	DeclareToFirstPage   Stats `json:"declare_to_first_page_ms"`
	DeclareToChannel     Stats `json:"declare_to_channel_ms"`
	EscalationLateEngine Stats `json:"escalation_lateness_engine_ms"`
	EscalationLateDM     Stats `json:"escalation_lateness_page_ms"`

	Pages    PagesReport `json:"pages"`
	Slack    SlackReport `json:"slack"`
	Drbot    Memory      `json:"drbot_memory"`
	Bare     *Memory     `json:"bare_memory,omitempty"`
	DrbotLog LogReport   `json:"drbot_log"`
	Problems []string    `json:"problems,omitempty"`
}

// EndpointReport is the answer latency of one kind of request.
type EndpointReport struct {
	Kind       string `json:"kind"`
	Drbot      Stats  `json:"drbot_ms"`
	Failed     int    `json:"failed"` // not answered 200
	Bare       *Stats `json:"bare_ms,omitempty"`
	BareFailed int    `json:"bare_failed,omitempty"`
}

// Stats are the percentiles of a set of durations, in milliseconds.
type Stats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// PagesReport compares the pages of drbot's timeline with the direct
// messages the fake Slack received.
type PagesReport struct {
	Expected      int `json:"expected"`        // paged + escalated events in the timeline, less NotSent
	Delivered     int `json:"delivered"`       // of those, the ones that reached Slack
	Lost          int `json:"lost"`            // in the timeline, never in Slack
	Doubled       int `json:"doubled"`         // reached Slack more often than the timeline says
	FailedForGood int `json:"failed_for_good"` // delivery_failed events (user_not_found ...)
	// NotSent are pages of the timeline that never went out because their
	// incident was resolved first (drbot sends no page after resolve): no
	// ref inc/N/page/ROLE/K was recorded. Not counted in Expected.
	NotSent int `json:"not_sent_after_resolve"`
}

// SlackReport counts the fake Slack's calls.
type SlackReport struct {
	Calls        int `json:"calls"`
	RateLimited  int `json:"rate_limited"` // answered 429
	ServerErrors int `json:"server_errors"`
	Errors       int `json:"errors"` // ok:false
}

// LogReport counts drbot's log lines of concern.
type LogReport struct {
	Warnings int64  `json:"warnings"`
	Errors   int64  `json:"errors"`
	Path     string `json:"path,omitempty"`
}

// statsOf computes nearest-rank percentiles.
func statsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
	return Stats{N: len(s), P50: ms(rank(0.50)), P99: ms(rank(0.99)), Max: ms(s[len(s)-1])}
}

// Failed reports whether the run found something wrong: a page lost, a
// request refused, an incident left open.
func (r *Report) Failed() bool {
	if r.Alerts != nil && (r.Alerts.Failed > 0 || len(r.Alerts.Problems) > 0) {
		return true
	}
	for _, p := range r.Phases {
		if p.Pages.Lost > 0 || p.Unresolved > 0 || len(p.Problems) > 0 {
			return true
		}
		for _, e := range p.Requests {
			if e.Failed > 0 {
				return true
			}
		}
	}
	return false
}

// WriteText writes the report as tables.
func (r *Report) WriteText(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "drbot-load on %d CPUs (%s), %s %s/%s\n", m.CPUs, orUnknown(m.CPU), m.Go, m.GOOS, m.GOARCH)
	fmt.Fprintf(w, "command: %s\n", r.Command)
	if r.Dir != "" {
		fmt.Fprintf(w, "kept: %s\n", r.Dir)
	}
	for _, p := range r.Phases {
		fmt.Fprintf(w, "\n== %s: %s\n", p.Name, p.Description)
		until := "until the outbox was empty"
		if p.PagesOnly {
			until = fmt.Sprintf("until every page was out (--pages-only; %d other messages left in the outbox)", p.OutboxLeft)
		}
		fmt.Fprintf(w, "traffic %.1fs, %s %.1fs; %d incidents (%d left open)\n\n",
			p.TrafficSeconds, until, p.TotalSeconds, p.Incidents, p.Unresolved)

		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "answer latency (ms)\tn\tfailed\tdrbot p50\tp99\tmax\t\tbare p50\tp99\tmax\t")
		for _, e := range p.Requests {
			bare := "\t-\t-\t-"
			if e.Bare != nil {
				bare = fmt.Sprintf("\t%s\t%s\t%s", num(e.Bare.P50), num(e.Bare.P99), num(e.Bare.Max))
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", e.Kind, e.Drbot.N, e.Failed, num(e.Drbot.P50), num(e.Drbot.P99), num(e.Drbot.Max), bare)
		}
		tw.Flush()
		if p.LateAnswers > 0 {
			fmt.Fprintf(w, "%d answers said \"working on it\" (drbot's work took over 2 s; the result went by response_url)\n", p.LateAnswers)
		}
		fmt.Fprintln(w)

		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "timing (ms)\tn\tp50\tp99\tmax\t")
		for _, row := range []struct {
			name string
			s    Stats
		}{
			{"declare → first page in Slack", p.DeclareToFirstPage},
			{"declare → channel created", p.DeclareToChannel},
			{"escalation lateness: engine", p.EscalationLateEngine},
			{"escalation lateness: page in Slack", p.EscalationLateDM},
		} {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", row.name, row.s.N, num(row.s.P50), num(row.s.P99), num(row.s.Max))
		}
		tw.Flush()
		fmt.Fprintln(w)

		pg := p.Pages
		fmt.Fprintf(w, "pages: %d in the timeline, %d reached Slack, %d lost, %d doubled; %d deliveries failed for good; %d not sent (resolved first)\n",
			pg.Expected, pg.Delivered, pg.Lost, pg.Doubled, pg.FailedForGood, pg.NotSent)
		fmt.Fprintf(w, "fake Slack: %d calls, %d answered 429 (rate limits), %d answered 5xx, %d ok:false\n",
			p.Slack.Calls, p.Slack.RateLimited, p.Slack.ServerErrors, p.Slack.Errors)
		fmt.Fprintf(w, "memory (MiB): drbot peak %s, at the end %s", mib(p.Drbot.HWMKiB), mib(p.Drbot.RSSKiB))
		if p.Bare != nil {
			fmt.Fprintf(w, "; bare handler peak %s, at the end %s", mib(p.Bare.HWMKiB), mib(p.Bare.RSSKiB))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "drbot log: %d warnings, %d errors", p.DrbotLog.Warnings, p.DrbotLog.Errors)
		if p.DrbotLog.Path != "" {
			fmt.Fprintf(w, " (%s)", p.DrbotLog.Path)
		}
		fmt.Fprintln(w)
		for _, pb := range p.Problems {
			fmt.Fprintf(w, "PROBLEM: %s\n", pb)
		}
	}
	if r.Alerts != nil {
		r.Alerts.writeText(w)
	}
}

func num(ms float64) string { return strconv.FormatFloat(ms, 'f', 1, 64) }

func mib(kib int64) string { return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) }

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}

// CommandLine is the drbot-load command line of c, every flag spelled
// out, to reproduce the run.
func (c Config) CommandLine() string {
	args := []string{"go run ./cmd/drbot-load"}
	add := func(name string, v any) {
		switch x := v.(type) {
		case bool:
			args = append(args, fmt.Sprintf("-%s=%t", name, x))
		case time.Duration:
			args = append(args, fmt.Sprintf("-%s %s", name, x))
		default:
			args = append(args, fmt.Sprintf("-%s %v", name, x))
		}
	}
	add("storm", c.Storm)
	if c.Storm {
		add("storm-incidents", c.StormIncidents)
		add("storm-window", c.StormWindow)
		add("storm-ack-fraction", c.StormAckFraction)
		add("storm-ack-timeout", c.StormAckTimeout)
		if c.StormSettle > 0 {
			add("storm-settle", c.StormSettle)
		}
	}
	if c.AlertStorm {
		add("alert-storm", c.AlertStorm)
		add("alert-groups", c.AlertGroups)
		add("alert-rate", c.AlertRate)
		add("alert-duration", c.AlertDuration)
	}
	add("duration", c.Duration)
	if c.Duration > 0 {
		add("declare-every", c.DeclareEvery)
		add("lifetime", c.Lifetime)
		add("notes", c.Notes)
		add("ack-timeout", c.AckTimeout)
		add("ack-fraction", c.AckFraction)
	}
	add("latency", c.Latency)
	add("rate-limits", c.RateLimits)
	add("seed", c.Seed)
	add("ack-delay-min", c.AckDelayMin)
	add("ack-delay-max", c.AckDelayMax)
	add("scenarios", c.Scenarios)
	add("contacts", c.Contacts)
	add("contacts-per-role", c.ContactsPerRole)
	add("team", c.Team)
	add("rounds", c.Rounds)
	if c.PagesOnly {
		add("pages-only", c.PagesOnly)
	}
	return strings.Join(args, " ")
}
