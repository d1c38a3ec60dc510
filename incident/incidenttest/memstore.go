// Package incidenttest provides in-memory fakes of what the incident
// Engine talks to: a Store, a Chat surface and a clock. They let the whole
// incident lifecycle run in tests without SQLite or Slack, with the same
// semantics as the real implementations. TestStore is the conformance
// suite every incident.Store passes: this package's MemStore, SQLite's and
// PostgreSQL's.
package incidenttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// Outbox states of a stored message, as reported by MemStore.Messages.
const (
	OutPending = "pending"
	OutSent    = "sent"
	OutDropped = "dropped"
)

// StoredOutgoing is an outbox message with its delivery state, for tests
// that check what happened to it.
type StoredOutgoing struct {
	incident.Outgoing
	State string // OutPending, OutSent or OutDropped
}

type ref struct{ channel, ts string }

// MemStore is an in-memory incident.Store. It is safe for concurrent use:
// Update transactions are serialised, View transactions run alongside each
// other. An error returned from an Update's fn undoes every change fn made,
// so a failed transaction leaves no trace, as with SQLite.
//
// Values are copied in and out: an *incident.Incident returned by a Tx is
// the caller's own, and changing it changes nothing stored until
// SaveIncident. It follows the SQLite store (storage) where the interface
// leaves room: times of events, timers and outbox messages come back in
// UTC to the millisecond; settling an outbox message that is not pending
// is ECONFLICT; Drop counts the attempt; missing lanes, kinds, keys and
// hashes are EINVALID.
type MemStore struct {
	mu sync.RWMutex

	incidents map[int64][]byte // JSON of each incident
	chanOf    map[int64]string // incident id -> its channel id
	nextInc   int64

	events    map[int64][]incident.Event // by incident id
	nextEvent int64

	timers map[string]incident.Timer

	outbox  map[int64]*StoredOutgoing
	nextOut int64

	refs  map[string]ref
	plans map[string][]byte
	kv    map[string]string
	kvAt  map[string]time.Time // when each entry was last set, by Now

	pingErr error

	// Now stamps key/value entries with when they were set, for
	// DeleteKeys, as the SQL stores stamp their rows. Default time.Now.
	Now func() time.Time
}

var _ incident.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		incidents: map[int64][]byte{},
		chanOf:    map[int64]string{},
		events:    map[int64][]incident.Event{},
		timers:    map[string]incident.Timer{},
		outbox:    map[int64]*StoredOutgoing{},
		refs:      map[string]ref{},
		plans:     map[string][]byte{},
		kv:        map[string]string{},
		kvAt:      map[string]time.Time{},
	}
}

// Update runs fn in a write transaction. When fn returns an error (or
// panics) every change it made is undone.
func (m *MemStore) Update(ctx context.Context, fn func(incident.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, write: true}
	defer func() {
		tx.done = true
		if r := recover(); r != nil {
			tx.rollback()
			panic(r)
		}
		if err != nil {
			tx.rollback()
		}
	}()
	return fn(tx)
}

// View runs fn in a read transaction; any write through its Tx fails.
func (m *MemStore) View(ctx context.Context, fn func(incident.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	tx := &memTx{m: m}
	defer func() { tx.done = true }()
	return fn(tx)
}

// Ping returns the error set with SetPingError, or nil.
func (m *MemStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pingErr
}

// SetPingError makes Ping fail with err (nil: succeed), to test health
// checks.
func (m *MemStore) SetPingError(err error) {
	m.mu.Lock()
	m.pingErr = err
	m.mu.Unlock()
}

// Messages returns every outbox message ever enqueued, in ID order, with
// its state: pending, sent or dropped.
func (m *MemStore) Messages() []StoredOutgoing {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]StoredOutgoing, 0, len(m.outbox))
	for _, o := range m.outbox {
		c := *o
		c.Outgoing = cloneOutgoing(o.Outgoing)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Timers returns every timer, by Due then Key.
func (m *MemStore) Timers() []incident.Timer {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]incident.Timer, 0, len(m.timers))
	for _, t := range m.timers {
		out = append(out, t)
	}
	sortTimers(out)
	return out
}

// memTx is one transaction. A write transaction keeps an undo log: every
// change pushes the function that reverts it.
type memTx struct {
	m     *MemStore
	write bool
	done  bool
	undo  []func()
}

var errReadOnly = errors.New("write in a read-only transaction")

func (tx *memTx) check(write bool) error {
	if tx.done {
		return errors.New("transaction already ended")
	}
	if write && !tx.write {
		return errReadOnly
	}
	return nil
}

func (tx *memTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

func (tx *memTx) onUndo(f func()) { tx.undo = append(tx.undo, f) }

// set sets m[k] to v in tx: a rollback puts back what was there, or
// nothing.
func set[K comparable, V any](tx *memTx, m map[K]V, k K, v V) {
	prev, existed := m[k]
	m[k] = v
	tx.onUndo(func() {
		if existed {
			m[k] = prev
		} else {
			delete(m, k)
		}
	})
}

// deleteEntry deletes k from m, to be put back on rollback.
func deleteEntry[K comparable, V any](tx *memTx, m map[K]V, k K) {
	prev, existed := m[k]
	if !existed {
		return
	}
	delete(m, k)
	tx.onUndo(func() { m[k] = prev })
}

// --- incidents

func (tx *memTx) CreateIncident(inc *incident.Incident) error {
	if err := tx.check(true); err != nil {
		return err
	}
	m := tx.m
	prevNext := m.nextInc
	m.nextInc++
	id := m.nextInc
	inc.ID = id
	if err := tx.putIncident(inc); err != nil {
		m.nextInc = prevNext
		inc.ID = 0
		return err
	}
	tx.onUndo(func() { m.nextInc = prevNext })
	return nil
}

func (tx *memTx) SaveIncident(inc *incident.Incident) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if _, ok := tx.m.incidents[inc.ID]; !ok {
		return incident.Errorf(incident.ENOTFOUND, "incident #%d not found", inc.ID)
	}
	return tx.putIncident(inc)
}

// putIncident stores a copy of inc and keeps the channel index current.
func (tx *memTx) putIncident(inc *incident.Incident) error {
	m := tx.m
	b, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident %d: %w", inc.ID, err)
	}
	set(tx, m.incidents, inc.ID, b)
	set(tx, m.chanOf, inc.ID, inc.ChannelID)
	return nil
}

func (tx *memTx) decode(id int64) (*incident.Incident, error) {
	b, ok := tx.m.incidents[id]
	if !ok {
		return nil, incident.Errorf(incident.ENOTFOUND, "incident #%d not found", id)
	}
	var inc incident.Incident
	if err := json.Unmarshal(b, &inc); err != nil {
		return nil, fmt.Errorf("decode incident %d: %w", id, err)
	}
	return &inc, nil
}

func (tx *memTx) Incident(id int64) (*incident.Incident, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	return tx.decode(id)
}

// IncidentByChannel returns the incident of a channel: the newest, should
// two ever share one, as the SQLite store does.
func (tx *memTx) IncidentByChannel(channelID string) (*incident.Incident, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	var found int64
	if channelID != "" {
		for id, ch := range tx.m.chanOf {
			if ch == channelID && id > found {
				found = id
			}
		}
	}
	if found == 0 {
		return nil, incident.Errorf(incident.ENOTFOUND, "no incident has channel %s", channelID)
	}
	return tx.decode(found)
}

func (tx *memTx) Incidents(f incident.Filter) ([]*incident.Incident, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(tx.m.incidents))
	for id := range tx.m.incidents {
		ids = append(ids, id)
	}
	// Ids grow with declaration, so newest first is highest id first.
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	var out []*incident.Incident
	for _, id := range ids {
		inc, err := tx.decode(id)
		if err != nil {
			return nil, err
		}
		if f.State != "" && inc.State != f.State {
			continue
		}
		if f.Drills != nil && inc.Drill != *f.Drills {
			continue
		}
		out = append(out, inc)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// --- timeline

func (tx *memTx) Append(e *incident.Event) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if e.Kind == "" {
		return incident.Errorf(incident.EINVALID, "append to incident %d: event has no kind", e.IncidentID)
	}
	m := tx.m
	if _, ok := m.incidents[e.IncidentID]; !ok {
		return incident.Errorf(incident.ENOTFOUND, "incident #%d not found", e.IncidentID)
	}
	m.nextEvent++
	e.ID = m.nextEvent
	stored := cloneEvent(*e)
	stored.At = storedTime(e.At)
	m.events[e.IncidentID] = append(m.events[e.IncidentID], stored)
	id := e.IncidentID
	tx.onUndo(func() {
		evs := m.events[id]
		m.events[id] = evs[:len(evs)-1]
		m.nextEvent--
	})
	return nil
}

func (tx *memTx) Timeline(incidentID int64) ([]incident.Event, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	evs := tx.m.events[incidentID]
	if len(evs) == 0 {
		return nil, nil
	}
	out := make([]incident.Event, len(evs))
	for i, e := range evs {
		out[i] = cloneEvent(e)
	}
	return out, nil
}

// storedTime is a time as the SQLite store keeps it: UTC, to the
// millisecond. The zero time stays zero ("due at once").
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// cloneEvent copies e; an empty Data becomes nil, as the SQLite store
// reads it back.
func cloneEvent(e incident.Event) incident.Event {
	if len(e.Data) == 0 {
		e.Data = nil
	} else {
		d := make(map[string]string, len(e.Data))
		for k, v := range e.Data {
			d[k] = v
		}
		e.Data = d
	}
	return e
}

// --- timers

func (tx *memTx) SetTimer(t incident.Timer) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if t.Key == "" {
		return incident.Errorf(incident.EINVALID, "set timer: no key")
	}
	t.Due = storedTime(t.Due)
	set(tx, tx.m.timers, t.Key, t)
	return nil
}

func (tx *memTx) DeleteTimer(key string) error {
	if err := tx.check(true); err != nil {
		return err
	}
	m := tx.m
	prev, existed := m.timers[key]
	if !existed {
		return nil
	}
	delete(m.timers, key)
	tx.onUndo(func() { m.timers[key] = prev })
	return nil
}

func (tx *memTx) DeleteTimers(incidentID int64) error {
	if err := tx.check(true); err != nil {
		return err
	}
	for key, t := range tx.m.timers {
		if t.IncidentID == incidentID {
			if err := tx.DeleteTimer(key); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortTimers(ts []incident.Timer) {
	sort.Slice(ts, func(i, j int) bool {
		if !ts[i].Due.Equal(ts[j].Due) {
			return ts[i].Due.Before(ts[j].Due)
		}
		return ts[i].Key < ts[j].Key
	})
}

func (tx *memTx) DueTimers(now time.Time, limit int) ([]incident.Timer, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	var out []incident.Timer
	for _, t := range tx.m.timers {
		if !t.Due.After(now) {
			out = append(out, t)
		}
	}
	sortTimers(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (tx *memTx) NextTimer() (time.Time, bool, error) {
	if err := tx.check(false); err != nil {
		return time.Time{}, false, err
	}
	var next time.Time
	found := false
	for _, t := range tx.m.timers {
		if !found || t.Due.Before(next) {
			next, found = t.Due, true
		}
	}
	return next, found, nil
}

// --- refs

func (tx *memTx) SetRef(name, channelID, ts string) error {
	if err := tx.check(true); err != nil {
		return err
	}
	set(tx, tx.m.refs, name, ref{channelID, ts})
	return nil
}

func (tx *memTx) Ref(name string) (string, string, bool, error) {
	if err := tx.check(false); err != nil {
		return "", "", false, err
	}
	r, ok := tx.m.refs[name]
	return r.channel, r.ts, ok, nil
}

// --- plans

func (tx *memTx) SavePlan(hash string, source []byte) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if hash == "" {
		return incident.Errorf(incident.EINVALID, "save plan: no hash")
	}
	m := tx.m
	if _, ok := m.plans[hash]; ok {
		// Same hash, same bytes: saving again changes nothing.
		return nil
	}
	m.plans[hash] = append([]byte(nil), source...)
	tx.onUndo(func() { delete(m.plans, hash) })
	return nil
}

func (tx *memTx) PlanSource(hash string) ([]byte, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	b, ok := tx.m.plans[hash]
	if !ok {
		return nil, incident.Errorf(incident.ENOTFOUND, "plan %s not found", hash)
	}
	return append([]byte(nil), b...), nil
}

// --- kv

func (tx *memTx) Get(key string) (string, bool, error) {
	if err := tx.check(false); err != nil {
		return "", false, err
	}
	v, ok := tx.m.kv[key]
	return v, ok, nil
}

func (tx *memTx) Put(key, value string) error {
	if err := tx.check(true); err != nil {
		return err
	}
	set(tx, tx.m.kv, key, value)
	now := time.Now
	if tx.m.Now != nil {
		now = tx.m.Now
	}
	set(tx, tx.m.kvAt, key, now())
	return nil
}

func (tx *memTx) PutIfAbsent(key, value string) (bool, error) {
	if err := tx.check(true); err != nil {
		return false, err
	}
	if _, ok := tx.m.kv[key]; ok {
		return false, nil
	}
	return true, tx.Put(key, value)
}

func (tx *memTx) DeleteKeys(prefix string, before time.Time) (int, error) {
	if err := tx.check(true); err != nil {
		return 0, err
	}
	if prefix == "" {
		return 0, incident.Errorf(incident.EINVALID, "delete keys: no prefix")
	}
	n := 0
	for key, at := range tx.m.kvAt {
		if strings.HasPrefix(key, prefix) && at.Before(before) {
			deleteEntry(tx, tx.m.kv, key)
			deleteEntry(tx, tx.m.kvAt, key)
			n++
		}
	}
	return n, nil
}
