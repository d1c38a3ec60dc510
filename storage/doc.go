// Package storage keeps drbot's state in one SQLite file (modernc.org/sqlite,
// pure Go, so the binary builds with CGO_ENABLED=0). *Store implements
// incident.Store. The statements of its incident.Tx are in
// storage/internal/sqltx, shared with the PostgreSQL store
// (storage/postgres): this package gives them a connection (tx.go).
//
// # Connections
//
// The file is in WAL mode: readers see the last committed snapshot and never
// wait for the writer, and the writer never waits for readers. A Store holds
// two pools on it. Update runs on a pool of one connection whose
// transactions BEGIN IMMEDIATE (_txlock=immediate): the write lock is taken
// at the start, so two writers cannot both read and then both try to upgrade
// to a write, the deadlock busy_timeout cannot resolve; writers of this
// process queue in Go for that connection, and a writer in another process
// (drbot incidents, a second server by mistake) waits up to busy_timeout.
// View and Ping run on a read pool whose connections begin DEFERRED
// transactions and have query_only set, so a read can never take the write
// lock nor, by a bug, write. Every connection gets its pragmas from the DSN
// (busy_timeout, foreign_keys, synchronous=NORMAL, journal_mode=WAL), so no
// pooled connection can miss them. synchronous=NORMAL in WAL mode keeps the
// database consistent across a crash; a power cut can lose the last
// transactions, not corrupt the file.
//
// # Schema
//
// Migrations are the embedded migrations/NNN_*.sql files, applied in order
// in one transaction at Open and recorded in schema_migrations; reopening
// applies only new ones, and a database migrated by a newer drbot is
// refused. Tables are STRICT.
//
//   - incidents: id is the incident number (max+1 inside the write
//     transaction). The fields queries select on (state, scenario, drill,
//     declared_at, channel_id) are columns with indexes; the whole
//     incident.Incident is in data as JSON, so the engine adds fields
//     without a migration.
//   - timeline: append-only, enforced by triggers that abort any UPDATE or
//     DELETE; a foreign key ties each event to its incident.
//   - timers: one row per deadline, unique by key, indexed by due.
//   - outbox: one row per Slack call. Rows are kept after they are sent or
//     dropped, for metrics and audit; the worker's queries seek through the
//     (state, lane, id) index to pending rows and never read the others.
//   - refs, plans, kv: remembered messages, plan sources by hash, small
//     state.
//
// # Time
//
// Every time in a column is Unix milliseconds in an INTEGER, which is UTC
// by definition and compares as a number. Times come back as UTC
// time.Time values equal to what was stored truncated to the millisecond,
// so callers should use a clock truncated to the millisecond (or coarser)
// to compare what they wrote with what they read. time.Time{} is stored as
// its own millisecond value, before every real time, and read back as
// time.Time{}: a zero Outgoing.Due means "at once" whatever clock the
// caller compares with. Times inside an incident's JSON are encoded by
// encoding/json (RFC 3339 with nanoseconds) and round-trip exactly.
//
// # Backup
//
// Store.Backup writes a consistent copy with VACUUM INTO while the bot
// runs; see its documentation.
package storage
