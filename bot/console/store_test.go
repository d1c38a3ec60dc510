package console

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

func TestSerialOutboxHandsOutTheOldestDueMessageOnly(t *testing.T) {
	ctx := context.Background()
	mem := incidenttest.NewMemStore()
	err := mem.Update(ctx, func(tx incident.Tx) error {
		for _, lane := range []string{"user/bob", "inc/1", "user/alice"} {
			o := &incident.Outgoing{Lane: lane, Kind: incident.OutPost, Due: start, Body: incident.OutBody{Message: &incident.Message{Text: lane}}}
			if err := tx.Enqueue(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []incident.Store{mem, SerialOutbox(mem)} {
		var due []incident.Outgoing
		err := s.View(ctx, func(tx incident.Tx) (err error) {
			due, err = tx.DueOutgoing(start, 100)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := 3
		if _, serial := s.(serialStore); serial {
			want = 1
		}
		if len(due) != want {
			t.Fatalf("%T: %d due, want %d", s, len(due), want)
		}
		if due[0].Lane != "user/bob" {
			t.Errorf("%T: first due is in lane %s, want the oldest, user/bob", s, due[0].Lane)
		}
	}
}

// TestWithTheRealServiceTheTranscriptIsTheSameEveryTime runs an incident
// on the real service (with the in-memory store) several times: the
// service delivers lanes concurrently, so without SerialOutbox the order
// of the lines, and what "press 1" presses, would change from run to run.
func TestWithTheRealServiceTheTranscriptIsTheSameEveryTime(t *testing.T) {
	plan, diags, err := playbooks.Load("../../examples/plan.yaml")
	if err != nil || diags.HasErrors() {
		t.Fatalf("load the example plan: %v %v", err, diags.Err())
	}
	script := strings.Join([]string{
		"/incident declare db-corruption disk full",
		"press Acknowledge",
		"wait 5m",
		"as carol",
		"press 1", // the newest message with buttons: carol's page

		"in #inc-1-db-corruption",
		"press No",
		"as erin",
		"press Approve",
		"wait 1h",
	}, "\n")
	var first string
	for run := range 5 {
		var out bytes.Buffer
		c := New(Config{Plan: plan, Start: start, Out: &out})
		svc, err := incident.New(incident.Config{Plan: plan, Store: SerialOutbox(incidenttest.NewMemStore()), Chat: c.Chat(), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		c.SetEngine(svc)
		if err := c.Run(context.Background(), strings.NewReader(script), RunOptions{Name: "s"}); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out.String())
		}
		if run == 0 {
			first = out.String()
			for _, want := range []string{"[11:05] @carol: @carol pressed [Acknowledge]", "@erin pressed [Approve]", "[12:00] #inc-1-db-corruption: ", "RTO 50%"} {
				if !strings.Contains(first, want) {
					t.Errorf("transcript lacks %q:\n%s", want, first)
				}
			}
			continue
		}
		if got := out.String(); got != first {
			t.Fatalf("run %d printed another transcript than run 0:\n--- run 0\n%s\n--- run %d\n%s", run, first, run, got)
		}
	}
}
