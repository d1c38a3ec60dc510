package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Backup writes a consistent copy of the database to dest, a file that must
// not exist. It is safe while the bot runs: VACUUM INTO reads one snapshot
// in a read transaction, so writers, here or in another process, carry on
// (WAL) and the copy holds exactly the transactions committed when it
// began. The copy is compacted, in rollback-journal mode (a single file,
// no -wal or -shm to carry along), synced to disk, and checked with
// PRAGMA quick_check before Backup returns. On failure no file is left at
// dest. The copy is readable by its owner only (0600): it holds everything
// the database does.
func (s *Store) Backup(ctx context.Context, dest string) (err error) {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	// Claim dest atomically: O_EXCL fails if it exists, even if it appeared
	// a moment ago. VACUUM INTO accepts an empty file.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if st, serr := os.Stat(abs); serr == nil && st.IsDir() {
			return fmt.Errorf("backup to %s: it is a directory; give the backup a file name in it, such as %s", abs,
				filepath.Join(abs, "drbot-"+time.Now().Format("2006-01-02-1504")+".db"))
		}
		return fmt.Errorf("backup to %s: the file exists; choose a new name (a backup never overwrites)", abs)
	}
	if err != nil {
		return fmt.Errorf("backup to %s: %w", abs, err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(abs)
		}
	}()
	start := time.Now()
	if err := s.vacuumInto(ctx, abs); err != nil {
		return fmt.Errorf("backup %s to %s: %w", s.path, abs, err)
	}
	if err := syncFile(abs); err != nil {
		return fmt.Errorf("backup to %s: %w", abs, err)
	}
	if err := checkCopy(ctx, abs); err != nil {
		return fmt.Errorf("backup to %s: check the copy: %w", abs, err)
	}
	s.log.Debug("database backed up", "from", s.path, "to", abs, "duration", time.Since(start).String())
	return nil
}

// vacuumInto runs VACUUM INTO on a connection of its own. Not the read
// pool's: SQLite counts writing the output file as a write, which
// query_only forbids. Not the write pool's: its one connection would be
// held for the whole copy, and Update would wait. The statement itself only
// reads the source, in a read transaction.
func (s *Store) vacuumInto(ctx context.Context, dest string) error {
	db, err := sql.Open("sqlite", dsn(s.path, []string{"busy_timeout(5000)"}))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, dest)
	return err
}

// syncFile flushes the file and its directory entry to disk: VACUUM INTO
// does not sync what it writes, and a backup that a power cut can empty is
// no backup.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	// Best effort: directories cannot be opened for sync everywhere
	// (Windows), and the data itself is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// checkCopy opens the copy read-only and runs PRAGMA quick_check.
func checkCopy(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, []string{"query_only(1)"}, "mode=ro"))
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("quick_check: %s", result)
	}
	return nil
}
