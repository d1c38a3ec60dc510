package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

const incidentsUsage = `drbot incidents [--drills] [--state open|resolved] [--format text|json] [--db FILE]

Lists incidents, newest first: id, state, scenario, when declared, the time
taken against the RTO, whether the RTO was met, and the data lost against
the RPO ("?" until a recovery point is recorded). Drills are left out
unless --drills is given. Times are shown in the plan's timezone (--plan);
without a readable plan, in the timezone of the plan the newest incident
was declared with, else UTC.`

// incidentsCommand is "drbot incidents".
type incidentsCommand struct {
	stdio
	now func() time.Time // default time.Now; tests fix it
}

// incidentRow is one incident in "drbot incidents --format json".
type incidentRow struct {
	ID         int64          `json:"id"`
	State      incident.State `json:"state"`
	Scenario   string         `json:"scenario"`
	Title      string         `json:"title"`
	Severity   string         `json:"severity"`
	Service    string         `json:"service"`
	Drill      bool           `json:"drill"`
	DeclaredAt string         `json:"declared_at"`
	ResolvedAt string         `json:"resolved_at"`
	// ElapsedSeconds is the time to recover of a resolved incident, the
	// time so far of an open one.
	ElapsedSeconds int64 `json:"elapsed_seconds"`
	RTOSeconds     int64 `json:"rto_seconds"`
	// RTOMet is null while the incident is open and within its RTO: it is
	// not decided yet.
	RTOMet  *bool  `json:"rto_met"`
	Channel string `json:"channel"`
	// The RPO, the RTO's twin: null when there is none, or no recovery
	// point recorded.
	RPOSeconds      *int64 `json:"rpo_seconds"`
	DataLossSeconds *int64 `json:"data_loss_seconds"`
	RPOMet          *bool  `json:"rpo_met"`
}

func (c *incidentsCommand) Run(ctx context.Context, args []string) error {
	flags, cf := newCommonFlagSet("incidents", c.stderr, incidentsUsage)
	drills := flags.Bool("drills", false, "include drills, marked as such")
	state := flags.String("state", "", "only incidents in `STATE`: open or resolved")
	format := formatFlag(flags, "text", "json")
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	switch {
	case *state != "" && incident.State(*state) != incident.StateOpen && incident.State(*state) != incident.StateResolved:
		return misuse(flags, "--state %q: want open or resolved", *state)
	}
	if err := format.check(flags); err != nil {
		return err
	}
	store, err := cf.openReadOnly(ctx, c.stderr, "incidents")
	if err != nil {
		return err
	}
	defer store.Close()

	f := incident.Filter{State: incident.State(*state)}
	if !*drills {
		no := false
		f.Drills = &no
	}
	var list []*incident.Incident
	err = store.View(ctx, func(tx incident.Tx) error {
		var err error
		list, err = tx.Incidents(f)
		return err
	})
	if err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	loc := c.location(ctx, store, cf.plan, list)
	now := dbNow(ctx, store, c.now, c.stderr, store.name)
	if format.value == "json" {
		rows := make([]incidentRow, 0, len(list))
		for _, inc := range list {
			rows = append(rows, newIncidentRow(inc, now))
		}
		return writeJSON(c.stdout, rows)
	}
	if len(list) == 0 {
		what := "incidents"
		if *state != "" {
			what = *state + " incidents"
		}
		if !*drills {
			what += " (drills are left out; --drills shows them)"
		}
		fmt.Fprintf(c.stdout, "No %s.\n", what)
		return nil
	}
	return writeIncidentTable(c.stdout, list, now, loc)
}

// writeIncidentTable writes the incidents as a table, times in loc.
func writeIncidentTable(w io.Writer, list []*incident.Incident, now time.Time, loc *time.Location) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSCENARIO\tDECLARED\tELAPSED / RTO\tSTATUS\tDATA LOST / RPO\tDRILL")
	for _, inc := range list {
		elapsed, verdict := rtoStanding(inc, now)
		rto := "none"
		if inc.RTO > 0 {
			rto = playbooks.FormatDuration(inc.RTO)
		}
		drill := ""
		if inc.Drill {
			drill = "drill"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s / %s\t%s\t%s\t%s\n", inc.ID, inc.State, inc.Scenario,
			inc.DeclaredAt.In(loc).Format("2006-01-02 15:04 MST"),
			playbooks.FormatDuration(elapsed.Truncate(time.Minute)), rto, verdict, rpoStanding(inc), drill)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads every cell but the last; an empty DRILL cell would
	// leave trailing blanks.
	for line := range strings.Lines(table.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v as indented JSON, for people and jq: "<" stays "<",
// not "\u003c" as it would for a web page.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// rtoStanding returns the time an incident took (resolved) or has taken so
// far (open), and how that stands against its RTO: "met", "missed by 20m",
// "50m left" or "none" when the service has no RTO.
func rtoStanding(inc *incident.Incident, now time.Time) (time.Duration, string) {
	end := now
	if inc.State == incident.StateResolved && !inc.ResolvedAt.IsZero() {
		end = inc.ResolvedAt
	}
	elapsed := max(end.Sub(inc.DeclaredAt), 0)
	switch {
	case inc.RTO <= 0:
		return elapsed, "none"
	case elapsed > inc.RTO:
		return elapsed, "missed by " + playbooks.FormatDuration((elapsed - inc.RTO).Truncate(time.Minute))
	case inc.State == incident.StateResolved:
		return elapsed, "met"
	default:
		return elapsed, playbooks.FormatDuration((inc.RTO - elapsed).Truncate(time.Minute)) + " left"
	}
}

func newIncidentRow(inc *incident.Incident, now time.Time) incidentRow {
	elapsed, _ := rtoStanding(inc, now)
	r := incidentRow{
		ID: inc.ID, State: inc.State, Scenario: inc.Scenario, Title: inc.Title,
		Severity: inc.Severity, Service: inc.Service, Drill: inc.Drill,
		DeclaredAt:     inc.DeclaredAt.UTC().Format(time.RFC3339),
		ElapsedSeconds: int64(elapsed / time.Second),
		RTOSeconds:     int64(inc.RTO / time.Second),
		Channel:        inc.ChannelName,
	}
	if !inc.ResolvedAt.IsZero() {
		r.ResolvedAt = inc.ResolvedAt.UTC().Format(time.RFC3339)
	}
	if inc.RTO > 0 && (inc.State == incident.StateResolved || elapsed > inc.RTO) {
		met := elapsed <= inc.RTO
		r.RTOMet = &met
	}
	if inc.RPO > 0 {
		rpo := int64(inc.RPO / time.Second)
		r.RPOSeconds = &rpo
	}
	if lost, ok := inc.DataLoss(); ok {
		s := int64(lost / time.Second)
		r.DataLossSeconds = &s
		if inc.RPO > 0 {
			met := lost <= inc.RPO
			r.RPOMet = &met
		}
	}
	return r
}

// rpoStanding is the DATA LOST / RPO column: "10m / 15m met", "20m / 15m
// missed", "? / 15m" before a recovery point is recorded, "10m / none",
// or "none".
func rpoStanding(inc *incident.Incident) string {
	rpo := "none"
	if inc.RPO > 0 {
		rpo = playbooks.FormatDuration(inc.RPO)
	}
	lost, ok := inc.DataLoss()
	switch {
	case !ok && inc.RPO == 0:
		return "none"
	case !ok:
		return "? / " + rpo
	case inc.RPO == 0:
		return playbooks.FormatDuration(lost) + " / none"
	case lost <= inc.RPO:
		return playbooks.FormatDuration(lost) + " / " + rpo + " met"
	}
	return playbooks.FormatDuration(lost) + " / " + rpo + " missed"
}

// location picks the timezone to show times in: the plan file's when it
// loads cleanly, else that of the plan the newest incident was declared
// with (kept in the database), else UTC. Listing incidents must work on a
// machine that has only the database, such as one restoring a backup.
func (c *incidentsCommand) location(ctx context.Context, store incident.Store, planPath string, list []*incident.Incident) *time.Location {
	if p, ds, err := playbooks.LoadWith(planPath, playbooks.Options{UnsetIsWarning: true}); err == nil && !ds.HasErrors() && p.Location != nil {
		return p.Location
	}
	if len(list) > 0 {
		if p, err := storedPlan(ctx, store, list[0].PlanHash); err == nil && p.Location != nil {
			return p.Location
		}
	}
	return time.UTC
}

// storedPlan parses the plan with the given hash from the database, where
// the service keeps every plan an incident was declared with.
func storedPlan(ctx context.Context, store incident.Store, hash string) (*playbooks.Plan, error) {
	if hash == "" {
		return nil, errors.New("the incident records no plan")
	}
	var src []byte
	err := store.View(ctx, func(tx incident.Tx) error {
		var err error
		src, err = tx.PlanSource(hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stored plan %.12s: %w", hash, err)
	}
	// Read-only commands never call the webhook: its secret need not be
	// set where they run.
	p, ds := playbooks.ParseWith("stored plan "+short(hash), src, playbooks.Options{UnsetIsWarning: true})
	if err := ds.Err(); err != nil {
		return nil, fmt.Errorf("stored plan %.12s: %w", hash, err)
	}
	return p, nil
}

// openReadOnly opens the existing database of --db for a command that
// only reads it (incidents, postmortem, backup), logging at --log-level.
// A missing file is an error, not a new empty database: "no incidents" for
// a mistyped --db would be a lie. Errors start with cmd; a bad --log-level
// is a usage error (exit status 2).
func (c *common) openReadOnly(ctx context.Context, stderr io.Writer, cmd string) (*database, error) {
	log, err := c.logger(stderr)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	store, err := openDatabase(ctx, c.db, log, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return store, nil
}
