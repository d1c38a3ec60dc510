package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// Append adds e to its incident's timeline and sets e.ID. An empty Data is
// stored as NULL and read back as nil. A missing incident is ENOTFOUND,
// found before inserting so that the transaction stays usable.
func (t *txn) Append(e *incident.Event) error {
	op := fmt.Sprintf("append %s event to incident #%d", e.Kind, e.IncidentID)
	data, err := rows.EventData(e)
	if err != nil {
		return err
	}
	id, err := t.insertID(op, `INSERT INTO timeline (incident_id, at, kind, actor, text, data)
		SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $1) RETURNING id`,
		e.IncidentID, millis(e.At), string(e.Kind), e.Actor, e.Text, data)
	if errors.Is(err, pgx.ErrNoRows) || isForeignKeyError(err) {
		return rows.NotFound(e.IncidentID)
	}
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// Timeline returns the events of an incident in the order they were
// appended (nil for an incident with none, or no such incident).
func (t *txn) Timeline(incidentID int64) ([]incident.Event, error) {
	return list(t, fmt.Sprintf("read timeline of incident #%d", incidentID),
		`SELECT id, incident_id, at, kind, actor, text, data FROM timeline WHERE incident_id = $1 ORDER BY id`,
		scanEvent, incidentID)
}

func scanEvent(r pgx.CollectableRow) (incident.Event, error) {
	var e incident.Event
	var at int64
	var data *string
	if err := r.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Text, &data); err != nil {
		return e, err
	}
	return e, rows.DecodeEvent(&e, at, data)
}

// SetTimer inserts tm, or replaces the timer with the same key.
func (t *txn) SetTimer(tm incident.Timer) error {
	if tm.Key == "" {
		return incident.Errorf(incident.EINVALID, "set timer: no key")
	}
	t.wake = true
	_, err := t.exec("set timer "+tm.Key, `INSERT INTO timers (key, incident_id, kind, due, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO UPDATE SET
			incident_id = excluded.incident_id, kind = excluded.kind, due = excluded.due, data = excluded.data`,
		tm.Key, tm.IncidentID, string(tm.Kind), millis(tm.Due), tm.Data)
	return err
}

// DeleteTimer deletes the timer key; deleting a missing timer is no error.
func (t *txn) DeleteTimer(key string) error {
	_, err := t.exec("delete timer "+key, `DELETE FROM timers WHERE key = $1`, key)
	return err
}

// DeleteTimers deletes every timer of an incident.
func (t *txn) DeleteTimers(incidentID int64) error {
	_, err := t.exec(fmt.Sprintf("delete timers of incident #%d", incidentID), `DELETE FROM timers WHERE incident_id = $1`, incidentID)
	return err
}

// DueTimers returns up to limit timers due at or before now, by due time
// then key (in bytes, COLLATE "C", as SQLite compares); limit <= 0 means all.
func (t *txn) DueTimers(now time.Time, limit int) ([]incident.Timer, error) {
	return list(t, "read due timers", `SELECT key, incident_id, kind, due, data FROM timers
		WHERE due <= $1 ORDER BY due, key COLLATE "C" LIMIT $2`, scanTimer, millis(now), sqlLimit(limit))
}

// NextTimer returns the earliest due time of any timer.
func (t *txn) NextTimer() (time.Time, bool, error) {
	return t.nextDue("read next timer", `SELECT min(due) FROM timers`)
}

func scanTimer(r pgx.CollectableRow) (incident.Timer, error) {
	var tm incident.Timer
	var due int64
	err := r.Scan(&tm.Key, &tm.IncidentID, &tm.Kind, &due, &tm.Data)
	tm.Due = fromMillis(due)
	return tm, err
}
