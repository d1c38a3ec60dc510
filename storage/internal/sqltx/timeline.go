package sqltx

import (
	"errors"
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

var (
	// sqlAppend inserts nothing for a missing incident, found before
	// inserting rather than by the foreign key's error: in PostgreSQL an
	// error ends the transaction's use.
	sqlAppend = fixed(`INSERT INTO timeline (incident_id, at, kind, actor, text, data)
		SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM incidents WHERE id = ?)`)
	sqlTimeline = fixed(`SELECT id, incident_id, at, kind, actor, text, data FROM timeline
		WHERE incident_id = ? ORDER BY id`)
)

// Append adds e to its incident's timeline and sets e.ID. An empty Data is
// stored as NULL and read back as nil. A missing incident is ENOTFOUND.
func (t *Tx) Append(e *incident.Event) error {
	op := fmt.Sprintf("append %s event to incident #%d", e.Kind, e.IncidentID)
	data, err := rows.EventData(e)
	if err != nil {
		return err
	}
	id, err := t.insert(op, sqlAppend, e.IncidentID, millis(e.At), string(e.Kind), e.Actor, e.Text, data, e.IncidentID)
	if errors.Is(err, ErrNoRow) || t.Dialect.ForeignKey(err) {
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
func (t *Tx) Timeline(incidentID int64) ([]incident.Event, error) {
	return list(t, fmt.Sprintf("read timeline of incident #%d", incidentID), sqlTimeline, scanEvent, incidentID)
}

func scanEvent(r Row) (incident.Event, error) {
	var e incident.Event
	var at int64
	var data *string
	if err := r.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Text, &data); err != nil {
		return e, err
	}
	return e, rows.DecodeEvent(&e, at, data)
}

var (
	sqlSetTimer = fixed(`INSERT INTO timers (key, incident_id, kind, due, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			incident_id = excluded.incident_id, kind = excluded.kind, due = excluded.due, data = excluded.data`)
	sqlDeleteTimer  = fixed(`DELETE FROM timers WHERE key = ?`)
	sqlDeleteTimers = fixed(`DELETE FROM timers WHERE incident_id = ?`)
	sqlNextTimer    = fixed(`SELECT min(due) FROM timers`)
)

// SetTimer inserts tm, or replaces the timer with the same key.
func (t *Tx) SetTimer(tm incident.Timer) error {
	if tm.Key == "" {
		return incident.Errorf(incident.EINVALID, "set timer: no key")
	}
	t.Woken = true
	_, err := t.exec("set timer "+tm.Key, sqlSetTimer, tm.Key, tm.IncidentID, string(tm.Kind), millis(tm.Due), tm.Data)
	return err
}

// DeleteTimer deletes the timer key; deleting a missing timer is no error
// (it may have fired already).
func (t *Tx) DeleteTimer(key string) error {
	_, err := t.exec("delete timer "+key, sqlDeleteTimer, key)
	return err
}

// DeleteTimers deletes every timer of an incident.
func (t *Tx) DeleteTimers(incidentID int64) error {
	_, err := t.exec(fmt.Sprintf("delete timers of incident #%d", incidentID), sqlDeleteTimers, incidentID)
	return err
}

// DueTimers returns up to limit timers due at or before now, by due time
// then key (in bytes); limit <= 0 means all.
func (t *Tx) DueTimers(now time.Time, limit int) ([]incident.Timer, error) {
	return list(t, "read due timers", dueTimers(t.Dialect), scanTimer, millis(now), t.limit(limit))
}

// dueTimers is the query of DueTimers in d, the one fixed statement that
// differs between the dialects.
func dueTimers(d *Dialect) string {
	return `SELECT key, incident_id, kind, due, data FROM timers WHERE due <= ? ORDER BY due, ` + d.KeyOrder + ` LIMIT ?`
}

// NextTimer returns the earliest due time of any timer.
func (t *Tx) NextTimer() (time.Time, bool, error) {
	return t.nextDue("read next timer", sqlNextTimer)
}

func scanTimer(r Row) (incident.Timer, error) {
	var tm incident.Timer
	var due int64
	err := r.Scan(&tm.Key, &tm.IncidentID, &tm.Kind, &due, &tm.Data)
	tm.Due = rows.FromMillis(due)
	return tm, err
}
