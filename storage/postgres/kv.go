package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

// SetRef remembers a posted message under ref, replacing any earlier one.
func (t *txn) SetRef(ref, channelID, ts string) error {
	_, err := t.exec("set message ref "+ref, `INSERT INTO refs (ref, channel_id, ts) VALUES ($1, $2, $3)
		ON CONFLICT (ref) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts`, ref, channelID, ts)
	return err
}

// Ref returns the message remembered under ref; ok is false when none is.
func (t *txn) Ref(ref string) (channelID, ts string, ok bool, err error) {
	err = t.tx.QueryRow(t.ctx, `SELECT channel_id, ts FROM refs WHERE ref = $1`, ref).Scan(&channelID, &ts)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("read message ref %s: %w", ref, err)
	}
	return channelID, ts, true, nil
}

// SavePlan keeps the source of a plan under its hash; the first copy is
// kept.
func (t *txn) SavePlan(hash string, source []byte) error {
	if hash == "" {
		return incident.Errorf(incident.EINVALID, "save plan: no hash")
	}
	if source == nil {
		source = []byte{} // NOT NULL: an empty plan is still a plan
	}
	_, err := t.exec("save plan "+hash, `INSERT INTO plans (hash, source, created) VALUES ($1, $2, $3)
		ON CONFLICT (hash) DO NOTHING`, hash, source, millis(t.now))
	return err
}

// PlanSource returns the plan saved under hash, or an ENOTFOUND
// *incident.Error.
func (t *txn) PlanSource(hash string) ([]byte, error) {
	var source []byte
	err := t.tx.QueryRow(t.ctx, `SELECT source FROM plans WHERE hash = $1`, hash).Scan(&source)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, rows.PlanNotFound(hash)
	case err != nil:
		return nil, fmt.Errorf("read plan %s: %w", hash, err)
	}
	return source, nil
}

// Get returns the value of key; ok is false when it is unset.
func (t *txn) Get(key string) (string, bool, error) {
	var v string
	err := t.tx.QueryRow(t.ctx, `SELECT value FROM kv WHERE key = $1`, key).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read %s: %w", key, err)
	}
	return v, true, nil
}

// Put sets key to value.
func (t *txn) Put(key, value string) error {
	_, err := t.exec("put "+key, `INSERT INTO kv (key, value, updated) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, value, millis(t.now))
	return err
}

// PutIfAbsent sets key to value unless key is set, and reports whether it
// did: of instances recording the same Slack event id, one is first.
func (t *txn) PutIfAbsent(key, value string) (bool, error) {
	tag, err := t.exec("put "+key, `INSERT INTO kv (key, value, updated) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		key, value, millis(t.now))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
