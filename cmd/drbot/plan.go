package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

const planUsage = `drbot plan check [--strict] [--format text|json] [FILE]   validate a plan (FILE defaults to --plan; - reads stdin)
       drbot plan doc [--format html|markdown] [--out FILE] [FILE]  the plan as a printable book
       drbot plan schema                                        print the plan's JSON Schema`

// planCommand is "drbot plan": check a plan file, or print its schema.
type planCommand struct {
	stdio
}

func (c *planCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(c.stderr, "Usage: %s\n", planUsage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "check":
		return c.check(ctx, args[1:])
	case "schema":
		return c.schema(args[1:])
	case "doc":
		return c.doc(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(c.stdout, "Usage: %s\n", planUsage)
		return nil
	}
	fmt.Fprintf(c.stderr, "Usage: %s\n", planUsage)
	if near := playbooks.Closest(args[0], []string{"check", "doc", "schema"}); near != "" {
		return &exitError{code: 2, err: fmt.Errorf("plan: unknown subcommand %q; did you mean \"drbot plan %s\"?", args[0], near)}
	}
	return &exitError{code: 2, err: fmt.Errorf("plan: unknown subcommand %q", args[0])}
}

func (c *planCommand) schema(args []string) error {
	fs := newFlagSet("plan schema", c.stderr, "drbot plan schema")
	if err := fs.Parse(args); err != nil {
		return usageError(fs, err)
	}
	if fs.NArg() > 0 {
		return misuse(fs, "unexpected argument %q", fs.Arg(0))
	}
	_, err := c.stdout.Write(playbooks.Schema())
	return err
}

// load reads the plan at file, or from stdin when file is "-" (an editor
// or a pre-commit hook piping the buffer); its diagnostics then say
// "stdin:LINE:COL".
func (c *planCommand) load(file string, o playbooks.Options) (*playbooks.Plan, playbooks.Diagnostics, error) {
	if file != "-" {
		return playbooks.LoadWith(file, o)
	}
	in := c.stdin
	if in == nil {
		in = os.Stdin
	}
	data, err := io.ReadAll(io.LimitReader(in, maxPlanBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read plan from stdin: %w", err)
	}
	if len(data) > maxPlanBytes {
		return nil, nil, fmt.Errorf("read plan from stdin: more than %d MiB; a plan is a few hundred KiB at most", maxPlanBytes>>20)
	}
	p, ds := playbooks.ParseWith("stdin", data, o)
	return p, ds, nil
}

// maxPlanBytes bounds a plan read from stdin (a file is read whole, as
// its size is known).
const maxPlanBytes = 16 << 20

func (c *planCommand) check(ctx context.Context, args []string) error {
	fs, cfg := newCommonFlagSet("plan check", c.stderr, "drbot plan check [--strict] [--format text|json] [FILE]")
	strict := fs.Bool("strict", false, "treat warnings as errors (exit status 1)")
	format := formatFlag(fs, "text", "json")
	file, err := planArg(fs, cfg, args)
	if err != nil {
		return err
	}
	if err := format.check(fs); err != nil {
		return err
	}
	// CI that checks the plan need not hold the secrets it refers to:
	// an unset ${NAME} in paging.webhook is a warning here (an error with
	// --strict), while serve refuses to start without it.
	plan, diags, err := c.load(file, playbooks.Options{UnsetIsWarning: true})
	if file == "-" {
		file = "stdin"
	}
	if err != nil {
		// Pointing drbot at a file that is not there is a usage mistake,
		// not a verdict on a plan.
		return &exitError{code: 2, err: fmt.Errorf("plan check: %w", err)}
	}
	var report *playbooks.Report
	if plan != nil {
		r := playbooks.Check(plan)
		report = &r
	}
	failed := diags.HasErrors() || *strict && len(diags) > 0
	// When the contacts were last confirmed, from the database when there
	// is one (plan_review.go); a database that cannot be read is said, not
	// fatal to the check.
	contacts, cerr := readContactsStatus(ctx, cfg.db, plan)
	if cerr != nil {
		fmt.Fprintf(c.stderr, "plan check: when the contacts were last confirmed: %v\n", cerr)
	}
	if format.value == "json" {
		err = writeCheckJSON(c.stdout, file, diags, report, !failed, contacts)
	} else {
		err = writeCheckText(c.stdout, file, diags, report, contacts)
	}
	if err != nil {
		return err
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// parseNoArgs parses fs's flags, which may come anywhere among args, and
// refuses anything that is not a flag, as every command that takes no
// argument does: "NAME: unexpected argument", with the usage, exit status 2.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return usageError(fs, err)
	}
	if len(rest) > 0 {
		return misuse(fs, "unexpected argument %q: %s takes flags only (%s -h lists them)", rest[0], fs.Name(), "drbot "+fs.Name())
	}
	return nil
}

// planArg parses args as flags and at most one plan FILE, which is --plan
// when not given.
func planArg(fs *flag.FlagSet, cfg *common, args []string) (string, error) {
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return "", usageError(fs, err)
	}
	switch len(files) {
	case 0:
		return cfg.plan, nil
	case 1:
		return files[0], nil
	}
	return "", misuse(fs, "one plan file at a time, got %d", len(files))
}

// parseInterleaved parses flags that may come before or after the
// positional arguments ("plan check plan.yaml --strict"), which the flag
// package alone stops at. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at "--" (consumed) or at the first non-flag.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError turns a flag parsing error into exit status 2, except for -h,
// which Main reports itself. Every command's Run uses it.
func usageError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	// The flag package has already said what is wrong; a flag it does not
	// know gets the one it is close to.
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := playbooks.Closest(strings.TrimPrefix(name, "-"), names); near != "" {
			fmt.Fprintf(fs.Output(), "Did you mean --%s?\n", near)
		}
	}
	return &exitError{code: 2}
}

// plural writes a count and its noun: "1 warning", "3 errors".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func writeCheckText(w io.Writer, file string, diags playbooks.Diagnostics, r *playbooks.Report, contacts *contactsStatus) error {
	for _, d := range diags {
		fmt.Fprintln(w, d)
	}
	if r != nil {
		if len(diags) > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SCENARIO\tSERVICE\tWORST CASE\tRTO\tSTATUS\tWORST PATH")
		for _, s := range r.Scenarios {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, planOrDash(s.Service), playbooks.FormatDuration(s.Worst),
				planOrDash(planRTO(s)), planRTOStatus(s), strings.Join(s.Path, " → "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(r.Services) > 0 {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tOWN\tCOMPOSITE\tDOWNTIME/MONTH\tDOWNTIME/YEAR")
			for _, s := range r.Services {
				own := "-"
				if s.Availability > 0 {
					own = playbooks.FormatAvailability(s.Availability)
				}
				composite, month, year := "-", "-", "-"
				if !s.Unknown {
					composite, month, year = playbooks.FormatAvailability(s.Composite),
						playbooks.FormatDuration(s.DowntimeMonth), playbooks.FormatDuration(s.DowntimeYear)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, own, composite, month, year)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if err := writeAlertRules(w, r); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if contacts != nil {
		fmt.Fprintln(w, contacts.text)
	}
	_, err := fmt.Fprintf(w, "%s: %s, %s\n", file, plural(len(diags.Errors()), "error"), plural(len(diags.Warnings()), "warning"))
	return err
}

func planRTO(s playbooks.ScenarioReport) string {
	if s.RTO == 0 {
		return ""
	}
	return playbooks.FormatDuration(s.RTO)
}

// planRTOStatus says how the worst case compares with the RTO.
func planRTOStatus(s playbooks.ScenarioReport) string {
	switch {
	case s.RTO == 0:
		return "no RTO"
	case s.OverRTO():
		return "OVER by " + playbooks.FormatDuration(s.Worst-s.RTO)
	case s.Worst == s.RTO:
		return "ok, none to spare"
	}
	return "ok, " + playbooks.FormatDuration(s.RTO-s.Worst) + " to spare"
}

func planOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// planCheckJSON is the output of "drbot plan check --format json". Its field
// names are a contract for scripts; add fields, never rename them.
type planCheckJSON struct {
	File        string               `json:"file"`
	OK          bool                 `json:"ok"` // the exit status is 0
	Errors      int                  `json:"errors"`
	Warnings    int                  `json:"warnings"`
	Diagnostics []planDiagnosticJSON `json:"diagnostics"`
	Scenarios   []planScenarioJSON   `json:"scenarios"` // empty when the plan has errors
	Services    []planServiceJSON    `json:"services"`  // empty when the plan has errors
	// Contacts: when the contact list was last confirmed; absent when
	// there is no database to read it from.
	Contacts *contactsStatus `json:"contacts,omitempty"`
}

type planDiagnosticJSON struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"` // "error" or "warning"
	Message  string `json:"message"`
}

type planScenarioJSON struct {
	ID               string   `json:"id"`
	Title            string   `json:"title"`
	Service          string   `json:"service,omitempty"`
	Severity         string   `json:"severity"`
	WorstCaseSeconds float64  `json:"worst_case_seconds"`
	WorstPath        []string `json:"worst_path"`
	RTOSeconds       float64  `json:"rto_seconds,omitempty"` // absent when the service has no RTO
	OverRTO          bool     `json:"over_rto"`
}

type planServiceJSON struct {
	ID           string   `json:"id"`
	Availability *float64 `json:"availability"` // null when the plan sets none
	// The three below are null when neither the service nor anything it
	// depends on sets an availability.
	CompositeAvailability *float64 `json:"composite_availability"`
	DowntimeMonthSeconds  *float64 `json:"downtime_per_month_seconds"` // per 30 days
	DowntimeYearSeconds   *float64 `json:"downtime_per_year_seconds"`  // per 365 days
}

func writeCheckJSON(w io.Writer, file string, diags playbooks.Diagnostics, r *playbooks.Report, ok bool, contacts *contactsStatus) error {
	out := planCheckJSON{
		File: file, OK: ok, Contacts: contacts,
		Errors: len(diags.Errors()), Warnings: len(diags.Warnings()),
		Diagnostics: []planDiagnosticJSON{}, Scenarios: []planScenarioJSON{}, Services: []planServiceJSON{},
	}
	for _, d := range diags {
		out.Diagnostics = append(out.Diagnostics, planDiagnosticJSON{File: d.File, Line: d.Line, Col: d.Col, Severity: d.Severity.String(), Message: d.Message})
	}
	if r != nil {
		for _, s := range r.Scenarios {
			out.Scenarios = append(out.Scenarios, planScenarioJSON{
				ID: s.ID, Title: s.Title, Service: s.Service, Severity: s.Severity,
				WorstCaseSeconds: s.Worst.Seconds(), WorstPath: s.Path, RTOSeconds: s.RTO.Seconds(), OverRTO: s.OverRTO(),
			})
		}
		for _, s := range r.Services {
			sj := planServiceJSON{ID: s.ID}
			if !s.Unknown {
				c, m, y := s.Composite, s.DowntimeMonth.Round(time.Second).Seconds(), s.DowntimeYear.Round(time.Second).Seconds()
				sj.CompositeAvailability, sj.DowntimeMonthSeconds, sj.DowntimeYearSeconds = &c, &m, &y
			}
			if s.Availability > 0 {
				a := s.Availability
				sj.Availability = &a
			}
			out.Services = append(out.Services, sj)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeAlertRules lists the plan's alerts: rules, when it has any: what
// each matches, the scenario, and whether it declares or asks (where).
func writeAlertRules(w io.Writer, r *playbooks.Report) error {
	if len(r.Alerts) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT RULE\tSCENARIO\tDECLARE\tMATCHERS")
	for i, a := range r.Alerts {
		declare := a.Declare
		if declare == playbooks.DeclareAsk {
			declare += " in #" + r.AlertChannel
		}
		fmt.Fprintf(tw, "%d (line %d)\t%s\t%s\t%s\n", i+1, a.Line, a.Scenario, declare, a.Matchers)
	}
	return tw.Flush()
}
