package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env returns the environment variable name, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// common holds the flags every command that opens the plan or the
// database shares. Each flag also reads its environment variable.
type common struct {
	plan     string
	db       string
	logLevel string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.plan, "plan", env("DRBOT_PLAN", "plan.yaml"), "plan file (env DRBOT_PLAN)")
	fs.StringVar(&c.db, "db", env("DRBOT_DB", "drbot.db"), "SQLite database `FILE`, or a postgres:// URL for PostgreSQL (env DRBOT_DB)")
	fs.StringVar(&c.logLevel, "log-level", env("DRBOT_LOG_LEVEL", "info"), "debug, info, warn or error (env DRBOT_LOG_LEVEL)")
}

// logger returns a JSON slog logger at the configured level.
func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToLower(c.logLevel))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// stdio is where a command reads and writes: the process's standard
// streams, or buffers in tests. Every command embeds it.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// newCommonFlagSet is newFlagSet with the flags of common registered.
func newCommonFlagSet(name string, stderr io.Writer, usage string) (*flag.FlagSet, *common) {
	fs := newFlagSet(name, stderr, usage)
	cf := new(common)
	cf.register(fs)
	return fs, cf
}

// misuse shows the usage of fs and returns the exit status 2 error of a
// command used wrongly: "NAME: " and the message.
func misuse(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return &exitError{code: 2, err: fmt.Errorf("%s: %s", fs.Name(), fmt.Sprintf(format, args...))}
}

// choiceFlag is a flag whose value is one of a few words, checked after
// parsing so that the message names them all.
type choiceFlag struct {
	name    string
	value   string
	choices []string
}

// formatFlag registers --format, one of formats, the first the default.
func formatFlag(fs *flag.FlagSet, formats ...string) *choiceFlag {
	c := &choiceFlag{name: "format", choices: formats}
	fs.StringVar(&c.value, c.name, formats[0], "output format: "+strings.Join(formats, " or "))
	return c
}

// check is misuse unless the value is one of the choices:
// `--format "x": want text or json`.
func (c *choiceFlag) check(fs *flag.FlagSet) error {
	if slices.Contains(c.choices, c.value) {
		return nil
	}
	return misuse(fs, "--%s %q: want %s", c.name, c.value, strings.Join(c.choices, " or "))
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n", usage)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}
