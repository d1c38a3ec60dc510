package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// Outbox rows move from pending to sent or dropped and are kept, as in the
// SQLite store. The worker's queries read pending rows only, through the
// partial index outbox_pending.

// Enqueue adds o to the outbox and sets o.ID. A zero o.Due is due at once.
func (t *txn) Enqueue(o *incident.Outgoing) error {
	op := fmt.Sprintf("enqueue %s on lane %s", o.Kind, o.Lane)
	body, err := rows.OutBody(o)
	if err != nil {
		return err
	}
	id, err := t.insertID(op, `INSERT INTO outbox (lane, incident_id, kind, body, due, attempts, last_error, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		o.Lane, o.IncidentID, string(o.Kind), body, millis(o.Due), o.Attempts, o.LastError, millis(t.now))
	if err != nil {
		return err
	}
	o.ID = id
	t.wake = true
	return nil
}

// laneHeads selects the oldest pending message of each lane.
const laneHeads = `SELECT min(id) AS id FROM outbox WHERE state = 'pending' GROUP BY lane`

// DueOutgoing returns, for each lane, its oldest pending message if that
// one is due at now, oldest first, at most limit (<= 0: all).
func (t *txn) DueOutgoing(now time.Time, limit int) ([]incident.Outgoing, error) {
	return list(t, "read due outbox", `SELECT o.id, o.lane, o.incident_id, o.kind, o.due, o.attempts, o.last_error, o.body
		FROM (`+laneHeads+`) AS head JOIN outbox AS o ON o.id = head.id
		WHERE o.due <= $1 ORDER BY o.id LIMIT $2`, scanOutgoing, millis(now), sqlLimit(limit))
}

// NextOutgoing returns the earliest due time among the lane heads.
func (t *txn) NextOutgoing() (time.Time, bool, error) {
	return t.nextDue("read next outbox due", `SELECT min(o.due) FROM (`+laneHeads+`) AS head JOIN outbox AS o ON o.id = head.id`)
}

// Sent marks a pending message sent.
func (t *txn) Sent(id int64) error {
	return t.settle(fmt.Sprintf("mark outbox message %d sent", id), id,
		`UPDATE outbox SET state = 'sent', sent_at = $1 WHERE id = $2 AND state = 'pending'`, millis(t.now), id)
}

// Retry counts a failed attempt and makes the message due again at due.
func (t *txn) Retry(id int64, due time.Time, lastErr string) error {
	t.wake = true
	return t.settle(fmt.Sprintf("retry outbox message %d", id), id,
		`UPDATE outbox SET attempts = attempts + 1, due = $1, last_error = $2 WHERE id = $3 AND state = 'pending'`,
		millis(due), lastErr, id)
}

// Drop gives up on a message for good, counting the failed attempt.
func (t *txn) Drop(id int64, lastErr string) error {
	return t.settle(fmt.Sprintf("drop outbox message %d", id), id,
		`UPDATE outbox SET state = 'dropped', attempts = attempts + 1, last_error = $1, dropped_at = $2
		WHERE id = $3 AND state = 'pending'`, lastErr, millis(t.now), id)
}

// settle runs an update of one pending message. A message that is missing
// or no longer pending is an error (ENOTFOUND, ECONFLICT): a message is
// never settled twice, by this instance or another.
func (t *txn) settle(op string, id int64, query string, args ...any) error {
	return t.execOne(op, func() error {
		var state string
		err := t.tx.QueryRow(t.ctx, `SELECT state FROM outbox WHERE id = $1`, id).Scan(&state)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return rows.NotSettled(op, state)
	}, query, args...)
}

// OutboxDepth returns the number of pending messages.
func (t *txn) OutboxDepth() (int, error) {
	var n int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

func scanOutgoing(r pgx.CollectableRow) (incident.Outgoing, error) {
	var o incident.Outgoing
	var due int64
	var body string
	if err := r.Scan(&o.ID, &o.Lane, &o.IncidentID, &o.Kind, &due, &o.Attempts, &o.LastError, &body); err != nil {
		return o, err
	}
	return o, rows.DecodeOutgoing(&o, due, body)
}
