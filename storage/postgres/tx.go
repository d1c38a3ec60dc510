package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// tx implements incident.Tx on one PostgreSQL transaction. The context of
// Update or View is kept here and given to every statement. pgx prepares
// and caches each statement per connection on first use.
type txn struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	now      time.Time // when the transaction began, for bookkeeping stamps
	// wake is set by a write to timers or the outbox: the leader is
	// notified at commit.
	wake bool
}

// writing returns ErrReadOnly, wrapped with op, in a View.
func (t *txn) writing(op string) error {
	if !t.writable {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

// exec runs a write statement; every write goes through here or writing,
// so a View can never change anything (nor could it: its transaction is
// READ ONLY).
func (t *txn) exec(op, query string, args ...any) (pgconn.CommandTag, error) {
	if err := t.writing(op); err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := t.tx.Exec(t.ctx, query, args...)
	if err != nil {
		return tag, fmt.Errorf("%s: %w", op, err)
	}
	return tag, nil
}

// execOne runs a write statement that must change exactly one row; when it
// changes none it returns missing().
func (t *txn) execOne(op string, missing func() error, query string, args ...any) error {
	tag, err := t.exec(op, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return missing()
	}
	return nil
}

// insertID runs an INSERT … RETURNING id.
func (t *txn) insertID(op, query string, args ...any) (int64, error) {
	if err := t.writing(op); err != nil {
		return 0, err
	}
	var id int64
	if err := t.tx.QueryRow(t.ctx, query, args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return id, nil
}

// list runs a query and scans each row with scan.
func list[T any](t *txn, op, query string, scan func(pgx.CollectableRow) (T, error), args ...any) ([]T, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// nextDue returns the result of a SELECT min(due): ok is false when there
// is none.
func (t *txn) nextDue(op, query string) (time.Time, bool, error) {
	var ms *int64
	if err := t.tx.QueryRow(t.ctx, query).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", op, err)
	}
	if ms == nil {
		return time.Time{}, false, nil
	}
	return fromMillis(*ms), true, nil
}

// sqlLimit maps "no limit" (<= 0) to NULL: LIMIT NULL is no limit.
func sqlLimit(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// millis and fromMillis: every time is Unix milliseconds (package rows).
func millis(t time.Time) int64 { return rows.Millis(t) }

func fromMillis(ms int64) time.Time { return rows.FromMillis(ms) }

// isForeignKeyError reports whether err is PostgreSQL refusing a row whose
// reference (an incident id) does not exist.
func isForeignKeyError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
