package sqltx

import (
	"time"
	"unicode/utf8"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/internal/rows"
)

var (
	sqlSetRef = fixed(`INSERT INTO refs (ref, channel_id, ts) VALUES (?, ?, ?)
		ON CONFLICT (ref) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts`)
	sqlRef        = fixed(`SELECT channel_id, ts FROM refs WHERE ref = ?`)
	sqlSavePlan   = fixed(`INSERT INTO plans (hash, source, created) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`)
	sqlPlanSource = fixed(`SELECT source FROM plans WHERE hash = ?`)
	sqlGet        = fixed(`SELECT value FROM kv WHERE key = ?`)
	sqlPut        = fixed(`INSERT INTO kv (key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`)
	sqlPutIfAbsent = fixed(`INSERT INTO kv (key, value, updated) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`)
	// substr and length count characters in SQLite and PostgreSQL alike,
	// and compare bytes, which a range on key would not under
	// PostgreSQL's collation.
	sqlDeleteKeys = fixed(`DELETE FROM kv WHERE substr(key, 1, ?) = ? AND updated < ?`)
)

// SetRef remembers a posted message under ref, replacing any earlier one.
func (t *Tx) SetRef(ref, channelID, ts string) error {
	_, err := t.exec("set message ref "+ref, sqlSetRef, ref, channelID, ts)
	return err
}

// Ref returns the message remembered under ref; ok is false when none is.
func (t *Tx) Ref(ref string) (channelID, ts string, ok bool, err error) {
	ok, err = t.one("read message ref "+ref, sqlRef, []any{ref}, &channelID, &ts)
	if !ok {
		return "", "", false, err
	}
	return channelID, ts, true, nil
}

// SavePlan keeps the source of a plan under its hash. Saving a hash again
// keeps the first copy: the hash names the content.
func (t *Tx) SavePlan(hash string, source []byte) error {
	if hash == "" {
		return incident.Errorf(incident.EINVALID, "save plan: no hash")
	}
	if source == nil {
		source = []byte{} // NOT NULL: an empty plan is still a plan
	}
	_, err := t.exec("save plan "+hash, sqlSavePlan, hash, source, millis(t.Now))
	return err
}

// PlanSource returns the plan saved under hash, or an ENOTFOUND
// *incident.Error.
func (t *Tx) PlanSource(hash string) ([]byte, error) {
	var source []byte
	ok, err := t.one("read plan "+hash, sqlPlanSource, []any{hash}, &source)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, rows.PlanNotFound(hash)
	}
	return source, nil
}

// Get returns the value of key; ok is false when it is unset.
func (t *Tx) Get(key string) (string, bool, error) {
	var v string
	ok, err := t.one("read "+key, sqlGet, []any{key}, &v)
	return v, ok, err
}

// Put sets key to value.
func (t *Tx) Put(key, value string) error {
	_, err := t.exec("put "+key, sqlPut, key, value, millis(t.Now))
	return err
}

// PutIfAbsent sets key to value unless key is set, and reports whether it
// did: a processed Slack event id is recorded once (by one instance of
// several), and a retry finds it.
func (t *Tx) PutIfAbsent(key, value string) (bool, error) {
	n, err := t.exec("put "+key, sqlPutIfAbsent, key, value, millis(t.Now))
	return n == 1, err
}

// DeleteKeys deletes the entries whose key starts with prefix (not empty)
// that were last set before before, and returns how many.
func (t *Tx) DeleteKeys(prefix string, before time.Time) (int, error) {
	if prefix == "" {
		return 0, incident.Errorf(incident.EINVALID, "delete keys: no prefix")
	}
	n, err := t.exec("delete keys "+prefix, sqlDeleteKeys, utf8.RuneCountInString(prefix), prefix, millis(before))
	return int(n), err
}
