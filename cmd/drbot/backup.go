package main

import (
	"context"
	"fmt"
	"os"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

const backupUsage = `drbot backup [--db FILE] DEST

Writes an online, consistent copy of the database to DEST, a new file (an
existing file is never overwritten). It is safe while drbot serve runs: the
copy is one committed snapshot, and the bot keeps writing meanwhile. The
copy is a single file, checked before the command succeeds.

To restore: stop drbot, move the database file and its -wal and -shm files
aside, copy DEST to the database path, start drbot.`

// backupCommand is "drbot backup".
type backupCommand struct {
	stdio
}

func (c *backupCommand) Run(ctx context.Context, args []string) error {
	flags, cf := newCommonFlagSet("backup", c.stderr, backupUsage)
	rest, err := parseInterleaved(flags, args)
	if err != nil {
		return usageError(flags, err)
	}
	if len(rest) != 1 {
		return misuse(flags, "want one DEST, the file to write")
	}
	dest := rest[0]
	// Read-only: a backup never changes what it copies, not even by
	// migrating it, and a mistyped --db is an error, not a new database.
	src, err := cf.openReadOnly(ctx, c.stderr, "backup")
	if err != nil {
		return err
	}
	defer src.Close()
	if src.pg != nil {
		return fmt.Errorf("backup: %s is a PostgreSQL database: back it up with PostgreSQL's own tools, e.g. pg_dump --format=custom --file=%s '%s' (docs/postgresql.md)", src.name, dest, src.name)
	}
	if err := src.sqlite.Backup(ctx, dest); err != nil {
		return err // it says "backup to DEST: ..."
	}
	summary, err := describeCopy(ctx, dest)
	if err != nil {
		return fmt.Errorf("backup: read the copy %s: %w", dest, err)
	}
	fmt.Fprintf(c.stdout, "wrote %s (%s): a consistent copy of %s\n", dest, summary, src.name)
	return nil
}

// describeCopy opens the copy as drbot would and says what is in it.
func describeCopy(ctx context.Context, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	s, err := storage.Open(ctx, storage.Config{Path: path, ReadOnly: true})
	if err != nil {
		return "", err
	}
	defer s.Close()
	var n int
	err = s.View(ctx, func(tx incident.Tx) error {
		list, err := tx.Incidents(incident.Filter{})
		n = len(list)
		return err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %s", byteSize(fi.Size()), plural(n, "incident")), nil
}

// byteSize formats a file size for people: 812 B, 48.0 KiB, 3.2 MiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}
