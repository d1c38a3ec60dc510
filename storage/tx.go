package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/drbot-dev/drbot/storage/internal/rows"
	"github.com/drbot-dev/drbot/storage/internal/sqltx"
)

// The Tx of Update and View is sqltx's, the one implementation of
// incident.Tx both stores share, over a conn on one SQL transaction.

// dialect is SQLite's: ? placeholders, LIMIT -1 for no limit, BINARY (byte)
// order of text.
var dialect = &sqltx.Dialect{
	Rebind:     func(q string) string { return q },
	NoRows:     sql.ErrNoRows,
	NoLimit:    -1,
	KeyOrder:   "key",
	ForeignKey: isForeignKeyError,
}

// conn runs sqltx's statements on one SQL transaction. The interface has no
// context arguments, so the context of Update or View is kept here and
// given to every statement: cancelling it ends the transaction's work.
type conn struct {
	ctx context.Context
	tx  *sql.Tx
	// prepared are the pool's prepared statements, by query; stmts their
	// handles in this transaction, made on first use.
	prepared map[string]*sql.Stmt
	stmts    map[string]*sql.Stmt
}

// prepareAll prepares every fixed statement of sqltx on db, once per
// connection: parsing SQL (and compiling the timeline's triggers into each
// insert) is about half the cost of a small write otherwise. They are
// prepared when the Store opens, not on first use: database/sql prepares a
// DB statement on a free connection, and the write pool's only connection
// is busy during the transaction that would first need it.
func prepareAll(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	queries := sqltx.Statements(dialect)
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
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
func (c *conn) stmt(query string) *sql.Stmt {
	if st, ok := c.stmts[query]; ok {
		return st
	}
	st, ok := c.prepared[query]
	if !ok {
		return nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	st = c.tx.StmtContext(c.ctx, st)
	c.stmts[query] = st
	return st
}

func (c *conn) QueryRow(query string, args ...any) sqltx.Row {
	if st := c.stmt(query); st != nil {
		return st.QueryRowContext(c.ctx, args...)
	}
	return c.tx.QueryRowContext(c.ctx, query, args...)
}

func (c *conn) Query(query string, args []any, each func(sqltx.Row) error) error {
	var rows *sql.Rows
	var err error
	if st := c.stmt(query); st != nil {
		rows, err = st.QueryContext(c.ctx, args...)
	} else {
		rows, err = c.tx.QueryContext(c.ctx, query, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqltx.EachRow(rows, each)
}

func (c *conn) exec(query string, args ...any) (sql.Result, error) {
	if st := c.stmt(query); st != nil {
		return st.ExecContext(c.ctx, args...)
	}
	return c.tx.ExecContext(c.ctx, query, args...)
}

func (c *conn) Exec(query string, args ...any) (int64, error) {
	res, err := c.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c *conn) Insert(query string, args ...any) (int64, error) {
	res, err := c.exec(query, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, cmp.Or(err, sqltx.ErrNoRow)
	}
	return res.LastInsertId()
}

// millis: every time is Unix milliseconds (package rows).
func millis(t time.Time) int64 { return rows.Millis(t) }

// isForeignKeyError reports whether err is SQLite refusing a row whose
// reference (an incident id) does not exist.
func isForeignKeyError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
