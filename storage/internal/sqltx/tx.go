// Package sqltx is the one implementation of incident.Tx that the SQLite
// store (storage) and the PostgreSQL store (storage/postgres) share: the
// same statements on the same tables, over the little each driver gives it
// (a Conn), with what differs between the two SQL dialects in a Dialect.
// So the two stores cannot drift apart; each keeps what is its own
// (opening, pools, transactions and their locks, migrations, backup).
//
// Statements are written with ? placeholders; Dialect.Rebind turns them
// into the driver's ($1, $2 … for PostgreSQL).
package sqltx

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// ErrReadOnly is returned by a write method of a Tx in a View; both stores
// export it as their ErrReadOnly.
var ErrReadOnly = errors.New("read-only transaction")

// ErrNoRow is what Insert returns when an INSERT … SELECT … WHERE
// inserted nothing, and what Row.Scan returns for no row, whatever the
// driver's own error.
var ErrNoRow = errors.New("no row")

// Conn runs the statements of one transaction in the store's driver.
type Conn interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(query string, args ...any) (int64, error)
	// Insert runs an INSERT of one row into a table with an id column and
	// returns the row's id; ErrNoRow when it inserted none.
	Insert(query string, args ...any) (int64, error)
	// QueryRow runs a query of at most one row.
	QueryRow(query string, args ...any) Row
	// Query runs a query and calls each for every row, in order, until
	// each returns an error.
	Query(query string, args []any, each func(Row) error) error
}

// Row is one row of a query (*sql.Row, *sql.Rows, pgx.Row …).
type Row interface {
	Scan(dest ...any) error
}

// Dialect is what differs between the stores' SQL.
type Dialect struct {
	// Rebind turns a statement's ? placeholders into the driver's.
	Rebind func(query string) string
	// NoRows is the driver's error of a QueryRow that found no row
	// (sql.ErrNoRows, pgx.ErrNoRows); Tx reads it as ErrNoRow.
	NoRows error
	// NoLimit is the LIMIT argument that means no limit (SQLite: -1,
	// PostgreSQL: NULL).
	NoLimit any
	// KeyOrder sorts timer keys by their bytes, as SQLite's BINARY
	// collation does ("key COLLATE \"C\"" in PostgreSQL).
	KeyOrder string
	// ForeignKey reports whether err is the database refusing a row whose
	// incident does not exist.
	ForeignKey func(err error) bool
}

// Tx implements incident.Tx on one transaction of a store.
type Tx struct {
	Conn    Conn
	Dialect *Dialect
	// Writable is false in a View: every write method returns ErrReadOnly.
	Writable bool
	// Now is when the transaction began, for bookkeeping stamps.
	Now time.Time
	// Woken is set by a write to timers or the outbox, which a worker
	// waiting for the next due time should hear of.
	Woken bool
}

var _ incident.Tx = (*Tx)(nil)

// statements is every fixed statement of the package, in ? form.
var statements []string

// fixed registers a statement that does not change with its arguments, so
// that a store may prepare it (Statements).
func fixed(query string) string {
	statements = append(statements, query)
	return query
}

// Statements returns every fixed statement, rebound for d: the SQLite store
// prepares them once per connection.
func Statements(d *Dialect) []string {
	out := make([]string, 0, len(statements)+1)
	for _, q := range append(slices.Clip(statements), dueTimers(d)) {
		out = append(out, d.Rebind(q))
	}
	return out
}

// writing returns ErrReadOnly, wrapped with op, in a View.
func (t *Tx) writing(op string) error {
	if !t.Writable {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

// exec runs a write statement; every write goes through here, insert or
// writing, so a View can never change anything. n is the rows changed.
func (t *Tx) exec(op, query string, args ...any) (int64, error) {
	if err := t.writing(op); err != nil {
		return 0, err
	}
	n, err := t.Conn.Exec(t.Dialect.Rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// execOne runs a write statement that must change exactly one row; when it
// changes none it returns missing().
func (t *Tx) execOne(op string, missing func() error, query string, args ...any) error {
	n, err := t.exec(op, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return missing()
	}
	return nil
}

// insert runs an INSERT of one row and returns its id. ErrNoRow (for an
// INSERT … SELECT … WHERE that inserted nothing) is returned as is.
func (t *Tx) insert(op, query string, args ...any) (int64, error) {
	if err := t.writing(op); err != nil {
		return 0, err
	}
	id, err := t.Conn.Insert(t.Dialect.Rebind(query), args...)
	if err != nil && !errors.Is(err, ErrNoRow) {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return id, err
}

// queryRow runs a query of at most one row; its Scan returns ErrNoRow for
// none.
func (t *Tx) queryRow(query string, args ...any) Row {
	return row{t.Conn.QueryRow(t.Dialect.Rebind(query), args...), t.Dialect.NoRows}
}

// row is a Row whose driver error for no row reads as ErrNoRow.
type row struct {
	Row
	noRows error
}

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, r.noRows) {
		return ErrNoRow
	}
	return err
}

// one scans the row of a query into dest; found is false when there is
// none.
func (t *Tx) one(op, query string, args []any, dest ...any) (found bool, err error) {
	err = t.queryRow(query, args...).Scan(dest...)
	switch {
	case errors.Is(err, ErrNoRow):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return true, nil
}

// list runs a query and scans each row with scan.
func list[T any](t *Tx, op, query string, scan func(Row) (T, error), args ...any) ([]T, error) {
	var out []T
	err := t.Conn.Query(t.Dialect.Rebind(query), args, func(r Row) error {
		v, err := scan(r)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// nextDue returns the smallest due of a query of the form SELECT min(due):
// ok is false when there is none.
func (t *Tx) nextDue(op, query string) (time.Time, bool, error) {
	var ms *int64
	if err := t.queryRow(query).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", op, err)
	}
	if ms == nil {
		return time.Time{}, false, nil
	}
	return rows.FromMillis(*ms), true, nil
}

// limit maps "no limit" (<= 0) to the dialect's.
func (t *Tx) limit(n int) any {
	if n <= 0 {
		return t.Dialect.NoLimit
	}
	return n
}

func millis(t time.Time) int64 { return rows.Millis(t) }

// Rows is the rows of a query (*sql.Rows, pgx.Rows), which a Conn's Query
// closes.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// EachRow is the loop of a Conn's Query: each for every row, in order,
// until it returns an error; then the error that ended the rows, if any.
func EachRow(rs Rows, each func(Row) error) error {
	for rs.Next() {
		if err := each(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}
