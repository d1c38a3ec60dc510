package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/bot"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/internal/testenv"
)

const alertToken = "e2e-alert-token"

// alertPlan: PaymentsDBDown declares db-down at once, CheckoutSlow asks
// in #ops-alerts; DiskFull matches nothing.
const alertPlan = `version: 1
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob:   {name: Bob Dahl, slack: U0BOB0001}
roles:
  commander: [alice, bob]
scenarios:
  db-down:
    title: Payments database down
    severity: sev1
    page: [commander]
    steps:
      - {id: failover, do: Fail over to the replica.}
  checkout-slow:
    title: Checkout is slow
    severity: sev3
    page: [commander]
    steps:
      - {id: look, do: Look at the dashboards.}
alerts:
  - matchers: ['alertname="PaymentsDBDown"', 'severity=~"critical|page"']
    scenario: db-down
    declare: auto
  - matchers: ['alertname="CheckoutSlow"']
    scenario: checkout-slow
alert_channel: ops-alerts
`

// alertmanagerConfig routes every alert to drbot with the right token,
// except those labelled token="wrong", which go with a wrong one. The
// intervals are tiny so that repeats come within the test.
const alertmanagerConfig = `route:
  receiver: drbot
  group_by: [alertname, cluster]
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 600ms
  routes:
    - receiver: wrong-token
      matchers: ['token="wrong"']
receivers:
  - name: drbot
    webhook_configs:
      - url: URL
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials: TOKEN}
  - name: wrong-token
    webhook_configs:
      - url: URL
        http_config:
          authorization: {type: Bearer, credentials: not-the-token}
`

// alertmanager is a running Alertmanager.
type alertmanager struct {
	t    *testing.T
	base string
	logs *incidenttest.LogBuffer
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startAlertmanager runs the real Alertmanager on loopback with its
// webhook pointed at drbotURL, its storage and config in a temporary
// directory, as nobody when the test runs as root, without clustering.
func startAlertmanager(t *testing.T, bin, drbotURL string) *alertmanager {
	t.Helper()
	dir := t.TempDir()
	cfg := strings.NewReplacer("URL", drbotURL+"/alerts/alertmanager", "TOKEN", alertToken).Replace(alertmanagerConfig)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--cluster.listen-address=", "--log.level=debug")
	cmd.Dir = dir
	if os.Geteuid() == 0 {
		// Root needs not run a third-party daemon: nobody can read the
		// config and write the storage under dir.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	am := &alertmanager{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port), logs: &incidenttest.LogBuffer{}}
	cmd.Stdout, cmd.Stderr = am.logs, am.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager logs:\n%s", am.logs)
		}
	})
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(am.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("alertmanager not ready after %s:\n%s", wait, am.logs)
	return nil
}

// push posts alerts to Alertmanager's API v2; an alert with resolved set
// ends a second ago.
func (am *alertmanager) push(resolved bool, labelSets ...map[string]string) {
	am.t.Helper()
	var alerts []map[string]any
	for _, ls := range labelSets {
		a := map[string]any{"labels": ls, "annotations": map[string]string{"summary": ls["alertname"] + " on " + ls["instance"]},
			"generatorURL": "http://prometheus.example:9090/graph"}
		if resolved {
			a["endsAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
		}
		alerts = append(alerts, a)
	}
	body, _ := json.Marshal(alerts)
	resp, err := http.Post(am.base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		am.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		am.t.Fatalf("POST /api/v2/alerts: %d %s", resp.StatusCode, b)
	}
}

// metric returns the sum of the samples of name whose labels include
// every one of labels ("outcome=\"declared\""), read from base/metrics.
func metric(t *testing.T, base, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if i := strings.LastIndexByte(line, ' '); ok && i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			sum += v
		}
	}
	return sum
}

// waitFor polls cond until it holds or wait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not after %s", what, wait)
}

func notesOf(r recorded) []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == incident.KindNote {
			out = append(out, e.Text)
		}
	}
	return out
}

func TestServeWithRealAlertmanager(t *testing.T) {
	amBin := testenv.Alertmanager(t)
	fs := newFakeWorkspace(t)
	fs.AddChannel("COPSALERT", "ops-alerts")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(alertPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, fs, dir, "DRBOT_ALERT_TOKEN="+alertToken)
	am := startAlertmanager(t, amBin, srv.base)
	db := filepath.Join(dir, "drbot.db")
	eu1 := map[string]string{"alertname": "PaymentsDBDown", "cluster": "eu", "instance": "db-1", "severity": "critical"}
	eu2 := map[string]string{"alertname": "PaymentsDBDown", "cluster": "eu", "instance": "db-2", "severity": "critical"}
	us1 := map[string]string{"alertname": "PaymentsDBDown", "cluster": "us", "instance": "db-7", "severity": "critical"}

	// One group fires: one incident, however often Alertmanager repeats.
	am.push(false, eu1)
	waitFor(t, "incident 1 declared", func() bool { return len(readTimelines(t, db)) == 1 })
	waitFor(t, "two repeats answered", func() bool {
		return metric(t, srv.base, "drbot_alert_notifications_total", `outcome="unchanged"`) >= 2
	})
	// A second alert joins the group: noted in incident 1.
	am.push(false, eu1, eu2)
	waitFor(t, "db-2 noted in incident 1", func() bool {
		return strings.Contains(strings.Join(notesOf(readTimelines(t, db)[0]), "\n"), "firing: instance=db-2")
	})
	// Another group (cluster us) is another problem.
	am.push(false, us1)
	waitFor(t, "incident 2 declared", func() bool { return len(readTimelines(t, db)) == 2 })

	// No rule matches DiskFull; a wrong token is refused.
	am.push(false, map[string]string{"alertname": "DiskFull", "instance": "web-1"})
	am.push(false, map[string]string{"alertname": "PaymentsDBDown", "cluster": "ap", "severity": "critical", "token": "wrong"})
	waitFor(t, "DiskFull counted as unmatched", func() bool {
		return metric(t, srv.base, "drbot_alert_notifications_total", `outcome="unmatched"`) >= 1
	})
	waitFor(t, "the wrong token refused", func() bool {
		return metric(t, am.base, "alertmanager_notifications_failed_total", `integration="webhook"`) >= 1
	})
	if !strings.Contains(am.logs.String(), "401") {
		t.Errorf("alertmanager did not log drbot's 401:\n%s", am.logs)
	}

	// The whole group resolves: said in the channel with Resolve; the
	// incident stays open.
	am.push(true, eu1, eu2)
	ch := channelOf(t, db, 1)
	m := mustMessage(t, fs, ch, "resolved notice", withButton("Resolve", "every alert of", "PaymentsDBDown", "has resolved"))

	// An alert that asks: posted in #ops-alerts, declared by a press.
	am.push(false, map[string]string{"alertname": "CheckoutSlow", "instance": "web-3"})
	ask := mustMessage(t, fs, "COPSALERT", "the ask", withButton("Declare checkout-slow", "CheckoutSlow", "Nothing pages until someone presses"))
	srv.press(bob, ask, "Declare checkout-slow", fs.ResponseURL("ask"))
	mustMessage(t, fs, "COPSALERT", "the ask answered", containing("CheckoutSlow", "Declared by <@"+bob+">", "incident #3"))

	recs := readTimelines(t, db)
	if len(recs) != 3 {
		t.Fatalf("%d incidents, want 3 (eu, us, checkout)", len(recs))
	}
	if recs[0].inc.State != incident.StateOpen {
		t.Errorf("incident 1 is %s after its alerts resolved, want open (never resolved by itself)", recs[0].inc.State)
	}
	if got := recs[2].inc.DeclaredBy; got != bob {
		t.Errorf("incident 3 declared by %q, want bob (who pressed)", got)
	}
	if got := strings.Count(srv.logs.String(), "matches no rule"); got != 1 {
		t.Errorf("unmatched group logged %d times, want once", got)
	}
	if strings.Contains(srv.logs.String(), alertToken) {
		t.Error("drbot logged the alert token")
	}
	// Resolve opens the resolve dialog; submitting it resolves.
	srv.press(alice, m, "Resolve", fs.ResponseURL("resolve"))
	if v := openedView(t, fs, 1); v["callback_id"] != bot.ResolveCallbackID || v["private_metadata"] != ch {
		t.Fatalf("Resolve opened %v %v, want the resolve dialog of %s", v["callback_id"], v["private_metadata"], ch)
	}
	if status := srv.interaction(viewSubmission(alice, bot.ResolveCallbackID, ch, map[string]string{bot.BlockResolution: "Failed over to the replica"})); status != http.StatusOK {
		t.Fatalf("submit the resolve dialog: %d", status)
	}
	waitEvent(t, db, 1, incident.KindResolved)
}

// Without DRBOT_ALERT_TOKEN the alert endpoints are off: 404, saying how
// to turn them on, and nothing recorded.
func TestServeAlertEndpointsOff(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(alertPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, fs, dir)
	for _, path := range []string{"/alerts/alertmanager", "/alerts/grafana"} {
		code, body := srv.post(path, "application/json", []byte(`{}`), http.Header{"Authorization": {"Bearer " + alertToken}})
		if code != http.StatusNotFound || !strings.Contains(body, "set DRBOT_ALERT_TOKEN") {
			t.Errorf("%s: %d %q, want 404 saying to set DRBOT_ALERT_TOKEN", path, code, body)
		}
	}
	if n := len(readTimelines(t, filepath.Join(dir, "drbot.db"))); n != 0 {
		t.Errorf("%d incidents", n)
	}
	if !strings.Contains(srv.logs.String(), "the plan has alerts: rules but DRBOT_ALERT_TOKEN is not set") {
		t.Errorf("serve did not warn that the plan's alert rules cannot be reached without DRBOT_ALERT_TOKEN:\n%s", srv.logs)
	}
}
