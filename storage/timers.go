package storage

import (
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

var (
	sqlSetTimer = prepared(`INSERT INTO timers (key, incident_id, kind, due, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			incident_id = excluded.incident_id, kind = excluded.kind, due = excluded.due, data = excluded.data`)
	sqlDeleteTimer  = prepared(`DELETE FROM timers WHERE key = ?`)
	sqlDeleteTimers = prepared(`DELETE FROM timers WHERE incident_id = ?`)
	sqlDueTimers    = prepared(`SELECT key, incident_id, kind, due, data FROM timers WHERE due <= ? ORDER BY due, key LIMIT ?`)
	sqlNextTimer    = prepared(`SELECT min(due) FROM timers`)
)

// SetTimer inserts tm, or replaces the timer with the same key.
func (t *tx) SetTimer(tm incident.Timer) error {
	if tm.Key == "" {
		return incident.Errorf(incident.EINVALID, "set timer: no key")
	}
	_, err := t.exec("set timer "+tm.Key, sqlSetTimer, tm.Key, tm.IncidentID, string(tm.Kind), millis(tm.Due), tm.Data)
	return err
}

// DeleteTimer deletes the timer key; deleting a missing timer is no error
// (it may have fired already).
func (t *tx) DeleteTimer(key string) error {
	_, err := t.exec("delete timer "+key, sqlDeleteTimer, key)
	return err
}

// DeleteTimers deletes every timer of an incident.
func (t *tx) DeleteTimers(incidentID int64) error {
	_, err := t.exec(fmt.Sprintf("delete timers of incident #%d", incidentID), sqlDeleteTimers, incidentID)
	return err
}

// DueTimers returns up to limit timers due at or before now, by due time
// then key; limit <= 0 means all.
func (t *tx) DueTimers(now time.Time, limit int) ([]incident.Timer, error) {
	return list(t, "read due timers", sqlDueTimers, scanTimer, millis(now), sqlLimit(limit))
}

// NextTimer returns the earliest due time of any timer.
func (t *tx) NextTimer() (time.Time, bool, error) {
	return t.nextDue("read next timer", sqlNextTimer)
}

func scanTimer(r rowScanner) (incident.Timer, error) {
	var tm incident.Timer
	var due int64
	err := r.Scan(&tm.Key, &tm.IncidentID, &tm.Kind, &due, &tm.Data)
	tm.Due = fromMillis(due)
	return tm, err
}

// sqlLimit maps "no limit" (<= 0) to SQLite's LIMIT -1.
func sqlLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
