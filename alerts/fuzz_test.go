package alerts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/drbot-dev/drbot/incident"
)

// FuzzDecode feeds both decoders any body: they never panic, and a body
// they accept is a notification the engine can work on (a group key, and
// a fingerprint and labels for every alert).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"alertmanager.json", "grafana.json", "grafana-legacy.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range []func([]byte) (incident.AlertGroup, error){decodeAlertmanager, decodeGrafana} {
			g, err := decode(body)
			if err != nil {
				continue
			}
			if g.Key == "" || len(g.Alerts) == 0 {
				t.Fatalf("accepted a notification with key %q and %d alerts", g.Key, len(g.Alerts))
			}
			for i, a := range g.Alerts {
				if a.Fingerprint == "" || len(a.Labels) == 0 {
					t.Fatalf("accepted alert %d without a fingerprint or labels: %+v", i, a)
				}
			}
		}
	})
}
