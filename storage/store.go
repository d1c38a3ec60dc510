package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/sqltx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var _ incident.Store = (*Store)(nil)

// ErrReadOnly is returned by the write methods of a Tx passed to View, and
// by Update on a Store opened with Config.ReadOnly.
var ErrReadOnly = sqltx.ErrReadOnly

// Config configures Open.
type Config struct {
	// Path is the database file. It is created, with its directory's
	// permissions, when missing (unless ReadOnly).
	Path string
	// Now stamps rows with when they were written (created, updated,
	// sent_at): bookkeeping only, never compared with due times. Default
	// time.Now.
	Now func() time.Time
	// Logger receives migrations and backups. Default: discard.
	Logger *slog.Logger
	// ReadOnly opens an existing database for reading only: no migration
	// runs and Update fails with ErrReadOnly. For commands that must not
	// change the file they read, such as a backup taken with a newer drbot
	// before upgrading.
	ReadOnly bool
}

// Store is the SQLite store. It is safe for concurrent use by any number of
// goroutines, and by several processes on the same file.
type Store struct {
	path string
	// write serves Update. It holds one connection: writers queue in
	// database/sql, in Go, instead of spinning in SQLite's busy handler
	// against each other, and the single writer takes the write lock at
	// BEGIN (_txlock=immediate) so a writer in another process makes it
	// wait (busy_timeout) rather than fail. nil when ReadOnly.
	write *sql.DB
	// read serves View, Ping and Backup. Its connections begin DEFERRED
	// transactions (no _txlock) and have query_only set, so a reader never
	// takes or waits for the write lock: in WAL mode it reads the snapshot
	// that was committed when it began, while a writer commits. A separate
	// pool, rather than one DB with sql.TxOptions{ReadOnly: true}, so that
	// (1) a burst of readers can never hold the writer's connection, and
	// (2) the read-only promise does not depend on how a driver version
	// maps TxOptions.ReadOnly: older modernc versions ignored it and began
	// every transaction with the DSN's _txlock.
	read *sql.DB
	// The statements of each pool, prepared at Open.
	writeStmts, readStmts map[string]*sql.Stmt
	now                   func() time.Time
	log                   *slog.Logger
}

// pragmas are set on every connection of both pools. busy_timeout comes
// first (the driver orders it so) so the others wait for a lock instead of
// failing. journal_mode(WAL) is added per pool: a ReadOnly store must not
// set it, as on a file not yet in WAL mode (a restored backup) it would be
// a write.
var pragmas = []string{
	"busy_timeout(5000)",
	"foreign_keys(ON)",
	"synchronous(NORMAL)",
}

// Open opens (creating if needed) the database at cfg.Path and applies
// pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("open database: no path")
	}
	if cfg.Path == ":memory:" || strings.HasPrefix(cfg.Path, "file:") {
		// Two pools cannot share an in-memory database, and a URI would be
		// escaped as a file name below.
		return nil, fmt.Errorf("open database %q: want a file path", cfg.Path)
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Path, err)
	}
	s := &Store{path: abs, now: cfg.Now, log: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReadOnly {
		err = s.openReadOnly(ctx)
	} else {
		err = s.openReadWrite(ctx)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	return s, nil
}

func (s *Store) openReadWrite(ctx context.Context) error {
	if err := checkWritable(s.path); err != nil {
		return err
	}
	var err error
	s.write, err = sql.Open("sqlite", dsn(s.path, slices.Concat(pragmas, []string{"journal_mode(WAL)"}), "_txlock=immediate"))
	if err != nil {
		return err
	}
	s.write.SetMaxOpenConns(1)
	ms, err := LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	// Migrating first also creates the file and puts it in WAL mode
	// before any reader connects.
	if err := migrate(ctx, s.write, ms, s.now(), s.log); err != nil {
		return err
	}
	if s.writeStmts, err = prepareAll(ctx, s.write); err != nil {
		return err
	}
	if err := s.openReadPool(ctx, slices.Concat(pragmas, []string{"journal_mode(WAL)", "query_only(1)"})); err != nil {
		return err
	}
	s.readStmts, err = prepareAll(ctx, s.read)
	return err
}

func (s *Store) openReadOnly(ctx context.Context) error {
	// SQLite would create a missing file even on a query_only connection.
	if _, err := os.Stat(s.path); err != nil {
		return err
	}
	if err := s.openReadPool(ctx, slices.Concat(pragmas, []string{"query_only(1)"})); err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, s.read)
	if err != nil {
		return fmt.Errorf("not a drbot database: %w", err)
	}
	ms, err := LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if len(applied) != len(ms) || !applied[ms[len(ms)-1].Version] {
		s.log.Warn("database schema differs from this drbot's; reads may fail",
			"path", s.path, "database_migrations", len(applied), "known_migrations", len(ms))
	}
	// With another schema some statements may not prepare; then the
	// queries run unprepared, and only the ones that do not fit fail.
	if s.readStmts, err = prepareAll(ctx, s.read); err != nil {
		s.log.Warn("statements not prepared", "path", s.path, "err", err)
	}
	return nil
}

func (s *Store) openReadPool(ctx context.Context, pragmas []string) error {
	var err error
	s.read, err = sql.Open("sqlite", dsn(s.path, pragmas))
	if err != nil {
		return err
	}
	s.read.SetMaxOpenConns(4)
	s.read.SetMaxIdleConns(4)
	return s.read.PingContext(ctx)
}

// dsn is a "file:" URI for path, so that any file name works (a '?' or '#'
// in it is escaped), with the pragmas and extra driver parameters.
func dsn(path string, pragmas []string, extra ...string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // a Windows drive letter: file:/C:/...
	}
	q := make([]string, 0, len(pragmas)+len(extra))
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra...)
	return "file:" + u.EscapedPath() + "?" + strings.Join(q, "&")
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. The last connection to close checkpoints the
// WAL into the database file.
func (s *Store) Close() error {
	closeAll(s.readStmts)
	closeAll(s.writeStmts)
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// Ping reads the database file (not only the connection, as sql.DB.Ping
// does), so /healthz fails when the file is gone or unreadable. It uses
// the read pool and so never waits for a writer.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping database %s: %w", s.path, err)
	}
	return nil
}

// Update runs fn in one write transaction, committed when fn returns nil
// and rolled back when it returns an error (returned as is) or panics (the
// panic goes on). Update calls are serialized; fn must not call Update.
func (s *Store) Update(ctx context.Context, fn func(incident.Tx) error) error {
	if s.write == nil {
		return fmt.Errorf("update %s: %w", s.path, ErrReadOnly)
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	return s.run(ctx, sqlTx, s.writeStmts, true, fn)
}

// View runs fn in a read transaction: every query in fn sees the same
// committed snapshot, and the Tx's write methods return ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(incident.Tx) error) error {
	sqlTx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	return s.run(ctx, sqlTx, s.readStmts, false, fn)
}

// run runs fn in sqlTx, with the pool's prepared statements, and ends it:
// commit when fn succeeds in a write transaction, rollback otherwise.
func (s *Store) run(ctx context.Context, sqlTx *sql.Tx, prepared map[string]*sql.Stmt, writable bool, fn func(incident.Tx) error) error {
	finished := false
	defer func() {
		if !finished { // fn panicked
			_ = sqlTx.Rollback()
		}
	}()
	t := &sqltx.Tx{Conn: &conn{ctx: ctx, tx: sqlTx, prepared: prepared}, Dialect: dialect, Writable: writable, Now: s.now()}
	err := fn(t)
	finished = true
	if err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if !writable {
		_ = sqlTx.Rollback() // nothing to commit; ends the snapshot
		return nil
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
