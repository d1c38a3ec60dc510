package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

const statsUsage = `drbot stats [--since DURATION|DATE] [--format text|json] [--db FILE]

Prints figures across incidents, computed from their timelines (each
incident's postmortem): per severity and per scenario the count, MTTA (to
the first acknowledgement by someone other than the declarer), MTTR, RTO
met % (of those resolved with an RTO), RPO met % (of those with a recovery
point), pages per incident, escalations and the approvals' median wait.
Drills are reported apart, with each drill's time to recover against its
RTO, oldest first. --since is a duration before now (30d, 12h) or a date
(2026-10-01, in the plan's timezone); without it, all incidents. It only
reads the database.`

// statsCommand is "drbot stats".
type statsCommand struct {
	stdio
	now func() time.Time // default time.Now; tests fix it
}

func (c *statsCommand) Run(ctx context.Context, args []string) error {
	flags, cf := newCommonFlagSet("stats", c.stderr, statsUsage)
	since := flags.String("since", "", "only incidents declared since `WHEN`: a duration (30d) or a date (2026-10-01)")
	format := formatFlag(flags, "text", "json")
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	if err := format.check(flags); err != nil {
		return err
	}
	store, err := cf.openReadOnly(ctx, c.stderr, "stats")
	if err != nil {
		return err
	}
	defer store.Close()
	now := dbNow(ctx, store, c.now, c.stderr, store.name)

	in, err := statsInputs(ctx, store)
	if err != nil {
		return err
	}
	var list []*incident.Incident
	for _, x := range in {
		list = append(list, x.Incident)
	}
	loc := (&incidentsCommand{}).location(ctx, store, cf.plan, list)
	from, err := incident.ParseSince(*since, now, loc)
	if err != nil {
		return misuse(flags, "--%s", incident.ErrorMessage(err))
	}
	st := incident.ComputeStats(in, from, now.UTC())
	if format.value == "json" {
		return writeJSON(c.stdout, st)
	}
	_, err = io.WriteString(c.stdout, st.Text(loc))
	return err
}

// statsInputs reads every incident with its timeline and the plan it was
// declared with (parsed once per plan), newest first.
func statsInputs(ctx context.Context, store incident.Store) ([]incident.StatsInput, error) {
	var in []incident.StatsInput
	err := store.View(ctx, func(tx incident.Tx) error {
		var err error
		in, err = incident.ReadStatsInputs(tx, incident.Filter{}, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	plans := map[string]*playbooks.Plan{}
	for i := range in {
		hash := in[i].Incident.PlanHash
		p, seen := plans[hash]
		if !seen {
			// Without its plan an incident still has every figure.
			p, _ = storedPlan(ctx, store, hash)
			plans[hash] = p
		}
		in[i].Plan = p
	}
	return in, nil
}
