package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// Alerts from monitoring. A notification is about one group of alerts
// (Alertmanager's groupKey); the group, not the alert, is the problem, so
// one group makes at most one incident or one ask at a time, however often
// its notification is repeated. The plan's alerts: rules say which
// scenario a group is (first match wins) and whether drbot declares it at
// once (auto) or asks in alert_channel (ask) with Declare and Dismiss
// buttons. Nothing here resolves an incident: when the whole group
// resolves, the channel is told and the commander gets a Resolve button.
// One problem of a group, from its first firing notification to its
// resolution, is an alert episode: once the group resolved (or its
// incident did), its next firing starts a new episode, asked about or
// declared afresh (alertState.Episode numbers them).
//
// State, in the store's key/value table, written in the transaction that
// handles the notification or the press:
//
//	alert/group/HASH      alertState of the group (HASH: alertGroupHash)
//	alert/unmatched/HASH  set once a group no rule matches was logged

// Sources of alerts, as said in messages and the timeline.
const (
	SourceAlertmanager = "Alertmanager"
	SourceGrafana      = "Grafana"
)

// AlertGroup is one notification about a group of alerts.
type AlertGroup struct {
	Source      string // SourceAlertmanager or SourceGrafana
	Key         string // the group's identity within Source: Alertmanager's groupKey
	Receiver    string
	ExternalURL string // the sender's own page, for a link
	Alerts      []Alert
	Truncated   int // alerts the sender left out of the notification
}

// Alert is one alert of a group, as the sender last saw it.
type Alert struct {
	Firing      bool // false: resolved
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	// Fingerprint identifies the alert within its group (the sender's
	// fingerprint, or one computed from its labels); required.
	Fingerprint string
	Links       []Link // generatorURL, dashboard, panel, silence ...
}

// Link is a labelled URL shown with an alert.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Outcomes of Engine.Alert, one per notification.
const (
	AlertUnmatched = "unmatched" // no rule of the plan matches a firing alert; nothing done
	AlertDeclared  = "declared"  // an incident was declared (declare: auto)
	AlertAsked     = "asked"     // posted in alert_channel with Declare and Dismiss (declare: ask)
	AlertNoted     = "noted"     // alerts started or stopped firing: noted in the incident, or the ask updated
	AlertResolved  = "resolved"  // every alert of the group resolved: the channel or the ask told
	AlertUnchanged = "unchanged" // a repeat, or a group that is dismissed or done: nothing done
)

// AlertResult says what one notification did.
type AlertResult struct {
	Outcome  string // one of the Alert* outcomes
	Incident int64  // the group's incident, 0 when it has none
	Scenario string // the scenario of the rule that matched, "" when none
}

// Phases of a group's alertState.
const (
	phaseAsked     = "asked"     // the ask is waiting for Declare or Dismiss
	phaseDismissed = "dismissed" // someone pressed Dismiss; quiet until the group resolves
	phaseDeclared  = "declared"  // an incident was declared from the group
	phaseClosed    = "closed"    // the group resolved (or its incident did): the next firing is a new episode
)

// alertState is what drbot remembers of a group between notifications.
type alertState struct {
	Source string `json:"source"`
	Key    string `json:"key"`
	Phase  string `json:"phase"`
	// Episode numbers the group's alert episodes: +1 for each new problem
	// of the group; the ask's buttons carry it. (Stored as round, its
	// earlier name.)
	Episode  int    `json:"round"`
	Scenario string `json:"scenario"`
	Declare  string `json:"declare"`
	// Name is the alertname of the alert that matched; Labels, Summary
	// and Links describe it for the ask and the detection.
	Name    string            `json:"name"`
	Labels  map[string]string `json:"labels"`
	Summary string            `json:"summary,omitempty"`
	Links   []Link            `json:"links,omitempty"`
	// Firing is the alerts firing at the latest notification.
	Firing   []firingAlert `json:"firing"`
	Incident int64         `json:"incident,omitempty"`
	By       string        `json:"by,omitempty"` // who declared or dismissed
	At       time.Time     `json:"at"`           // when the phase began
	Since    time.Time     `json:"since"`        // the episode's first notification
	// Cleared: every alert resolved while the incident was open (told,
	// with the Resolve button); a later firing is noted in that incident.
	Cleared bool `json:"cleared,omitempty"`
}

// firingAlert is one firing alert of a group: its fingerprint, and how
// people tell it from the others (the labels it does not share with them).
type firingAlert struct {
	FP   string `json:"fp"`
	Desc string `json:"desc"`
}

// alertGroupHash names a group in keys and button values: a hash, since a
// groupKey may be long and hold any character.
func alertGroupHash(source, key string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + key))
	return hex.EncodeToString(sum[:12])
}

func alertStateKey(hash string) string { return "alert/group/" + hash }

// check refuses a notification the rules cannot work on.
func (g AlertGroup) check() error {
	switch {
	case g.Source != SourceAlertmanager && g.Source != SourceGrafana:
		return Errorf(EINVALID, "unknown alert source %q", g.Source)
	case g.Key == "":
		return Errorf(EINVALID, "the notification has no group key")
	}
	for i, a := range g.Alerts {
		if a.Fingerprint == "" {
			return Errorf(EINVALID, "alert %d has no fingerprint", i+1)
		}
	}
	return nil
}

// Alert handles one notification from monitoring, in one transaction: it
// declares, asks, notes a change or tells that the group resolved, as the
// plan's alerts: rules and what drbot remembers of the group say. The
// outbox does the posting; nothing here waits for Slack.
func (s *Engine) Alert(ctx context.Context, g AlertGroup) (AlertResult, error) {
	if err := g.check(); err != nil {
		return AlertResult{}, err
	}
	p := s.Plan()
	var (
		res AlertResult
		at  *alertTx
	)
	err := s.cfg.Store.Update(ctx, func(tx Tx) error {
		at = &alertTx{s: s, tx: tx, p: p, now: s.now(), g: g, hash: alertGroupHash(g.Source, g.Key)}
		var err error
		res, err = at.handle()
		return err
	})
	if err != nil {
		return AlertResult{}, fmt.Errorf("alert from %s: %w", g.Source, err)
	}
	at.committed()
	return res, nil
}

// alertTx is the handling of one notification or press in one
// transaction.
type alertTx struct {
	s    *Engine
	tx   Tx
	p    *playbooks.Plan
	now  time.Time
	g    AlertGroup
	hash string
	// ops are the incident changes made, for what waits for the commit.
	ops []*op
	// changed: something was enqueued outside an op.
	changed bool
	logs    []func()
}

func (a *alertTx) committed() {
	for _, o := range a.ops {
		a.s.committed(o)
	}
	for _, f := range a.logs {
		f()
	}
	if a.changed {
		a.s.Wake()
	}
}

func (a *alertTx) log(msg string, args ...any) {
	args = append([]any{"source", a.g.Source, "group", a.g.Key}, args...)
	a.logs = append(a.logs, func() { a.s.cfg.Logger.Info(msg, args...) })
}

func (a *alertTx) state() (alertState, bool, error) {
	var st alertState
	ok, err := getJSON(a.tx, alertStateKey(a.hash), &st)
	return st, ok, err
}

func (a *alertTx) save(st alertState) error {
	return putJSON(a.tx, alertStateKey(a.hash), st)
}

// handle applies the notification to the group's state.
func (a *alertTx) handle() (AlertResult, error) {
	st, ok, err := a.state()
	if err != nil {
		return AlertResult{}, err
	}
	firing := a.firing()
	if !ok || st.Phase == phaseClosed {
		return a.newEpisode(st, firing)
	}
	firing = a.untruncated(st.Firing, firing)
	res := AlertResult{Incident: st.Incident, Scenario: st.Scenario, Outcome: AlertUnchanged}
	switch st.Phase {
	case phaseAsked:
		res.Outcome, err = a.whileAsked(&st, firing)
	case phaseDismissed:
		if len(firing) == 0 {
			st.Phase, st.At, st.Firing = phaseClosed, a.now, nil
			err = a.editAsk(st, a.dismissedLine(st)+"\n"+a.resolvedLine(), nil)
			res.Outcome = AlertResolved
		}
	case phaseDeclared:
		res.Outcome, err = a.whileDeclared(&st, firing)
		if err == nil && st.Phase == phaseClosed && len(firing) > 0 {
			return a.newEpisode(st, firing)
		}
	}
	if err != nil {
		return AlertResult{}, err
	}
	return res, a.save(st)
}

// firing returns the alerts of the notification that fire, each described
// by the labels it does not share with every other alert of the group.
func (a *alertTx) firing() []firingAlert {
	common := map[string]string{}
	for i, al := range a.g.Alerts {
		if i == 0 {
			for k, v := range al.Labels {
				common[k] = v
			}
			continue
		}
		for k, v := range common {
			if al.Labels[k] != v {
				delete(common, k)
			}
		}
	}
	var out []firingAlert
	for _, al := range a.g.Alerts {
		if !al.Firing {
			continue
		}
		var own []string
		for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
			if _, shared := common[k]; !shared {
				own = append(own, k+"="+al.Labels[k])
			}
		}
		desc := strings.Join(own, ", ")
		if desc == "" {
			desc = orText(al.Labels["alertname"], "alert "+al.Fingerprint)
		}
		out = append(out, firingAlert{FP: al.Fingerprint, Desc: desc})
	}
	slices.SortFunc(out, func(x, y firingAlert) int { return strings.Compare(x.FP, y.FP) })
	return slices.CompactFunc(out, func(x, y firingAlert) bool { return x.FP == y.FP })
}

// untruncated is what fires when the sender left alerts out of the
// notification (Alertmanager's max_alerts, Grafana's maxAlerts): an alert
// that fired before and is not in it is taken to fire still, unless it is
// listed as resolved. Without truncation, the notification says it all.
func (a *alertTx) untruncated(before, now []firingAlert) []firingAlert {
	if a.g.Truncated <= 0 {
		return now
	}
	listed := map[string]bool{}
	for _, al := range a.g.Alerts {
		listed[al.Fingerprint] = true
	}
	out := slices.Clone(now)
	for _, f := range before {
		if !listed[f.FP] {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(x, y firingAlert) int { return strings.Compare(x.FP, y.FP) })
	return out
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newEpisode starts the next episode of a group drbot has nothing open
// for: a firing group that a rule matches is declared or asked about.
func (a *alertTx) newEpisode(prev alertState, firing []firingAlert) (AlertResult, error) {
	if len(firing) == 0 {
		return AlertResult{Outcome: AlertUnchanged}, nil
	}
	var sets []map[string]string
	var alerts []Alert
	for _, al := range a.g.Alerts {
		if al.Firing {
			sets = append(sets, al.Labels)
			alerts = append(alerts, al)
		}
	}
	rule, i := a.p.MatchAlert(sets)
	if rule == nil {
		return AlertResult{Outcome: AlertUnmatched}, a.unmatched(alerts[0])
	}
	al := alerts[i]
	st := alertState{
		Source: a.g.Source, Key: a.g.Key, Episode: prev.Episode + 1, Scenario: rule.Scenario, Declare: rule.Declare,
		Name: orText(al.Labels["alertname"], "alert"), Labels: al.Labels, Summary: alertSummary(al),
		Links: a.links(al), Firing: firing, At: a.now, Since: a.now,
	}
	res := AlertResult{Scenario: rule.Scenario}
	if rule.Declare == playbooks.DeclareAuto {
		inc, err := a.declare(&st, "")
		if err != nil {
			return AlertResult{}, err
		}
		res.Outcome, res.Incident = AlertDeclared, inc.ID
		a.log("alert declared an incident", "incident", inc.ID, "scenario", rule.Scenario, "alert", st.Name)
	} else {
		st.Phase = phaseAsked
		if err := a.ask(st); err != nil {
			return AlertResult{}, err
		}
		res.Outcome = AlertAsked
		a.log("alert posted for a person to declare", "channel", a.p.AlertChannel, "scenario", rule.Scenario, "alert", st.Name)
	}
	return res, a.save(st)
}

// alertUnmatchedPrefix + a group's hash: when an alert group no rule
// matches was first logged.
const alertUnmatchedPrefix = "alert/unmatched/"

// unmatched logs a group no rule matches, once per group (and again a
// week later, when housekeeping forgot it): Alertmanager repeats its
// notification every repeat_interval.
func (a *alertTx) unmatched(al Alert) error {
	fresh, err := a.tx.PutIfAbsent(alertUnmatchedPrefix+a.hash, a.now.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("record unmatched alert group: %w", err)
	}
	if fresh {
		a.log("alert matches no rule of the plan's alerts:; ignored", "alert", al.Labels["alertname"], "labels", labelText(al.Labels))
	}
	return nil
}

// alertSummary is what an alert says about itself: its summary (or
// description) annotation.
func alertSummary(al Alert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if s := strings.TrimSpace(cleanText(al.Annotations[k])); s != "" {
			return truncateRunes(s, 500)
		}
	}
	return ""
}

// links are the alert's links and the sender's page, http(s) only.
func (a *alertTx) links(al Alert) []Link {
	out := slices.Clone(al.Links)
	if a.g.ExternalURL != "" {
		out = append(out, Link{Label: a.g.Source, URL: a.g.ExternalURL})
	}
	return slices.DeleteFunc(out, func(l Link) bool {
		return !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://")
	})
}

// labelText lists labels as name=value, sorted.
func labelText(ls map[string]string) string {
	parts := make([]string, 0, len(ls))
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		parts = append(parts, k+"="+ls[k])
	}
	return strings.Join(parts, ", ")
}

// detection says how the incident was detected: "alert WarehouseDBDown
// from Alertmanager".
func (st alertState) detection() string {
	return fmt.Sprintf("alert %s from %s", st.Name, st.Source)
}

// declare declares the group's scenario, by userID ("" for drbot, on an
// auto rule), and records how it was detected.
func (a *alertTx) declare(st *alertState, userID string) (*Incident, error) {
	sc := a.p.Scenario(st.Scenario)
	if sc == nil {
		return nil, Errorf(ENOTFOUND, "Scenario %q of this alert is no longer in the plan; declare another with /incident declare.", escape(st.Scenario))
	}
	summary := st.detection()
	if st.Summary != "" {
		summary += ": " + st.Summary
	}
	o, err := a.s.declareTx(a.tx, a.p, sc, truncateRunes(summary, MaxText), DeclareRequest{Scenario: sc.ID, UserID: userID,
		Detection: &Detection{Source: DetectAlert, By: userID, Alert: st.detection(), Labels: st.Labels, Links: st.Links}})
	if err != nil {
		return nil, err
	}
	data := map[string]string{"source": st.Source, "alert": st.Name, "group": st.Key, "detection": st.detection()}
	for k, v := range st.Labels {
		data["label."+k] = v
	}
	for _, l := range st.Links {
		data["link."+l.Label] = l.URL
	}
	text := fmt.Sprintf("Detected by %s: %s", st.detection(), labelText(st.Labels))
	for _, l := range st.Links {
		text += "\n" + l.Label + ": " + l.URL
	}
	o.event(KindNote, "", text, data)
	o.changed = true
	o.after(func() { a.s.cfg.Metrics.Declared(false) })
	if err := o.save(); err != nil {
		return nil, err
	}
	a.ops = append(a.ops, o)
	st.Phase, st.Incident, st.By, st.At, st.Cleared = phaseDeclared, o.inc.ID, userID, a.now, false
	return o.inc, nil
}
