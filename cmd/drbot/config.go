package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
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

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}
