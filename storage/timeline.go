package storage

import (
	"fmt"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

var (
	sqlAppend   = prepared(`INSERT INTO timeline (incident_id, at, kind, actor, text, data) VALUES (?, ?, ?, ?, ?, ?)`)
	sqlTimeline = prepared(`SELECT id, incident_id, at, kind, actor, text, data FROM timeline
		WHERE incident_id = ? ORDER BY id`)
)

// Append adds e to its incident's timeline and sets e.ID. An empty Data is
// stored as NULL and read back as nil.
func (t *tx) Append(e *incident.Event) error {
	op := fmt.Sprintf("append %s event to incident #%d", e.Kind, e.IncidentID)
	data, err := rows.EventData(e)
	if err != nil {
		return err
	}
	res, err := t.exec(op, sqlAppend, e.IncidentID, millis(e.At), string(e.Kind), e.Actor, e.Text, data)
	if isForeignKeyError(err) {
		return rows.NotFound(e.IncidentID)
	}
	if err != nil {
		return err
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Timeline returns the events of an incident in the order they were
// appended (nil for an incident with none, or no such incident).
func (t *tx) Timeline(incidentID int64) ([]incident.Event, error) {
	return list(t, fmt.Sprintf("read timeline of incident #%d", incidentID), sqlTimeline, scanEvent, incidentID)
}

func scanEvent(r rowScanner) (incident.Event, error) {
	var e incident.Event
	var at int64
	var data *string
	if err := r.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Text, &data); err != nil {
		return e, err
	}
	return e, rows.DecodeEvent(&e, at, data)
}
