// Package rows is what the SQLite store (storage) and the PostgreSQL store
// (storage/postgres) share about their rows, beyond SQL: times as Unix
// milliseconds, incidents, events and outbox bodies as JSON text, and the
// domain errors of missing or invalid rows. One copy, so the two stores
// cannot drift apart.
package rows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// zeroMillis is time.Time{} in Unix milliseconds. It is stored as is (it
// sorts before every real time, which is what "zero Outgoing.Due means at
// once" needs) and read back as time.Time{}, so IsZero survives the round
// trip.
var zeroMillis = time.Time{}.UnixMilli()

// Millis is how every time is stored: Unix milliseconds, which are UTC by
// definition. Sub-millisecond precision is dropped (rounded down).
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis is the inverse of Millis; times come back in UTC.
func FromMillis(ms int64) time.Time {
	if ms == zeroMillis {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// JSON marshals v for a JSON text column.
func JSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// NotFound is the error of a missing incident.
func NotFound(id int64) error {
	return incident.Errorf(incident.ENOTFOUND, "incident #%d not found", id)
}

// Incident returns the column values of inc in the order state, scenario,
// drill, declared_at, channel_id, data.
func Incident(inc *incident.Incident) ([]any, error) {
	data, err := JSON(inc)
	if err != nil {
		return nil, err
	}
	return []any{string(inc.State), inc.Scenario, inc.Drill, Millis(inc.DeclaredAt), inc.ChannelID, data}, nil
}

// DecodeIncident decodes an incident's data. The id column is the truth;
// the copy inside data is overwritten.
func DecodeIncident(id int64, data string) (*incident.Incident, error) {
	inc := new(incident.Incident)
	if err := json.Unmarshal([]byte(data), inc); err != nil {
		return nil, fmt.Errorf("decode incident #%d: %w", id, err)
	}
	inc.ID = id
	return inc, nil
}

// EventData encodes an event's Data: nil (NULL) when empty, so it reads
// back as nil.
func EventData(e *incident.Event) (*string, error) {
	if e.Kind == "" {
		return nil, incident.Errorf(incident.EINVALID, "append event to incident #%d: event has no kind", e.IncidentID)
	}
	if len(e.Data) == 0 {
		return nil, nil
	}
	s, err := JSON(e.Data)
	if err != nil {
		return nil, fmt.Errorf("append %s event to incident #%d: %w", e.Kind, e.IncidentID, err)
	}
	return &s, nil
}

// DecodeEvent fills e.At and e.Data from their columns.
func DecodeEvent(e *incident.Event, at int64, data *string) error {
	e.At = FromMillis(at)
	if data == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(*data), &e.Data); err != nil {
		return fmt.Errorf("decode data of event %d: %w", e.ID, err)
	}
	return nil
}

// OutBody checks o and encodes its body.
func OutBody(o *incident.Outgoing) (string, error) {
	op := fmt.Sprintf("enqueue %s on lane %s", o.Kind, o.Lane)
	if o.Lane == "" || o.Kind == "" {
		return "", incident.Errorf(incident.EINVALID, "%s: lane and kind are required", op)
	}
	body, err := JSON(o.Body)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return body, nil
}

// DecodeOutgoing fills o.Due and o.Body from their columns.
func DecodeOutgoing(o *incident.Outgoing, due int64, body string) error {
	o.Due = FromMillis(due)
	if err := json.Unmarshal([]byte(body), &o.Body); err != nil {
		return fmt.Errorf("decode body of outbox message %d: %w", o.ID, err)
	}
	return nil
}

// NotSettled is the error of settling (Sent, Retry, Drop) a message that
// is missing (state "") or no longer pending: the outbox worker must never
// settle a message twice.
func NotSettled(op, state string) error {
	if state == "" {
		return incident.Errorf(incident.ENOTFOUND, "%s: no such message", op)
	}
	return incident.Errorf(incident.ECONFLICT, "%s: it is already %s", op, state)
}

// PlanNotFound is the error of a plan hash never saved.
func PlanNotFound(hash string) error {
	return incident.Errorf(incident.ENOTFOUND, "plan %s not found", hash)
}

// ChannelNotFound is the error of a channel no incident has.
func ChannelNotFound(channelID string) error {
	return incident.Errorf(incident.ENOTFOUND, "no incident has channel %s", channelID)
}
