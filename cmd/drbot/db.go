package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// database is the store a command opens from --db (DRBOT_DB): an SQLite
// file, or a PostgreSQL database when --db starts with postgres:// or
// postgresql://. Exactly one of sqlite and pg is set.
type database struct {
	incident.Store
	sqlite *storage.Store
	pg     *postgres.Store
	// name is the file's path, or the URL without its password: safe to
	// log and to show.
	name string
	// leading is set while this process runs the engine (leader.go).
	leading atomic.Bool
}

// Close closes the store.
func (d *database) Close() error {
	if d.pg != nil {
		return d.pg.Close()
	}
	return d.sqlite.Close()
}

// openDatabase opens the database db names. readOnly opens an existing
// database without migrating it, for the commands that only read; a
// missing SQLite file is then an error rather than a new empty database.
func openDatabase(ctx context.Context, db string, log *slog.Logger, readOnly bool) (*database, error) {
	if err := unknownURL(db); err != nil {
		return nil, err
	}
	if postgres.IsURL(db) {
		url, err := expandDatabaseURL(db, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		s, err := postgres.Open(ctx, postgres.Config{URL: url, Logger: log, ReadOnly: readOnly})
		if err != nil {
			return nil, err
		}
		return &database{Store: s, pg: s, name: s.URL()}, nil
	}
	if readOnly {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (set --db or DRBOT_DB to the file drbot serve uses%s)", db, consoleHint(db))
		}
	}
	s, err := storage.Open(ctx, storage.Config{Path: db, Logger: log, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return &database{Store: s, sqlite: s, name: s.Path()}, nil
}

// unknownURL refuses a database named by a URL that is not PostgreSQL's
// (postgre://, postgress://, mysql://): read as an SQLite file path, it
// would be shown in messages with the password it may hold.
func unknownURL(db string) error {
	if i := strings.Index(db, "://"); i > 0 && !postgres.IsURL(db) && !strings.HasPrefix(db, "file:") {
		return fmt.Errorf("%s: not a database drbot can use: a PostgreSQL URL starts with postgres:// or postgresql://, and anything else is an SQLite file", postgres.Redact(db))
	}
	return nil
}

// consoleHint points at the console's database beside the missing db, if
// there is one: someone who just played the README's walkthrough looks for
// its incident there.
func consoleHint(db string) string {
	c := filepath.Join(filepath.Dir(db), defaultConsoleDB)
	if _, err := os.Stat(c); err != nil || filepath.Clean(db) == c {
		return ""
	}
	return "; the console's incidents are in " + c + ": --db " + c
}

// openHeld opens the database db names for a command that works on it
// (serve, console) and takes it for that command (hold). closeHeld lets
// go of it and closes it. This is where serve and console open their
// store; a new kind of database is added to openDatabase and hold.
func openHeld(ctx context.Context, db string, log *slog.Logger, command string) (d *database, closeHeld func(), err error) {
	d, err = openDatabase(ctx, db, log, false)
	if err != nil {
		return nil, nil, err
	}
	release, err := d.hold(ctx, command)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, func() { release(); d.Close() }, nil
}

// expandDatabaseURL replaces each ${NAME} in a PostgreSQL URL with the
// variable's value, percent-encoded, the rule of the plan's
// paging.webhook: the password can stay out of DRBOT_DB and of the unit
// file (postgres://drbot:${DRBOT_DB_PASSWORD}@db/drbot). A URL with no
// password at all takes PGPASSWORD or ~/.pgpass, as psql does. Errors
// name the variable, never a value.
func expandDatabaseURL(db string, lookup func(string) (string, bool)) (string, error) {
	out, unset, bad := playbooks.ExpandEnv(db, func(name string) (string, bool) {
		v, ok := lookup(name)
		return postgres.EscapeUserinfo(v), ok && v != ""
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("--db: malformed reference %s: write ${NAME}, NAME of letters, digits and _", strings.Join(bad, ", "))
	}
	if len(unset) > 0 {
		return "", fmt.Errorf("--db refers to %s, which is not set (or empty): set it in drbot's environment", strings.Join(unset, ", "))
	}
	return out, nil
}
