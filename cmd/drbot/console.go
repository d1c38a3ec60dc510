package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/drbot-dev/drbot/bot/console"
	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

const consoleUsage = `drbot console [--plan FILE] [--db FILE] [--script FILE] [--start TIME]

Plays Slack in the terminal: the same incident service, plan and database
as "drbot serve", with no Slack and a clock of its own. It prints every
message drbot would post, with its buttons numbered. Lines:

  /incident ...      a slash command, as the current user, in the current conversation
  as CONTACT         act as that contact of the plan (default: the first contact)
  in CHANNEL         type and press in #CHANNEL (or @CONTACT); starts in #general
  press N | LABEL    press a button: the Nth of the newest message with buttons, or
                     the newest LABEL here, else in your direct messages
  wait DURATION      move the clock forward (5m, 1h30m, 1d): what falls due happens
  quit               leave; everything is already saved

The console keeps its incidents in --db, drbot-console.db by default: a
database of its own, not drbot serve's drbot.db, because its clock is not
real time. It says on start how many incidents are open there; its clock
resumes where the last session left it (--start may not go back), and
each open incident's current step is shown again with its buttons.
drbot serve refuses a database the console has played in (unless
--force), and the console refuses one drbot serve works on.`

// consoleCommand is "drbot console".
type consoleCommand struct {
	stdio
}

func (c *consoleCommand) Run(ctx context.Context, args []string) error {
	fs, cf := newCommonFlagSet("console", c.stderr, consoleUsage)
	cf.db = env("DRBOT_CONSOLE_DB", defaultConsoleDB)
	fs.Lookup("db").DefValue = cf.db
	fs.Lookup("db").Usage = "SQLite database `FILE` (or postgres:// URL) of the console's own incidents (env DRBOT_CONSOLE_DB)"
	// Logs would interleave with the transcript on a terminal; by default
	// only what needs attention is logged.
	cf.logLevel = env("DRBOT_LOG_LEVEL", "warn")
	fs.Lookup("log-level").DefValue = cf.logLevel
	script := fs.String("script", "", "run the lines of `FILE` instead of reading the terminal; stop at the first failing line")
	startAt := fs.String("start", "", "start the console's clock at `TIME` (RFC 3339, e.g. 2026-11-21T10:00:00Z); default: where the last session on the database left it, else now, to the minute")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var start time.Time
	if *startAt != "" {
		var err error
		start, err = time.Parse(time.RFC3339, *startAt)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("console: --start %q: want RFC 3339, such as 2026-11-21T10:00:00Z", *startAt)}
		}
	}
	log, err := cf.logger(c.stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}

	plan, err := loadPlanReporting(cf.plan, c.stderr)
	if err != nil {
		return err
	}

	in, opts, closeIn, err := c.input(*script)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer closeIn()

	store, closeStore, err := openHeld(ctx, cf.db, log, "console")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer closeStore()
	if err := markConsole(ctx, store, store.name, c.stderr, opts.Interactive); err != nil {
		return fmt.Errorf("console: %w", err)
	}

	if start, err = c.resumeClock(ctx, store, plan, start, opts.Interactive); err != nil {
		return err
	}
	return c.play(ctx, store, plan, start, log, in, opts)
}

// play runs the session on store from start: the clock recorded as it
// starts and at each reading after, what fell due done, the open
// incidents' current steps shown again, then the lines of in.
func (c *consoleCommand) play(ctx context.Context, store *database, plan *playbooks.Plan, start time.Time, log *slog.Logger, in io.Reader, opts console.RunOptions) error {
	save := func(t time.Time) {
		// Each reading as it comes, not only at the end: a session killed
		// or hung up on mid-way must not resume earlier.
		if err := saveConsoleClock(context.WithoutCancel(ctx), store, t); err != nil {
			log.Warn("record the console's clock", "err", err)
		}
	}
	con := console.New(console.Config{Plan: plan, Start: start, Out: c.stdout, OnClock: save})
	save(con.Now())
	svc, err := incident.New(incident.Config{
		Plan:   plan,
		Store:  console.SerialOutbox(store), // one message at a time: the same transcript every run
		Chat:   con.Chat(),
		Now:    con.Now,
		Logger: log,
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	con.SetEngine(svc)
	if err := con.CatchUp(ctx); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	if err := showOpenSteps(ctx, svc, con); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	log.Info("console started", "db", store.name)
	err = con.Run(ctx, in, opts)
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return &exitError{code: 130, err: errors.New("console: interrupted; what was played up to here is saved")}
	case err != nil:
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// input is what the console reads: the lines of script, or the terminal
// (standard input) without one.
func (c *consoleCommand) input(script string) (io.Reader, console.RunOptions, func(), error) {
	if script == "" {
		return c.stdin, console.RunOptions{Name: "stdin", Interactive: isTerminal(c.stdin)}, func() {}, nil
	}
	f, err := os.Open(script)
	if err != nil {
		return nil, console.RunOptions{}, nil, err
	}
	return f, console.RunOptions{Name: script}, func() { f.Close() }, nil
}

// resumeClock is where the console's clock starts: start (--start, zero
// when not given), which may not be before where the last session on
// store left it (exit status 2); without it, there (the incidents were
// played at that time), said on a terminal; zero, now, on a new database.
func (c *consoleCommand) resumeClock(ctx context.Context, store *database, plan *playbooks.Plan, start time.Time, interactive bool) (time.Time, error) {
	saved, ok, err := consoleClock(ctx, store)
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("console: %w", err)
	case !ok:
		return start, nil
	case !start.IsZero() && start.Before(saved):
		// Going back would acknowledge before a declaration and count
		// elapsed time backwards.
		return time.Time{}, &exitError{code: 2, err: fmt.Errorf("console: --start %s is before the console's clock in %s, %s: "+
			"the clock only goes forward. Play on a new database (--db NEW.db), or leave out --start to go on from there",
			start.In(plan.Location).Format("2006-01-02 15:04 MST"), store.name, saved.In(plan.Location).Format("2006-01-02 15:04 MST"))}
	case !start.IsZero():
		return start, nil
	}
	if interactive {
		fmt.Fprintf(c.stderr, "The console's clock resumes at %s, where the last session on %s left it (--start sets it).\n",
			saved.In(plan.Location).Format("2006-01-02 15:04 MST"), store.name)
	}
	return saved, nil
}

// loadPlanReporting loads the plan and prints every diagnostic, errors and
// warnings, as FILE:LINE:COL: message. A plan with errors is not loaded:
// the command fails with exit status 1.
func loadPlanReporting(path string, stderr io.Writer) (*playbooks.Plan, error) {
	plan, diags, err := playbooks.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no plan at %s: set --plan or DRBOT_PLAN to your plan file (docs/plan.md; examples/plan.yaml is a start)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (set --plan or DRBOT_PLAN; examples/plan.yaml is a start)", err)
	}
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	if err := diags.Err(); err != nil {
		n := len(diags.Errors())
		return nil, fmt.Errorf("plan %s has %s; \"drbot plan check %s\" explains them", path, plural(n, "error"), path)
	}
	return plan, nil
}

// isTerminal reports whether r is a terminal, where a person types and
// wants a prompt, rather than a pipe or a file to run as a script.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}

// showOpenSteps shows again the current step of each open incident an
// earlier session left, with its buttons, oldest first.
func showOpenSteps(ctx context.Context, svc *incident.Engine, con *console.Console) error {
	open, err := svc.Incidents(ctx, incident.Filter{State: incident.StateOpen})
	if err != nil {
		return err
	}
	for i := len(open) - 1; i >= 0; i-- {
		ch, m, ok, err := svc.CurrentStep(ctx, open[i].ID)
		if err != nil {
			return err
		}
		if ok {
			con.ShowAgain(ch, m)
		}
	}
	return nil
}
