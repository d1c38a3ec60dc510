package incident_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

// alertPlan is svcPlan with two alert rules: PaymentsDBDown declares
// db-corruption at once, CheckoutErrors asks in #ops-alerts.
func alertPlan(t testing.TB) *playbooks.Plan {
	p := svcPlan(t)
	rule := func(scenario, declare string, ms ...string) *playbooks.AlertRule {
		r := &playbooks.AlertRule{Scenario: scenario, Declare: declare}
		for _, m := range ms {
			pm, err := labels.ParseMatcher(m)
			if err != nil {
				t.Fatal(err)
			}
			r.Matchers = append(r.Matchers, pm)
		}
		return r
	}
	p.Alerts = []*playbooks.AlertRule{
		rule("db-corruption", playbooks.DeclareAuto, `alertname="PaymentsDBDown"`, `severity=~"critical|page"`),
		rule("checkout-down", playbooks.DeclareAsk, `alertname="CheckoutErrors"`),
	}
	p.AlertChannel = "ops-alerts"
	return p
}

// amGroup is a notification of group key with alerts named name, one per
// instance, firing unless listed in resolved.
func amGroup(key, name string, instances []string, resolved ...string) incident.AlertGroup {
	g := incident.AlertGroup{Source: incident.SourceAlertmanager, Key: key, Receiver: "drbot", ExternalURL: "http://am.example:9093"}
	for _, in := range instances {
		g.Alerts = append(g.Alerts, incident.Alert{
			Firing:      !strings.Contains(strings.Join(resolved, ","), in),
			Labels:      map[string]string{"alertname": name, "severity": "critical", "instance": in},
			Annotations: map[string]string{"summary": name + " on " + in},
			Fingerprint: "fp-" + key + "-" + in,
			Links:       []incident.Link{{Label: "Source", URL: "http://prom.example:9090/graph?g0.expr=up"}},
		})
	}
	return g
}

func (e *svcEnv) alert(g incident.AlertGroup, want string) incident.AlertResult {
	e.t.Helper()
	res, err := e.svc.Alert(e.ctx, g)
	if err != nil {
		e.t.Fatalf("Alert: %v", err)
	}
	if res.Outcome != want {
		e.t.Fatalf("Alert(%s, %d alerts) = %q, want %q", g.Key, len(g.Alerts), res.Outcome, want)
	}
	e.tick()
	return res
}

func TestAlertAutoDeclaresOneIncidentPerGroup(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, alertPlan(t))
	two := []string{"db-1", "db-2"}
	res := e.alert(amGroup("g1", "PaymentsDBDown", two), incident.AlertDeclared)
	if res.Incident != 1 || res.Scenario != "db-corruption" {
		t.Fatalf("result = %+v, want incident 1 of db-corruption", res)
	}
	inc := e.incident(1)
	if inc.DeclaredBy != "" || !strings.HasPrefix(inc.Summary, "alert PaymentsDBDown from Alertmanager") {
		t.Errorf("declared by %q with summary %q, want drbot and the detection", inc.DeclaredBy, inc.Summary)
	}
	notes := e.events(1, incident.KindNote)
	if len(notes) != 1 || notes[0].Data["detection"] != "alert PaymentsDBDown from Alertmanager" ||
		notes[0].Data["label.alertname"] != "PaymentsDBDown" || notes[0].Data["link.Alertmanager"] != "http://am.example:9093" {
		t.Fatalf("detection note = %+v", notes)
	}
	if len(e.chat.DMs(uAlice)) == 0 {
		t.Error("declare: auto paged nobody")
	}
	pm, err := e.svc.Postmortem(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := pm.Detection; d.Source != incident.DetectAlert || d.By != "" || d.Alert != "alert PaymentsDBDown from Alertmanager" ||
		d.Labels["instance"] == "" || len(d.Links) != 2 || d.Links[1].URL != "http://am.example:9093" {
		t.Errorf("postmortem detection = %+v", d)
	}
	if md := pm.Markdown(); !strings.Contains(md, "Detected by alert PaymentsDBDown from Alertmanager") ||
		!strings.Contains(md, "- Labels: alertname=PaymentsDBDown, instance=db-1, severity=critical") ||
		!strings.Contains(md, "- Alertmanager: <http://am.example:9093>") {
		t.Errorf("postmortem Markdown's detection:\n%s", md)
	}

	// Alertmanager repeats the notification: nothing new.
	before := len(e.timeline(1))
	e.alert(amGroup("g1", "PaymentsDBDown", two), incident.AlertUnchanged)
	if n := len(e.timeline(1)); n != before {
		t.Errorf("a repeat added %d timeline events", n-before)
	}
	// A third instance fires: one note, said in the channel.
	e.alert(amGroup("g1", "PaymentsDBDown", []string{"db-1", "db-2", "db-3"}), incident.AlertNoted)
	notes = e.events(1, incident.KindNote)
	if got := notes[len(notes)-1].Text; got != "Alertmanager: PaymentsDBDown firing: instance=db-3; 3 firing now" {
		t.Errorf("change note = %q", got)
	}
	e.mustFind(e.channel(1), "firing: instance=db-3")

	// Another group of the same alert is another problem.
	e.alert(amGroup("g2", "PaymentsDBDown", []string{"db-9"}), incident.AlertDeclared)

	// The whole group resolves: told, with Resolve; not resolved.
	e.alert(amGroup("g1", "PaymentsDBDown", []string{"db-1", "db-2", "db-3"}, "db-1", "db-2", "db-3"), incident.AlertResolved)
	if st := e.incident(1).State; st != incident.StateOpen {
		t.Fatalf("state after the group resolved = %s, want open", st)
	}
	e.mustFind(e.channel(1), "every alert of *PaymentsDBDown* has resolved")
	// Resolve opens the resolve dialog, as /incident resolve does;
	// submitting it resolves.
	r := e.press(uAlice, e.channel(1), "Resolve")
	if st := e.incident(1).State; st != incident.StateOpen || !r.OpenResolveModal || !strings.Contains(r.Text, "/incident resolve TEXT") {
		t.Fatalf("after Resolve: state %s, reply %+v; want the dialog, still open", st, r)
	}
	e.mustCommand(uAlice, e.channel(1), "resolve the primary is back")
	if r := e.press(uAlice, e.channel(1), "Resolve"); !strings.Contains(r.Text, "already resolved") {
		t.Errorf("Resolve after resolve = %q", r.Text)
	}
	// The group fires again later: a new problem, a new incident.
	e.alert(amGroup("g1", "PaymentsDBDown", []string{"db-1"}), incident.AlertDeclared)
	if n := e.met.declared; n != 3 {
		t.Errorf("declared metric = %d, want 3", n)
	}
}

func TestAlertAskDeclare(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, alertPlan(t))
	g := amGroup("c1", "CheckoutErrors", []string{"web-1"})
	g.Alerts[0].Annotations["summary"] = "<!channel> 5xx > 5% & rising"
	g.Alerts[0].Links = append(g.Alerts[0].Links, incident.Link{Label: "Evil", URL: "http://x.example/|<!here>"})
	e.alert(g, incident.AlertAsked)
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}), incident.AlertUnchanged)
	ask := e.mustFind("ops-alerts", "*CheckoutErrors* from Alertmanager: 1 alert firing")
	// Monitoring's text is shown as written and pings nobody (the text
	// rule of what people type); a link that would break the markup is
	// left out.
	if !strings.Contains(ask.Text, "&lt;!channel&gt; 5xx &gt; 5% &amp; rising") || strings.Contains(ask.Text+ask.Context, "<!") {
		t.Errorf("ask = %q, context %q", ask.Text, ask.Context)
	}
	if got := btnLabels(ask.Buttons); strings.Join(got, ",") != "Declare checkout-down,Dismiss" {
		t.Fatalf("ask buttons = %v", got)
	}
	if !strings.Contains(ask.Context, "<http://prom.example:9090/graph?g0.expr=up|Source>") {
		t.Errorf("ask context = %q, want the alert's link", ask.Context)
	}
	if len(e.chat.DMs(uBob)) != 0 || len(e.incidents()) != 0 {
		t.Fatal("an ask paged or declared before anyone pressed Declare")
	}
	// A second instance fires: the ask says so, still asking.
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1", "web-2"}), incident.AlertNoted)
	e.mustFind("ops-alerts", "2 alerts firing")

	declare := e.button("ops-alerts", "Declare checkout-down")
	r := e.pressAction(uBob, "ops-alerts", declare.Action)
	if !strings.Contains(r.Text, "#1") {
		t.Errorf("reply = %q", r.Text)
	}
	inc := e.incident(1)
	if inc.DeclaredBy != uBob || inc.Scenario != "checkout-down" {
		t.Fatalf("incident = %+v, want checkout-down declared by bob", inc)
	}
	if d := inc.Detection; d.Source != incident.DetectAlert || d.By != uBob || d.Alert != "alert CheckoutErrors from Alertmanager" {
		t.Errorf("detection = %+v, want the alert, accepted by bob", d)
	}
	m := e.mustFind("ops-alerts", "Declared by <@"+uBob+">")
	if len(m.Buttons) != 0 {
		t.Errorf("answered ask still has buttons %v", btnLabels(m.Buttons))
	}
	if r := e.pressAction(uAlice, "ops-alerts", declare.Action); !strings.Contains(r.Text, "Already declared by <@"+uBob+">") {
		t.Errorf("second press = %q", r.Text)
	}
	if n := len(e.incidents()); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	// Now repeats are notes in that incident, not asks.
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}), incident.AlertNoted)
	e.mustFind(e.channel(1), "resolved: instance=web-2")
}

func TestAlertAskDismissAndResolvedBeforeAnswer(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, alertPlan(t))
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}), incident.AlertAsked)
	dismiss := e.button("ops-alerts", "Dismiss")
	e.pressAction(uErin, "ops-alerts", dismiss.Action)
	e.mustFind("ops-alerts", "Dismissed by <@"+uErin+">")
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1", "web-2"}), incident.AlertUnchanged)
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}, "web-1"), incident.AlertResolved)
	// Fires again after resolving: asked again, as a new episode.
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}), incident.AlertAsked)
	if r := e.pressAction(uErin, "ops-alerts", dismiss.Action); !strings.Contains(r.Text, "fired again since") {
		t.Errorf("press on the old ask = %q", r.Text)
	}
	// This time it resolves before anyone answers: the ask says so.
	declare := e.button("ops-alerts", "Declare checkout-down")
	e.alert(amGroup("c1", "CheckoutErrors", []string{"web-1"}, "web-1"), incident.AlertResolved)
	m := e.mustFind("ops-alerts", "before anyone answered; nothing was declared")
	if len(m.Buttons) != 0 {
		t.Errorf("closed ask still has buttons %v", btnLabels(m.Buttons))
	}
	if r := e.pressAction(uBob, "ops-alerts", declare.Action); !strings.Contains(r.Text, "before anyone answered") {
		t.Errorf("late press = %q", r.Text)
	}
	if n := len(e.incidents()); n != 0 {
		t.Errorf("%d incidents, want none", n)
	}
}

func TestAlertUnmatchedLoggedOncePerGroup(t *testing.T) {
	var logs incidenttest.LogBuffer
	e := newSvcEnv(t, alertPlan(t))
	svc, err := incident.New(incident.Config{Plan: e.plan, Store: e.store, Chat: e.chat, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.alert(amGroup("x1", "DiskFull", []string{"a"}), incident.AlertUnmatched)
	e.alert(amGroup("x1", "DiskFull", []string{"a", "b"}), incident.AlertUnmatched)
	e.alert(amGroup("x2", "DiskFull", []string{"c"}), incident.AlertUnmatched)
	// A resolved group drbot never saw is not an incident either.
	e.alert(amGroup("x3", "PaymentsDBDown", []string{"a"}, "a"), incident.AlertUnchanged)
	if n := strings.Count(logs.String(), "matches no rule"); n != 2 {
		t.Errorf("logged %d times, want once per group (2):\n%s", n, logs.String())
	}
	if len(e.incidents()) != 0 || len(e.chat.Posts("ops-alerts")) != 0 {
		t.Error("an unmatched alert declared or posted")
	}
}

func TestAlertRefusesBadNotification(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, alertPlan(t))
	g := amGroup("g1", "PaymentsDBDown", []string{"db-1"})
	g.Alerts[0].Fingerprint = ""
	if _, err := e.svc.Alert(e.ctx, g); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("no fingerprint: err = %v, want EINVALID", err)
	}
	g = amGroup("", "PaymentsDBDown", []string{"db-1"})
	if _, err := e.svc.Alert(e.ctx, g); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("no group key: err = %v, want EINVALID", err)
	}
}

// The group's state is in the database: a restarted process (a second
// Engine on the same SQLite file) knows the group's incident.
func TestAlertStateSurvivesRestartSQLite(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	clock := incidenttest.NewClock(svcT0)
	newSvc := func() *incident.Engine {
		svc, err := incident.New(incident.Config{Plan: alertPlan(t), Store: st, Chat: incidenttest.NewFakeChat(), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	g := amGroup("g1", "PaymentsDBDown", []string{"db-1"})
	if res, err := newSvc().Alert(ctx, g); err != nil || res.Outcome != incident.AlertDeclared {
		t.Fatalf("first: %+v, %v", res, err)
	}
	svc := newSvc()
	if res, err := svc.Alert(ctx, g); err != nil || res.Outcome != incident.AlertUnchanged || res.Incident != 1 {
		t.Fatalf("repeat after restart: %+v, %v", res, err)
	}
	if res, err := svc.Alert(ctx, amGroup("g1", "PaymentsDBDown", []string{"db-1", "db-2"})); err != nil || res.Outcome != incident.AlertNoted {
		t.Fatalf("change after restart: %+v, %v", res, err)
	}
}

// A notification the sender truncated (max_alerts) leaves alerts out: they
// still fire unless listed as resolved, so neither a note nor "resolved"
// comes from what was cut.
func TestAlertTruncatedNotification(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t, alertPlan(t))
	three := []string{"db-1", "db-2", "db-3"}
	e.alert(amGroup("g1", "PaymentsDBDown", three), incident.AlertDeclared)
	cut := amGroup("g1", "PaymentsDBDown", []string{"db-1"})
	cut.Truncated = 2
	e.alert(cut, incident.AlertUnchanged)
	cut = amGroup("g1", "PaymentsDBDown", []string{"db-1", "db-4"}, "db-1")
	cut.Truncated = 2
	e.alert(cut, incident.AlertNoted)
	notes := e.events(1, incident.KindNote)
	if got := notes[len(notes)-1].Text; got != "Alertmanager: PaymentsDBDown firing: instance=db-4; resolved: instance=db-1; 3 firing now" {
		t.Errorf("note = %q", got)
	}
}
