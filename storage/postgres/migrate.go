package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/storage"
)

// lockKeys names the advisory locks and the notification channel of one
// drbot database. They are derived from the schema, so that two drbots in
// two schemas of one database (or two tests) do not share them.
type lockKeys struct{ schema string }

func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// write is the transaction-level lock every write transaction takes first.
func (k lockKeys) write() int64 { return lockKey("drbot/write/" + k.schema) }

// leader is the session-level lock the leading instance holds.
func (k lockKeys) leader() int64 { return lockKey("drbot/leader/" + k.schema) }

// channel is where write transactions notify the leader of new timers and
// outbox messages.
func (k lockKeys) channel() string {
	return fmt.Sprintf("drbot_wake_%x", uint64(lockKey("drbot/wake/"+k.schema)))
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text    NOT NULL,
	applied_at bigint  NOT NULL
)`

// migrate applies the migrations the database has not recorded, in order,
// in one transaction that holds the write lock: two instances starting at
// once cannot both apply one, and a database is either fully upgraded or
// untouched. A database recording a version this binary does not know was
// written by a newer drbot, and is refused.
func (s *Store) migrate(ctx context.Context, ms []storage.Migration) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.locks.write()); err != nil {
			return fmt.Errorf("take the write lock: %w", err)
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		exec := func(query string, args ...any) error {
			_, err := tx.Exec(ctx, query, args...)
			return err
		}
		return storage.ApplyMigrations(ms, applied, exec, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, s.now(), s.log)
	})
}

// checkSchema is migrate for a read-only store: it changes nothing, and
// warns when the schema differs from this drbot's.
func (s *Store) checkSchema(ctx context.Context, ms []storage.Migration) error {
	applied, err := appliedVersions(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("not a drbot database: %w", err)
	}
	if len(applied) != len(ms) || !applied[ms[len(ms)-1].Version] {
		s.log.Warn("database schema differs from this drbot's; reads may fail",
			"url", s.url, "database_migrations", len(applied), "known_migrations", len(ms))
	}
	return nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[int]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	return applied, nil
}
