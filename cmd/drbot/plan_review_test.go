package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage"
)

const reviewedPlan = `version: 1
timezone: Europe/Oslo
contacts:
  alice: {name: Alice Berg, slack: U0ALICE01}
  bob: {name: Bob Dahl, slack: U0BOB0001}
roles:
  commander: [alice, bob]
scenarios:
  outage:
    title: Outage
    severity: sev2
    page: [commander]
    steps:
      - {id: look, do: Look., estimate: 10m}
review:
  schedule: "0 9 1 */3 *"
  owners: [alice]
`

// confirmedDB makes a database in which alice confirmed the contact list
// at 09:14 in Oslo, the way drbot records it: the review's Confirm button.
func confirmedDB(t *testing.T, planPath string) string {
	t.Helper()
	ctx := context.Background()
	plan, diags, err := playbooks.Load(planPath)
	if err != nil || diags.HasErrors() {
		t.Fatalf("load plan: %v %v", err, diags)
	}
	db := filepath.Join(t.TempDir(), "drbot.db")
	st, err := storage.Open(ctx, storage.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	chat := incidenttest.NewFakeChat()
	chat.SetUser(incident.UserInfo{ID: "U0ALICE01"})
	chat.SetUser(incident.UserInfo{ID: "U0BOB0001"})
	clock := incidenttest.NewClock(time.Date(2026, 11, 20, 8, 14, 0, 0, time.UTC))
	svc, err := incident.New(incident.Config{Plan: plan, Store: st, Chat: chat, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SendReview(ctx, "U0ALICE01"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	b, ok := chat.FindButton(incidenttest.DMChannel("U0ALICE01"), "Confirm")
	if !ok {
		t.Fatal("no Confirm button in alice's review")
	}
	if _, err := svc.Press(ctx, incident.PressRequest{UserID: "U0ALICE01", ChannelID: incidenttest.DMChannel("U0ALICE01"), Action: b.Action}); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPlanCheckContactsConfirmed(t *testing.T) {
	path := writePlan(t, reviewedPlan)
	db := confirmedDB(t, path)

	code, out, errOut := runPlan(t, "check", "--db", db, path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"Contacts last confirmed 2026-11-20 09:14 CET by Alice Berg", path + ": 0 errors, 0 warnings"}
	if diff := cmp.Diff(want, lines[len(lines)-2:]); diff != "" {
		t.Errorf("last lines (-want +got):\n%s\nwhole output:\n%s", diff, out)
	}

	code, out, _ = runPlan(t, "check", "--format", "json", "--db", db, path)
	if code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	var got struct {
		Contacts map[string]any `json:"contacts"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"confirmed": true, "at": "2026-11-20T08:14:00Z", "by": "U0ALICE01", "contact": "alice", "name": "Alice Berg"}
	if diff := cmp.Diff(wantJSON, got.Contacts); diff != "" {
		t.Errorf("json contacts (-want +got):\n%s", diff)
	}
}

func TestPlanCheckContactsNeverConfirmedOrNoDatabase(t *testing.T) {
	path := writePlan(t, reviewedPlan)
	db := filepath.Join(t.TempDir(), "drbot.db")
	st, err := storage.Open(context.Background(), storage.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, out, _ := runPlan(t, "check", "--db", db, path)
	if !strings.Contains(out, "\nContacts never confirmed\n") {
		t.Errorf("with an empty database:\n%s", out)
	}
	_, out, errOut := runPlan(t, "check", "--db", filepath.Join(t.TempDir(), "none.db"), path)
	if strings.Contains(out, "\nContacts ") || errOut != "" {
		t.Errorf("without a database: stdout\n%s\nstderr %q", out, errOut)
	}
	_, out, _ = runPlan(t, "check", "--format", "json", "--db", filepath.Join(t.TempDir(), "none.db"), path)
	if strings.Contains(out, `"contacts"`) {
		t.Errorf("json without a database has contacts:\n%s", out)
	}
}
