package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/drbot-dev/drbot/storage/internal/sqltx"
)

// The Tx of Update and View is sqltx's, the one implementation of
// incident.Tx both stores share, over a conn on one PostgreSQL
// transaction. A View's transaction is READ ONLY in the database too.

// dialect is PostgreSQL's: $1 placeholders, LIMIT NULL for no limit, and
// timer keys in byte order (COLLATE "C"), as SQLite compares text.
var dialect = &sqltx.Dialect{
	Rebind:     rebind,
	NoRows:     pgx.ErrNoRows,
	NoLimit:    nil,
	KeyOrder:   `key COLLATE "C"`,
	ForeignKey: isForeignKeyError,
}

// rebound caches rebind: the statements are few and fixed but for the
// incident filter's.
var rebound sync.Map // string → string

// rebind numbers the ? placeholders of query: $1, $2 … (drbot's statements
// hold no ? in a literal).
func rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(query, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			part = p + "$" + strconv.Itoa(n)
		}
		b.WriteString(part)
	}
	rebound.Store(query, b.String())
	return b.String()
}

// conn runs sqltx's statements on one transaction, with the context of
// Update or View. pgx prepares and caches each statement per connection on
// first use.
type conn struct {
	ctx context.Context
	tx  pgx.Tx
}

func (c *conn) Exec(query string, args ...any) (int64, error) {
	tag, err := c.tx.Exec(c.ctx, query, args...)
	return tag.RowsAffected(), err
}

func (c *conn) Insert(query string, args ...any) (int64, error) {
	var id int64
	err := c.tx.QueryRow(c.ctx, query+` RETURNING id`, args...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, sqltx.ErrNoRow
	}
	return id, err
}

func (c *conn) QueryRow(query string, args ...any) sqltx.Row {
	return c.tx.QueryRow(c.ctx, query, args...)
}

func (c *conn) Query(query string, args []any, each func(sqltx.Row) error) error {
	rows, err := c.tx.Query(c.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqltx.EachRow(rows, each)
}

// isForeignKeyError reports whether err is PostgreSQL refusing a row whose
// reference (an incident id) does not exist.
func isForeignKeyError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
