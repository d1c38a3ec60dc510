package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/alerts"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/internal/testenv"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// stormBody is notification i of a storm from groups groups: group
// i%groups, its alerts changing every third pass over the groups. Even
// groups carry grafana_folder, so the plan's first rule asks about them;
// odd ones are declared at once.
func stormBody(t testing.TB, i, groups int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, "alertmanager.json"), &m); err != nil {
		t.Fatal(err)
	}
	g := i % groups
	m["groupKey"] = fmt.Sprintf(`{}:{alertname="WarehouseDBDown", cluster="c%02d"}`, g)
	var alerts []any
	for n := range 1 + (i/(3*groups))%2 {
		ls := map[string]string{"alertname": "WarehouseDBDown", "cluster": fmt.Sprintf("c%02d", g), "instance": fmt.Sprintf("db-%d", n), "severity": "critical"}
		if g%2 == 0 {
			ls["grafana_folder"] = "Databases"
		}
		alerts = append(alerts, map[string]any{"status": "firing", "labels": ls, "fingerprint": fmt.Sprintf("%02d%014d", g, n)})
	}
	m["alerts"] = alerts
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storm sends n notifications from groups groups, from workers senders at
// once, and returns the outcomes and the slowest answer.
func (e *env) storm(n, groups, workers int) (map[string]int, time.Duration) {
	e.t.Helper()
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = stormBody(e.t, i, groups)
	}
	var (
		mu       sync.Mutex
		outcomes = map[string]int{}
		slowest  time.Duration
		wg       sync.WaitGroup
		next     = make(chan []byte)
	)
	for range workers {
		wg.Go(func() {
			for b := range next {
				start := time.Now()
				code, got := e.post("/alerts/alertmanager", "Bearer "+token, b)
				d := time.Since(start)
				var a struct{ Outcome string }
				_ = json.Unmarshal([]byte(got), &a)
				mu.Lock()
				if code != http.StatusOK {
					a.Outcome = fmt.Sprintf("status %d: %s", code, got)
				}
				outcomes[a.Outcome]++
				slowest = max(slowest, d)
				mu.Unlock()
			}
		})
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
	return outcomes, slowest
}

// A storm of 500 notifications from 50 groups, sent 8 at a time in no
// particular order, makes exactly one incident or one ask per group.
func TestStormOneIncidentOrAskPerGroup(t *testing.T) {
	e := newEnv(t)
	outcomes, slowest := e.storm(500, 50, 8)
	t.Logf("outcomes %v, slowest answer %s", outcomes, slowest)
	if outcomes["declared"] != 25 || outcomes["asked"] != 25 || outcomes["declared"]+outcomes["asked"]+outcomes["noted"]+outcomes["unchanged"] != 500 {
		t.Fatalf("outcomes = %v, want 25 declared, 25 asked, the rest noted or unchanged", outcomes)
	}
	if n := e.incidents(); n != 25 {
		t.Errorf("%d incidents, want 25", n)
	}
	if err := e.eng.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	asks := 0
	for _, m := range e.chat.Posts("ops-alerts") {
		if strings.Contains(m.Text, "Nothing pages until someone presses") {
			asks++
		}
	}
	if asks != 25 {
		t.Errorf("%d asks in #ops-alerts, want 25", asks)
	}
}

// BenchmarkStorm answers notifications of 50 groups in turn, over HTTP, on
// a SQLite file: after the first pass over the groups every one is a
// repeat or a change of an open group. ns/op is one answer; max-ms the slowest.
func BenchmarkStorm(b *testing.B) {
	e := newEnv(b)
	const groups = 50
	bodies := make([][]byte, 6*groups)
	for i := range bodies {
		bodies[i] = stormBody(b, i, groups)
	}
	var slowest time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if code, got := e.post("/alerts/alertmanager", "Bearer "+token, bodies[i%len(bodies)]); code != http.StatusOK {
			b.Fatalf("%d %s", code, got)
		}
		slowest = max(slowest, time.Since(start))
		i++
	}
	b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms")
	if n := e.incidents(); n > groups/2 {
		b.Fatalf("%d incidents from %d auto groups", n, groups/2)
	}
}

// Two drbot instances on one PostgreSQL database take the same storm, the
// same groups sent to both at once: still one incident or one ask per
// group, since what drbot remembers of a group is in the database and
// changed in its transactions.
func TestTwoInstancesOnePostgreSQL(t *testing.T) {
	url := testenv.PostgresDB(t)
	plan, ds := playbooks.Parse("plan.yaml", []byte(planYAML))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	var urls []string
	for range 2 {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		eng, err := incident.New(incident.Config{Plan: plan, Store: st, Chat: incidenttest.NewFakeChat()})
		if err != nil {
			t.Fatal(err)
		}
		h, err := alerts.New(alerts.Config{Engine: eng, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	e := &env{t: t}
	outcomes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			e := *e
			e.url = urls[i%2]
			code, got := e.post("/alerts/alertmanager", "Bearer "+token, stormBody(t, i/2, 20))
			var a struct{ Outcome string }
			_ = json.Unmarshal([]byte(got), &a)
			mu.Lock()
			defer mu.Unlock()
			if code != http.StatusOK {
				a.Outcome = got
			}
			outcomes[a.Outcome]++
		})
	}
	wg.Wait()
	if outcomes["declared"] != 10 || outcomes["asked"] != 10 {
		t.Errorf("outcomes = %v, want 10 declared and 10 asked for 20 groups", outcomes)
	}
}
