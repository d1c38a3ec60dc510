package storage

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one embedded .sql file, named NNN_what.sql. The PostgreSQL
// store (storage/postgres) loads its own files with LoadMigrations too.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the *.sql files of dir in fsys, ordered by version.
// Versions must be unique and positive; a gap is allowed (a removed
// migration must keep its number retired).
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", e.Name())
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// migrate applies the migrations db has not recorded, in order, in one
// write transaction: a database is either fully upgraded or untouched. The
// transaction begins IMMEDIATE (the write pool's DSN), so two processes
// opening the same file at once cannot both apply a migration: the second
// waits, then finds it recorded. A database recording a version this binary
// does not know was written by a newer drbot; migrate refuses it rather than
// run an old binary against a schema it does not understand.
func migrate(ctx context.Context, db *sql.DB, ms []Migration, now time.Time, log *slog.Logger) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}
	exec := func(query string, args ...any) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	}
	err = ApplyMigrations(ms, applied, exec, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, now, log)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return applied, nil
}

// ApplyMigrations is the migration of a store, in its one transaction:
// it refuses a database that records a version ms does not have
// (CheckKnown), then runs each migration of ms that applied does not
// record, in order, and records it with the statement record (version,
// name, applied_at). exec runs a statement in the transaction.
func ApplyMigrations(ms []Migration, applied map[int]bool, exec func(query string, args ...any) error, record string, now time.Time, log *slog.Logger) error {
	if err := CheckKnown(applied, ms); err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := exec(m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if err := exec(record, m.Version, m.Name, millis(now)); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		log.Info("applied database migration", "version", m.Version, "name", m.Name)
	}
	return nil
}

// CheckKnown refuses a database recording a migration version that is not
// in ms: it was written by a newer drbot, whose schema this one does not
// understand.
func CheckKnown(applied map[int]bool, ms []Migration) error {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("database has schema migration %d, which this drbot does not know: it was written by a newer drbot; use that version", v)
		}
	}
	return nil
}

// SchemaVersion is the newest schema version this binary's SQLite migrations
// create (the highest NNN of storage/migrations/NNN_*.sql); drbot version
// prints it.
func SchemaVersion() int {
	ms, err := LoadMigrations(migrationFS, "migrations")
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
