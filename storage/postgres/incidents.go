package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// CreateIncident numbers inc with the next incident number (one more than
// the largest so far: the transaction holds the write lock, so no other
// instance can take the same number) and inserts it.
func (t *txn) CreateIncident(inc *incident.Incident) error {
	const op = "create incident"
	if err := t.writing(op); err != nil {
		return err
	}
	var id int64
	if err := t.tx.QueryRow(t.ctx, `SELECT coalesce(max(id), 0) + 1 FROM incidents`).Scan(&id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	inc.ID = id
	row, err := rows.Incident(inc)
	if err == nil {
		_, err = t.exec(op, `INSERT INTO incidents (state, scenario, drill, declared_at, channel_id, data, id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, append(row, id)...)
	}
	if err != nil {
		inc.ID = 0
		return err
	}
	return nil
}

// SaveIncident replaces a stored incident with inc.
func (t *txn) SaveIncident(inc *incident.Incident) error {
	row, err := rows.Incident(inc)
	if err != nil {
		return fmt.Errorf("save incident #%d: %w", inc.ID, err)
	}
	return t.execOne(fmt.Sprintf("save incident #%d", inc.ID), func() error { return rows.NotFound(inc.ID) },
		`UPDATE incidents SET state = $1, scenario = $2, drill = $3, declared_at = $4, channel_id = $5, data = $6
		WHERE id = $7`, append(row, inc.ID)...)
}

// Incident returns incident id, or an ENOTFOUND *incident.Error.
func (t *txn) Incident(id int64) (*incident.Incident, error) {
	inc, err := scanIncident(t.tx.QueryRow(t.ctx, `SELECT id, data FROM incidents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rows.NotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read incident #%d: %w", id, err)
	}
	return inc, nil
}

// IncidentByChannel returns the incident whose channel is channelID (the
// newest, should two ever share one), or an ENOTFOUND *incident.Error.
func (t *txn) IncidentByChannel(channelID string) (*incident.Incident, error) {
	missing := rows.ChannelNotFound(channelID)
	if channelID == "" { // incidents whose channel is not created yet
		return nil, missing
	}
	inc, err := scanIncident(t.tx.QueryRow(t.ctx,
		`SELECT id, data FROM incidents WHERE channel_id = $1 ORDER BY id DESC LIMIT 1`, channelID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("read incident of channel %s: %w", channelID, err)
	}
	return inc, nil
}

// Incidents returns the incidents f selects, newest (highest number) first.
func (t *txn) Incidents(f incident.Filter) ([]*incident.Incident, error) {
	var where []string
	var args []any
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.Drills != nil {
		args = append(args, *f.Drills)
		where = append(where, fmt.Sprintf("drill = $%d", len(args)))
	}
	q := `SELECT id, data FROM incidents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	return list(t, "list incidents", q, func(r pgx.CollectableRow) (*incident.Incident, error) { return scanIncident(r) }, args...)
}

// scanIncident decodes a row of (id, data). The id column is the truth;
// the copy inside data is overwritten.
func scanIncident(r pgx.Row) (*incident.Incident, error) {
	var id int64
	var data string
	if err := r.Scan(&id, &data); err != nil {
		return nil, err
	}
	return rows.DecodeIncident(id, data)
}
