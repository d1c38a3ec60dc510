package incident

import (
	"strings"
	"testing"
	"time"
)

func TestScenariosTextLeavesOutMissingService(t *testing.T) {
	got := scenariosText([]ScenarioInfo{
		{ID: "db-corruption", Title: "Corrupted <db>", Service: "payments-db", Severity: "sev1", RTO: 2 * time.Hour},
		{ID: "data-leak", Title: "Data leak", Severity: "sev1"},
	})
	for _, want := range []string{
		"• `db-corruption` — Corrupted &lt;db&gt; · payments-db · sev1 · RTO 2h",
		"• `data-leak` — Data leak · sev1 · no RTO",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scenarios text lacks %q:\n%s", want, got)
		}
	}
}
