package sqltx

import (
	"errors"
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// Outbox rows move from pending to sent or dropped and are kept afterwards,
// for metrics and audit. The worker's queries below only touch pending rows
// through an index on them (SQLite: (state, lane, id); PostgreSQL: the
// partial index outbox_pending), so the kept rows cost disk space, not
// time.

// laneHeads selects the oldest pending message of each lane. SQLite answers
// it from the outbox_lane index, seeking to state = 'pending' (a literal,
// so the planner can use the index) and reading only pending entries.
const laneHeads = `SELECT min(id) AS id FROM outbox WHERE state = 'pending' GROUP BY lane`

var (
	sqlEnqueue = fixed(`INSERT INTO outbox (lane, incident_id, kind, body, due, attempts, last_error, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlSent  = fixed(`UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ? AND state = 'pending'`)
	sqlRetry = fixed(`UPDATE outbox SET attempts = attempts + 1, due = ?, last_error = ?
		WHERE id = ? AND state = 'pending'`)
	sqlDrop = fixed(`UPDATE outbox SET state = 'dropped', attempts = attempts + 1, last_error = ?, dropped_at = ?
		WHERE id = ? AND state = 'pending'`)
	sqlOutboxState = fixed(`SELECT state FROM outbox WHERE id = ?`)
	sqlOutboxDepth = fixed(`SELECT count(*) FROM outbox WHERE state = 'pending'`)
	sqlDueOutgoing = fixed(`SELECT o.id, o.lane, o.incident_id, o.kind, o.due, o.attempts, o.last_error, o.body
		FROM (` + laneHeads + `) AS head JOIN outbox AS o ON o.id = head.id
		WHERE o.due <= ? ORDER BY o.id LIMIT ?`)
	sqlNextOutgoing = fixed(`SELECT min(o.due) FROM (` + laneHeads + `) AS head JOIN outbox AS o ON o.id = head.id`)
)

// Enqueue adds o to the outbox and sets o.ID. A zero o.Due is stored as is
// and is before every time: the message is due at once, whatever clock the
// caller compares with.
func (t *Tx) Enqueue(o *incident.Outgoing) error {
	op := fmt.Sprintf("enqueue %s on lane %s", o.Kind, o.Lane)
	body, err := rows.OutBody(o)
	if err != nil {
		return err
	}
	id, err := t.insert(op, sqlEnqueue, o.Lane, o.IncidentID, string(o.Kind), body, millis(o.Due), o.Attempts, o.LastError, millis(t.Now))
	if err != nil {
		return err
	}
	o.ID = id
	t.Woken = true
	return nil
}

// DueOutgoing returns, for each lane, its oldest pending message if that
// one is due at now, oldest first, at most limit (<= 0: all). A lane whose
// head waits for a retry returns nothing, so its messages stay in order.
func (t *Tx) DueOutgoing(now time.Time, limit int) ([]incident.Outgoing, error) {
	return list(t, "read due outbox", sqlDueOutgoing, scanOutgoing, millis(now), t.limit(limit))
}

// NextOutgoing returns the earliest due time among the lane heads: a
// message behind another in its lane cannot be sent before it, whatever
// its own due time.
func (t *Tx) NextOutgoing() (time.Time, bool, error) {
	return t.nextDue("read next outbox due", sqlNextOutgoing)
}

// Sent marks a pending message sent.
func (t *Tx) Sent(id int64) error {
	return t.settle(fmt.Sprintf("mark outbox message %d sent", id), id,
		sqlSent, millis(t.Now), id)
}

// Retry counts a failed attempt and makes the message due again at due.
func (t *Tx) Retry(id int64, due time.Time, lastErr string) error {
	t.Woken = true
	return t.settle(fmt.Sprintf("retry outbox message %d", id), id,
		sqlRetry, millis(due), lastErr, id)
}

// Drop gives up on a message for good. The failed attempt that made the
// caller give up is counted, so attempts is the number of tries made.
func (t *Tx) Drop(id int64, lastErr string) error {
	return t.settle(fmt.Sprintf("drop outbox message %d", id), id,
		sqlDrop, lastErr, millis(t.Now), id)
}

// settle runs an update of one pending message. A message that is missing
// or no longer pending is an error (ENOTFOUND, ECONFLICT): a message is
// never settled twice, by this worker or another instance's.
func (t *Tx) settle(op string, id int64, query string, args ...any) error {
	return t.execOne(op, func() error {
		var state string
		err := t.queryRow(sqlOutboxState, id).Scan(&state)
		if err != nil && !errors.Is(err, ErrNoRow) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return rows.NotSettled(op, state)
	}, query, args...)
}

// OutboxDepth returns the number of pending messages.
func (t *Tx) OutboxDepth() (int, error) {
	var n int
	if err := t.queryRow(sqlOutboxDepth).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

func scanOutgoing(r Row) (incident.Outgoing, error) {
	var o incident.Outgoing
	var due int64
	var body string
	if err := r.Scan(&o.ID, &o.Lane, &o.IncidentID, &o.Kind, &due, &o.Attempts, &o.LastError, &body); err != nil {
		return o, err
	}
	return o, rows.DecodeOutgoing(&o, due, body)
}

// WorkerQueries are the outbox queries the worker runs on every pass, by
// method, in ? form: a store's tests check that its indexes serve them.
var WorkerQueries = map[string]string{
	"DueOutgoing":  sqlDueOutgoing,
	"NextOutgoing": sqlNextOutgoing,
	"OutboxDepth":  sqlOutboxDepth,
}
