package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
	"github.com/drbot-dev/drbot/storage/internal/sqltx"
)

var _ incident.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrReadOnly is returned by the write methods of a Tx passed to View, and
// by Update on a Store opened with Config.ReadOnly.
var ErrReadOnly = storage.ErrReadOnly

// Config configures Open.
type Config struct {
	// URL is a PostgreSQL connection URL (postgres://user@host:5432/db).
	// A password missing from it is read from PGPASSWORD or ~/.pgpass, as
	// libpq does; a search_path parameter puts drbot's tables in that
	// schema.
	URL string
	// Now stamps rows with when they were written (created, sent_at):
	// bookkeeping only. Default time.Now.
	Now func() time.Time
	// Logger receives migrations and leadership changes. Default: discard.
	Logger *slog.Logger
	// ReadOnly opens the database for reading only: no migration runs and
	// Update fails with ErrReadOnly.
	ReadOnly bool
	// MaxConns bounds the pool; 0 is pgxpool's default (4, or the number
	// of CPUs if more).
	MaxConns int32
}

// Store is the PostgreSQL store. It is safe for concurrent use by any
// number of goroutines and of processes on the same database.
type Store struct {
	pool     *pgxpool.Pool
	rawURL   string // with its password: never shown
	url      string // redacted, for messages
	password string // to take out of any error text
	now      func() time.Time
	log      *slog.Logger
	readOnly bool
	// locks are the advisory lock keys of this schema (locks.go).
	locks lockKeys
}

// Open connects to the database at cfg.URL and applies pending migrations.
// Errors never contain the URL's password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{rawURL: cfg.URL, url: Redact(cfg.URL), password: password(cfg.URL), now: cfg.Now, log: cfg.Logger, readOnly: cfg.ReadOnly}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := s.open(ctx, cfg); err != nil {
		s.Close()
		return nil, s.redact(fmt.Errorf("open database %s: %w", s.url, err))
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, cfg Config) error {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return err
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return err
	}
	// current_schema() is NULL when no schema of the search_path exists.
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&s.locks.schema); err != nil {
		return err
	}
	if s.locks.schema == "" {
		return errors.New("no schema to create drbot's tables in: the search_path names none that exists; create it first (CREATE SCHEMA name) or fix ?search_path= in the URL")
	}
	ms, err := storage.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if cfg.ReadOnly {
		return s.checkSchema(ctx, ms)
	}
	return s.migrate(ctx, ms)
}

// URL returns the database URL without its password.
func (s *Store) URL() string { return s.url }

// Close closes every connection of the pool.
func (s *Store) Close() error {
	if s.pool != nil {
		s.pool.Close()
	}
	return nil
}

// Ping reads a table of drbot's, so /healthz fails when the database or
// its schema is gone, not only the connection.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return s.redact(fmt.Errorf("ping database %s: %w", s.url, err))
	}
	return nil
}

// Update runs fn in one write transaction, committed when fn returns nil
// and rolled back when it returns an error (returned as is) or panics (the
// panic goes on).
//
// Write transactions of every process on the database run one at a time:
// each takes the schema's write lock (a transaction-level advisory lock)
// first, as SQLite's BEGIN IMMEDIATE takes the file's write lock. So a
// transaction reads, at READ COMMITTED, everything committed before it and
// nothing that commits while it runs: two instances cannot both number an
// incident 7, fire one timer twice, or settle one outbox message twice. A
// transaction that wrote timers or outbox messages notifies the leader
// (lead.go) at commit, so it acts on them at once.
func (s *Store) Update(ctx context.Context, fn func(incident.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("update %s: %w", s.url, ErrReadOnly)
	}
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, true, fn)
}

// View runs fn in a read-only transaction on one snapshot (REPEATABLE
// READ): every query in fn sees the same committed state, a View never
// waits for a writer, and the Tx's write methods return ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(incident.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, writable bool, fn func(incident.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return s.redact(fmt.Errorf("begin transaction: %w", err))
	}
	finished := false
	defer func() {
		if !finished { // fn panicked
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	t := &sqltx.Tx{Conn: &conn{ctx: ctx, tx: ptx}, Dialect: dialect, Writable: writable, Now: s.now()}
	if writable {
		if _, err := ptx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.locks.write()); err != nil {
			finished = true
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			return s.redact(fmt.Errorf("take the write lock: %w", err))
		}
	}
	err = fn(t)
	finished = true
	if err != nil || !writable {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if t.Woken {
		if _, err := ptx.Exec(ctx, `SELECT pg_notify($1, '')`, s.locks.channel()); err != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			return s.redact(fmt.Errorf("notify the leader: %w", err))
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		return s.redact(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// redact takes the URL and its password out of err's text, should a
// driver message ever carry them: the URL as given, and the password where
// a URL or connection string holds it (":PASSWORD@", "password=PASSWORD").
// Only those forms: a short password may be an everyday word.
func (s *Store) redact(err error) error {
	if err == nil {
		return nil
	}
	text := strings.ReplaceAll(err.Error(), s.rawURL, s.url)
	if s.password != "" {
		for _, pw := range []string{s.password, EscapeUserinfo(s.password)} {
			text = strings.ReplaceAll(text, ":"+pw+"@", ":xxxxx@")
			text = strings.ReplaceAll(text, "password="+pw, "password=xxxxx")
		}
	}
	if text == err.Error() {
		return err
	}
	return &redactedError{text: text, err: err}
}

// redactedError is an error whose text had a password taken out; errors.Is
// and As still see the original.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
