package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

const postmortemUsage = `drbot postmortem [--format markdown|json] [--db FILE] ID

Prints the postmortem of incident ID: Markdown a team pastes into its
review, or JSON (the contract in docs/http.md). An incident still open gets
the postmortem so far. It only reads the database. The plan the incident
was declared with is kept there and used; --plan stands in when it is
missing.`

// postmortemCommand is "drbot postmortem".
type postmortemCommand struct {
	stdio
	now func() time.Time // default time.Now; tests fix it
}

func (c *postmortemCommand) Run(ctx context.Context, args []string) error {
	flags, cf := newCommonFlagSet("postmortem", c.stderr, postmortemUsage)
	format := formatFlag(flags, "markdown", "json")
	rest, err := parseInterleaved(flags, args)
	if err != nil {
		return usageError(flags, err)
	}
	if len(rest) != 1 {
		return misuse(flags, "want one incident ID, got %d arguments", len(rest))
	}
	if err := format.check(flags); err != nil {
		return err
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id < 1 {
		return misuse(flags, "incident ID %q: want a number such as 3", rest[0])
	}
	store, err := cf.openReadOnly(ctx, c.stderr, "postmortem")
	if err != nil {
		return err
	}
	defer store.Close()

	var (
		inc    *incident.Incident
		events []incident.Event
	)
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		events, err = tx.Timeline(id)
		return err
	})
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		return fmt.Errorf("postmortem: no incident %d in %s (\"drbot incidents --drills\" lists them)", id, store.name)
	}
	if err != nil {
		return fmt.Errorf("postmortem: incident %d: %w", id, err)
	}

	// The plan gives step texts, estimates and people's names. The one the
	// incident ran with is kept in the database, so a machine with only
	// the database (a restored backup) has it; the plan file stands in for
	// an incident recorded without it. Without either, the postmortem
	// still has every figure and event, with ids for names.
	plan, err := storedPlan(ctx, store, inc.PlanHash)
	if err != nil {
		p, ds, ferr := playbooks.LoadWith(cf.plan, playbooks.Options{UnsetIsWarning: true})
		if ferr != nil || ds.HasErrors() {
			fmt.Fprintf(c.stderr, "drbot: postmortem: incident %d: %v, and no usable plan file %s: steps and people are shown by id\n", id, err, cf.plan)
		} else {
			plan = p
		}
	}
	now := dbNow(ctx, store, c.now, c.stderr, store.name)
	// BuildPostmortem is what Engine.Postmortem computes; called directly
	// because this command only reads, and an Engine would record its plan
	// in the database on start.
	pm := incident.BuildPostmortem(inc, events, plan, now.UTC())
	if format.value == "json" {
		return writeJSON(c.stdout, pm)
	}
	_, err = io.WriteString(c.stdout, pm.Markdown())
	return err
}
