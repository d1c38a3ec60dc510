package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/storage"
)

// ErrNotEmpty is Import's error when the database already holds drbot
// data.
type ErrNotEmpty struct {
	Counts map[string]int // rows per table that has any
}

func (e *ErrNotEmpty) Error() string {
	var parts []string
	for _, t := range storage.Tables {
		if n := e.Counts[t.Name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", t.Name, n))
		}
	}
	return "the database is not empty (" + strings.Join(parts, ", ") + "): drbot migrate copies into an empty database only"
}

// Import copies rows, as storage.Store.Export returns them, into this
// database in one transaction: all of them or, on any error, none. The
// database must hold no drbot data (*ErrNotEmpty otherwise). The identity
// sequences of timeline and outbox continue after the copied ids, and the
// rows of each table are counted again before the commit. It returns the
// number of rows copied per table.
func (s *Store) Import(ctx context.Context, rows map[string][][]any) (map[string]int, error) {
	counts := map[string]int{}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.locks.write()); err != nil {
			return fmt.Errorf("take the write lock: %w", err)
		}
		existing, err := countRows(ctx, tx)
		if err != nil {
			return err
		}
		for _, n := range existing {
			if n > 0 {
				return &ErrNotEmpty{Counts: existing}
			}
		}
		for _, t := range storage.Tables {
			if err := copyTable(ctx, tx, t, rows[t.Name]); err != nil {
				return err
			}
			counts[t.Name] = len(rows[t.Name])
		}
		for _, table := range []string{"timeline", "outbox"} {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), coalesce(max(id), 0) + 1, false) FROM %[1]s`, table)); err != nil {
				return fmt.Errorf("continue the ids of %s: %w", table, err)
			}
		}
		got, err := countRows(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range storage.Tables {
			if got[t.Name] != counts[t.Name] {
				return fmt.Errorf("%s: %d rows copied but %d in the database", t.Name, counts[t.Name], got[t.Name])
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.redact(err)
	}
	return counts, nil
}

// copyTable copies the rows of t with COPY. SQLite keeps booleans as 0
// and 1: the drill column becomes a boolean.
func copyTable(ctx context.Context, tx pgx.Tx, t storage.Table, rows [][]any) error {
	if t.Name == "incidents" {
		for _, r := range rows {
			if n, ok := r[3].(int64); ok {
				r[3] = n != 0
			}
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.Columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy %s: %w", t.Name, err)
	}
	return nil
}

// countRows counts the rows of every table.
func countRows(ctx context.Context, tx pgx.Tx) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range storage.Tables {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.Name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.Name, err)
		}
		out[t.Name] = n
	}
	return out, nil
}
