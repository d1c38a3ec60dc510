package sqltx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

var (
	sqlNextIncidentID = fixed(`SELECT coalesce(max(id), 0) + 1 FROM incidents`)
	sqlInsertIncident = fixed(`INSERT INTO incidents (state, scenario, drill, declared_at, channel_id, data, id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateIncident = fixed(`UPDATE incidents SET state = ?, scenario = ?, drill = ?, declared_at = ?, channel_id = ?, data = ?
		WHERE id = ?`)
	sqlIncident          = fixed(`SELECT id, data FROM incidents WHERE id = ?`)
	sqlIncidentByChannel = fixed(`SELECT id, data FROM incidents WHERE channel_id = ? ORDER BY id DESC LIMIT 1`)
)

// CreateIncident numbers inc with the next incident number (one more than
// the largest so far: a write transaction holds the store's write lock, so
// no other writer can take the same number) and inserts it.
func (t *Tx) CreateIncident(inc *incident.Incident) error {
	const op = "create incident"
	if err := t.writing(op); err != nil {
		return err
	}
	var id int64
	if err := t.queryRow(sqlNextIncidentID).Scan(&id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	inc.ID = id
	row, err := rows.Incident(inc)
	if err == nil {
		_, err = t.exec(op, sqlInsertIncident, append(row, id)...)
	}
	if err != nil {
		inc.ID = 0
		return err
	}
	return nil
}

// SaveIncident replaces a stored incident with inc.
func (t *Tx) SaveIncident(inc *incident.Incident) error {
	row, err := rows.Incident(inc)
	if err != nil {
		return fmt.Errorf("save incident #%d: %w", inc.ID, err)
	}
	return t.execOne(fmt.Sprintf("save incident #%d", inc.ID), func() error { return rows.NotFound(inc.ID) },
		sqlUpdateIncident, append(row, inc.ID)...)
}

// Incident returns incident id, or an ENOTFOUND *incident.Error.
func (t *Tx) Incident(id int64) (*incident.Incident, error) {
	return t.incident(rows.NotFound(id), fmt.Sprintf("read incident #%d", id), sqlIncident, id)
}

// IncidentByChannel returns the incident whose channel is channelID (the
// newest, should two ever share one), or an ENOTFOUND *incident.Error.
func (t *Tx) IncidentByChannel(channelID string) (*incident.Incident, error) {
	missing := rows.ChannelNotFound(channelID)
	if channelID == "" { // incidents whose channel is not created yet
		return nil, missing
	}
	return t.incident(missing, "read incident of channel "+channelID, sqlIncidentByChannel, channelID)
}

// incident reads the incident of a query of (id, data), or missing.
func (t *Tx) incident(missing error, op, query string, args ...any) (*incident.Incident, error) {
	inc, err := scanIncident(t.queryRow(query, args...))
	if errors.Is(err, ErrNoRow) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return inc, nil
}

// Incidents returns the incidents f selects, newest (highest number) first.
// Its query is built for the filter, so that the state index can serve it,
// and is not prepared: listing is rare.
func (t *Tx) Incidents(f incident.Filter) ([]*incident.Incident, error) {
	var where []string
	var args []any
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if f.Drills != nil {
		where, args = append(where, "drill = ?"), append(args, *f.Drills)
	}
	q := `SELECT id, data FROM incidents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return list(t, "list incidents", q, scanIncident, args...)
}

// scanIncident decodes a row of (id, data). The id column is the truth;
// the copy inside data is overwritten.
func scanIncident(r Row) (*incident.Incident, error) {
	var id int64
	var data string
	if err := r.Scan(&id, &data); err != nil {
		return nil, err
	}
	return rows.DecodeIncident(id, data)
}
