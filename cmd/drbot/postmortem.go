package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

const postmortemUsage = `drbot postmortem [--format markdown|json] [--db FILE] ID

Prints the postmortem of incident ID: Markdown a team pastes into its
review, or JSON (the contract in interface.md). An incident still open gets
the postmortem so far. The incident is read with the plan it was declared
with, kept in the database; --plan is only used for incidents recorded
before plans were kept.`

// postmortemCommand is "drbot postmortem".
type postmortemCommand struct {
	stdout, stderr io.Writer
	now            func() time.Time // default time.Now; tests fix it
}

func (c *postmortemCommand) Run(ctx context.Context, args []string) error {
	flags := newFlagSet("postmortem", c.stderr, postmortemUsage)
	var cf common
	cf.register(flags)
	format := flags.String("format", "markdown", "output format: markdown or json")
	rest, err := parseInterleaved(flags, args)
	if err != nil {
		return usageError(err)
	}
	switch {
	case len(rest) != 1:
		flags.Usage()
		return &exitError{code: 2, err: fmt.Errorf("postmortem: want one incident ID, got %d arguments", len(rest))}
	case *format != "markdown" && *format != "json":
		flags.Usage()
		return &exitError{code: 2, err: fmt.Errorf("postmortem: --format %q: want markdown or json", *format)}
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id < 1 {
		flags.Usage()
		return &exitError{code: 2, err: fmt.Errorf("postmortem: incident ID %q: want a number such as 3", rest[0])}
	}
	log, err := cf.logger(c.stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	store, err := openStoreReadOnly(ctx, cf.db, log)
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	defer store.Close()

	var inc *incident.Incident
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		return fmt.Errorf("postmortem: no incident %d in %s (\"drbot incidents --drills\" lists them)", id, store.Path())
	}
	if err != nil {
		return fmt.Errorf("postmortem: incident %d: %w", id, err)
	}

	// The service needs a plan to be made; the one the incident ran with
	// is the right one, and the only one on a machine that has just the
	// database.
	plan, err := storedPlan(ctx, store, inc.PlanHash)
	if err != nil {
		p, ds, ferr := playbooks.Load(cf.plan)
		if ferr != nil || ds.HasErrors() {
			return fmt.Errorf("postmortem: incident %d: %v, and no usable plan file %s to fall back on", id, err, cf.plan)
		}
		plan = p
	}
	// The store is read-only; a plan without a hash is one the service
	// does not try to record on start.
	readOnly := *plan
	readOnly.Hash = ""
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	svc, err := incident.New(incident.Config{Plan: &readOnly, Store: store, Chat: noChat{}, Now: now, Logger: log})
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	pm, err := svc.Postmortem(ctx, id)
	if err != nil {
		return fmt.Errorf("postmortem: incident %d: %w", id, err)
	}
	if *format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // for people and jq, not for a web page
		return enc.Encode(pm)
	}
	_, err = io.WriteString(c.stdout, pm.Markdown())
	return err
}

// noChat is the chat surface of commands that only read: the service is
// never asked to deliver anything, and if it were, it must not.
type noChat struct{}

var errReadOnlyChat = &incident.ChatError{Method: "read-only command", Code: "not_sent", Permanent: true}

func (noChat) CreateChannel(context.Context, string) (string, string, error) {
	return "", "", errReadOnlyChat
}
func (noChat) Invite(context.Context, string, []string) error { return errReadOnlyChat }
func (noChat) SetTopic(context.Context, string, string) error { return errReadOnlyChat }
func (noChat) Pin(context.Context, string, string) error      { return errReadOnlyChat }
func (noChat) Webhook(context.Context, string, []byte) error  { return errReadOnlyChat }
func (noChat) LookupUserByEmail(context.Context, string) (string, error) {
	return "", errReadOnlyChat
}
func (noChat) Post(context.Context, string, incident.Message) (string, error) {
	return "", errReadOnlyChat
}
func (noChat) DM(context.Context, string, incident.Message) (string, string, error) {
	return "", "", errReadOnlyChat
}
func (noChat) Update(context.Context, string, string, incident.Message) error {
	return errReadOnlyChat
}
func (noChat) Ephemeral(context.Context, string, string, incident.Message) error {
	return errReadOnlyChat
}
