// Command drbot is an incident-response and disaster-recovery bot for Slack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/drbot-dev/drbot/playbooks"
)

// command is one subcommand: its own flag set, run with the arguments that
// follow its name.
type command interface {
	Run(ctx context.Context, args []string) error
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

const usage = `drbot: incident response and disaster recovery for Slack

Usage:
  drbot serve                       run the bot (HTTP endpoints, Socket Mode with SLACK_APP_TOKEN)
  drbot console [--script FILE]     the same bot in a terminal, with no Slack
  drbot plan check [--strict] [--format text|json] [FILE|-]  validate a plan
  drbot plan doc [--format html|markdown] [--out FILE] [FILE]  the plan as a printable book
  drbot plan schema                 print the plan's JSON Schema
  drbot incidents [--drills] [--state open|resolved] [--format text|json]  list incidents
  drbot postmortem [--format markdown|json] ID
  drbot stats [--since DURATION|DATE] [--format text|json]  figures across incidents
  drbot backup DEST                 online copy of the database
  drbot migrate --from FILE.db --to postgres://…  copy an SQLite database into an empty PostgreSQL one
  drbot healthcheck [--addr ADDR]   exit 0 when a running drbot serve answers /healthz
  drbot web [--addr 127.0.0.1:8080] the read-only web pages from the database, no Slack
  drbot version                     print the version

The commands that read the plan or the database also take --plan, --db and
--log-level (or DRBOT_PLAN, DRBOT_DB, DRBOT_LOG_LEVEL). Run "drbot COMMAND -h"
for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commands makes each subcommand by its name, with where it reads and
// writes.
var commands = map[string]func(stdio) command{
	"serve":       func(s stdio) command { return &serveCommand{stdio: s} },
	"console":     func(s stdio) command { return &consoleCommand{stdio: s} },
	"plan":        func(s stdio) command { return &planCommand{stdio: s} },
	"incidents":   func(s stdio) command { return &incidentsCommand{stdio: s} },
	"postmortem":  func(s stdio) command { return &postmortemCommand{stdio: s} },
	"stats":       func(s stdio) command { return &statsCommand{stdio: s} },
	"backup":      func(s stdio) command { return &backupCommand{stdio: s} },
	"migrate":     func(s stdio) command { return &migrateCommand{stdio: s} },
	"healthcheck": func(s stdio) command { return &healthcheckCommand{stdio: s} },
	"web":         func(s stdio) command { return &webCommand{stdio: s} },
}

// Main runs drbot with args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprint(stdout, buildVersion())
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 && commands[args[1]] != nil {
			return Main(ctx, []string{args[1], "-h"}, stdout, stderr) // "drbot help serve"
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	newCommand, ok := commands[args[0]]
	if !ok {
		names := append(slices.Sorted(maps.Keys(commands)), "version", "help")
		if near := playbooks.Closest(args[0], names); near != "" {
			fmt.Fprintf(stderr, "drbot: unknown command %q; did you mean \"drbot %s\"? (drbot help lists every command)\n", args[0], near)
			return 2
		}
		fmt.Fprintf(stderr, "drbot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	cmd := newCommand(stdio{stdin: os.Stdin, stdout: stdout, stderr: stderr})
	return exitCode(stderr, cmd.Run(ctx, args[1:]))
}

// exitCode maps the error of a command's Run to the exit status, and says
// what went wrong on stderr. The tests that call Run directly use it too.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h asked for the usage, and got it (as flag.ExitOnError does)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "drbot:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "drbot:", err)
	return 1
}
