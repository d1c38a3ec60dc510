package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// tx implements incident.Tx on one SQL transaction. The interface has no
// context arguments, so the context of Update or View is kept here and
// given to every statement: cancelling it ends the transaction's work.
type tx struct {
	ctx      context.Context
	tx       *sql.Tx
	writable bool
	now      time.Time // when the transaction began, for bookkeeping stamps
	// prepared are the pool's prepared statements, by query; stmts their
	// handles in this transaction, made on first use.
	prepared map[string]*sql.Stmt
	stmts    map[string]*sql.Stmt
}

// statements is every fixed query of the package, registered by prepared.
var statements []string

// prepared registers a query to be prepared once per connection: parsing
// SQL (and compiling the timeline's triggers into each insert) is about
// half the cost of a small write otherwise. The statements are prepared
// when the Store opens, not on first use: database/sql prepares a DB
// statement on a free connection, and the write pool's only connection is
// busy during the transaction that would first need it.
func prepared(query string) string {
	statements = append(statements, query)
	return query
}

// prepareAll prepares statements on db.
func prepareAll(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(statements))
	for _, q := range statements {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			closeAll(m)
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		m[q] = st
	}
	return m, nil
}

func closeAll(m map[string]*sql.Stmt) {
	for _, st := range m {
		st.Close()
	}
}

// stmt returns the transaction's handle of a prepared query, or nil for a
// query that is not prepared (built at run time).
func (t *tx) stmt(query string) *sql.Stmt {
	if st, ok := t.stmts[query]; ok {
		return st
	}
	st, ok := t.prepared[query]
	if !ok {
		return nil
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	st = t.tx.StmtContext(t.ctx, st)
	t.stmts[query] = st
	return st
}

// queryRow runs a query expected to return at most one row.
func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

// query runs a query.
func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// writing returns ErrReadOnly, wrapped with op, in a View.
func (t *tx) writing(op string) error {
	if !t.writable {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

// exec runs a write statement; every write goes through here or through
// writing, so a View can never change anything.
func (t *tx) exec(op, query string, args ...any) (sql.Result, error) {
	if err := t.writing(op); err != nil {
		return nil, err
	}
	var res sql.Result
	var err error
	if st := t.stmt(query); st != nil {
		res, err = st.ExecContext(t.ctx, args...)
	} else {
		res, err = t.tx.ExecContext(t.ctx, query, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return res, nil
}

// execOne runs a write statement that must change exactly one row; when it
// changes none it returns missing().
func (t *tx) execOne(op string, missing func() error, query string, args ...any) error {
	res, err := t.exec(op, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return missing()
	}
	return nil
}

// list runs a query and scans each row with scan.
func list[T any](t *tx, op, query string, scan func(rowScanner) (T, error), args ...any) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// nextDue returns the smallest due of a query of the form SELECT min(due):
// ok is false when there is none.
func (t *tx) nextDue(op, query string) (time.Time, bool, error) {
	var ms sql.NullInt64
	if err := t.queryRow(query).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", op, err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return fromMillis(ms.Int64), true, nil
}

// millis and fromMillis: every time is Unix milliseconds (package rows).
func millis(t time.Time) int64 { return rows.Millis(t) }

func fromMillis(ms int64) time.Time { return rows.FromMillis(ms) }

// isForeignKeyError reports whether err is SQLite refusing a row whose
// reference (an incident id) does not exist.
func isForeignKeyError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
