// Package postgres keeps drbot's state in a PostgreSQL database
// (github.com/jackc/pgx/v5), for teams that run several drbot instances so
// that drbot survives the loss of one: *Store implements incident.Store
// with the same schema and behaviour as the SQLite store (package
// storage), checked by the same conformance suite
// (incidenttest.TestStore).
//
// # Connections
//
// A Store holds a pgxpool.Pool. pgx's own pool rather than database/sql:
// the leader keeps one connection of its own for the advisory lock and
// LISTEN (lead.go), which database/sql cannot give out, errors come with
// their SQLSTATE, and statements are prepared and cached per connection
// without more code.
//
// # Transactions
//
// Update runs at READ COMMITTED and first takes the schema's write lock,
// pg_advisory_xact_lock: write transactions of every instance run one at a
// time, as SQLite's writers do, so incident numbers (max+1) are never
// handed out twice and a timer or an outbox message is never settled
// twice. Writes are small and few (a press of a button is one transaction
// of a few rows), so one writer at a time costs little, and no transaction
// ever fails for a serialization conflict and needs a retry. View runs
// READ ONLY at REPEATABLE READ: one snapshot, never waiting for a writer.
//
// # Several instances
//
// Any number of instances answer Slack through Update and View. Only one,
// the leader, fires timers and delivers the outbox: the instance that
// holds the schema's session-level advisory lock (Store.Lead). A write
// transaction that set a timer or enqueued a message notifies the leader
// (pg_notify at commit), so a page enqueued by another instance goes out
// at once.
//
// # Schema
//
// migrations/NNN_*.sql, embedded, applied in order in one transaction at
// Open and recorded in schema_migrations, as in the SQLite store. The
// tables and columns are the SQLite store's, and so are the statements:
// both stores run the one incident.Tx of storage/internal/sqltx, this
// one with $1 placeholders (tx.go). Times are Unix milliseconds in bigint
// columns; JSON is kept as text, as written. The timeline is
// append-only, enforced by triggers. A URL's search_path selects the
// schema, and the lock keys and the notification channel are derived from
// it, so two drbots may share one database in two schemas.
//
// # Secrets
//
// The URL's password never appears in an error or a log line: Redact
// replaces it, and errors are scrubbed of it.
package postgres
