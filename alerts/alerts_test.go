package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drbot-dev/drbot/alerts"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage"
)

const token = "s3cret-alert-token"

const planYAML = `version: 1
contacts:
  alice: {name: Alice, slack: U0ALICE01}
  bob: {name: Bob, slack: U0BOB0001}
roles:
  commander: [alice, bob]
scenarios:
  warehouse-db:
    title: Warehouse database down
    severity: sev1
    page: [commander]
    steps:
      - {id: look, do: Look.}
alerts:
  - matchers: ['alertname="WarehouseDBDown"', 'grafana_folder="Databases"']
    scenario: warehouse-db
  - matchers: ['alertname="WarehouseDBDown"', 'severity=~"critical|page"']
    scenario: warehouse-db
    declare: auto
alert_channel: ops-alerts
`

type env struct {
	t     testing.TB
	url   string
	store *storage.Store
	chat  *incidenttest.FakeChat
	eng   *incident.Engine
	reg   *prometheus.Registry
}

func newEnv(t testing.TB) *env {
	t.Helper()
	plan, ds := playbooks.Parse("plan.yaml", []byte(planYAML))
	if ds.HasErrors() || len(ds) > 0 {
		t.Fatalf("plan: %v", ds)
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{Path: filepath.Join(t.TempDir(), "drbot.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	chat := incidenttest.NewFakeChat()
	clock := incidenttest.NewClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	eng, err := incident.New(incident.Config{Plan: plan, Store: st, Chat: chat, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h, err := alerts.New(alerts.Config{Engine: eng, Token: token, MaxBody: 64 << 10, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: st, chat: chat, eng: eng, reg: reg}
}

func (e *env) post(path, auth string, body []byte) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func (e *env) incidents() int {
	e.t.Helper()
	list, err := e.eng.Incidents(context.Background(), incident.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAlertmanagerDeclaresOnce(t *testing.T) {
	e := newEnv(t)
	body := readFile(t, "alertmanager.json")
	code, got := e.post("/alerts/alertmanager", "Bearer "+token, body)
	if code != http.StatusOK || got != `{"outcome":"declared","incident":1,"scenario":"warehouse-db"}` {
		t.Fatalf("first: %d %s", code, got)
	}
	code, got = e.post("/alerts/alertmanager", "bearer "+token, body)
	if code != http.StatusOK || got != `{"outcome":"unchanged","incident":1,"scenario":"warehouse-db"}` {
		t.Fatalf("repeat: %d %s", code, got)
	}
	if n := e.incidents(); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	if v := (e.counted("Alertmanager", "unchanged")); v != 1 {
		t.Errorf("unchanged counted %v times, want 1", v)
	}
}

// counted returns drbot_alert_notifications_total{source,outcome}.
func (e *env) counted(source, outcome string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "drbot_alert_notifications_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			if ls["source"] == source && ls["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestGrafanaAsksWithItsLinks(t *testing.T) {
	e := newEnv(t)
	body := readFile(t, "grafana.json")
	code, got := e.post("/alerts/grafana", "Bearer "+token, body)
	if code != http.StatusOK || got != `{"outcome":"asked","scenario":"warehouse-db"}` {
		t.Fatalf("first: %d %s", code, got)
	}
	if code, got := e.post("/alerts/grafana", "Bearer "+token, body); code != http.StatusOK || !strings.Contains(got, `"unchanged"`) {
		t.Fatalf("repeat: %d %s", code, got)
	}
	if err := e.eng.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts := e.chat.Posts("ops-alerts")
	if len(posts) != 1 {
		t.Fatalf("%d posts in ops-alerts, want 1 ask", len(posts))
	}
	for _, want := range []string{"|Dashboard>", "|Panel>", "|Silence>", "|Rule>", "<https://grafana.example/|Grafana>"} {
		if !strings.Contains(posts[0].Context, want) {
			t.Errorf("ask's links %q lack %q", posts[0].Context, want)
		}
	}
	if !strings.Contains(posts[0].Text, "*WarehouseDBDown* from Grafana: 1 alert firing") {
		t.Errorf("ask = %q", posts[0].Text)
	}
	if n := e.incidents(); n != 0 {
		t.Errorf("%d incidents before anyone declared, want 0", n)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	body := readFile(t, "alertmanager.json")
	for _, auth := range []string{"", "Basic " + token, "Bearer wrong", "Bearer", "Bearer " + token + "x", token} {
		code, got := e.post("/alerts/alertmanager", auth, body)
		if code != http.StatusUnauthorized || !strings.Contains(got, "DRBOT_ALERT_TOKEN") || strings.Contains(got, token) {
			t.Errorf("Authorization %q: %d %q, want 401 naming DRBOT_ALERT_TOKEN", auth, code, got)
		}
	}
	if n := e.incidents(); n != 0 {
		t.Errorf("%d incidents after refused requests", n)
	}
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	am := readFile(t, "alertmanager.json")
	graf := readFile(t, "grafana.json")
	var noKey map[string]any
	if err := json.Unmarshal(am, &noKey); err != nil {
		t.Fatal(err)
	}
	delete(noKey, "groupKey")
	noKeyBody, _ := json.Marshal(noKey)
	badStatus := strings.Replace(string(am), `"status": "firing",
  "alerts"`, `"status": "burning",
  "alerts"`, 1)
	tests := []struct {
		path, body, want string
	}{
		{"/alerts/alertmanager", "not json", "the body is not JSON"},
		{"/alerts/alertmanager", "[1, 2]", "not an object"},
		{"/alerts/alertmanager", "{}", "empty object"},
		{"/alerts/alertmanager", string(graf), "send it to /alerts/grafana"},
		{"/alerts/alertmanager", string(noKeyBody), "no groupKey"},
		{"/alerts/alertmanager", `{"version": "3", "status": "firing", "alerts": []}`, `version "3"`},
		{"/alerts/alertmanager", `{"version": "4", "groupKey": "k", "status": "firing", "alerts": []}`, "no alerts"},
		{"/alerts/alertmanager", badStatus, `status is "burning"`},
		{"/alerts/alertmanager", `{"version": "4", "groupKey": "k", "status": "firing", "alerts": [{"status": "firing"}]}`, "alerts[0] has no labels"},
		{"/alerts/alertmanager", `{"version": "4", "groupKey": 7}`, "field groupKey is a JSON number, want string"},
		{"/alerts/grafana", string(am), "send it to /alerts/alertmanager"},
		{"/alerts/grafana", string(readFile(t, "grafana-legacy.json")), "legacy alerting webhook"},
	}
	for _, tc := range tests {
		code, got := e.post(tc.path, "Bearer "+token, []byte(tc.body))
		if code != http.StatusBadRequest || !strings.Contains(got, tc.want) {
			t.Errorf("%s %.40q: %d %q, want 400 with %q", tc.path, tc.body, code, got, tc.want)
		}
	}
	big := `{"version": "4", "groupKey": "` + strings.Repeat("k", 70<<10) + `"}`
	if code, got := e.post("/alerts/alertmanager", "Bearer "+token, []byte(big)); code != http.StatusRequestEntityTooLarge || !strings.Contains(got, "max_alerts") {
		t.Errorf("too big: %d %q, want 413", code, got)
	}
	if n := e.incidents(); n != 0 {
		t.Errorf("%d incidents after refused bodies", n)
	}
}

func TestUnmatchedIsCounted(t *testing.T) {
	e := newEnv(t)
	body := strings.ReplaceAll(string(readFile(t, "alertmanager.json")), "WarehouseDBDown", "DiskFull")
	for range 2 {
		if code, got := e.post("/alerts/alertmanager", "Bearer "+token, []byte(body)); code != http.StatusOK || got != `{"outcome":"unmatched"}` {
			t.Fatalf("unmatched: %d %s", code, got)
		}
	}
	if v := (e.counted("Alertmanager", "unmatched")); v != 2 {
		t.Errorf("unmatched counted %v, want 2", v)
	}
}

func TestOff(t *testing.T) {
	srv := httptest.NewServer(alerts.Off())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/alerts/alertmanager", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "set DRBOT_ALERT_TOKEN") {
		t.Errorf("off: %d %q", resp.StatusCode, b)
	}
	if _, err := alerts.New(alerts.Config{Engine: (*incident.Engine)(nil)}); err == nil || !strings.Contains(err.Error(), "DRBOT_ALERT_TOKEN") {
		t.Errorf("New without a token: %v", err)
	}
}
