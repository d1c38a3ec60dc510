package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/storage/postgres"
)

const migrateUsage = `drbot migrate --from FILE.db --to postgres://USER@HOST/DB

Copies an SQLite database of drbot (incidents, timelines, timers, outbox,
plans, review state and the rest of its key/value state) into an empty
PostgreSQL database, in one transaction, and checks that every table holds
as many rows as the source. A target that holds any drbot data is refused.
Stop drbot serve on FILE.db first, so that nothing changes during the copy;
then start drbot serve with DRBOT_DB set to the URL.

The URL's password may be ${NAME}, read from the environment, or come from
PGPASSWORD or ~/.pgpass; it is never printed.`

// migrateCommand is "drbot migrate".
type migrateCommand struct {
	stdio
}

func (c *migrateCommand) Run(ctx context.Context, args []string) error {
	flags := newFlagSet("migrate", c.stderr, migrateUsage)
	from := flags.String("from", "", "the SQLite database `FILE` to copy")
	to := flags.String("to", "", "the empty PostgreSQL database to copy into (postgres://…)")
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	switch {
	case *from == "" || *to == "":
		return misuse(flags, "want --from FILE.db and --to postgres://…")
	case postgres.IsURL(*from):
		return &exitError{code: 2, err: fmt.Errorf("migrate: --from %s: want the SQLite database FILE to copy; between PostgreSQL databases, use pg_dump and pg_restore", postgres.Redact(*from))}
	case !postgres.IsURL(*to):
		return &exitError{code: 2, err: fmt.Errorf("migrate: --to %s: want a PostgreSQL URL, postgres://USER@HOST/DB", postgres.Redact(*to))}
	}
	if err := unknownURL(*from); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("migrate: --from %w", err)}
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: --from: %w", err)
	}
	src, err := storage.Open(ctx, storage.Config{Path: *from, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	url, err := expandDatabaseURL(*to, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dst, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	rows, err := src.Export(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	counts, err := dst.Import(ctx, rows)
	if err != nil {
		return fmt.Errorf("migrate: into %s: %w", dst.URL(), err)
	}
	var parts []string
	for _, t := range storage.Tables {
		parts = append(parts, fmt.Sprintf("%s %d", t.Name, counts[t.Name]))
	}
	fmt.Fprintf(c.stdout, "copied %s into %s (%s); every count checked\n", src.Path(), dst.URL(), strings.Join(parts, ", "))
	return nil
}
