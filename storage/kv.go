package storage

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

var (
	sqlSetRef = prepared(`INSERT INTO refs (ref, channel_id, ts) VALUES (?, ?, ?)
		ON CONFLICT (ref) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts`)
	sqlRef        = prepared(`SELECT channel_id, ts FROM refs WHERE ref = ?`)
	sqlSavePlan   = prepared(`INSERT INTO plans (hash, source, created) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`)
	sqlPlanSource = prepared(`SELECT source FROM plans WHERE hash = ?`)
	sqlGet        = prepared(`SELECT value FROM kv WHERE key = ?`)
	sqlPut        = prepared(`INSERT INTO kv (key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`)
	sqlPutIfAbsent = prepared(`INSERT INTO kv (key, value, updated) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`)
)

// SetRef remembers a posted message under ref, replacing any earlier one.
func (t *tx) SetRef(ref, channelID, ts string) error {
	_, err := t.exec("set message ref "+ref, sqlSetRef, ref, channelID, ts)
	return err
}

// Ref returns the message remembered under ref; ok is false when none is.
func (t *tx) Ref(ref string) (channelID, ts string, ok bool, err error) {
	err = t.queryRow(sqlRef, ref).Scan(&channelID, &ts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("read message ref %s: %w", ref, err)
	}
	return channelID, ts, true, nil
}

// SavePlan keeps the source of a plan under its hash. Saving a hash again
// keeps the first copy: the hash names the content.
func (t *tx) SavePlan(hash string, source []byte) error {
	if hash == "" {
		return incident.Errorf(incident.EINVALID, "save plan: no hash")
	}
	if source == nil {
		source = []byte{} // NOT NULL: an empty plan is still a plan
	}
	_, err := t.exec("save plan "+hash, sqlSavePlan, hash, source, millis(t.now))
	return err
}

// PlanSource returns the plan saved under hash, or an ENOTFOUND
// *incident.Error.
func (t *tx) PlanSource(hash string) ([]byte, error) {
	var source []byte
	err := t.queryRow(sqlPlanSource, hash).Scan(&source)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, rows.PlanNotFound(hash)
	case err != nil:
		return nil, fmt.Errorf("read plan %s: %w", hash, err)
	}
	return source, nil
}

// Get returns the value of key; ok is false when it is unset.
func (t *tx) Get(key string) (string, bool, error) {
	var v string
	err := t.queryRow(sqlGet, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read %s: %w", key, err)
	}
	return v, true, nil
}

// Put sets key to value.
func (t *tx) Put(key, value string) error {
	_, err := t.exec("put "+key, sqlPut, key, value, millis(t.now))
	return err
}

// PutIfAbsent sets key to value unless key is set, and reports whether it
// did: a processed Slack event id is recorded once, and a retry finds it.
func (t *tx) PutIfAbsent(key, value string) (bool, error) {
	res, err := t.exec("put "+key, sqlPutIfAbsent, key, value, millis(t.now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("put %s: %w", key, err)
	}
	return n == 1, nil
}
